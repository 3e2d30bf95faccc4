"""All of the graph service's SQL. `readable_hubs(viewer)` encodes hub visibility once. The
initiatives registry's is in initiatives.py, re-exported here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from services.graph.models import (
    Block,
    Credential,
    Follow,
    Hub,
    HubMembership,
    LoginFailure,
    Member,
    Mute,
    OneTimeToken,
    Organisation,
    OrganisationInvitation,
    OrganisationRole,
    PersonalAccessToken,
    RefreshToken,
)

# The initiatives registry's SQL, reached by callers as repo.<name> like the rest.
from services.graph.repository.initiatives import (
    clear_initiative_links as clear_initiative_links,
)
from services.graph.repository.initiatives import (
    has_technique as has_technique,
)
from services.graph.repository.initiatives import (
    initiative_counts as initiative_counts,
)
from services.graph.repository.initiatives import (
    initiatives_by_ids as initiatives_by_ids,
)
from services.graph.repository.initiatives import (
    initiatives_for_export as initiatives_for_export,
)
from services.graph.repository.initiatives import (
    initiatives_last_modified as initiatives_last_modified,
)
from services.graph.repository.initiatives import (
    initiatives_matching as initiatives_matching,
)
from services.graph.repository.initiatives import (
    live_initiative as live_initiative,
)
from services.graph.repository.initiatives import (
    partners_of as partners_of,
)
from services.graph.repository.initiatives import (
    places_of as places_of,
)
from services.graph.repository.initiatives import (
    public_initiative as public_initiative,
)
from services.graph.repository.initiatives import (
    reused_by as reused_by,
)
from services.graph.repository.initiatives import (
    reuses_of as reuses_of,
)
from services.graph.repository.initiatives import (
    visible_initiative as visible_initiative,
)
from shared.auth import Principal
from shared.database import in_ids

# --- members and credentials -------------------------------------------------------


async def member_by_id(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


# Built once: a page of a feed asks for its authors on every read.
_MEMBERS_BY_IDS = select(Member).where(in_ids(col(Member.id)))
_MEMBERS_BY_IDS_NOT_BLOCKING = _MEMBERS_BY_IDS.where(
    ~exists().where(col(Block.blocker_id) == col(Member.id), col(Block.blocked_id) == bindparam("viewer_id"))
)


async def members_by_ids(session: AsyncSession, ids: Sequence[int], hidden_from: int | None = None) -> list[Member]:
    """The members with these ids; with `hidden_from`, not those who blocked that member."""
    if not ids:
        return []
    if hidden_from is None:
        rows = await session.execute(_MEMBERS_BY_IDS, {"ids": list(ids)})
    else:
        rows = await session.execute(_MEMBERS_BY_IDS_NOT_BLOCKING, {"ids": list(ids), "viewer_id": hidden_from})
    return list(rows.scalars())


async def contacts_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[tuple[Member, Credential]]:
    """Members with their sign-in address, for mail (services only)."""
    if not ids:
        return []
    stmt = select(Member, Credential).join(Credential, col(Credential.member_id) == col(Member.id))
    rows = await session.execute(stmt.where(col(Member.id).in_(ids)))
    return [(m, c) for m, c in rows.all()]


async def member_by_handle(session: AsyncSession, handle: str) -> Member | None:
    stmt = select(Member).where(col(Member.handle) == handle.lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def members_by_handles(session: AsyncSession, handles: Sequence[str]) -> list[Member]:
    if not handles:
        return []
    stmt = select(Member).where(col(Member.handle).in_([h.lower() for h in handles]))
    return list((await session.execute(stmt)).scalars())


async def handle_taken(session: AsyncSession, handle: str) -> bool:
    return (await session.execute(select(exists().where(col(Member.handle) == handle)))).scalar_one()


async def credential_by_email(session: AsyncSession, email: str) -> Credential | None:
    stmt = select(Credential).where(col(Credential.email) == email)
    return (await session.execute(stmt)).scalar_one_or_none()


async def email_taken(session: AsyncSession, email: str) -> bool:
    return (await session.execute(select(exists().where(col(Credential.email) == email)))).scalar_one()


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_refresh_family(session: AsyncSession, family_id: int, when: Any) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )


async def revoke_member_refresh_tokens(session: AsyncSession, member_id: int, when: Any) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.member_id) == member_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )


async def one_time_token_by_hash(session: AsyncSession, token_hash: str, purpose: str) -> OneTimeToken | None:
    stmt = (
        select(OneTimeToken)
        .where(col(OneTimeToken.token_hash) == token_hash, col(OneTimeToken.purpose) == purpose)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def expire_one_time_tokens(session: AsyncSession, member_id: int, purpose: str, when: Any) -> None:
    await session.execute(
        update(OneTimeToken)
        .where(
            col(OneTimeToken.member_id) == member_id,
            col(OneTimeToken.purpose) == purpose,
            col(OneTimeToken.used_at).is_(None),
        )
        .values(used_at=when)
    )


async def pat_by_hash(session: AsyncSession, token_hash: str) -> PersonalAccessToken | None:
    stmt = select(PersonalAccessToken).where(col(PersonalAccessToken.token_hash) == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- log-in throttling (services/graph/service/identity.py) -----------------------------


async def nth_newest_login_failure(
    session: AsyncSession, by: Literal["email_key", "ip"], value: str, *, since: datetime, n: int
) -> datetime | None:
    """When the n-th newest failure since `since` of this account (or address) happened; None
    if there are fewer than n. While it exists the limit of n is reached, until it ages out."""
    stmt = (
        select(col(LoginFailure.created_at))
        .where(getattr(LoginFailure, by) == value, col(LoginFailure.created_at) > since)
        .order_by(col(LoginFailure.created_at).desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def forgive_login_failures(session: AsyncSession, email_key: str) -> None:
    """The account's failures stop counting for it; those with an address still count for that."""
    of_account = col(LoginFailure.email_key) == email_key
    await session.execute(delete(LoginFailure).where(of_account, col(LoginFailure.ip).is_(None)))
    await session.execute(update(LoginFailure).where(of_account).values(email_key=None))


async def prune_login_failures(session: AsyncSession, before: datetime) -> None:
    """Failures older than the throttle window count for nothing any more."""
    await session.execute(delete(LoginFailure).where(col(LoginFailure.created_at) <= before))


def pats_of(member_id: int) -> Select[Any]:
    return select(PersonalAccessToken).where(col(PersonalAccessToken.member_id) == member_id)


# --- organisations -------------------------------------------------------------------


async def organisation_by_slug(session: AsyncSession, slug: str) -> Organisation | None:
    stmt = select(Organisation).where(col(Organisation.slug) == slug.lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def organisations_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Organisation]:
    if not ids:
        return []
    stmt = select(Organisation).where(col(Organisation.id).in_(ids))
    return list((await session.execute(stmt)).scalars())


async def slug_taken(session: AsyncSession, model: Any, slug: str) -> bool:
    return (await session.execute(select(exists().where(model.slug == slug)))).scalar_one()


def organisations_matching(
    kind: str | None, county_code: str | None, municipality_code: str | None, verified: bool | None
) -> Select[Any]:
    stmt = select(Organisation)
    if kind:
        stmt = stmt.where(col(Organisation.kind) == kind)
    if county_code:
        stmt = stmt.where(col(Organisation.county_code) == county_code)
    if municipality_code:
        stmt = stmt.where(col(Organisation.municipality_code) == municipality_code)
    if verified is not None:
        stmt = stmt.where(col(Organisation.verified) == verified)
    return stmt


async def organisation_role(session: AsyncSession, org_id: int, member_id: int) -> OrganisationRole | None:
    stmt = select(OrganisationRole).where(
        col(OrganisationRole.organisation_id) == org_id, col(OrganisationRole.member_id) == member_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_owners(session: AsyncSession, org_id: int) -> int:
    stmt = select(func.count()).where(
        col(OrganisationRole.organisation_id) == org_id, col(OrganisationRole.role) == "owner"
    )
    return (await session.execute(stmt)).scalar_one()


def organisation_roles_of(org_id: int) -> Select[Any]:
    return select(OrganisationRole).where(col(OrganisationRole.organisation_id) == org_id)


async def pending_invitation(session: AsyncSession, org_id: int, invitee_id: int) -> OrganisationInvitation | None:
    stmt = select(OrganisationInvitation).where(
        col(OrganisationInvitation.organisation_id) == org_id,
        col(OrganisationInvitation.invitee_id) == invitee_id,
        col(OrganisationInvitation.status) == "pending",
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def invitations_for(invitee_id: int, status: str | None) -> Select[Any]:
    stmt = select(OrganisationInvitation).where(col(OrganisationInvitation.invitee_id) == invitee_id)
    return stmt.where(col(OrganisationInvitation.status) == status) if status else stmt


def invitations_of_organisation(org_id: int, status: str | None) -> Select[Any]:
    stmt = select(OrganisationInvitation).where(col(OrganisationInvitation.organisation_id) == org_id)
    return stmt.where(col(OrganisationInvitation.status) == status) if status else stmt


async def bump(session: AsyncSession, model: Any, row_id: int, column: str, delta: int) -> None:
    current = getattr(model, column)
    await session.execute(update(model).where(model.id == row_id).values({column: current + delta}))


# --- hubs ---------------------------------------------------------------------------


def readable_hubs(viewer: Principal) -> Any:
    """The visibility rule for hubs: public ones, members-only ones the viewer belongs to, and
    every hub of an organisation the viewer owns or administers (they run its hubs)."""
    if viewer.is_moderator:
        return True
    public = col(Hub.visibility) == "public"
    if viewer.member_id is None:
        return public
    belongs = exists().where(
        col(HubMembership.hub_id) == col(Hub.id),
        col(HubMembership.member_id) == viewer.member_id,
        col(HubMembership.state).in_(("active", "invited")),
    )
    manages = exists().where(
        col(OrganisationRole.organisation_id) == col(Hub.organisation_id),
        col(OrganisationRole.member_id) == viewer.member_id,
        col(OrganisationRole.role).in_(("owner", "admin")),
    )
    return or_(public, belongs, manages)


async def hubs_by_ids(session: AsyncSession, ids: Sequence[int], viewer: Principal) -> list[Hub]:
    if not ids:
        return []
    stmt = select(Hub).where(col(Hub.id).in_(ids), readable_hubs(viewer))
    return list((await session.execute(stmt)).scalars())


async def hub_by_slug(session: AsyncSession, slug: str, viewer: Principal) -> Hub | None:
    stmt = select(Hub).where(col(Hub.slug) == slug.lower(), readable_hubs(viewer))
    return (await session.execute(stmt)).scalar_one_or_none()


def hubs_matching(viewer: Principal, organisation_id: int | None) -> Select[Any]:
    stmt = select(Hub).where(readable_hubs(viewer))
    if organisation_id is not None:
        stmt = stmt.where(col(Hub.organisation_id) == organisation_id)
    return stmt


async def hub_membership(session: AsyncSession, hub_id: int, member_id: int) -> HubMembership | None:
    stmt = select(HubMembership).where(col(HubMembership.hub_id) == hub_id, col(HubMembership.member_id) == member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def hub_memberships_of(hub_id: int, state: str) -> Select[Any]:
    return select(HubMembership).where(col(HubMembership.hub_id) == hub_id, col(HubMembership.state) == state)


async def hub_ids_with_role(session: AsyncSession, member_id: int, roles: Sequence[str]) -> list[int]:
    """Hubs where the member is active in one of these roles."""
    stmt = select(col(HubMembership.hub_id)).where(
        col(HubMembership.member_id) == member_id,
        col(HubMembership.state) == "active",
        col(HubMembership.role).in_(roles),
    )
    return sorted((await session.execute(stmt)).scalars())


async def count_hub_admins(session: AsyncSession, hub_id: int) -> int:
    stmt = select(func.count()).where(
        col(HubMembership.hub_id) == hub_id,
        col(HubMembership.role) == "admin",
        col(HubMembership.state) == "active",
    )
    return (await session.execute(stmt)).scalar_one()


# --- follows, blocks, mutes ------------------------------------------------------------


async def follow_row(session: AsyncSession, follower_id: int, target_type: str, target_id: int) -> Follow | None:
    stmt = select(Follow).where(
        col(Follow.follower_id) == follower_id,
        col(Follow.target_type) == target_type,
        col(Follow.target_id) == target_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def not_blocked_between(viewer_id: int | None, member_col: Any) -> Any:
    """Members who blocked the viewer, or whom the viewer blocked, are out of sight."""
    if viewer_id is None:
        return True
    return ~exists().where(
        or_(
            and_(col(Block.blocker_id) == member_col, col(Block.blocked_id) == viewer_id),
            and_(col(Block.blocker_id) == viewer_id, col(Block.blocked_id) == member_col),
        )
    )


def followers_of(target_type: str, target_id: int, viewer_id: int | None) -> Select[int, Member]:
    return (
        select(col(Follow.id), Member)
        .join(Member, col(Member.id) == col(Follow.follower_id))
        .where(col(Follow.target_type) == target_type, col(Follow.target_id) == target_id)
        .where(not_blocked_between(viewer_id, col(Member.id)))
    )


def following_of(member_id: int, target_type: str) -> Select[Any]:
    return select(Follow).where(col(Follow.follower_id) == member_id, col(Follow.target_type) == target_type)


async def block_between(session: AsyncSession, a: int, b: int) -> bool:
    stmt = select(
        exists().where(
            or_(
                and_(col(Block.blocker_id) == a, col(Block.blocked_id) == b),
                and_(col(Block.blocker_id) == b, col(Block.blocked_id) == a),
            )
        )
    )
    return (await session.execute(stmt)).scalar_one()


async def block_row(session: AsyncSession, blocker_id: int, blocked_id: int) -> Block | None:
    stmt = select(Block).where(col(Block.blocker_id) == blocker_id, col(Block.blocked_id) == blocked_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mute_row(session: AsyncSession, muter_id: int, muted_id: int) -> Mute | None:
    stmt = select(Mute).where(col(Mute.muter_id) == muter_id, col(Mute.muted_id) == muted_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def hidden_member_ids(session: AsyncSession, viewer_id: int, ids: Sequence[int]) -> set[int]:
    """Of `ids`, the members who blocked the viewer: to them the viewer stays invisible."""
    if not ids:
        return set()
    stmt = select(col(Block.blocker_id)).where(col(Block.blocked_id) == viewer_id, col(Block.blocker_id).in_(ids))
    return set((await session.execute(stmt)).scalars())


async def relations(
    session: AsyncSession,
    viewer_id: int,
    member_ids: Sequence[int],
    org_ids: Sequence[int],
    hub_ids: Sequence[int],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "following": set(),
        "followed_by": set(),
        "blocking": set(),
        "muting": set(),
    }
    if member_ids:
        q = select(col(Follow.target_id)).where(
            col(Follow.follower_id) == viewer_id,
            col(Follow.target_type) == "member",
            col(Follow.target_id).in_(member_ids),
        )
        out["following"] = set((await session.execute(q)).scalars())
        q = select(col(Follow.follower_id)).where(
            col(Follow.target_id) == viewer_id,
            col(Follow.target_type) == "member",
            col(Follow.follower_id).in_(member_ids),
        )
        out["followed_by"] = set((await session.execute(q)).scalars())
        q = select(col(Block.blocked_id)).where(
            col(Block.blocker_id) == viewer_id, col(Block.blocked_id).in_(member_ids)
        )
        out["blocking"] = set((await session.execute(q)).scalars())
        q = select(col(Mute.muted_id)).where(col(Mute.muter_id) == viewer_id, col(Mute.muted_id).in_(member_ids))
        out["muting"] = set((await session.execute(q)).scalars())
    out["org_following"] = set()
    out["org_roles"] = {}
    if org_ids:
        q = select(col(Follow.target_id)).where(
            col(Follow.follower_id) == viewer_id,
            col(Follow.target_type) == "organisation",
            col(Follow.target_id).in_(org_ids),
        )
        out["org_following"] = set((await session.execute(q)).scalars())
        q2 = select(col(OrganisationRole.organisation_id), col(OrganisationRole.role)).where(
            col(OrganisationRole.member_id) == viewer_id, col(OrganisationRole.organisation_id).in_(org_ids)
        )
        out["org_roles"] = {org: role for org, role in (await session.execute(q2)).all()}
    out["hub_following"] = set()
    out["hub_memberships"] = {}
    if hub_ids:
        q = select(col(Follow.target_id)).where(
            col(Follow.follower_id) == viewer_id,
            col(Follow.target_type) == "hub",
            col(Follow.target_id).in_(hub_ids),
        )
        out["hub_following"] = set((await session.execute(q)).scalars())
        q3 = select(col(HubMembership.hub_id), col(HubMembership.role), col(HubMembership.state)).where(
            col(HubMembership.member_id) == viewer_id, col(HubMembership.hub_id).in_(hub_ids)
        )
        out["hub_memberships"] = {h: (r, s) for h, r, s in (await session.execute(q3)).all()}
    return out


async def delete_follows_between(session: AsyncSession, a: int, b: int) -> list[Follow]:
    stmt = select(Follow).where(
        col(Follow.target_type) == "member",
        or_(
            and_(col(Follow.follower_id) == a, col(Follow.target_id) == b),
            and_(col(Follow.follower_id) == b, col(Follow.target_id) == a),
        ),
    )
    rows = list((await session.execute(stmt)).scalars())
    if rows:
        await session.execute(delete(Follow).where(col(Follow.id).in_([r.id for r in rows])))
    return rows


# --- search: what the search service indexes (see services/graph/service/search_source.py) ----


SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")


def searchable_member() -> ColumnElement[bool]:
    """Members who may be found: neither erased nor banned. (Erasure renames the handle to
    "deleted-…" and stamps `erased_at`.)"""
    return and_(
        ~col(Member.handle).startswith("deleted-"), col(Member.erased_at).is_(None), col(Member.banned_at).is_(None)
    )


def _by_ids_or_after(stmt: SelectT, id_col: Any, ids: Sequence[int] | None, after: int, limit: int) -> SelectT:
    if ids is not None:
        return stmt.where(id_col.in_(ids))
    return stmt.where(id_col > after).order_by(id_col).limit(limit)


async def searchable_members(
    session: AsyncSession, ids: Sequence[int] | None, after: int = 0, limit: int = 0
) -> list[Member]:
    """The searchable members among `ids`, or (ids None) the next `limit` after the id `after`."""
    if ids is not None and not ids:
        return []
    stmt = _by_ids_or_after(select(Member).where(searchable_member()), col(Member.id), ids, after, limit)
    return list((await session.execute(stmt)).scalars())


async def searchable_organisations(
    session: AsyncSession, ids: Sequence[int] | None, after: int = 0, limit: int = 0
) -> list[Organisation]:
    if ids is not None and not ids:
        return []
    stmt = _by_ids_or_after(select(Organisation), col(Organisation.id), ids, after, limit)
    return list((await session.execute(stmt)).scalars())


async def searchable_hubs(
    session: AsyncSession, ids: Sequence[int] | None, after: int = 0, limit: int = 0
) -> list[tuple[Hub, Organisation | None]]:
    """Hubs with their owning organisation, loaded in the same query."""
    if ids is not None and not ids:
        return []
    stmt = select(Hub, Organisation).outerjoin(Organisation, col(Organisation.id) == col(Hub.organisation_id))
    rows = await session.execute(_by_ids_or_after(stmt, col(Hub.id), ids, after, limit))
    return [(hub, org) for hub, org in rows.all()]


async def active_hub_ids(session: AsyncSession, member_id: int) -> list[int]:
    stmt = select(col(HubMembership.hub_id)).where(
        col(HubMembership.member_id) == member_id, col(HubMembership.state) == "active"
    )
    return sorted((await session.execute(stmt)).scalars())


async def blocks_either_way(session: AsyncSession, member_id: int) -> list[int]:
    """Members the member blocked, and members who blocked them."""
    blocked = select(col(Block.blocked_id)).where(col(Block.blocker_id) == member_id)
    blockers = select(col(Block.blocker_id)).where(col(Block.blocked_id) == member_id)
    rows = await session.execute(union(blocked, blockers))
    return sorted(set(rows.scalars()))


async def muted_ids(session: AsyncSession, member_id: int) -> list[int]:
    stmt = select(col(Mute.muted_id)).where(col(Mute.muter_id) == member_id)
    return sorted((await session.execute(stmt)).scalars())


# --- account erasure (services/graph/service/erasure.py) -----------------------------------------


async def member_for_update(session: AsyncSession, member_id: int) -> Member | None:
    """The member, locked: two erasures of one account queue, and the second finds it erased."""
    stmt = select(Member).where(col(Member.id) == member_id).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def organisations_solely_owned_by(session: AsyncSession, member_id: int) -> list[Organisation]:
    """Organisations whose only owner is this member."""
    others = aliased(OrganisationRole)
    another_owner = exists().where(
        col(others.organisation_id) == col(OrganisationRole.organisation_id),
        col(others.role) == "owner",
        col(others.member_id) != member_id,
    )
    stmt = (
        select(Organisation)
        .join(OrganisationRole, col(OrganisationRole.organisation_id) == col(Organisation.id))
        .where(col(OrganisationRole.member_id) == member_id, col(OrganisationRole.role) == "owner", ~another_owner)
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    return list((await session.execute(stmt)).scalars())


async def hubs_solely_administered_by(session: AsyncSession, member_id: int) -> list[Hub]:
    """Hubs whose only active admin is this member (the rule hubs._remove keeps)."""
    others = aliased(HubMembership)
    another_admin = exists().where(
        col(others.hub_id) == col(HubMembership.hub_id),
        col(others.role) == "admin",
        col(others.state) == "active",
        col(others.member_id) != member_id,
    )
    stmt = (
        select(Hub)
        .join(HubMembership, col(HubMembership.hub_id) == col(Hub.id))
        .where(
            col(HubMembership.member_id) == member_id,
            col(HubMembership.role) == "admin",
            col(HubMembership.state) == "active",
            ~another_admin,
        )
        .order_by(col(Hub.name), col(Hub.id))
    )
    return list((await session.execute(stmt)).scalars())


def _follows_touching(member_id: int) -> Any:
    """The member's follows and the follows of them."""
    return or_(
        col(Follow.follower_id) == member_id,
        and_(col(Follow.target_type) == "member", col(Follow.target_id) == member_id),
    )


async def drop_follows_touching(session: AsyncSession, member_id: int) -> list[tuple[int, int, str, int]]:
    """Delete every follow by or of the member, keeping the counts of the other side right
    (set-based: a member may have many thousands of followers). Returns the follows removed
    as (id, follower_id, target_type, target_id), for their events."""
    stmt = select(col(Follow.id), col(Follow.follower_id), col(Follow.target_type), col(Follow.target_id))
    rows = (await session.execute(stmt.where(_follows_touching(member_id)))).all()
    removed = [(int(i), int(f), str(t), int(g)) for i, f, t, g in rows]
    if not removed:
        return []
    no_sync = {"synchronize_session": False}
    counted: tuple[tuple[Any, str], ...] = ((Member, "member"), (Organisation, "organisation"), (Hub, "hub"))
    for model, target_type in counted:
        followed = select(col(Follow.target_id)).where(
            col(Follow.follower_id) == member_id, col(Follow.target_type) == target_type
        )
        await session.execute(
            update(model)
            .where(col(model.id).in_(followed))
            .values(followers_count=col(model.followers_count) - 1)
            .execution_options(**no_sync)
        )
    followers = select(col(Follow.follower_id)).where(
        col(Follow.target_type) == "member", col(Follow.target_id) == member_id
    )
    await session.execute(
        update(Member)
        .where(col(Member.id).in_(followers))
        .values(following_count=col(Member.following_count) - 1)
        .execution_options(**no_sync)
    )
    await session.execute(delete(Follow).where(_follows_touching(member_id)).execution_options(**no_sync))
    return removed


async def drop_blocks_touching(session: AsyncSession, member_id: int) -> list[tuple[int, int]]:
    """Delete the member's blocks and the blocks of them; (blocker_id, blocked_id) of each."""
    touching = or_(col(Block.blocker_id) == member_id, col(Block.blocked_id) == member_id)
    stmt = select(col(Block.blocker_id), col(Block.blocked_id)).where(touching)
    removed = [(int(a), int(b)) for a, b in (await session.execute(stmt)).all()]
    if removed:
        await session.execute(delete(Block).where(touching).execution_options(synchronize_session=False))
    return removed


async def drop_mutes_touching(session: AsyncSession, member_id: int) -> list[tuple[int, int]]:
    """Delete the member's mutes and the mutes of them; (muter_id, muted_id) of each."""
    touching = or_(col(Mute.muter_id) == member_id, col(Mute.muted_id) == member_id)
    stmt = select(col(Mute.muter_id), col(Mute.muted_id)).where(touching)
    removed = [(int(a), int(b)) for a, b in (await session.execute(stmt)).all()]
    if removed:
        await session.execute(delete(Mute).where(touching).execution_options(synchronize_session=False))
    return removed


async def organisation_roles_of_member(session: AsyncSession, member_id: int) -> list[OrganisationRole]:
    stmt = select(OrganisationRole).where(col(OrganisationRole.member_id) == member_id)
    return list((await session.execute(stmt)).scalars())


async def hub_memberships_of_member(session: AsyncSession, member_id: int) -> list[HubMembership]:
    stmt = select(HubMembership).where(col(HubMembership.member_id) == member_id)
    return list((await session.execute(stmt)).scalars())


async def revoke_invitations_to(session: AsyncSession, member_id: int, when: Any) -> None:
    await session.execute(
        update(OrganisationInvitation)
        .where(col(OrganisationInvitation.invitee_id) == member_id, col(OrganisationInvitation.status) == "pending")
        .values(status="revoked", responded_at=when)
    )


async def revoke_member_pats(session: AsyncSession, member_id: int, when: Any) -> None:
    await session.execute(
        update(PersonalAccessToken)
        .where(col(PersonalAccessToken.member_id) == member_id, col(PersonalAccessToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )
