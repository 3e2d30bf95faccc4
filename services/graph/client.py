"""Typed client of the graph service's API, for the gateway and other services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

from services.graph import contracts as c
from shared.auth import Principal, TokenCodec
from shared.failed_jobs import FailedJobsClient
from shared.pagination import PageRequest
from shared.search_documents import (
    SEARCH_DOCUMENTS_PATH,
    SEARCH_SCOPE_PATH,
    DocType,
    DocumentPage,
    SearchScope,
    document_query_params,
)
from shared.settings import Settings


def _page(page: PageRequest) -> dict[str, Any]:
    return page.model_dump(exclude_none=True)


def _ids(ids: list[int]) -> dict[str, str]:
    return {"ids": ",".join(str(i) for i in ids)}


class GraphClient(FailedJobsClient):
    NAME = "graph"

    @classmethod
    async def for_settings(
        cls, settings: Settings, codec: TokenCodec, stack: AsyncExitStack
    ) -> tuple[GraphClient, Any]:
        """The graph service these settings name: remote at HUBBEN_GRAPH_URL, or its app started
        in this process (returned too, else None). The stack closes both."""
        graph_app = None
        if settings.graph_url:
            graph = cls.remote(settings.graph_url, codec)
        else:
            from services.graph.api import create_app

            graph_app = create_app(settings)
            await stack.enter_async_context(graph_app.router.lifespan_context(graph_app))
            graph = cls.in_process(graph_app, codec)
        stack.push_async_callback(graph.aclose)
        return graph, graph_app

    # identity
    async def sign_up(self, p: Principal, data: c.SignUpIn | dict[str, Any]) -> c.SessionOut:
        return await self.call(p, "POST", "/v1/auth/signup", c.SessionOut, json=data)  # type: ignore[no-any-return]

    async def log_in(self, p: Principal, data: c.LogInIn | dict[str, Any]) -> c.SessionOut:
        return await self.call(p, "POST", "/v1/auth/login", c.SessionOut, json=data)  # type: ignore[no-any-return]

    async def refresh(self, p: Principal, data: c.RefreshIn | dict[str, Any]) -> c.SessionOut:
        return await self.call(p, "POST", "/v1/auth/refresh", c.SessionOut, json=data)  # type: ignore[no-any-return]

    async def log_out(self, p: Principal, data: c.RefreshIn | dict[str, Any]) -> None:
        await self.call(p, "POST", "/v1/auth/logout", json=data)

    async def request_email_verification(self, p: Principal) -> None:
        await self.call(p, "POST", "/v1/auth/email-verification")

    async def verify_email(self, p: Principal, data: c.TokenIn | dict[str, Any]) -> None:
        await self.call(p, "POST", "/v1/auth/email-verification/confirm", json=data)

    async def request_password_reset(self, p: Principal, data: c.EmailIn | dict[str, Any]) -> None:
        await self.call(p, "POST", "/v1/auth/password-reset", json=data)

    async def reset_password(self, p: Principal, data: c.PasswordResetIn | dict[str, Any]) -> None:
        await self.call(p, "POST", "/v1/auth/password-reset/confirm", json=data)

    async def change_password(self, p: Principal, data: c.PasswordChangeIn | dict[str, Any]) -> None:
        await self.call(p, "POST", "/v1/auth/password-change", json=data)

    async def viewer(self, p: Principal) -> c.ViewerOut:
        return await self.call(p, "GET", "/v1/viewer", c.ViewerOut)  # type: ignore[no-any-return]

    async def create_token(
        self, p: Principal, data: c.PersonalAccessTokenIn | dict[str, Any]
    ) -> c.PersonalAccessTokenCreated:
        return await self.call(p, "POST", "/v1/tokens", c.PersonalAccessTokenCreated, json=data)  # type: ignore[no-any-return]

    async def tokens(self, p: Principal, page: PageRequest) -> c.PersonalAccessTokenPage:
        return await self.call(p, "GET", "/v1/tokens", c.PersonalAccessTokenPage, params=_page(page))  # type: ignore[no-any-return]

    async def revoke_token(self, p: Principal, token_id: int) -> c.PersonalAccessTokenOut:
        return await self.call(p, "DELETE", f"/v1/tokens/{token_id}", c.PersonalAccessTokenOut)  # type: ignore[no-any-return]

    async def resolve_token(self, p: Principal, token: str) -> c.PrincipalOut:
        return await self.call(p, "POST", "/v1/tokens/resolve", c.PrincipalOut, json={"token": token})  # type: ignore[no-any-return]

    # members
    async def members(self, p: Principal, ids: list[int]) -> list[c.MemberOut]:
        return await self.call(p, "GET", "/v1/members", list[c.MemberOut], params=_ids(ids))  # type: ignore[no-any-return]

    async def members_by_handles(self, p: Principal, handles: list[str]) -> list[c.MemberOut]:
        params = {"handles": ",".join(handles)}
        return await self.call(p, "GET", "/v1/members/by-handles", list[c.MemberOut], params=params)  # type: ignore[no-any-return]

    async def member_by_handle(self, p: Principal, handle: str) -> c.MemberOut:
        return await self.call(p, "GET", f"/v1/members/by-handle/{quote(handle, safe='')}", c.MemberOut)  # type: ignore[no-any-return]

    async def update_profile(self, p: Principal, data: c.ProfileIn | dict[str, Any]) -> c.MemberOut:
        return await self.call(p, "PATCH", "/v1/members/me", c.MemberOut, json=data)  # type: ignore[no-any-return]

    async def set_suspension(self, p: Principal, data: c.SuspensionIn | dict[str, Any]) -> c.MemberOut:
        return await self.call(p, "POST", "/v1/members/suspension", c.MemberOut, json=data)  # type: ignore[no-any-return]

    async def set_banned(self, p: Principal, member_id: int, banned: bool) -> c.MemberOut:
        """Ban a member (or lift it): platform moderators, or the moderation service."""
        path = f"/v1/members/{member_id}/ban"
        return await self.call(p, "POST", path, c.MemberOut, json={"banned": banned})  # type: ignore[no-any-return]

    async def staffed_hubs(self, p: Principal, member_id: int) -> list[int]:
        """Ids of the hubs where the member is an active admin or moderator."""
        return await self.call(p, "GET", f"/v1/members/{member_id}/staffed-hubs", list[int])  # type: ignore[no-any-return]

    async def set_platform_role(self, p: Principal, data: c.PlatformRoleIn | dict[str, Any]) -> c.MemberOut:
        return await self.call(p, "POST", "/v1/members/platform-role", c.MemberOut, json=data)  # type: ignore[no-any-return]

    async def followers(self, p: Principal, target_type: str, target_id: int, page: PageRequest) -> c.MemberPage:
        path = f"/v1/followers/{target_type}/{target_id}"
        return await self.call(p, "GET", path, c.MemberPage, params=_page(page))  # type: ignore[no-any-return]

    async def following(self, p: Principal, member_id: int, target_type: str, page: PageRequest) -> c.FollowPage:
        path = f"/v1/members/{member_id}/following/{target_type}"
        return await self.call(p, "GET", path, c.FollowPage, params=_page(page))  # type: ignore[no-any-return]

    # account erasure
    async def erase_account(self, p: Principal, data: c.AccountErasureIn | dict[str, Any]) -> c.MemberOut:
        return await self.call(p, "POST", "/v1/members/me/erasure", c.MemberOut, json=data)  # type: ignore[no-any-return]

    # organisations
    async def create_organisation(
        self, p: Principal, data: c.OrganisationCreateIn | dict[str, Any]
    ) -> c.OrganisationOut:
        return await self.call(p, "POST", "/v1/organisations", c.OrganisationOut, json=data)  # type: ignore[no-any-return]

    async def update_organisation(
        self, p: Principal, org_id: int, data: c.OrganisationUpdateIn | dict[str, Any]
    ) -> c.OrganisationOut:
        return await self.call(p, "PATCH", f"/v1/organisations/{org_id}", c.OrganisationOut, json=data)  # type: ignore[no-any-return]

    async def set_verified(self, p: Principal, org_id: int, verified: bool) -> c.OrganisationOut:
        path = f"/v1/organisations/{org_id}/verified"
        return await self.call(p, "PUT", path, c.OrganisationOut, json={"verified": verified})  # type: ignore[no-any-return]

    async def organisations(self, p: Principal, flt: c.OrganisationFilter, page: PageRequest) -> c.OrganisationPage:
        params = {**flt.model_dump(mode="json", exclude_none=True), **_page(page)}
        return await self.call(p, "GET", "/v1/organisations", c.OrganisationPage, params=params)  # type: ignore[no-any-return]

    async def organisations_by_ids(self, p: Principal, ids: list[int]) -> list[c.OrganisationOut]:
        return await self.call(p, "GET", "/v1/organisations/batch", list[c.OrganisationOut], params=_ids(ids))  # type: ignore[no-any-return]

    async def organisation_by_slug(self, p: Principal, slug: str) -> c.OrganisationOut:
        path = f"/v1/organisations/by-slug/{quote(slug, safe='')}"
        return await self.call(p, "GET", path, c.OrganisationOut)  # type: ignore[no-any-return]

    async def organisation_members(self, p: Principal, org_id: int, page: PageRequest) -> c.OrganisationMemberPage:
        path = f"/v1/organisations/{org_id}/members"
        return await self.call(p, "GET", path, c.OrganisationMemberPage, params=_page(page))  # type: ignore[no-any-return]

    async def set_organisation_role(
        self, p: Principal, org_id: int, data: c.OrganisationRoleIn
    ) -> c.OrganisationMemberOut:
        path = f"/v1/organisations/{org_id}/roles"
        return await self.call(p, "PUT", path, c.OrganisationMemberOut, json=data)  # type: ignore[no-any-return]

    async def remove_organisation_member(self, p: Principal, org_id: int, member_id: int) -> None:
        await self.call(p, "DELETE", f"/v1/organisations/{org_id}/members/{member_id}")

    async def invite(self, p: Principal, org_id: int, data: c.InvitationIn | dict[str, Any]) -> c.InvitationOut:
        path = f"/v1/organisations/{org_id}/invitations"
        return await self.call(p, "POST", path, c.InvitationOut, json=data)  # type: ignore[no-any-return]

    async def organisation_invitations(
        self, p: Principal, org_id: int, status: str | None, page: PageRequest
    ) -> c.InvitationPage:
        path = f"/v1/organisations/{org_id}/invitations"
        return await self.call(p, "GET", path, c.InvitationPage, params={"status": status, **_page(page)})  # type: ignore[no-any-return]

    async def my_invitations(self, p: Principal, status: str | None, page: PageRequest) -> c.InvitationPage:
        params = {"status": status, **_page(page)}
        return await self.call(p, "GET", "/v1/invitations", c.InvitationPage, params=params)  # type: ignore[no-any-return]

    async def invitation(self, p: Principal, invitation_id: int) -> c.InvitationOut:
        return await self.call(p, "GET", f"/v1/invitations/{invitation_id}", c.InvitationOut)  # type: ignore[no-any-return]

    async def answer_invitation(self, p: Principal, invitation_id: int, action: str) -> c.InvitationOut:
        path = f"/v1/invitations/{invitation_id}/{action}"
        return await self.call(p, "POST", path, c.InvitationOut)  # type: ignore[no-any-return]

    # initiatives
    async def create_initiative(
        self, p: Principal, org_id: int, data: c.InitiativeCreateIn | dict[str, Any]
    ) -> c.InitiativeOut:
        path = f"/v1/organisations/{org_id}/initiatives"
        return await self.call(p, "POST", path, c.InitiativeOut, json=data)  # type: ignore[no-any-return]

    async def update_initiative(
        self, p: Principal, initiative_id: int, data: c.InitiativeUpdateIn | dict[str, Any]
    ) -> c.InitiativeOut:
        path = f"/v1/initiatives/{initiative_id}"
        return await self.call(p, "PATCH", path, c.InitiativeOut, json=data)  # type: ignore[no-any-return]

    async def delete_initiative(self, p: Principal, initiative_id: int) -> None:
        await self.call(p, "DELETE", f"/v1/initiatives/{initiative_id}")

    async def initiatives_by_ids(self, p: Principal, ids: list[int]) -> list[c.InitiativeOut]:
        """Live initiatives among `ids` (up to 500), in the order asked; gone ones are left out."""
        return await self.call(p, "GET", "/v1/initiatives/batch", list[c.InitiativeOut], params=_ids(ids))  # type: ignore[no-any-return]

    async def organisation_initiatives(self, p: Principal, org_id: int, page: PageRequest) -> c.InitiativePage:
        path = f"/v1/organisations/{org_id}/initiatives"
        return await self.call(p, "GET", path, c.InitiativePage, params=_page(page))  # type: ignore[no-any-return]

    async def initiatives(self, p: Principal, flt: c.InitiativeFilter, page: PageRequest) -> c.InitiativePage:
        """Newest first, filtered by area, status, technique, county, municipality, organisation."""
        params = {**flt.model_dump(mode="json", exclude_none=True), **_page(page)}
        return await self.call(p, "GET", "/v1/initiatives", c.InitiativePage, params=params)  # type: ignore[no-any-return]

    async def initiative_counts(self, p: Principal, flt: c.InitiativeCountsFilter) -> list[c.PlaceCount]:
        """[{code, count}] per municipality or county (flt.by), for the map."""
        params = flt.model_dump(mode="json", exclude_none=True)
        return await self.call(p, "GET", "/v1/initiatives/counts", list[c.PlaceCount], params=params)  # type: ignore[no-any-return]

    async def municipality_initiatives(
        self, p: Principal, code: str, flt: c.InitiativeCountsFilter, page: PageRequest
    ) -> c.InitiativePage:
        """The initiatives behind one municipality, under the map's filters (flt.by is ignored)."""
        path = f"/v1/initiatives/by-municipality/{quote(code, safe='')}"
        params = {**flt.model_dump(mode="json", exclude_none=True, exclude={"by"}), **_page(page)}
        return await self.call(p, "GET", path, c.InitiativePage, params=params)  # type: ignore[no-any-return]

    async def initiatives_export_page(self, p: Principal, after: int = 0, limit: int = 500) -> c.InitiativeExportPage:
        params = {"after": after, "limit": limit}
        return await self.call(p, "GET", "/v1/initiatives/export", c.InitiativeExportPage, params=params)  # type: ignore[no-any-return]

    async def export_initiatives(self, p: Principal, limit: int = 500) -> AsyncIterator[c.InitiativeExportPage]:
        """Every page of the open-data registry, in id order (each page carries the licence and
        the registry's last-modified time)."""
        after = 0
        while True:
            page = await self.initiatives_export_page(p, after, limit)
            yield page
            if page.next_after is None:
                return
            after = page.next_after

    # hubs
    async def create_hub(self, p: Principal, data: c.HubCreateIn | dict[str, Any]) -> c.HubOut:
        return await self.call(p, "POST", "/v1/hubs", c.HubOut, json=data)  # type: ignore[no-any-return]

    async def update_hub(self, p: Principal, hub_id: int, data: c.HubUpdateIn | dict[str, Any]) -> c.HubOut:
        return await self.call(p, "PATCH", f"/v1/hubs/{hub_id}", c.HubOut, json=data)  # type: ignore[no-any-return]

    async def hubs(self, p: Principal, flt: c.HubFilter, page: PageRequest) -> c.HubPage:
        params = {**flt.model_dump(mode="json", exclude_none=True), **_page(page)}
        return await self.call(p, "GET", "/v1/hubs", c.HubPage, params=params)  # type: ignore[no-any-return]

    async def hubs_by_ids(self, p: Principal, ids: list[int]) -> list[c.HubOut]:
        return await self.call(p, "GET", "/v1/hubs/batch", list[c.HubOut], params=_ids(ids))  # type: ignore[no-any-return]

    async def hub_by_slug(self, p: Principal, slug: str) -> c.HubOut:
        return await self.call(p, "GET", f"/v1/hubs/by-slug/{quote(slug, safe='')}", c.HubOut)  # type: ignore[no-any-return]

    async def join_hub(self, p: Principal, hub_id: int) -> c.HubMembershipOut:
        return await self.call(p, "POST", f"/v1/hubs/{hub_id}/join", c.HubMembershipOut)  # type: ignore[no-any-return]

    async def leave_hub(self, p: Principal, hub_id: int) -> None:
        await self.call(p, "POST", f"/v1/hubs/{hub_id}/leave")

    async def invite_to_hub(self, p: Principal, hub_id: int, member_id: int) -> c.HubMembershipOut:
        path = f"/v1/hubs/{hub_id}/invitations"
        return await self.call(p, "POST", path, c.HubMembershipOut, json={"member_id": member_id})  # type: ignore[no-any-return]

    async def decide_hub_request(
        self, p: Principal, hub_id: int, member_id: int, approve: bool
    ) -> c.HubMembershipOut | None:
        path = f"/v1/hubs/{hub_id}/requests/{member_id}/{'approve' if approve else 'reject'}"
        return await self.call(p, "POST", path, c.HubMembershipOut | None)  # type: ignore[no-any-return]

    async def set_hub_role(self, p: Principal, hub_id: int, data: c.HubRoleIn | dict[str, Any]) -> c.HubMembershipOut:
        return await self.call(p, "PUT", f"/v1/hubs/{hub_id}/roles", c.HubMembershipOut, json=data)  # type: ignore[no-any-return]

    async def remove_hub_member(self, p: Principal, hub_id: int, member_id: int) -> None:
        await self.call(p, "DELETE", f"/v1/hubs/{hub_id}/members/{member_id}")

    async def hub_members(self, p: Principal, hub_id: int, state: str, page: PageRequest) -> c.HubMembershipPage:
        path = f"/v1/hubs/{hub_id}/members"
        return await self.call(p, "GET", path, c.HubMembershipPage, params={"state": state, **_page(page)})  # type: ignore[no-any-return]

    # social
    async def follow(self, p: Principal, data: c.FollowIn | dict[str, Any]) -> c.FollowOut:
        return await self.call(p, "POST", "/v1/follows", c.FollowOut, json=data)  # type: ignore[no-any-return]

    async def unfollow(self, p: Principal, data: c.FollowIn | dict[str, Any]) -> bool:
        return await self.call(p, "POST", "/v1/follows/delete", bool, json=data)  # type: ignore[no-any-return]

    async def block(self, p: Principal, member_id: int) -> None:
        await self.call(p, "POST", "/v1/blocks", json={"member_id": member_id})

    async def unblock(self, p: Principal, member_id: int) -> bool:
        return await self.call(p, "POST", "/v1/blocks/delete", bool, json={"member_id": member_id})  # type: ignore[no-any-return]

    async def mute(self, p: Principal, member_id: int) -> None:
        await self.call(p, "POST", "/v1/mutes", json={"member_id": member_id})

    async def unmute(self, p: Principal, member_id: int) -> bool:
        return await self.call(p, "POST", "/v1/mutes/delete", bool, json={"member_id": member_id})  # type: ignore[no-any-return]

    async def relations(self, p: Principal, data: c.RelationsIn | dict[str, Any]) -> c.RelationsOut:
        return await self.call(p, "POST", "/v1/relations", c.RelationsOut, json=data)  # type: ignore[no-any-return]

    # internal (services only)
    async def search_documents(
        self,
        p: Principal,
        doc_type: DocType | str,
        *,
        ids: list[int] | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> DocumentPage:
        """Members, organisations, hubs or initiatives for the search index: by `ids`, or the export page
        after `after`."""
        params = document_query_params(doc_type, ids, after, limit)
        return await self.call(p, "GET", SEARCH_DOCUMENTS_PATH, DocumentPage, params=params)  # type: ignore[no-any-return]

    async def search_scope(self, p: Principal, member_id: int) -> SearchScope:
        return await self.call(p, "GET", f"{SEARCH_SCOPE_PATH}/{member_id}", SearchScope)  # type: ignore[no-any-return]

    async def contacts(self, p: Principal, ids: list[int]) -> list[c.ContactOut]:
        """Mail contacts of members, in batches of 500; members who no longer exist are left out."""
        out: list[c.ContactOut] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            out += await self.call(p, "POST", "/v1/internal/contacts", list[c.ContactOut], json={"ids": batch})
        return out
