"""The initiatives registry: organisations' AI projects and use cases, where they run, who
partners in them and which other organisations' initiatives they reuse.

Editors and above of the owning organisation create, edit and delete. A public initiative is
read by everyone (and is what the map, search, feeds and the open data show); one whose
visibility is `organisation` only by the organisation's members. Deleting stamps
`deleted_at`: the row leaves every read and the open-data export, and the export's
last-modified date moves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.initiatives_reference import EXPORT_PAGE_MAX, OPEN_DATA_LICENCE
from services.graph.models import Initiative, InitiativePartner, InitiativePlace, InitiativeReuse
from services.graph.service.organisations import EDITORS, get_organisation, require_org_role
from shared.auth import ANONYMOUS, Principal
from shared.database import utcnow
from shared.errors import BadUserInput, NotFound
from shared.outbox import record_event
from shared.pagination import PageRequest, paginate
from shared.text import render_markdown

# Fields kept on the initiative row itself; places, partners and reuses live in their own tables.
_LINKED = ("places", "partner_organisation_ids", "reuses_initiative_ids")
_REQUIRED = ("title", "area", "status", "visibility")


async def _live(session: AsyncSession, initiative_id: int, field: str = "initiativeId") -> Initiative:
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None or initiative.deleted_at is not None:
        raise NotFound("no such initiative", field=field)
    return initiative


def _row_values(changes: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in changes.items() if k not in _LINKED}
    for enum_field in ("area", "status", "visibility"):
        if values.get(enum_field) is not None:
            values[enum_field] = str(values[enum_field])
    if "links" in values:
        values["links"] = [dict(link) for link in values["links"] or []]
    if "description" in values:
        values["description"] = values["description"] or ""
        values["description_html"] = render_markdown(values["description"]) if values["description"] else ""
    for text_field in ("summary", "societal_benefit"):
        if text_field in values and values[text_field] is None:
            values[text_field] = ""
    if "techniques" in values and values["techniques"] is None:
        values["techniques"] = []
    for flag in ("seeking_partners", "open_to_reuse"):
        if flag in values and values[flag] is None:
            values[flag] = False
    for optional in ("funder", "programme"):
        if values.get(optional) == "":
            values[optional] = None
    return values


async def _check(session: AsyncSession, org_id: int, initiative_id: int | None, merged: dict[str, Any]) -> None:
    """The rules that need the database or more than one field."""
    starts, ends = merged.get("starts_on"), merged.get("ends_on")
    if starts is not None and ends is not None and ends < starts:
        raise BadUserInput("the end date is before the start date", field="ends_on")
    contact = merged.get("contact_member_id")
    if contact is not None:
        member = await repo.member_by_id(session, contact)
        if (
            member is None
            or member.erased_at is not None
            or await repo.organisation_role(session, org_id, contact) is None
        ):
            raise BadUserInput("the contact must be a member of the organisation", field="contact_member_id")
    partners = merged.get("partner_organisation_ids") or []
    if org_id in partners:
        raise BadUserInput("the owning organisation is not its own partner", field="partner_organisation_ids")
    if partners and len(await repo.organisations_by_ids(session, list(set(partners)))) != len(set(partners)):
        raise BadUserInput("no such organisation", field="partner_organisation_ids")
    reuses = merged.get("reuses_initiative_ids") or []
    if initiative_id is not None and initiative_id in reuses:
        raise BadUserInput("an initiative cannot reuse itself", field="reuses_initiative_ids")
    found = {i.id: i for i in await repo.initiatives_by_ids(session, list(set(reuses)), repo.public_initiative())}
    for target in reuses:
        if target not in found:
            raise BadUserInput("no such initiative", field="reuses_initiative_ids")
        if found[target].organisation_id == org_id:
            raise BadUserInput("reuse links point at other organisations' initiatives", field="reuses_initiative_ids")


async def _write_links(session: AsyncSession, initiative_id: int, changes: dict[str, Any]) -> None:
    if "places" in changes:
        await repo.clear_initiative_links(session, InitiativePlace, initiative_id)
        seen: set[tuple[str | None, str]] = set()
        for place in changes["places"] or []:
            key = (place["municipality_code"], place["county_code"])
            if key not in seen:
                seen.add(key)
                session.add(InitiativePlace(initiative_id=initiative_id, municipality_code=key[0], county_code=key[1]))
    if "partner_organisation_ids" in changes:
        await repo.clear_initiative_links(session, InitiativePartner, initiative_id)
        for org_id in dict.fromkeys(changes["partner_organisation_ids"] or []):
            session.add(InitiativePartner(initiative_id=initiative_id, organisation_id=org_id))
    if "reuses_initiative_ids" in changes:
        await repo.clear_initiative_links(session, InitiativeReuse, initiative_id)
        for target in dict.fromkeys(changes["reuses_initiative_ids"] or []):
            session.add(InitiativeReuse(initiative_id=initiative_id, reuses_initiative_id=target))


def _event(initiative: Initiative, **extra: Any) -> dict[str, Any]:
    return {
        "initiative_id": initiative.id,
        "organisation_id": initiative.organisation_id,
        "visibility": initiative.visibility,
        **extra,
    }


async def create_initiative(
    session: AsyncSession, actor: Principal, org_id: int, data: c.InitiativeCreateIn
) -> c.InitiativeOut:
    member, org, _ = await require_org_role(session, actor, org_id, EDITORS)
    changes = data.model_dump()
    await _check(session, org.id, None, changes)
    initiative = Initiative(**_row_values(changes), organisation_id=org.id, created_by=member.id)
    session.add(initiative)
    await session.flush()
    await _write_links(session, initiative.id, changes)
    record_event(session, "initiative.created", _event(initiative, by=member.id, status=initiative.status))
    await session.flush()
    return (await outs(session, [initiative]))[0]


async def update_initiative(
    session: AsyncSession, actor: Principal, initiative_id: int, data: c.InitiativeUpdateIn
) -> c.InitiativeOut:
    initiative = await _live(session, initiative_id)
    member, _, _ = await require_org_role(session, actor, initiative.organisation_id, EDITORS)
    changes = data.model_dump(exclude_unset=True)
    for field in _REQUIRED:
        if field in changes and changes[field] is None:
            raise BadUserInput("this field cannot be cleared", field=field)
    # The stored contact is not re-checked: one who has since left the organisation must not
    # block unrelated edits (the organisation page can show them as gone).
    merged = {"starts_on": initiative.starts_on, "ends_on": initiative.ends_on, **changes}
    await _check(session, initiative.organisation_id, initiative.id, merged)
    previous_status = initiative.status
    now = utcnow()
    for field, value in _row_values(changes).items():
        setattr(initiative, field, value)
    await _write_links(session, initiative.id, changes)
    initiative.updated_at = now
    record_event(session, "initiative.updated", _event(initiative, by=member.id, fields=sorted(changes)))
    if initiative.status != previous_status:
        initiative.status_changed_at = now
        record_event(
            session,
            "initiative.status_changed",
            _event(initiative, by=member.id, **{"from": previous_status, "to": initiative.status}),
        )
    await session.flush()
    return (await outs(session, [initiative]))[0]


async def delete_initiative(session: AsyncSession, actor: Principal, initiative_id: int) -> None:
    initiative = await _live(session, initiative_id)
    member, _, _ = await require_org_role(session, actor, initiative.organisation_id, EDITORS)
    initiative.deleted_at = initiative.updated_at = utcnow()
    record_event(session, "initiative.deleted", _event(initiative, by=member.id))
    await session.flush()


# --- reads --------------------------------------------------------------------------------------


async def outs(session: AsyncSession, initiatives: Sequence[Initiative]) -> list[c.InitiativeOut]:
    """The initiatives with their places, partners and reuse links, in four queries."""
    ids = [i.id for i in initiatives]
    places = await repo.places_of(session, ids)
    partners = await repo.partners_of(session, ids)
    reuses = await repo.reuses_of(session, ids)
    reused = await repo.reused_by(session, ids)
    return [
        c.InitiativeOut.model_validate(i).model_copy(
            update={
                "places": [c.PlaceOut.model_validate(p) for p in places[i.id]],
                "partner_organisation_ids": partners[i.id],
                "reuses_initiative_ids": reuses[i.id],
                "reused_by_initiative_ids": reused[i.id],
            }
        )
        for i in initiatives
    ]


async def initiatives_by_ids(session: AsyncSession, viewer: Principal, ids: Sequence[int]) -> list[c.InitiativeOut]:
    """The initiatives among `ids` the viewer may see, in the order asked; others are left out."""
    found = {i.id: i for i in await repo.initiatives_by_ids(session, ids, repo.visible_initiative(viewer.member_id))}
    return await outs(session, [found[i] for i in dict.fromkeys(ids) if i in found])


async def _page(session: AsyncSession, stmt: Any, page: PageRequest) -> c.InitiativePage:
    p = await paginate(session, stmt, Initiative.id, lambda r: r[0].id, page)
    return c.InitiativePage(items=await outs(session, [r[0] for r in p.rows]), **c.page_fields(p))


async def initiatives(
    session: AsyncSession, viewer: Principal, flt: c.InitiativeFilter, page: PageRequest
) -> c.InitiativePage:
    """Newest first, under the filters: the ones the viewer may see."""
    stmt = repo.initiatives_matching(
        flt.area.value if flt.area else None,
        flt.status.value if flt.status else None,
        flt.technique,
        flt.county_code,
        flt.municipality_code,
        flt.organisation_id,
        repo.visible_initiative(viewer.member_id),
    )
    return await _page(session, stmt, page)


async def organisation_initiatives(
    session: AsyncSession, viewer: Principal, org_id: int, page: PageRequest
) -> c.InitiativePage:
    await get_organisation(session, org_id)
    return await initiatives(session, viewer, c.InitiativeFilter(organisation_id=org_id), page)


async def municipality_initiatives(
    session: AsyncSession, flt: c.InitiativeFilter, page: PageRequest
) -> c.InitiativePage:
    """The public initiatives behind one municipality on the map (the filter names it): what
    its count on the map counts, whoever asks."""
    if flt.municipality_code is None:
        raise BadUserInput("name a municipality", field="municipality_code")
    return await initiatives(session, ANONYMOUS, flt, page)


async def counts(session: AsyncSession, flt: c.InitiativeCountsFilter) -> list[c.PlaceCount]:
    rows = await repo.initiative_counts(
        session, flt.by, flt.area.value if flt.area else None, flt.status.value if flt.status else None, flt.technique
    )
    return [c.PlaceCount(code=code, count=n) for code, n in rows]


async def export_page(session: AsyncSession, after: int, limit: int) -> c.InitiativeExportPage:
    """A page of the open-data registry: live initiatives of public organisations, in id order."""
    if not 1 <= limit <= EXPORT_PAGE_MAX:
        raise BadUserInput(f"limit is 1–{EXPORT_PAGE_MAX}", field="limit")
    rows = await repo.initiatives_for_export(session, after, limit + 1)
    more = len(rows) > limit
    items = await outs(session, [i for i, _ in rows[:limit]])
    return c.InitiativeExportPage(
        licence=OPEN_DATA_LICENCE,
        items=items,
        next_after=items[-1].id if more and items else None,
        last_modified=await repo.initiatives_last_modified(session),
    )
