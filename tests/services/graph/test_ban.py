"""Bans, and what the moderation service may do in the graph: ban and unban, suspend, verify
organisations, set hub roles; and which hubs a member staffs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.graph import contracts as gc
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.errors import BadUserInput, Forbidden
from shared.ids import expect_global_id
from tests.conftest import Api, Session

LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
CREATE_PAT = """mutation($i: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $i) {
  token userErrors { field message code } } }"""
UPDATE_PROFILE = """mutation($h: String!) { updateProfile(input: {headline: $h}) {
  member { headline } userErrors { field message code } } }"""
MEMBER = """query($h: String!) { member(handle: $h) { isBanned isSuspended } }"""
VIEWER = "{ viewer { member { handle } } }"


def raw_id(s: Session) -> int:
    return expect_global_id(s.id, "Member")


def as_member(s: Session) -> Principal:
    return Principal(member_id=raw_id(s), roles=("member",), token_kind="jwt")


def as_staff(s: Session, role: str) -> Principal:
    return Principal(member_id=raw_id(s), roles=("member", role), token_kind="jwt")


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


@pytest.fixture
async def moderation(api: Api) -> AsyncIterator[GraphClient]:
    """The graph as the moderation service calls it."""
    client = GraphClient.in_process(api.app.state.graph_app, api.app.state.codec, "moderation")
    try:
        yield client
    finally:
        await client.aclose()


def gateway(api: Api) -> GraphClient:
    return api.app.state.graph  # type: ignore[no-any-return]


async def test_a_ban_ends_every_session_and_token_and_blocks_log_in_and_writes(
    api: Api, moderation: GraphClient
) -> None:
    anna = await api.sign_up()
    moderator = await api.make_admin("moderator")
    pat = (await anna.ok(CREATE_PAT, {"i": {"name": "script", "scopes": ["read", "write"]}}))[
        "createPersonalAccessToken"
    ]["token"]
    assert (await api.ok(VIEWER, token=pat))["viewer"]["member"]["handle"] == anna.handle

    banned = await moderation.set_banned(as_staff(moderator, "moderator"), raw_id(anna), True)
    assert banned.banned is True
    assert (await api.ok(MEMBER, {"h": anna.handle}))["member"] == {"isBanned": True, "isSuspended": False}
    assert await api.outbox("member.banned") == [{"member_id": raw_id(anna), "by": raw_id(moderator)}]

    # Every refresh token and access token is revoked.
    assert error_code(await api.gql(REFRESH, {"t": anna.refresh_token})) == "UNAUTHENTICATED"
    assert error_code(await api.gql(VIEWER, token=pat)) == "UNAUTHENTICATED"
    # The right password is refused as banned; a wrong one looks like any wrong one.
    refused = await api.gql(LOGIN, {"e": anna.email, "p": anna.password})
    assert error_code(refused) == "FORBIDDEN"
    assert refused["errors"][0]["message"] == "this account is banned"
    assert error_code(await api.gql(LOGIN, {"e": anna.email, "p": "not the password"})) == "UNAUTHENTICATED"
    # The access token still in her hands (it lives minutes) may read, not write.
    assert error_code(await anna.gql(UPDATE_PROFILE, {"h": "still here"})) == "FORBIDDEN"
    assert error_code(await anna.gql(CREATE_PAT, {"i": {"name": "again", "scopes": ["read"]}})) == "FORBIDDEN"

    # A second ban changes nothing and says nothing.
    await moderation.set_banned(as_staff(moderator, "moderator"), raw_id(anna), True)
    assert len(await api.outbox("member.banned")) == 1

    unbanned = await moderation.set_banned(as_staff(moderator, "moderator"), raw_id(anna), False)
    assert unbanned.banned is False
    assert await api.outbox("member.unbanned") == [{"member_id": raw_id(anna), "by": raw_id(moderator)}]
    session = (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]
    assert (await api.ok(UPDATE_PROFILE, {"h": "back"}, token=session["accessToken"]))["updateProfile"]["member"] == {
        "headline": "back"
    }
    # What the ban revoked stays revoked.
    assert error_code(await api.gql(VIEWER, token=pat)) == "UNAUTHENTICATED"


async def test_who_may_ban(api: Api, moderation: GraphClient) -> None:
    anna = await api.sign_up()
    bertil = await api.sign_up()
    moderator = await api.make_admin("moderator")
    admin = await api.make_admin("admin")
    graph = gateway(api)

    with pytest.raises(Forbidden):
        await graph.set_banned(as_member(bertil), raw_id(anna), True)
    # A moderator's token without the moderate scope is not enough.
    read_write = Principal(member_id=raw_id(moderator), roles=("member", "moderator"), scopes=("read", "write"))
    with pytest.raises(Forbidden):
        await graph.set_banned(read_write, raw_id(anna), True)
    # Platform moderators may, directly; an admin only an admin may ban.
    assert (await graph.set_banned(as_staff(moderator, "moderator"), raw_id(anna), True)).banned
    with pytest.raises(Forbidden):
        await graph.set_banned(as_staff(moderator, "moderator"), raw_id(admin), True)
    with pytest.raises(Forbidden):
        await moderation.set_banned(as_staff(moderator, "moderator"), raw_id(admin), True)
    with pytest.raises(BadUserInput):
        await graph.set_banned(as_staff(admin, "admin"), raw_id(admin), True)
    # The moderation service has decided who may act: the graph takes its word.
    assert (await moderation.set_banned(as_member(bertil), raw_id(anna), False)).banned is False
    assert not (await graph.members(as_member(bertil), [raw_id(anna)]))[0].banned


async def make_hub(api: Api, owner: Session) -> gc.HubOut:
    slug = api.unique("hub").replace("_", "-")
    org = await gateway(api).create_organisation(as_member(owner), {"slug": slug, "name": "Org", "kind": "region"})
    return await gateway(api).create_hub(as_member(owner), {"slug": slug, "name": "Hub", "organisation_id": org.id})


async def test_the_moderation_service_may_suspend_verify_and_set_hub_roles(api: Api, moderation: GraphClient) -> None:
    owner = await api.sign_up()
    anna = await api.sign_up()
    moderator = await api.make_admin("moderator")
    graph = gateway(api)
    hub = await make_hub(api, owner)
    await graph.join_hub(as_member(anna), hub.id)
    acting = as_staff(moderator, "moderator")
    # Plain members may do none of it (the owner runs the hub, but anna does not).
    with pytest.raises(Forbidden):
        await graph.set_suspension(as_member(anna), {"member_id": raw_id(owner), "until": None})
    with pytest.raises(Forbidden):
        await graph.set_verified(as_member(anna), hub.organisation_id, True)
    with pytest.raises(Forbidden):
        await graph.set_hub_role(as_member(anna), hub.id, {"member_id": raw_id(anna), "role": "moderator"})

    until = datetime.now(UTC) + timedelta(days=1)
    suspended = await moderation.set_suspension(acting, {"member_id": raw_id(anna), "until": until.isoformat()})
    assert suspended.suspended_until == until
    assert (await moderation.set_verified(acting, hub.organisation_id, True)).verified
    role = await moderation.set_hub_role(acting, hub.id, {"member_id": raw_id(anna), "role": "moderator"})
    assert (role.member_id, role.role) == (raw_id(anna), "moderator")
    # Platform moderators appoint hub moderators through the moderation service (audited),
    # not directly.
    with pytest.raises(Forbidden):
        await graph.set_hub_role(acting, hub.id, {"member_id": raw_id(anna), "role": "member"})
    assert [(e["member_id"], e["role"]) for e in await api.outbox("hub.role_changed")] == [
        (raw_id(anna), "moderator"),
    ]


async def test_staffed_hubs(api: Api, moderation: GraphClient) -> None:
    owner = await api.sign_up()
    anna = await api.sign_up()
    bertil = await api.sign_up()
    moderator = await api.make_admin("moderator")
    graph = gateway(api)
    first = await make_hub(api, owner)
    second = await make_hub(api, owner)
    await graph.join_hub(as_member(anna), first.id)
    await graph.join_hub(as_member(anna), second.id)

    # The creator administers both hubs; a plain member staffs none.
    assert await graph.staffed_hubs(as_member(owner), raw_id(owner)) == sorted([first.id, second.id])
    assert await graph.staffed_hubs(as_member(anna), raw_id(anna)) == []
    await graph.set_hub_role(as_member(owner), second.id, {"member_id": raw_id(anna), "role": "moderator"})
    assert await graph.staffed_hubs(as_member(anna), raw_id(anna)) == [second.id]
    # Platform moderators and the moderation service (with or without a moderator) may ask too.
    assert await graph.staffed_hubs(as_staff(moderator, "moderator"), raw_id(anna)) == [second.id]
    service = Principal(member_id=None, token_kind="service")
    assert await moderation.staffed_hubs(service, raw_id(anna)) == [second.id]
    # Nobody else.
    with pytest.raises(Forbidden):
        await graph.staffed_hubs(as_member(bertil), raw_id(anna))
    with pytest.raises(Forbidden):
        await graph.staffed_hubs(Principal(member_id=None, token_kind="service"), raw_id(anna))
