"""The initiatives registry's SQL (services/graph/service/initiatives.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, String, and_, cast, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.graph.models import (
    Initiative,
    InitiativePartner,
    InitiativePlace,
    InitiativeReuse,
    Organisation,
    OrganisationRole,
)


def live_initiative() -> ColumnElement[bool]:
    return col(Initiative.deleted_at).is_(None)


def public_initiative() -> ColumnElement[bool]:
    return and_(live_initiative(), col(Initiative.visibility) == "public")


def visible_initiative(viewer_id: int | None) -> ColumnElement[bool]:
    """Live, and public or owned by an organisation the viewer belongs to (in any role)."""
    if viewer_id is None:
        return public_initiative()
    own = select(col(OrganisationRole.organisation_id)).where(col(OrganisationRole.member_id) == viewer_id)
    return and_(
        live_initiative(),
        or_(col(Initiative.visibility) == "public", col(Initiative.organisation_id).in_(own)),
    )


async def initiatives_by_ids(
    session: AsyncSession, ids: Sequence[int], visible: ColumnElement[bool]
) -> list[Initiative]:
    """The initiatives among `ids` that `visible` lets through."""
    if not ids:
        return []
    stmt = select(Initiative).where(col(Initiative.id).in_(ids), visible)
    return list((await session.execute(stmt)).scalars())


async def places_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[InitiativePlace]]:
    out: dict[int, list[InitiativePlace]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(InitiativePlace).where(col(InitiativePlace.initiative_id).in_(ids)).order_by(col(InitiativePlace.id))
        )
        for row in (await session.execute(stmt)).scalars():
            out[row.initiative_id].append(row)
    return out


async def partners_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        stmt = select(InitiativePartner).where(col(InitiativePartner.initiative_id).in_(ids))
        for row in (await session.execute(stmt.order_by(col(InitiativePartner.id)))).scalars():
            out[row.initiative_id].append(row.organisation_id)
    return out


async def reuses_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    """For each of `ids`: the public initiatives it reuses."""
    out: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(col(InitiativeReuse.initiative_id), col(InitiativeReuse.reuses_initiative_id))
            .join(Initiative, col(Initiative.id) == col(InitiativeReuse.reuses_initiative_id))
            .where(col(InitiativeReuse.initiative_id).in_(ids), public_initiative())
            .order_by(col(InitiativeReuse.id))
        )
        for initiative_id, target in (await session.execute(stmt)).all():
            out[initiative_id].append(target)
    return out


async def reused_by(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    """For each of `ids`: the public initiatives that reuse it."""
    out: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(col(InitiativeReuse.reuses_initiative_id), col(InitiativeReuse.initiative_id))
            .join(Initiative, col(Initiative.id) == col(InitiativeReuse.initiative_id))
            .where(col(InitiativeReuse.reuses_initiative_id).in_(ids), public_initiative())
            .order_by(col(InitiativeReuse.id))
        )
        for target, initiative_id in (await session.execute(stmt)).all():
            out[target].append(initiative_id)
    return out


async def clear_initiative_links(session: AsyncSession, model: Any, initiative_id: int) -> None:
    """Drop the initiative's rows of `model` (places, partners or reuses) before they are rewritten."""
    await session.execute(delete(model).where(model.initiative_id == initiative_id))


def _technique_pattern(technique: str) -> str:
    # Techniques are stored as a JSON list serialised by json.dumps; a quoted element matches
    # only a whole technique. LIKE wildcards in the technique itself are escaped.
    quoted = json.dumps(technique)
    return "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def has_technique(technique: str) -> ColumnElement[bool]:
    return cast(col(Initiative.techniques), String).like(_technique_pattern(technique), escape="\\")


def _initiative_filters(
    area: str | None, status: str | None, technique: str | None, visible: ColumnElement[bool]
) -> list[ColumnElement[bool]]:
    where = [visible]
    if area:
        where.append(col(Initiative.area) == area)
    if status:
        where.append(col(Initiative.status) == status)
    if technique:
        where.append(has_technique(technique))
    return where


def initiatives_matching(
    area: str | None,
    status: str | None,
    technique: str | None,
    county_code: str | None,
    municipality_code: str | None,
    organisation_id: int | None,
    visible: ColumnElement[bool],
) -> Select[Any]:
    """Initiatives `visible` lets through under the filters; a place filter matches each once."""
    stmt = select(Initiative).where(*_initiative_filters(area, status, technique, visible))
    if organisation_id is not None:
        stmt = stmt.where(col(Initiative.organisation_id) == organisation_id)
    if county_code or municipality_code:
        place = select(col(InitiativePlace.id)).where(col(InitiativePlace.initiative_id) == col(Initiative.id))
        if county_code:
            place = place.where(col(InitiativePlace.county_code) == county_code)
        if municipality_code:
            place = place.where(col(InitiativePlace.municipality_code) == municipality_code)
        stmt = stmt.where(exists(place))
    return stmt


async def initiative_counts(
    session: AsyncSession,
    by: Literal["municipality", "county"],
    area: str | None,
    status: str | None,
    technique: str | None,
) -> list[tuple[str, int]]:
    """(code, number of public initiatives) per municipality or county, in code order. An
    initiative counts once per municipality it covers, and once per county however many of
    its places (municipalities or the whole county) lie in it."""
    where = _initiative_filters(area, status, technique, public_initiative())
    if by == "municipality":
        code = col(InitiativePlace.municipality_code)
        counted = func.count(col(InitiativePlace.initiative_id))
        extra: list[ColumnElement[bool]] = [code.is_not(None)]
    else:
        code = col(InitiativePlace.county_code)
        counted = func.count(col(InitiativePlace.initiative_id).distinct())
        extra = []
    stmt = (
        select(code, counted)
        .join(Initiative, col(Initiative.id) == col(InitiativePlace.initiative_id))
        .where(*where, *extra)
        .group_by(code)
        .order_by(code)
    )
    return [(str(c), int(n)) for c, n in (await session.execute(stmt)).all()]


async def initiatives_for_export(
    session: AsyncSession, after: int, limit: int
) -> list[tuple[Initiative, Organisation]]:
    """The next `limit` public initiatives after the id `after`, in id order, with their owner.
    Every organisation's page is public today; a non-public organisation kind would be left
    out here."""
    stmt = (
        select(Initiative, Organisation)
        .join(Organisation, col(Organisation.id) == col(Initiative.organisation_id))
        .where(public_initiative(), col(Initiative.id) > after)
        .order_by(col(Initiative.id))
        .limit(limit)
    )
    return [(i, o) for i, o in (await session.execute(stmt)).all()]


async def initiatives_last_modified(session: AsyncSession) -> datetime | None:
    """When the exported registry last changed (deletions included)."""
    stmt = select(func.max(col(Initiative.updated_at)), func.max(col(Initiative.deleted_at)))
    updated, deleted = (await session.execute(stmt)).one()
    stamps = [t for t in (updated, deleted) if t is not None]
    return max(stamps) if stamps else None
