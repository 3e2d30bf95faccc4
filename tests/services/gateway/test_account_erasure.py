"""deleteAccount, the right to erasure: the password confirms it, the only owner of an
organisation or admin of a hub hands it over first, and an erased account can no longer be
used while its member node stays as a placeholder with nothing personal. What the member
left in the feed is covered by tests/services/feed/test_member_erasure.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared.ids import expect_global_id
from shared.outbox import OutboxEvent
from tests.conftest import Api, Session

DELETE_ACCOUNT = """mutation($p: String!) { deleteAccount(input: {password: $p}) {
  erased userErrors { field message code } } }"""
LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  session { accessToken refreshToken } userErrors { field message code } } }"""
CREATE_PAT = """mutation { createPersonalAccessToken(input: {name: "script", scopes: ["read", "write"]}) {
  token userErrors { field message code } } }"""
PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  member { handle } userErrors { field message code } } }"""
MEMBER_FIELDS = """id handle displayName headline bio avatarUrl skills links { label url } municipality { code }
  organisation { slug } isDeleted followersCount followingCount"""
NODE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Member {{ {MEMBER_FIELDS} }}
  ... on Organisation {{ slug followersCount membersCount }} ... on Hub {{ slug followersCount membersCount }} }} }}"""
BY_HANDLE = """query($h: String!) { member(handle: $h) { id } }"""
VIEWER = """{ viewer { email member { handle } } }"""
FOLLOWERS = """query($id: ID!) { node(id: $id) { ... on Member { followers(first: 50) { totalCount nodes { id } }
  followingMembers(first: 50) { totalCount nodes { id } } } } }"""
FOLLOW = """mutation($id: ID!) { follow(input: {targetId: $id}) { following userErrors { field message code } } }"""
BLOCK = (
    """mutation($id: ID!) { blockMember(input: {memberId: $id}) { member { id } userErrors { field message code } } }"""
)
MUTE = (
    """mutation($id: ID!) { muteMember(input: {memberId: $id}) { member { id } userErrors { field message code } } }"""
)
RELATION = """query($id: ID!) { node(id: $id) { ... on Member { viewerHasBlocked viewerHasMuted followsViewer } } }"""
CREATE_ORG = """mutation($slug: String!, $name: String!) {
  createOrganisation(input: {slug: $slug, name: $name, kind: MUNICIPALITY}) {
  organisation { id slug } userErrors { field message code } } }"""
CREATE_HUB = """mutation($slug: String!, $name: String!, $org: ID!) {
  createHub(input: {slug: $slug, name: $name, organisationId: $org}) {
  hub { id slug } userErrors { field message code } } }"""
INVITE_ORG = """mutation($org: ID!, $member: ID!, $role: OrganisationRole!) {
  inviteToOrganisation(input: {organisationId: $org, memberId: $member, role: $role}) {
  invitation { id } userErrors { field message code } } }"""
ACCEPT_ORG = """mutation($id: ID!) { acceptOrganisationInvitation(input: {invitationId: $id}) {
  invitation { status } userErrors { field message code } } }"""
ORG_MEMBERS = """query($slug: String!) { organisation(slug: $slug) { membersCount
  members(first: 50) { nodes { role member { id } } } invitations(first: 50) { nodes { status invitee { id } } } } }"""
JOIN = """mutation($hub: ID!) { joinHub(input: {hubId: $hub}) { membership { state } userErrors { message } } }"""
SET_HUB_ROLE = """mutation($hub: ID!, $member: ID!, $role: HubRole!) {
  setHubRole(input: {hubId: $hub, memberId: $member, role: $role}) { membership { role } userErrors { message } } }"""
HUB_MEMBERS = """query($slug: String!) { hub(slug: $slug) { membersCount
  members(state: ACTIVE, first: 50) { nodes { role member { id } } } } }"""
CREATE_POST = """mutation { createPost(input: {body: "Jag finns kvar"}) { post { id } userErrors { code } } }"""

PROFILE_INPUT = {
    "headline": "AI-strateg i Mölndal",
    "bio": "Jag leder **AI-arbetet** här.",
    "avatarUrl": "https://example.se/anna.png",
    "municipalityCode": "1481",
    "skills": ["nlp", "upphandling"],
    "links": [{"label": "Blogg", "url": "https://example.se/blogg"}],
}


# --- helpers ---------------------------------------------------------------------------


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def delete_account(member: Session, password: str | None = None) -> dict[str, Any]:
    body = await member.gql(DELETE_ACCOUNT, {"p": member.password if password is None else password})
    assert "errors" not in body, body
    return body["data"]["deleteAccount"]  # type: ignore[no-any-return]


async def node(viewer: Session | Api, gid: str) -> dict[str, Any] | None:
    return (await viewer.ok(NODE, {"id": gid}))["node"]  # type: ignore[no-any-return]


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def can_log_in(api: Api, member: Session) -> bool:
    body = await api.gql(LOGIN, {"e": member.email, "p": member.password})
    return "errors" not in body and body["data"]["logIn"]["session"] is not None


async def erased_events(api: Api) -> list[OutboxEvent]:
    async with await api.graph_session() as db:
        return list((await db.execute(select(OutboxEvent).where(OutboxEvent.topic == "member.erased"))).scalars())


async def make_org(owner: Session, name: str = "Mölndals stad") -> dict[str, Any]:
    data = await owner.ok(CREATE_ORG, {"slug": slug(owner.api, "org"), "name": name})
    return data["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org: dict[str, Any], name: str = "AI i Västra Götaland") -> dict[str, Any]:
    data = await owner.ok(CREATE_HUB, {"slug": slug(owner.api, "hub"), "name": name, "org": org["id"]})
    return data["createHub"]["hub"]  # type: ignore[no-any-return]


async def join_org(owner: Session, org: dict[str, Any], member: Session, role: str) -> None:
    invited = await owner.ok(INVITE_ORG, {"org": org["id"], "member": member.id, "role": role})
    await member.ok(ACCEPT_ORG, {"id": invited["inviteToOrganisation"]["invitation"]["id"]})


# --- refusals that change nothing ----------------------------------------------------------


async def test_a_wrong_password_changes_nothing(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    await anna.ok(PROFILE, {"input": PROFILE_INPUT})
    await bo.ok(FOLLOW, {"id": anna.id})
    before = await node(bo, anna.id)

    for wrong in ("not my password", ""):
        payload = await delete_account(anna, wrong)
        assert payload["erased"] is False
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("password", "BAD_USER_INPUT")]

    assert await node(bo, anna.id) == before
    assert before is not None and before["isDeleted"] is False and before["followersCount"] == 1
    assert await can_log_in(api, anna)
    assert (await anna.ok(VIEWER))["viewer"]["email"] == anna.email
    assert await erased_events(api) == []


async def test_only_a_signed_in_session_deletes_an_account(api: Api) -> None:
    anna = await api.sign_up()
    anonymous = await api.gql(DELETE_ACCOUNT, {"p": anna.password})
    assert error_code(anonymous) == "UNAUTHENTICATED"

    token = (await anna.ok(CREATE_PAT))["createPersonalAccessToken"]["token"]
    with_token = await api.gql(DELETE_ACCOUNT, {"p": anna.password}, token=token)
    assert error_code(with_token) == "FORBIDDEN"

    assert await can_log_in(api, anna)
    assert await erased_events(api) == []


async def test_the_only_owner_or_hub_admin_hands_over_first(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    org = await make_org(anna, "Mölndals stad")
    hub = await make_hub(anna, org, "AI i Västra Götaland")
    before = await node(bo, anna.id)

    refused = await delete_account(anna)
    assert refused["erased"] is False
    [error] = refused["userErrors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert "only owner of the organisation 'Mölndals stad'" in error["message"]
    assert "only admin of the hub 'AI i Västra Götaland'" in error["message"]
    assert await node(bo, anna.id) == before
    assert await can_log_in(api, anna)
    members = (await anna.ok(ORG_MEMBERS, {"slug": org["slug"]}))["organisation"]
    assert [(m["role"], m["member"]["id"]) for m in members["members"]["nodes"]] == [("OWNER", anna.id)]

    # An admin is not an owner: the organisation still needs one.
    await join_org(anna, org, bo, "ADMIN")
    still = await delete_account(anna)
    assert still["erased"] is False and "'Mölndals stad'" in still["userErrors"][0]["message"]

    await join_org(anna, org, cleo := await api.sign_up(), "OWNER")
    hub_only = await delete_account(anna)
    [error] = hub_only["userErrors"]
    assert "'Mölndals stad'" not in error["message"] and "'AI i Västra Götaland'" in error["message"]

    await cleo.ok(JOIN, {"hub": hub["id"]})
    await anna.ok(SET_HUB_ROLE, {"hub": hub["id"], "member": cleo.id, "role": "ADMIN"})
    assert await delete_account(anna) == {"erased": True, "userErrors": []}

    members = (await cleo.ok(ORG_MEMBERS, {"slug": org["slug"]}))["organisation"]
    assert members["membersCount"] == 2
    assert sorted(m["member"]["id"] for m in members["members"]["nodes"]) == sorted([bo.id, cleo.id])
    hub_members = (await cleo.ok(HUB_MEMBERS, {"slug": hub["slug"]}))["hub"]
    assert hub_members["membersCount"] == 1
    assert [(m["role"], m["member"]["id"]) for m in hub_members["members"]["nodes"]] == [("ADMIN", cleo.id)]


# --- erasure --------------------------------------------------------------------------------


async def test_an_erased_account_is_gone_and_its_member_a_placeholder(api: Api) -> None:
    anna, bo, cleo, dan, eve = [await api.sign_up() for _ in range(5)]
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org)
    await join_org(owner, org, anna, "EDITOR")
    await anna.ok(PROFILE, {"input": {**PROFILE_INPUT, "organisationId": org["id"]}})
    await anna.ok(JOIN, {"hub": hub["id"]})
    region = await make_org(owner, "Västra Götalandsregionen")
    await owner.ok(INVITE_ORG, {"org": region["id"], "member": anna.id, "role": "MEMBER"})
    # Follows both ways, a mutual one among them, and blocks and mutes both ways.
    for target in (bo.id, org["id"], hub["id"]):
        await anna.ok(FOLLOW, {"id": target})
    for follower in (bo, cleo):
        await follower.ok(FOLLOW, {"id": anna.id})
    await cleo.ok(FOLLOW, {"id": bo.id})
    await anna.ok(BLOCK, {"id": dan.id})
    await eve.ok(MUTE, {"id": anna.id})
    await anna.ok(MUTE, {"id": cleo.id})
    # A second session and a personal access token.
    second = (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]
    pat = (await anna.ok(CREATE_PAT))["createPersonalAccessToken"]["token"]
    assert (await api.ok(VIEWER, token=pat))["viewer"]["member"]["handle"] == anna.handle
    org_before = await node(owner, org["id"])
    hub_before = await node(owner, hub["id"])
    assert org_before is not None and hub_before is not None

    assert await delete_account(anna) == {"erased": True, "userErrors": []}

    # Nothing signs in as anna any more: password, refresh tokens, access token, the old session.
    login = await api.gql(LOGIN, {"e": anna.email, "p": anna.password})
    assert error_code(login) == "UNAUTHENTICATED"
    for refresh_token in (anna.refresh_token, second["refreshToken"]):
        assert error_code(await api.gql(REFRESH, {"t": refresh_token})) == "UNAUTHENTICATED"
    r = await api.http.post("/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {pat}"})
    assert r.status_code == 401
    # Her access token lives out its few minutes, but the account behind it is gone.
    assert error_code(await anna.gql(VIEWER)) == "UNAUTHENTICATED"
    assert error_code(await anna.gql(CREATE_POST)) == "UNAUTHENTICATED"
    assert error_code(await anna.gql(PROFILE, {"input": {"headline": "Tillbaka"}})) == "UNAUTHENTICATED"

    # Her node resolves, for what others wrote, and shows nothing personal.
    raw_id = expect_global_id(anna.id, "Member")
    placeholder = {
        "id": anna.id,
        "handle": f"deleted-{raw_id}",
        "displayName": "Deleted member",
        "headline": "",
        "bio": "",
        "avatarUrl": None,
        "skills": [],
        "links": [],
        "municipality": None,
        "organisation": None,
        "isDeleted": True,
        "followersCount": 0,
        "followingCount": 0,
    }
    assert await node(bo, anna.id) == placeholder
    assert await node(api, anna.id) == placeholder
    assert (await bo.ok(BY_HANDLE, {"h": anna.handle}))["member"] is None
    lists = (await bo.ok(FOLLOWERS, {"id": anna.id}))["node"]
    assert lists["followers"]["totalCount"] == 0 and lists["followingMembers"]["totalCount"] == 0

    # Follows ended both ways with the counts on the other side kept right.
    for member, followers, following in ((bo, 1, 0), (cleo, 0, 1)):
        seen = await node(owner, member.id)
        assert seen is not None and (seen["followersCount"], seen["followingCount"]) == (followers, following)
    org_after, hub_after = await node(owner, org["id"]), await node(owner, hub["id"])
    assert org_after == {**org_before, "followersCount": org_before["followersCount"] - 1, "membersCount": 1}
    assert hub_after == {**hub_before, "followersCount": hub_before["followersCount"] - 1, "membersCount": 1}
    bo_lists = (await cleo.ok(FOLLOWERS, {"id": bo.id}))["node"]
    assert anna.id not in [m["id"] for m in bo_lists["followers"]["nodes"]]
    assert (await bo.ok(RELATION, {"id": anna.id}))["node"]["followsViewer"] is False

    # Blocks and mutes ended both ways, with the events the feed's copies follow.
    assert (await dan.ok(RELATION, {"id": anna.id}))["node"]["viewerHasBlocked"] is False
    assert (await eve.ok(RELATION, {"id": anna.id}))["node"]["viewerHasMuted"] is False
    raw = {s.handle: expect_global_id(s.id, "Member") for s in (bo, cleo, dan, eve)}
    assert await api.outbox("block.deleted") == [{"blocker_id": raw_id, "blocked_id": raw[dan.handle]}]
    mutes_ended = sorted((p["muter_id"], p["muted_id"]) for p in await api.outbox("mute.deleted"))
    assert mutes_ended == sorted([(raw[eve.handle], raw_id), (raw_id, raw[cleo.handle])])
    follows_ended = sorted((p["follower_id"], p["target_type"]) for p in await api.outbox("follow.deleted"))
    assert follows_ended == sorted(
        [(raw_id, "member"), (raw_id, "organisation"), (raw_id, "hub")]
        + [(raw[bo.handle], "member"), (raw[cleo.handle], "member")]
    )
    # Organisation roles and hub memberships ended, and the invitation waiting for her is withdrawn.
    assert [p["member_id"] for p in await api.outbox("organisation.member_removed")] == [raw_id]
    assert [p["member_id"] for p in await api.outbox("hub.member_left")] == [raw_id]
    invitations = (await owner.ok(ORG_MEMBERS, {"slug": region["slug"]}))["organisation"]["invitations"]
    assert [(i["status"], i["invitee"]["id"]) for i in invitations["nodes"]] == [("REVOKED", anna.id)]

    # Others can no longer act on her.
    for mutation in (FOLLOW, BLOCK, MUTE):
        body = await bo.gql(mutation, {"id": anna.id})
        assert "errors" not in body, body
        [payload] = body["data"].values()
        assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]

    # One member.erased, delivered to its subscribers.
    await api.settle()
    [event] = await erased_events(api)
    assert event.payload == {"member_id": raw_id} and event.dispatched_at is not None

    # Erasing again is refused cleanly.
    again = await delete_account(anna)
    assert again["erased"] is False
    assert [e["code"] for e in again["userErrors"]] == ["NOT_FOUND"]
    assert len(await erased_events(api)) == 1


async def test_the_email_and_handle_of_an_erased_account_can_be_used_again(api: Api) -> None:
    anna = await api.sign_up()
    assert (await delete_account(anna))["erased"] is True
    again = await api.sign_up(anna.handle)
    assert again.email == anna.email and again.id != anna.id
    assert await can_log_in(api, again)
