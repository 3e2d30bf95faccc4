"""Paginated reads. Each checks that the viewer may see the list before paging it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Follow, Hub, HubMembership, Organisation, OrganisationInvitation, OrganisationRole
from services.graph.models import PersonalAccessToken as Pat
from services.graph.service.common import get_member, require_member_id
from services.graph.service.hubs import require_staff_view, visible_hub
from services.graph.service.organisations import MANAGERS, get_organisation, role_of
from shared.auth import Principal
from shared.database import out_of
from shared.errors import Forbidden, NotFound
from shared.pagination import PageRequest, paginate


def _first(row: object) -> int:
    return row[0].id  # type: ignore[index,no-any-return]


async def organisations(session: AsyncSession, flt: c.OrganisationFilter, page: PageRequest) -> c.OrganisationPage:
    stmt = repo.organisations_matching(
        flt.kind.value if flt.kind else None, flt.county_code, flt.municipality_code, flt.verified
    )
    p = await paginate(session, stmt, Organisation.id, _first, page, descending=False)
    return c.OrganisationPage(items=[c.OrganisationOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def hubs(session: AsyncSession, actor: Principal, flt: c.HubFilter, page: PageRequest) -> c.HubPage:
    stmt = repo.hubs_matching(actor, flt.organisation_id)
    p = await paginate(session, stmt, Hub.id, _first, page, descending=False)
    return c.HubPage(items=[c.HubOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def followers(
    session: AsyncSession, actor: Principal, target_type: str, target_id: int, page: PageRequest
) -> c.MemberPage:
    """Newest followers first; members on either side of a block with the viewer are left out."""
    if target_type == "member":
        member = await get_member(session, target_id, erased=True)
        if actor.member_id and not actor.is_moderator:
            if await repo.hidden_member_ids(session, actor.member_id, [member.id]):
                raise NotFound("no such member", field="memberId")
    elif target_type == "organisation":
        await get_organisation(session, target_id)
    else:
        await visible_hub(session, actor, target_id)
    viewer = None if actor.is_moderator else actor.member_id
    stmt = repo.followers_of(target_type, target_id, viewer)
    p = await paginate(session, stmt, Follow.id, lambda r: r[0], page)
    return c.MemberPage(items=[out_of(c.MemberOut, r[1]) for r in p.rows], **c.page_fields(p))


async def following(
    session: AsyncSession, actor: Principal, member_id: int, target_type: str, page: PageRequest
) -> c.FollowPage:
    member = await get_member(session, member_id, erased=True)
    if actor.member_id and not actor.is_moderator:
        if await repo.hidden_member_ids(session, actor.member_id, [member.id]):
            raise NotFound("no such member", field="memberId")
    stmt = repo.following_of(member.id, target_type)
    p = await paginate(session, stmt, Follow.id, _first, page)
    return c.FollowPage(items=[c.FollowOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def organisation_members(session: AsyncSession, org_id: int, page: PageRequest) -> c.OrganisationMemberPage:
    await get_organisation(session, org_id)
    p = await paginate(session, repo.organisation_roles_of(org_id), OrganisationRole.id, _first, page, descending=False)
    return c.OrganisationMemberPage(
        items=[c.OrganisationMemberOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p)
    )


async def hub_members(
    session: AsyncSession, actor: Principal, hub_id: int, state: str, page: PageRequest
) -> c.HubMembershipPage:
    if state == "active":
        await visible_hub(session, actor, hub_id)
    else:
        await require_staff_view(session, actor, hub_id)
    stmt = repo.hub_memberships_of(hub_id, state)
    p = await paginate(session, stmt, HubMembership.id, _first, page, descending=False)
    return c.HubMembershipPage(items=[c.HubMembershipOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def my_invitations(
    session: AsyncSession, actor: Principal, status: str | None, page: PageRequest
) -> c.InvitationPage:
    me = require_member_id(actor)
    p = await paginate(session, repo.invitations_for(me, status), OrganisationInvitation.id, _first, page)
    return c.InvitationPage(items=[c.InvitationOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def organisation_invitations(
    session: AsyncSession, actor: Principal, org_id: int, status: str | None, page: PageRequest
) -> c.InvitationPage:
    me = require_member_id(actor)
    await get_organisation(session, org_id)
    if await role_of(session, org_id, me) not in MANAGERS and not actor.is_moderator:
        raise Forbidden("only owners and admins see the organisation's invitations")
    stmt = repo.invitations_of_organisation(org_id, status)
    p = await paginate(session, stmt, OrganisationInvitation.id, _first, page)
    return c.InvitationPage(items=[c.InvitationOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def personal_access_tokens(
    session: AsyncSession, actor: Principal, page: PageRequest
) -> c.PersonalAccessTokenPage:
    me = require_member_id(actor)
    p = await paginate(session, repo.pats_of(me), Pat.id, _first, page)
    return c.PersonalAccessTokenPage(
        items=[c.PersonalAccessTokenOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p)
    )
