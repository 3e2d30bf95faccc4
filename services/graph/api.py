"""The graph service's REST API. Every route needs an internal token (see shared.web)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import ValidationError

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.initiatives_reference import EXPORT_PAGE_MAX
from services.graph.jobs_api import router as failed_jobs_router
from services.graph.service import (
    erasure,
    hubs,
    identity,
    initiatives,
    lists,
    members,
    organisations,
    search_source,
    social,
)
from services.graph.service.common import is_suspended
from services.graph.service.organisations import get_organisation
from shared.auth import Principal
from shared.database import out_of
from shared.errors import Forbidden, NotFound
from shared.search_documents import SEARCH_DOCUMENTS_PATH, SEARCH_SCOPE_PATH, DocumentPage, SearchScope, document_query
from shared.settings import Settings
from shared.web import Actor, Ids, Page, Session, bad_input, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "graph"

router = APIRouter(prefix="/v1")


# --- identity ---------------------------------------------------------------------------


@router.post("/auth/signup", response_model=c.SessionOut)
async def sign_up(data: c.SignUpIn, session: Session, actor: Actor, request: Request) -> c.SessionOut:
    return await identity.sign_up(session, request.app.state.codec, request.app.state.settings, data)


@router.post("/auth/login", response_model=c.SessionOut)
async def log_in(data: c.LogInIn, session: Session, actor: Actor, request: Request) -> c.SessionOut:
    return await identity.log_in(session, request.app.state.codec, request.app.state.settings, data)


@router.post("/auth/refresh", response_model=c.SessionOut)
async def refresh(data: c.RefreshIn, session: Session, actor: Actor, request: Request) -> c.SessionOut:
    return await identity.refresh(session, request.app.state.codec, request.app.state.settings, data)


@router.post("/auth/logout", status_code=204)
async def log_out(data: c.RefreshIn, session: Session, actor: Actor) -> Response:
    await identity.log_out(session, data)
    return Response(status_code=204)


@router.post("/auth/email-verification", status_code=204)
async def request_verification(session: Session, actor: Actor, request: Request) -> Response:
    await identity.request_email_verification(session, request.app.state.settings, actor)
    return Response(status_code=204)


@router.post("/auth/email-verification/confirm", status_code=204)
async def confirm_verification(data: c.TokenIn, session: Session, actor: Actor) -> Response:
    await identity.verify_email(session, data)
    return Response(status_code=204)


@router.post("/auth/password-reset", status_code=204)
async def request_reset(data: c.EmailIn, session: Session, actor: Actor, request: Request) -> Response:
    await identity.request_password_reset(session, request.app.state.settings, data)
    return Response(status_code=204)


@router.post("/auth/password-reset/confirm", status_code=204)
async def confirm_reset(data: c.PasswordResetIn, session: Session, actor: Actor) -> Response:
    await identity.reset_password(session, data)
    return Response(status_code=204)


@router.post("/auth/password-change", status_code=204)
async def change_password(data: c.PasswordChangeIn, session: Session, actor: Actor) -> Response:
    await identity.change_password(session, actor, data)
    return Response(status_code=204)


@router.get("/viewer", response_model=c.ViewerOut)
async def viewer(session: Session, actor: Actor) -> c.ViewerOut:
    return await identity.viewer(session, actor)


@router.post("/tokens", response_model=c.PersonalAccessTokenCreated)
async def create_token(data: c.PersonalAccessTokenIn, session: Session, actor: Actor) -> c.PersonalAccessTokenCreated:
    return await identity.create_personal_access_token(session, actor, data)


@router.get("/tokens", response_model=c.PersonalAccessTokenPage)
async def list_tokens(session: Session, actor: Actor, page: Page) -> c.PersonalAccessTokenPage:
    return await lists.personal_access_tokens(session, actor, page)


@router.delete("/tokens/{token_id}", response_model=c.PersonalAccessTokenOut)
async def revoke_token(token_id: int, session: Session, actor: Actor) -> c.PersonalAccessTokenOut:
    return await identity.revoke_personal_access_token(session, actor, token_id)


@router.post("/tokens/resolve", response_model=c.PrincipalOut)
async def resolve_token(data: c.TokenIn, session: Session, actor: Actor) -> c.PrincipalOut:
    if actor.member_id is not None or not actor.service:
        raise Forbidden("only services resolve access tokens")
    return await identity.resolve_personal_access_token(session, data)


# --- members ----------------------------------------------------------------------------


@router.get("/members", response_model=list[c.MemberOut])
async def members_batch(ids: Ids, session: Session, actor: Actor) -> list[c.MemberOut]:
    return [out_of(c.MemberOut, m) for m in await members.members_by_ids(session, actor, ids)]


@router.get("/members/by-handles", response_model=list[c.MemberOut])
async def members_by_handles(
    handles: Annotated[str, Query(max_length=1600, pattern=r"^[A-Za-z0-9_,]*$")], session: Session, actor: Actor
) -> list[c.MemberOut]:
    wanted = [h for h in handles.split(",") if h][:50]
    return [out_of(c.MemberOut, m) for m in await members.members_by_handles(session, actor, wanted)]


@router.get("/members/by-handle/{handle}", response_model=c.MemberOut)
async def member_by_handle(handle: str, session: Session, actor: Actor) -> c.MemberOut:
    if len(handle) > 30:
        raise NotFound("no such member", field="handle")
    return c.MemberOut.model_validate(await members.member_by_handle(session, actor, handle))


@router.patch("/members/me", response_model=c.MemberOut)
async def update_profile(data: c.ProfileIn, session: Session, actor: Actor) -> c.MemberOut:
    return c.MemberOut.model_validate(await members.update_profile(session, actor, data))


@router.post("/members/suspension", response_model=c.MemberOut)
async def suspend(data: c.SuspensionIn, session: Session, actor: Actor) -> c.MemberOut:
    return c.MemberOut.model_validate(await members.set_suspension(session, actor, data))


@router.post("/members/{member_id}/ban", response_model=c.MemberOut)
async def ban(member_id: int, data: c.BanIn, session: Session, actor: Actor) -> c.MemberOut:
    return c.MemberOut.model_validate(await members.set_banned(session, actor, member_id, data.banned))


@router.get("/members/{member_id}/staffed-hubs", response_model=list[int])
async def staffed_hubs(member_id: int, session: Session, actor: Actor) -> list[int]:
    """Ids of the hubs where the member is an active admin or moderator."""
    return await hubs.staffed_hubs(session, actor, member_id)


@router.post("/members/platform-role", response_model=c.MemberOut)
async def platform_role(data: c.PlatformRoleIn, session: Session, actor: Actor) -> c.MemberOut:
    return c.MemberOut.model_validate(await members.set_platform_role(session, actor, data))


TargetType = Literal["member", "organisation", "hub"]


@router.get("/followers/{target_type}/{target_id}", response_model=c.MemberPage)
async def followers(
    target_type: TargetType, target_id: int, session: Session, actor: Actor, page: Page
) -> c.MemberPage:
    return await lists.followers(session, actor, target_type, target_id, page)


@router.get("/members/{member_id}/following/{target_type}", response_model=c.FollowPage)
async def following(
    member_id: int, target_type: TargetType, session: Session, actor: Actor, page: Page
) -> c.FollowPage:
    return await lists.following(session, actor, member_id, target_type, page)


# --- organisations ------------------------------------------------------------------------


@router.post("/organisations", response_model=c.OrganisationOut)
async def create_organisation(data: c.OrganisationCreateIn, session: Session, actor: Actor) -> c.OrganisationOut:
    return c.OrganisationOut.model_validate(await organisations.create_organisation(session, actor, data))


@router.patch("/organisations/{org_id}", response_model=c.OrganisationOut)
async def update_organisation(
    org_id: int, data: c.OrganisationUpdateIn, session: Session, actor: Actor
) -> c.OrganisationOut:
    return c.OrganisationOut.model_validate(await organisations.update_organisation(session, actor, org_id, data))


@router.put("/organisations/{org_id}/verified", response_model=c.OrganisationOut)
async def verify_organisation(org_id: int, data: c.VerifyIn, session: Session, actor: Actor) -> c.OrganisationOut:
    return c.OrganisationOut.model_validate(await organisations.set_verified(session, actor, org_id, data.verified))


@router.get("/organisations", response_model=c.OrganisationPage)
async def list_organisations(
    session: Session, actor: Actor, page: Page, flt: Annotated[c.OrganisationFilter, Query()]
) -> c.OrganisationPage:
    return await lists.organisations(session, flt, page)


@router.get("/organisations/batch", response_model=list[c.OrganisationOut])
async def organisations_batch(ids: Ids, session: Session, actor: Actor) -> list[c.OrganisationOut]:
    return [c.OrganisationOut.model_validate(o) for o in await repo.organisations_by_ids(session, ids)]


@router.get("/organisations/by-slug/{slug}", response_model=c.OrganisationOut)
async def organisation_by_slug(slug: str, session: Session, actor: Actor) -> c.OrganisationOut:
    org = await repo.organisation_by_slug(session, slug[:60])
    if org is None:
        raise NotFound("no such organisation", field="slug")
    return c.OrganisationOut.model_validate(org)


@router.get("/organisations/{org_id}/members", response_model=c.OrganisationMemberPage)
async def organisation_members(org_id: int, session: Session, actor: Actor, page: Page) -> c.OrganisationMemberPage:
    return await lists.organisation_members(session, org_id, page)


@router.put("/organisations/{org_id}/roles", response_model=c.OrganisationMemberOut)
async def set_organisation_role(
    org_id: int, data: c.OrganisationRoleIn, session: Session, actor: Actor
) -> c.OrganisationMemberOut:
    return c.OrganisationMemberOut.model_validate(await organisations.set_role(session, actor, org_id, data))


@router.delete("/organisations/{org_id}/members/{member_id}", status_code=204)
async def remove_organisation_member(org_id: int, member_id: int, session: Session, actor: Actor) -> Response:
    await organisations.remove_member(session, actor, org_id, member_id)
    return Response(status_code=204)


InvitationStatus = Annotated[Literal["pending", "accepted", "declined", "revoked"] | None, Query()]


@router.post("/organisations/{org_id}/invitations", response_model=c.InvitationOut)
async def invite(org_id: int, data: c.InvitationIn, session: Session, actor: Actor) -> c.InvitationOut:
    return c.InvitationOut.model_validate(await organisations.invite(session, actor, org_id, data))


@router.get("/organisations/{org_id}/invitations", response_model=c.InvitationPage)
async def organisation_invitations(
    org_id: int, session: Session, actor: Actor, page: Page, status: InvitationStatus = None
) -> c.InvitationPage:
    return await lists.organisation_invitations(session, actor, org_id, status, page)


@router.get("/invitations", response_model=c.InvitationPage)
async def my_invitations(
    session: Session, actor: Actor, page: Page, status: InvitationStatus = None
) -> c.InvitationPage:
    return await lists.my_invitations(session, actor, status, page)


@router.get("/invitations/{invitation_id}", response_model=c.InvitationOut)
async def invitation(invitation_id: int, session: Session, actor: Actor) -> c.InvitationOut:
    return c.InvitationOut.model_validate(await organisations.visible_invitation(session, actor, invitation_id))


@router.post("/invitations/{invitation_id}/{action}", response_model=c.InvitationOut)
async def answer_invitation(
    invitation_id: int, action: Literal["accept", "decline", "revoke"], session: Session, actor: Actor
) -> c.InvitationOut:
    if action == "revoke":
        row = await organisations.revoke_invitation(session, actor, invitation_id)
    else:
        row = await organisations.respond(session, actor, invitation_id, accept=action == "accept")
    return c.InvitationOut.model_validate(row)


# --- initiatives ------------------------------------------------------------------------------


@router.post("/organisations/{org_id}/initiatives", response_model=c.InitiativeOut)
async def create_initiative(org_id: int, data: c.InitiativeCreateIn, session: Session, actor: Actor) -> c.InitiativeOut:
    return await initiatives.create_initiative(session, actor, org_id, data)


@router.get("/organisations/{org_id}/initiatives", response_model=c.InitiativePage)
async def organisation_initiatives(org_id: int, session: Session, actor: Actor, page: Page) -> c.InitiativePage:
    return await initiatives.organisation_initiatives(session, actor, org_id, page)


@router.get("/initiatives", response_model=c.InitiativePage)
async def list_initiatives(
    session: Session, actor: Actor, page: Page, flt: Annotated[c.InitiativeFilter, Query()]
) -> c.InitiativePage:
    return await initiatives.initiatives(session, actor, flt, page)


@router.get("/initiatives/batch", response_model=list[c.InitiativeOut])
async def initiatives_batch(ids: Ids, session: Session, actor: Actor) -> list[c.InitiativeOut]:
    return await initiatives.initiatives_by_ids(session, actor, ids)


@router.get("/initiatives/counts", response_model=list[c.PlaceCount])
async def initiative_counts(
    session: Session, actor: Actor, flt: Annotated[c.InitiativeCountsFilter, Query()]
) -> list[c.PlaceCount]:
    """Live initiatives per municipality or county, for the map."""
    return await initiatives.counts(session, flt)


@router.get("/initiatives/export", response_model=c.InitiativeExportPage)
async def export_initiatives(
    session: Session,
    actor: Actor,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=EXPORT_PAGE_MAX)] = EXPORT_PAGE_MAX,
) -> c.InitiativeExportPage:
    """The open-data registry, a page at a time in id order (pass `next_after` on as `after`)."""
    return await initiatives.export_page(session, after, limit)


@router.get("/initiatives/by-municipality/{code}", response_model=c.InitiativePage)
async def municipality_initiatives(
    code: str, session: Session, actor: Actor, page: Page, flt: Annotated[c.InitiativeCountsFilter, Query()]
) -> c.InitiativePage:
    """The initiatives behind one municipality on the map, under the map's filters."""
    try:
        wanted = c.InitiativeFilter(municipality_code=code, area=flt.area, status=flt.status, technique=flt.technique)
    except ValidationError as exc:
        raise bad_input(exc.errors()) from exc
    return await initiatives.municipality_initiatives(session, wanted, page)


@router.patch("/initiatives/{initiative_id}", response_model=c.InitiativeOut)
async def update_initiative(
    initiative_id: int, data: c.InitiativeUpdateIn, session: Session, actor: Actor
) -> c.InitiativeOut:
    return await initiatives.update_initiative(session, actor, initiative_id, data)


@router.delete("/initiatives/{initiative_id}", status_code=204)
async def delete_initiative(initiative_id: int, session: Session, actor: Actor) -> Response:
    await initiatives.delete_initiative(session, actor, initiative_id)
    return Response(status_code=204)


# --- hubs -----------------------------------------------------------------------------------


@router.post("/hubs", response_model=c.HubOut)
async def create_hub(data: c.HubCreateIn, session: Session, actor: Actor) -> c.HubOut:
    return c.HubOut.model_validate(await hubs.create_hub(session, actor, data))


@router.patch("/hubs/{hub_id}", response_model=c.HubOut)
async def update_hub(hub_id: int, data: c.HubUpdateIn, session: Session, actor: Actor) -> c.HubOut:
    return c.HubOut.model_validate(await hubs.update_hub(session, actor, hub_id, data))


@router.get("/hubs", response_model=c.HubPage)
async def list_hubs(session: Session, actor: Actor, page: Page, flt: Annotated[c.HubFilter, Query()]) -> c.HubPage:
    return await lists.hubs(session, actor, flt, page)


@router.get("/hubs/batch", response_model=list[c.HubOut])
async def hubs_batch(ids: Ids, session: Session, actor: Actor) -> list[c.HubOut]:
    return [c.HubOut.model_validate(h) for h in await repo.hubs_by_ids(session, ids, actor)]


@router.get("/hubs/by-slug/{slug}", response_model=c.HubOut)
async def hub_by_slug(slug: str, session: Session, actor: Actor) -> c.HubOut:
    hub = await repo.hub_by_slug(session, slug[:60], actor)
    if hub is None:
        raise NotFound("no such hub", field="slug")
    return c.HubOut.model_validate(hub)


@router.post("/hubs/{hub_id}/join", response_model=c.HubMembershipOut)
async def join_hub(hub_id: int, session: Session, actor: Actor) -> c.HubMembershipOut:
    return c.HubMembershipOut.model_validate(await hubs.join(session, actor, hub_id))


@router.post("/hubs/{hub_id}/leave", status_code=204)
async def leave_hub(hub_id: int, session: Session, actor: Actor) -> Response:
    await hubs.leave(session, actor, hub_id)
    return Response(status_code=204)


@router.post("/hubs/{hub_id}/invitations", response_model=c.HubMembershipOut)
async def invite_to_hub(hub_id: int, data: c.HubMemberIn, session: Session, actor: Actor) -> c.HubMembershipOut:
    return c.HubMembershipOut.model_validate(await hubs.invite(session, actor, hub_id, data.member_id))


@router.post("/hubs/{hub_id}/requests/{member_id}/{decision}", response_model=c.HubMembershipOut | None)
async def decide_hub_request(
    hub_id: int, member_id: int, decision: Literal["approve", "reject"], session: Session, actor: Actor
) -> c.HubMembershipOut | None:
    row = await hubs.decide_request(session, actor, hub_id, member_id, approve=decision == "approve")
    return c.HubMembershipOut.model_validate(row) if row else None


@router.put("/hubs/{hub_id}/roles", response_model=c.HubMembershipOut)
async def set_hub_role(hub_id: int, data: c.HubRoleIn, session: Session, actor: Actor) -> c.HubMembershipOut:
    return c.HubMembershipOut.model_validate(await hubs.set_role(session, actor, hub_id, data))


@router.delete("/hubs/{hub_id}/members/{member_id}", status_code=204)
async def remove_hub_member(hub_id: int, member_id: int, session: Session, actor: Actor) -> Response:
    await hubs.remove_member(session, actor, hub_id, member_id)
    return Response(status_code=204)


@router.get("/hubs/{hub_id}/members", response_model=c.HubMembershipPage)
async def hub_members(
    hub_id: int, session: Session, actor: Actor, page: Page, state: Literal["active", "requested", "invited"] = "active"
) -> c.HubMembershipPage:
    return await lists.hub_members(session, actor, hub_id, state, page)


# --- social -----------------------------------------------------------------------------------


@router.post("/follows", response_model=c.FollowOut)
async def follow(data: c.FollowIn, session: Session, actor: Actor) -> c.FollowOut:
    return c.FollowOut.model_validate(await social.follow(session, actor, data))


@router.post("/follows/delete", response_model=bool)
async def unfollow(data: c.FollowIn, session: Session, actor: Actor) -> bool:
    return await social.unfollow(session, actor, data)


@router.post("/blocks", status_code=204)
async def block(data: c.MemberRefIn, session: Session, actor: Actor) -> Response:
    await social.block(session, actor, data.member_id)
    return Response(status_code=204)


@router.post("/blocks/delete", response_model=bool)
async def unblock(data: c.MemberRefIn, session: Session, actor: Actor) -> bool:
    return await social.unblock(session, actor, data.member_id)


@router.post("/mutes", status_code=204)
async def mute(data: c.MemberRefIn, session: Session, actor: Actor) -> Response:
    await social.mute(session, actor, data.member_id)
    return Response(status_code=204)


@router.post("/mutes/delete", response_model=bool)
async def unmute(data: c.MemberRefIn, session: Session, actor: Actor) -> bool:
    return await social.unmute(session, actor, data.member_id)


@router.post("/relations", response_model=c.RelationsOut)
async def relations(data: c.RelationsIn, session: Session, actor: Actor) -> c.RelationsOut:
    return await social.relations(session, actor, data)


# --- internal: for other services only -----------------------------------------------------------


@router.post("/internal/contacts", response_model=list[c.ContactOut])
async def contacts(data: c.ContactsIn, session: Session, actor: Actor) -> list[c.ContactOut]:
    """Mail addresses of up to 500 members, for the feed's mail jobs. Members who no longer
    exist are left out."""
    if actor.member_id is not None or actor.token_kind != "service":
        raise Forbidden("only services read contact details")
    return [
        c.ContactOut(
            member_id=m.id,
            email=cred.email,
            display_name=m.display_name,
            language=m.language,
            verified=cred.email_verified_at is not None,
            active=not is_suspended(m),
            banned=m.banned,
        )
        for m, cred in await repo.contacts_by_ids(session, data.ids)
    ]


def require_service(actor: Principal, what: str) -> None:
    if actor.member_id is not None or actor.token_kind != "service":
        raise Forbidden(f"only services {what}")


@router.get(SEARCH_DOCUMENTS_PATH.removeprefix("/v1"), response_model=DocumentPage)
async def search_documents(
    session: Session,
    actor: Actor,
    doc_type: Annotated[str, Query(alias="type", max_length=20)],
    ids: Annotated[str | None, Query(max_length=12000)] = None,
    after: int | None = None,
    limit: int | None = None,
) -> DocumentPage:
    """Members, organisations, hubs or initiatives for the search index: by `ids` (the ones that must leave
    the index are `gone`), or the export page after the id `after` (see shared.search_documents)."""
    require_service(actor, "read search documents")
    query = document_query(search_source.SERVED, doc_type, ids, after, limit)
    return await search_source.documents(session, query)


@router.get(SEARCH_SCOPE_PATH.removeprefix("/v1") + "/{member_id}", response_model=SearchScope)
async def search_scope(member_id: int, session: Session, actor: Actor) -> SearchScope:
    """What a member may find beyond public documents: their hubs; whom to keep out of sight."""
    require_service(actor, "read search scopes")
    return await search_source.scope(session, member_id)


# --- account erasure ------------------------------------------------------------------------------


@router.post("/members/me/erasure", response_model=c.MemberOut)
async def erase_account(data: c.AccountErasureIn, session: Session, actor: Actor) -> c.MemberOut:
    """Erase the acting member's account (their password confirms it); returns the placeholder left."""
    return c.MemberOut.model_validate(await erasure.erase_account(session, actor, data))


# --- the app ----------------------------------------------------------------------------------


def create_app(settings: Settings) -> FastAPI:
    app = create_service_app(SERVICE, settings, router, MIGRATIONS)
    app.include_router(failed_jobs_router)
    return app


__all__ = ["create_app", "get_organisation"]
