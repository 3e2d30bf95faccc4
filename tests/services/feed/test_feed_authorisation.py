"""Who may publish, edit, delete and pin in the feed, and who sees what: anonymous readers,
non-members, organisation roles, suspended members, read-only tokens, visibility levels,
blocks, mutes and deleted posts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api, Session, poll

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id slug }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
INVITE_HUB = """mutation($h: ID!, $m: ID!) { inviteToHub(input: {hubId: $h, memberId: $m}) {
  membership { state } userErrors { field message code } } }"""
SET_HUB_ROLE = """mutation($h: ID!, $m: ID!, $r: HubRole!) { setHubRole(input: {hubId: $h, memberId: $m, role: $r}) {
  membership { role } userErrors { field message code } } }"""
INVITE_ORG = """mutation($o: ID!, $m: ID!, $r: OrganisationRole!) {
  inviteToOrganisation(input: {organisationId: $o, memberId: $m, role: $r}) {
  invitation { id } userErrors { field message code } } }"""
ACCEPT_ORG = """mutation($id: ID!) { acceptOrganisationInvitation(input: {invitationId: $id}) {
  invitation { status } userErrors { field message code } } }"""
FOLLOW = """mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"""
BLOCK = """mutation($m: ID!) { blockMember(input: {memberId: $m}) { member { viewerHasBlocked }
  userErrors { field message code } } }"""
UNBLOCK = """mutation($m: ID!) { unblockMember(input: {memberId: $m}) { member { viewerHasBlocked }
  userErrors { field message code } } }"""
MUTE = """mutation($m: ID!) { muteMember(input: {memberId: $m}) { member { viewerHasMuted }
  userErrors { field message code } } }"""
UNMUTE = """mutation($m: ID!) { unmuteMember(input: {memberId: $m}) { member { viewerHasMuted }
  userErrors { field message code } } }"""
SUSPEND = """mutation($m: ID!, $until: DateTime) { suspendMember(input: {memberId: $m, until: $until}) {
  member { isSuspended } userErrors { field message code } } }"""
PAT = """mutation($scopes: [String!]!) { createPersonalAccessToken(input: {name: "script", scopes: $scopes}) {
  token userErrors { field message code } } }"""

POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id visibility author { handle } hub { slug } organisation { slug } isPinned isDeleted }
  userErrors { field message code } } }"""
UPDATE_POST = """mutation($i: UpdatePostInput!) { updatePost(input: $i) { post { id body editedAt }
  userErrors { field message code } } }"""
DELETE_POST = """mutation($id: ID!) { deletePost(input: {id: $id}) { post { id isDeleted body }
  userErrors { field message code } } }"""
PIN = """mutation($id: ID!) { pinPost(input: {id: $id}) { post { id isPinned } userErrors { field message code } } }"""
UNPIN = """mutation($id: ID!) { unpinPost(input: {id: $id}) { post { id isPinned }
  userErrors { field message code } } }"""
EVENT = """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id visibility }
  userErrors { field message code } } }"""
RSVP = """mutation($e: ID!, $s: RsvpStatus!) { rsvpToEvent(input: {eventId: $e, status: $s}) {
  rsvp { status } userErrors { field message code } } }"""
COMMENT = """mutation($t: ID!, $b: String!) { createComment(input: {targetId: $t, body: $b}) {
  comment { id body } userErrors { field message code } } }"""
UPDATE_COMMENT = """mutation($id: ID!, $b: String!) { updateComment(input: {id: $id, body: $b}) {
  comment { id body } userErrors { field message code } } }"""
DELETE_COMMENT = """mutation($id: ID!) { deleteComment(input: {id: $id}) { comment { id isDeleted }
  userErrors { field message code } } }"""
REACT = """mutation($t: ID!) { react(input: {targetId: $t, kind: LIKE}) { reactions { like total }
  userErrors { field message code } } }"""

ITEMS = "nodes { ... on Post { id isPinned } ... on Event { id } }"
HUB_FEED = f"""query($slug: String!) {{ hub(slug: $slug) {{ feed(first: 50) {{ {ITEMS} }} }} }}"""
HOME_FEED = f"""{{ homeFeed(first: 50) {{ {ITEMS} }} }}"""
TAG_FEED = f"""query($tag: String!) {{ tagFeed(tag: $tag, first: 50) {{ {ITEMS} }} }}"""
ACTIVITY = f"""query($h: String!) {{ member(handle: $h) {{ activity(first: 50) {{ {ITEMS} }} }} }}"""
ORG_FEED = f"""query($slug: String!) {{ organisation(slug: $slug) {{ feed(first: 50) {{ {ITEMS} }} }} }}"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Post { isDeleted visibility } ... on Event { title }
  ... on Comment { body } } }"""
COMMENTS = """query($id: ID!) { node(id: $id) { ... on Post { comments(first: 50) { nodes { id author { handle } }
  } } } }"""

Reader = Session | Api


# --- helpers ---------------------------------------------------------------------------------


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_org(owner: Session) -> dict[str, Any]:
    data = await owner.ok(ORG, {"i": {"slug": slug(owner.api, "org"), "name": "AI Sweden", "kind": "OTHER"}})
    return data["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(api: Api, **fields: Any) -> tuple[Session, dict[str, Any], dict[str, Any]]:
    """A hub owner (its admin), their organisation, and the hub."""
    owner = await api.sign_up()
    org = await make_org(owner)
    data = {"slug": slug(api, "hub"), "name": "Kraftsamlingen", "organisationId": org["id"], **fields}
    hub = (await owner.ok(HUB, {"i": data}))["createHub"]["hub"]
    return owner, org, hub


async def joined(api: Api, hub: dict[str, Any]) -> Session:
    member = await api.sign_up()
    assert (await member.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    return member


async def org_member(owner: Session, org: dict[str, Any], role: str) -> Session:
    member = await owner.api.sign_up()
    invitation = (await owner.ok(INVITE_ORG, {"o": org["id"], "m": member.id, "r": role}))["inviteToOrganisation"]
    await member.ok(ACCEPT_ORG, {"id": invitation["invitation"]["id"]})
    return member


async def post(author: Session, **fields: Any) -> dict[str, Any]:
    data = await author.ok(POST, {"i": {"body": "Hej från Hubben", **fields}})
    return data["createPost"]["post"]  # type: ignore[no-any-return]


def event_input(**fields: Any) -> dict[str, Any]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    return {
        "title": "AI-fika",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "location": "Lindholmen, Göteborg",
        **fields,
    }


async def event(organiser: Session, **fields: Any) -> dict[str, Any]:
    data = await organiser.ok(EVENT, {"i": event_input(**fields)})
    return data["createEvent"]["event"]  # type: ignore[no-any-return]


async def comment(author: Session, target_id: str, body: str = "Tack!") -> dict[str, Any]:
    data = await author.ok(COMMENT, {"t": target_id, "b": body})
    return data["createComment"]["comment"]  # type: ignore[no-any-return]


def error_code(body: dict[str, Any]) -> str:
    """The code of a top-level error (UNAUTHENTICATED, FORBIDDEN); the payload itself is null."""
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def user_errors(body: dict[str, Any], name: str) -> list[tuple[str | None, str]]:
    assert "errors" not in body, body
    return [(e["field"], e["code"]) for e in body["data"][name]["userErrors"]]


def ids(connection: dict[str, Any] | None) -> list[str]:
    assert connection is not None
    return [n["id"] for n in connection["nodes"] if n]


async def hub_feed(reader: Reader, hub: dict[str, Any]) -> list[str]:
    data = await reader.ok(HUB_FEED, {"slug": hub["slug"]})
    assert data["hub"] is not None, "the hub should be visible"
    return ids(data["hub"]["feed"])


async def home_feed(reader: Session) -> list[str]:
    return ids((await reader.ok(HOME_FEED))["homeFeed"])


async def tag_feed(reader: Reader, tag: str) -> list[str]:
    return ids((await reader.ok(TAG_FEED, {"tag": tag}))["tagFeed"])


async def activity(reader: Reader, handle: str) -> list[str]:
    """What the reader sees of the member's activity; nothing when the member is hidden from them."""
    member = (await reader.ok(ACTIVITY, {"h": handle}))["member"]
    return [] if member is None else ids(member["activity"])


async def node(reader: Reader, node_id: str) -> dict[str, Any] | None:
    return (await reader.ok(NODE, {"id": node_id}))["node"]  # type: ignore[no-any-return]


async def comment_authors(reader: Reader, post_id: str) -> list[str]:
    data = (await reader.ok(COMMENTS, {"id": post_id}))["node"]
    assert data is not None
    return [c["author"]["handle"] for c in data["comments"]["nodes"]]


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """The feed learns of follows, blocks, mutes and hub memberships from graph events, a moment later."""
    await poll(check)


# --- anonymous ---------------------------------------------------------------------------------


async def test_anonymous_requests_cannot_write(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    p = await post(owner, hubId=hub["id"])
    e = await event(owner, hubId=hub["id"])

    attempts = [
        (POST, {"i": {"body": "anonym", "hubId": hub["id"]}}),
        (POST, {"i": {"body": "anonym"}}),
        (EVENT, {"i": event_input(hubId=hub["id"])}),
        (COMMENT, {"t": p["id"], "b": "anonym"}),
        (COMMENT, {"t": e["id"], "b": "anonym"}),
        (REACT, {"t": p["id"]}),
        (REACT, {"t": e["id"]}),
        (RSVP, {"e": e["id"], "s": "GOING"}),
        (UPDATE_POST, {"i": {"id": p["id"], "body": "anonym"}}),
        (DELETE_POST, {"id": p["id"]}),
        (PIN, {"id": p["id"]}),
    ]
    for query, variables in attempts:
        body = await api.gql(query, variables)
        assert error_code(body) == "UNAUTHENTICATED", (query, body)

    # Nothing was written: the hub feed holds the owner's two items, untouched.
    assert set(await hub_feed(api, hub)) == {p["id"], e["id"]}
    counts = (
        await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Post { commentsCount reactions { total } } } }", {"id": p["id"]}
        )
    )["node"]
    assert counts == {"commentsCount": 0, "reactions": {"total": 0}}


# --- hub membership ------------------------------------------------------------------------------


async def test_only_hub_members_publish_in_a_hub(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    outsider = await api.sign_up()

    assert error_code(await outsider.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"]}})) == "FORBIDDEN"
    assert error_code(await outsider.gql(EVENT, {"i": event_input(hubId=hub["id"])})) == "FORBIDDEN"
    assert await hub_feed(api, hub) == []

    # Outside the hub they may still publish on their own profile.
    own = await post(outsider)
    assert own["hub"] is None

    # Once they join, they may publish in it.
    assert (await outsider.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    p = await post(outsider, hubId=hub["id"])
    assert p["hub"] == {"slug": hub["slug"]}
    e = await event(outsider, hubId=hub["id"])
    assert set(await hub_feed(owner, hub)) == {p["id"], e["id"]}


async def test_a_pending_join_request_is_not_membership(api: Api) -> None:
    _, _, hub = await make_hub(api, joinPolicy="REQUEST")
    requester = await api.sign_up()
    assert (await requester.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "REQUESTED"
    assert error_code(await requester.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"]}})) == "FORBIDDEN"
    assert error_code(await requester.gql(EVENT, {"i": event_input(hubId=hub["id"])})) == "FORBIDDEN"


async def test_members_only_hub_is_invisible_to_outsiders_who_try_to_publish(api: Api) -> None:
    owner, _, hub = await make_hub(api, visibility="MEMBERS_ONLY", joinPolicy="INVITE")
    outsider = await api.sign_up()

    body = await outsider.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"]}})
    assert user_errors(body, "createPost") == [("hubId", "NOT_FOUND")]
    assert body["data"]["createPost"]["post"] is None
    body = await outsider.gql(EVENT, {"i": event_input(hubId=hub["id"])})
    assert user_errors(body, "createEvent") == [("hubId", "NOT_FOUND")]

    # An invited member who accepts may publish; the item is for hub members whatever was asked.
    member = await api.sign_up()
    await owner.ok(INVITE_HUB, {"h": hub["id"], "m": member.id})
    assert (await member.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    p = await post(member, hubId=hub["id"], visibility="PUBLIC")
    assert p["visibility"] == "HUB_MEMBERS"
    e = await event(member, hubId=hub["id"], visibility="MEMBERS")
    assert e["visibility"] == "HUB_MEMBERS"

    async def owner_sees_both() -> bool:
        return set(await hub_feed(owner, hub)) == {p["id"], e["id"]}

    await eventually(owner_sees_both)
    for reader in (api, outsider):
        assert (await reader.ok(HUB_FEED, {"slug": hub["slug"]}))["hub"] is None
        assert await node(reader, p["id"]) is None
        assert await node(reader, e["id"]) is None


# --- organisations ---------------------------------------------------------------------------------


async def test_only_organisation_editors_publish_as_it(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    plain = await org_member(owner, org, "MEMBER")
    editor = await org_member(owner, org, "EDITOR")
    outsider = await api.sign_up()

    for who in (plain, outsider):
        body = await who.gql(POST, {"i": {"body": "Som organisationen", "organisationId": org["id"]}})
        assert error_code(body) == "FORBIDDEN", body
        body = await who.gql(EVENT, {"i": event_input(organisationId=org["id"])})
        assert error_code(body) == "FORBIDDEN", body
    assert ids((await api.ok(ORG_FEED, {"slug": org["slug"]}))["organisation"]["feed"]) == []

    p = await post(editor, body="Nyheter från oss", organisationId=org["id"])
    assert p["organisation"] == {"slug": org["slug"]} and p["author"] == {"handle": editor.handle}
    e = await event(editor, organisationId=org["id"])
    by_owner = await post(owner, organisationId=org["id"])
    feed = ids((await api.ok(ORG_FEED, {"slug": org["slug"]}))["organisation"]["feed"])
    assert feed == [by_owner["id"], e["id"], p["id"]]

    # A post on the member's own profile is not the organisation's.
    own = await post(plain)
    assert own["organisation"] is None
    assert own["id"] not in ids((await api.ok(ORG_FEED, {"slug": org["slug"]}))["organisation"]["feed"])


async def test_publishing_as_an_organisation_in_a_hub_needs_both(api: Api) -> None:
    owner, org, hub = await make_hub(api)
    editor = await org_member(owner, org, "EDITOR")
    # An editor of the organisation who is not in the hub still may not publish in it.
    body = await editor.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"], "organisationId": org["id"]}})
    assert error_code(body) == "FORBIDDEN"
    # A hub member who is not an editor of the organisation may not publish as it.
    member = await joined(api, hub)
    body = await member.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"], "organisationId": org["id"]}})
    assert error_code(body) == "FORBIDDEN"
    # Both: fine.
    await editor.ok(JOIN, {"h": hub["id"]})
    p = await post(editor, hubId=hub["id"], organisationId=org["id"])
    assert p["organisation"] == {"slug": org["slug"]} and p["hub"] == {"slug": hub["slug"]}


# --- editing, deleting, pinning ------------------------------------------------------------------------


async def test_only_authors_edit_and_authors_or_staff_delete(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    bo = await joined(api, hub)
    moderator = await joined(api, hub)
    await owner.ok(SET_HUB_ROLE, {"h": hub["id"], "m": moderator.id, "r": "MODERATOR"})

    p = await post(anna, hubId=hub["id"], body="Original")
    c = await comment(bo, p["id"], "Bos kommentar")

    # Nobody but the author edits the post; not even hub staff.
    for who in (bo, moderator, owner):
        body = await who.gql(UPDATE_POST, {"i": {"id": p["id"], "body": "Kapad"}})
        assert error_code(body) == "FORBIDDEN", body
    edited = (await anna.ok(UPDATE_POST, {"i": {"id": p["id"], "body": "Redigerad"}}))["updatePost"]["post"]
    assert edited["body"] == "Redigerad" and edited["editedAt"]

    # Comments likewise, for editing and deleting.
    for who in (anna, moderator):
        assert error_code(await who.gql(UPDATE_COMMENT, {"id": c["id"], "b": "Kapad"})) == "FORBIDDEN"
        assert error_code(await who.gql(DELETE_COMMENT, {"id": c["id"]})) == "FORBIDDEN"
    updated = (await bo.ok(UPDATE_COMMENT, {"id": c["id"], "b": "Ändrad"}))["updateComment"]["comment"]
    assert updated["body"] == "Ändrad"
    assert (await node(api, c["id"])) == {"id": c["id"], "body": "Ändrad"}

    # Another plain member may not delete the post; the post is untouched.
    assert error_code(await bo.gql(DELETE_POST, {"id": p["id"]})) == "FORBIDDEN"
    assert p["id"] in await hub_feed(api, hub)

    # The author deletes their own; a moderator and a hub admin delete anyone's in the hub.
    own = await post(bo, hubId=hub["id"])
    by_moderator = await post(anna, hubId=hub["id"])
    deleted = (await bo.ok(DELETE_POST, {"id": own["id"]}))["deletePost"]["post"]
    assert deleted["isDeleted"] is True and deleted["body"] == ""
    assert (await moderator.ok(DELETE_POST, {"id": by_moderator["id"]}))["deletePost"]["post"]["isDeleted"]
    # Staff of another hub have no say here.
    other_owner, _, other_hub = await make_hub(api)
    await moderator.ok(JOIN, {"h": other_hub["id"]})
    elsewhere = await post(other_owner, hubId=other_hub["id"])
    assert error_code(await other_owner.gql(DELETE_POST, {"id": p["id"]})) == "FORBIDDEN"
    assert error_code(await moderator.gql(DELETE_POST, {"id": elsewhere["id"]})) == "FORBIDDEN"
    assert (await owner.ok(DELETE_POST, {"id": p["id"]}))["deletePost"]["post"]["isDeleted"]
    assert await hub_feed(api, hub) == []


async def test_hub_staff_outside_the_hub_cannot_delete_profile_posts(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    own = await post(anna)  # on her profile, not in the hub
    assert error_code(await owner.gql(DELETE_POST, {"id": own["id"]})) == "FORBIDDEN"
    assert await activity(api, anna.handle) == [own["id"]]


async def test_only_hub_admins_pin_at_most_three_pinned_first(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    member = await joined(api, hub)
    moderator = await joined(api, hub)
    await owner.ok(SET_HUB_ROLE, {"h": hub["id"], "m": moderator.id, "r": "MODERATOR"})
    posts = [(await post(member, hubId=hub["id"], body=f"Inlägg {i}"))["id"] for i in range(6)]
    newest_first = posts[::-1]
    assert await hub_feed(api, hub) == newest_first

    for who in (member, moderator):
        assert error_code(await who.gql(PIN, {"id": posts[0]})) == "FORBIDDEN"
    assert await hub_feed(api, hub) == newest_first

    for p in posts[:3]:
        assert (await owner.ok(PIN, {"id": p}))["pinPost"]["post"]["isPinned"] is True
    body = await owner.gql(PIN, {"id": posts[3]})
    assert user_errors(body, "pinPost") == [("id", "BAD_USER_INPUT")]
    assert "3" in body["data"]["pinPost"]["userErrors"][0]["message"]
    # Pinning what is already pinned changes nothing and is no error.
    assert (await owner.ok(PIN, {"id": posts[0]}))["pinPost"]["post"]["isPinned"] is True

    feed = await hub_feed(api, hub)
    assert set(feed[:3]) == set(posts[:3])
    assert feed[3:] == [posts[5], posts[4], posts[3]]
    data = await api.ok(HUB_FEED, {"slug": hub["slug"]})
    assert [n["isPinned"] for n in data["hub"]["feed"]["nodes"]] == [True] * 3 + [False] * 3

    # Only admins unpin, too; unpinning frees a place.
    assert error_code(await moderator.gql(UNPIN, {"id": posts[1]})) == "FORBIDDEN"
    assert (await owner.ok(UNPIN, {"id": posts[1]}))["unpinPost"]["post"]["isPinned"] is False
    await owner.ok(PIN, {"id": posts[4]})
    feed = await hub_feed(api, hub)
    assert set(feed[:3]) == {posts[0], posts[2], posts[4]}
    assert feed[3:] == [posts[5], posts[3], posts[1]]

    # Deleting a pinned post frees its place as well.
    await member.ok(DELETE_POST, {"id": posts[0]})
    await owner.ok(PIN, {"id": posts[5]})
    assert set((await hub_feed(api, hub))[:3]) == {posts[2], posts[4], posts[5]}


async def test_posts_outside_a_hub_cannot_be_pinned(api: Api) -> None:
    owner, _, _ = await make_hub(api)
    own = await post(owner)
    body = await owner.gql(PIN, {"id": own["id"]})
    assert user_errors(body, "pinPost") == [("id", "BAD_USER_INPUT")]


# --- suspension and token scopes ------------------------------------------------------------------------


async def test_suspended_members_read_but_do_not_write(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    member = await joined(api, hub)
    await member.ok(FOLLOW, {"t": hub["id"]})
    p = await post(owner, hubId=hub["id"])
    e = await event(owner, hubId=hub["id"])
    mine = await post(member, hubId=hub["id"])
    c = await comment(member, p["id"])

    moderator = await api.make_admin("moderator")
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await moderator.ok(SUSPEND, {"m": member.id, "until": until}))["suspendMember"]["member"]["isSuspended"]

    attempts = [
        (POST, {"i": {"body": "Hej", "hubId": hub["id"]}}),
        (POST, {"i": {"body": "Hej"}}),
        (EVENT, {"i": event_input(hubId=hub["id"])}),
        (COMMENT, {"t": p["id"], "b": "Hej"}),
        (REACT, {"t": p["id"]}),
        (REACT, {"t": c["id"]}),
        (RSVP, {"e": e["id"], "s": "GOING"}),
        (UPDATE_POST, {"i": {"id": mine["id"], "body": "Ändrad"}}),
        (UPDATE_COMMENT, {"id": c["id"], "b": "Ändrad"}),
    ]
    for query, variables in attempts:
        body = await member.gql(query, variables)
        assert error_code(body) == "FORBIDDEN", (query, body)
        assert "suspended" in body["errors"][0]["message"]

    # They still read everything they could before.
    assert set(await hub_feed(member, hub)) == {p["id"], e["id"], mine["id"]}

    async def home_has_all() -> bool:
        return set(await home_feed(member)) == {p["id"], e["id"], mine["id"]}

    await eventually(home_has_all)
    assert (await node(member, p["id"])) is not None
    assert await comment_authors(member, p["id"]) == [member.handle]

    # Lifting the suspension restores writing.
    await moderator.ok(SUSPEND, {"m": member.id, "until": None})
    await comment(member, p["id"], "Tillbaka")
    assert (await member.ok(RSVP, {"e": e["id"], "s": "GOING"}))["rsvpToEvent"]["rsvp"]["status"] == "GOING"


async def test_a_suspension_that_ran_out_no_longer_stops_writing(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    member = await joined(api, hub)
    moderator = await api.make_admin("moderator")
    until = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    await moderator.ok(SUSPEND, {"m": member.id, "until": until})
    assert error_code(await member.gql(POST, {"i": {"body": "Hej", "hubId": hub["id"]}})) == "FORBIDDEN"

    async def can_post_again() -> bool:
        body = await member.gql(POST, {"i": {"body": "Hej igen", "hubId": hub["id"]}})
        return "errors" not in body and body["data"]["createPost"]["post"] is not None

    await poll(can_post_again, within=15, interval=0.2)
    assert len(await hub_feed(owner, hub)) == 1


async def test_read_only_token_reads_but_cannot_publish(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    member = await joined(api, hub)
    p = await post(owner, hubId=hub["id"], visibility="HUB_MEMBERS")

    read_only = (await member.ok(PAT, {"scopes": ["read"]}))["createPersonalAccessToken"]["token"]
    assert read_only.startswith("hbp_")

    async def token_sees_post() -> bool:
        data = await api.ok(HUB_FEED, {"slug": hub["slug"]}, token=read_only)
        return ids(data["hub"]["feed"]) == [p["id"]]

    await eventually(token_sees_post)

    for query, variables in (
        (POST, {"i": {"body": "Via skript", "hubId": hub["id"]}}),
        (POST, {"i": {"body": "Via skript"}}),
        (COMMENT, {"t": p["id"], "b": "Via skript"}),
        (REACT, {"t": p["id"]}),
    ):
        body = await api.gql(query, variables, token=read_only)
        assert error_code(body) == "FORBIDDEN", body
        assert "'write'" in body["errors"][0]["message"]
    assert await hub_feed(owner, hub) == [p["id"]]

    # A token with the write scope publishes.
    writer = (await member.ok(PAT, {"scopes": ["read", "write"]}))["createPersonalAccessToken"]["token"]
    created = await api.ok(POST, {"i": {"body": "Via skript", "hubId": hub["id"]}}, token=writer)
    assert created["createPost"]["post"]["author"] == {"handle": member.handle}


# --- visibility -------------------------------------------------------------------------------------------


async def test_visibility_levels(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    public = await post(owner, hubId=hub["id"], visibility="PUBLIC", body="Alla #synlighet")
    members = await post(owner, hubId=hub["id"], visibility="MEMBERS", body="Inloggade #synlighet")
    hub_only = await post(owner, hubId=hub["id"], visibility="HUB_MEMBERS", body="Hubben #synlighet")
    members_event = await event(owner, hubId=hub["id"], visibility="MEMBERS")
    assert (public["visibility"], members["visibility"], hub_only["visibility"]) == ("PUBLIC", "MEMBERS", "HUB_MEMBERS")
    default = await post(owner, hubId=hub["id"])
    assert default["visibility"] == "PUBLIC"

    # Anonymous: public only, everywhere.
    assert await hub_feed(api, hub) == [default["id"], public["id"]]
    assert await tag_feed(api, "synlighet") == [public["id"]]
    assert await activity(api, owner.handle) == [default["id"], public["id"]]
    assert (await node(api, public["id"])) is not None
    for hidden in (members, hub_only, members_event):
        assert await node(api, hidden["id"]) is None
    upcoming = """query($h: ID!) { upcomingEvents(hubId: $h, first: 10) { nodes { id } } }"""
    assert ids((await api.ok(upcoming, {"h": hub["id"]}))["upcomingEvents"]) == []

    # Any signed-in member: public and members, not hub members.
    outsider = await api.sign_up()
    assert await hub_feed(outsider, hub) == [default["id"], members_event["id"], members["id"], public["id"]]
    assert await tag_feed(outsider, "synlighet") == [members["id"], public["id"]]
    assert (await node(outsider, members["id"]))["visibility"] == "MEMBERS"  # type: ignore[index]
    assert (await node(outsider, members_event["id"])) is not None
    assert ids((await outsider.ok(upcoming, {"h": hub["id"]}))["upcomingEvents"]) == [members_event["id"]]
    assert await node(outsider, hub_only["id"]) is None
    body = await outsider.gql(COMMENT, {"t": hub_only["id"], "b": "Hej"})
    assert user_errors(body, "createComment") == [("targetId", "NOT_FOUND")]

    # After joining, the hub-members post shows once the feed has learnt of the membership.
    await outsider.ok(JOIN, {"h": hub["id"]})

    async def sees_hub_post() -> bool:
        return hub_only["id"] in await hub_feed(outsider, hub)

    await eventually(sees_hub_post)
    assert await hub_feed(outsider, hub) == [
        default["id"],
        members_event["id"],
        hub_only["id"],
        members["id"],
        public["id"],
    ]
    assert (await node(outsider, hub_only["id"]))["visibility"] == "HUB_MEMBERS"  # type: ignore[index]
    await comment(outsider, hub_only["id"])

    # Leaving takes it away again; anonymous readers never saw it.
    await outsider.ok("mutation($h: ID!) { leaveHub(input: {hubId: $h}) { userErrors { message } } }", {"h": hub["id"]})

    async def lost_hub_post() -> bool:
        return hub_only["id"] not in await hub_feed(outsider, hub)

    await eventually(lost_hub_post)
    assert await node(outsider, hub_only["id"]) is None
    assert await hub_feed(api, hub) == [default["id"], public["id"]]


async def test_members_only_hub_forces_hub_members_visibility(api: Api) -> None:
    owner, _, hub = await make_hub(api, visibility="MEMBERS_ONLY", joinPolicy="INVITE")
    requested = {}
    for visibility in ("PUBLIC", "MEMBERS", "HUB_MEMBERS"):
        requested[visibility] = await post(owner, hubId=hub["id"], visibility=visibility, body="Intern #stängd")
        assert requested[visibility]["visibility"] == "HUB_MEMBERS"
    unset = await post(owner, hubId=hub["id"])
    assert unset["visibility"] == "HUB_MEMBERS"
    all_ids = {unset["id"], *(p["id"] for p in requested.values())}

    outsider = await api.sign_up()
    for reader in (api, outsider):
        assert (await reader.ok(HUB_FEED, {"slug": hub["slug"]}))["hub"] is None
        assert await tag_feed(reader, "stängd") == []
        assert await activity(reader, owner.handle) == []
        for post_id in all_ids:
            assert await node(reader, post_id) is None

    member = await api.sign_up()
    await owner.ok(INVITE_HUB, {"h": hub["id"], "m": member.id})
    await member.ok(JOIN, {"h": hub["id"]})

    async def member_sees_all() -> bool:
        return set(await hub_feed(member, hub)) == all_ids

    await eventually(member_sees_all)
    assert set(await tag_feed(member, "stängd")) == all_ids - {unset["id"]}


async def test_a_hub_that_closes_takes_its_items_with_it(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    member = await joined(api, hub)
    p = await post(owner, hubId=hub["id"], visibility="PUBLIC")
    e = await event(owner, hubId=hub["id"], visibility="MEMBERS")
    assert await hub_feed(api, hub) == [p["id"]]

    update = """mutation($i: UpdateHubInput!) { updateHub(input: $i) { hub { visibility } userErrors { message } } }"""
    await owner.ok(update, {"i": {"id": hub["id"], "visibility": "MEMBERS_ONLY"}})

    async def hidden_from_anonymous() -> bool:
        return await node(api, p["id"]) is None

    await eventually(hidden_from_anonymous)
    outsider = await api.sign_up()
    assert await node(outsider, e["id"]) is None
    assert await activity(api, owner.handle) == []
    visibility = """query($id: ID!) { node(id: $id) { ... on Post { visibility } ... on Event { visibility } } }"""
    for item in (p, e):
        assert (await member.ok(visibility, {"id": item["id"]}))["node"] == {"visibility": "HUB_MEMBERS"}


# --- blocks and mutes ---------------------------------------------------------------------------------------


async def test_blocks_hide_both_ways_until_unblocked(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    bo = await joined(api, hub)
    carl = await joined(api, hub)
    for m in (anna, bo):
        await m.ok(FOLLOW, {"t": hub["id"]})

    pa = await post(anna, hubId=hub["id"], body="Annas #block")
    pb = await post(bo, hubId=hub["id"], body="Bos #block")
    pc = await post(carl, hubId=hub["id"], body="Carls")
    ca = await comment(anna, pc["id"], "Anna tycker")
    cb = await comment(bo, pc["id"], "Bo tycker")
    cc = await comment(carl, pc["id"], "Carl tycker")
    reply = """mutation($t: ID!, $p: ID!) { createComment(input: {targetId: $t, parentId: $p, body: "Svar"}) {
      comment { id } userErrors { field message code } } }"""
    replies = """query($id: ID!) { node(id: $id) { ... on Comment { replies(first: 10) { nodes { author { handle } } }
      } } }"""
    await anna.ok(reply, {"t": pc["id"], "p": cc["id"]})
    await bo.ok(reply, {"t": pc["id"], "p": cc["id"]})
    everything = {pa["id"], pb["id"], pc["id"]}

    for viewer in (anna, bo):

        async def home_has_everything(viewer: Session = viewer) -> bool:
            return set(await home_feed(viewer)) == everything

        await eventually(home_has_everything)
        assert set(await hub_feed(viewer, hub)) == everything
        assert await comment_authors(viewer, pc["id"]) == [anna.handle, bo.handle, carl.handle]

    assert (await anna.ok(BLOCK, {"m": bo.id}))["blockMember"]["member"]["viewerHasBlocked"] is True

    async def block_applied() -> bool:
        return pb["id"] not in await hub_feed(anna, hub)

    await eventually(block_applied)

    for viewer, own, theirs, their_comment, their_handle in (
        (anna, pa, pb, cb, bo.handle),
        (bo, pb, pa, ca, anna.handle),
    ):
        assert set(await hub_feed(viewer, hub)) == {own["id"], pc["id"]}, viewer.handle
        assert set(await home_feed(viewer)) == {own["id"], pc["id"]}, viewer.handle
        assert await tag_feed(viewer, "block") == [own["id"]], viewer.handle
        assert await activity(viewer, their_handle) == [], viewer.handle
        assert await node(viewer, theirs["id"]) is None, viewer.handle
        assert await node(viewer, their_comment["id"]) is None, viewer.handle
        assert await comment_authors(viewer, pc["id"]) == [viewer.handle, carl.handle], viewer.handle
        reply_authors = (await viewer.ok(replies, {"id": cc["id"]}))["node"]["replies"]["nodes"]
        assert [r["author"]["handle"] for r in reply_authors] == [viewer.handle], viewer.handle
        # Nor reacting to or replying to the other's comment.
        body = await viewer.gql(REACT, {"t": their_comment["id"]})
        assert user_errors(body, "react") == [("targetId", "NOT_FOUND")], body
        body = await viewer.gql(reply, {"t": pc["id"], "p": their_comment["id"]})
        assert user_errors(body, "createComment") == [("parentId", "NOT_FOUND")], body
        # No commenting on or reacting to the other's post, nor replying to their comment.
        body = await viewer.gql(COMMENT, {"t": theirs["id"], "b": "Hallå?"})
        assert (error_code(body) if body.get("errors") else user_errors(body, "createComment")[0][1]) in (
            "FORBIDDEN",
            "NOT_FOUND",
        ), body
        body = await viewer.gql(REACT, {"t": theirs["id"]})
        assert (error_code(body) if body.get("errors") else user_errors(body, "react")[0][1]) in (
            "FORBIDDEN",
            "NOT_FOUND",
        ), body

    # Everyone else still sees both, comments included.
    for other in (carl, api):
        assert set(await hub_feed(other, hub)) == everything
        assert await comment_authors(other, pc["id"]) == [anna.handle, bo.handle, carl.handle]
    counts = (
        await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Post { commentsCount reactions { total } } } }", {"id": pa["id"]}
        )
    )["node"]
    assert counts == {"commentsCount": 0, "reactions": {"total": 0}}

    # Unblocking restores everything, both ways.
    await anna.ok(UNBLOCK, {"m": bo.id})

    async def block_lifted() -> bool:
        return pb["id"] in await hub_feed(anna, hub)

    await eventually(block_lifted)
    for viewer, theirs in ((anna, pb), (bo, pa)):
        assert set(await hub_feed(viewer, hub)) == everything
        assert await comment_authors(viewer, pc["id"]) == [anna.handle, bo.handle, carl.handle]
        assert await node(viewer, theirs["id"]) is not None
    # Blocking ended their follows of each other, not of the hub: home feeds are whole again.
    assert set(await home_feed(anna)) == everything
    assert set(await home_feed(bo)) == everything
    await comment(bo, pa["id"], "Hej igen")


async def test_a_blocked_member_cannot_comment_on_the_blockers_post(api: Api) -> None:
    _, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    bo = await joined(api, hub)
    pa = await post(anna, hubId=hub["id"])
    ea = await event(anna, hubId=hub["id"])
    await anna.ok(BLOCK, {"m": bo.id})

    async def hidden_from_bo() -> bool:
        return await node(bo, pa["id"]) is None

    await eventually(hidden_from_bo)
    for target in (pa["id"], ea["id"]):
        body = await bo.gql(COMMENT, {"t": target, "b": "Släpp in mig"})
        codes = [error_code(body)] if body.get("errors") else [c for _, c in user_errors(body, "createComment")]
        assert codes in (["FORBIDDEN"], ["NOT_FOUND"]), body
    body = await bo.gql(RSVP, {"e": ea["id"], "s": "GOING"})
    assert user_errors(body, "rsvpToEvent") == [("eventId", "NOT_FOUND")]
    assert (await anna.ok(COMMENTS, {"id": pa["id"]}))["node"]["comments"]["nodes"] == []


async def test_mutes_keep_a_members_posts_out_of_feeds(api: Api) -> None:
    _, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    bo = await joined(api, hub)
    await anna.ok(FOLLOW, {"t": hub["id"]})
    await bo.ok(FOLLOW, {"t": hub["id"]})
    pa = await post(anna, hubId=hub["id"])
    pb = await post(bo, hubId=hub["id"])

    async def anna_home_has_both() -> bool:
        return set(await home_feed(anna)) == {pa["id"], pb["id"]}

    await eventually(anna_home_has_both)

    assert (await anna.ok(MUTE, {"m": bo.id}))["muteMember"]["member"]["viewerHasMuted"] is True

    async def muted() -> bool:
        return pb["id"] not in await hub_feed(anna, hub)

    await eventually(muted)
    assert await hub_feed(anna, hub) == [pa["id"]]
    assert await home_feed(anna) == [pa["id"]]
    # Muting only filters feeds: the post itself is still there when asked for by id.
    assert (await node(anna, pb["id"])) is not None

    # Muting is one-way and quiet: Bo still sees Anna, and may still reply to her.
    async def bo_home_has_both() -> bool:
        return set(await home_feed(bo)) == {pa["id"], pb["id"]}

    await eventually(bo_home_has_both)
    assert set(await hub_feed(bo, hub)) == {pa["id"], pb["id"]}
    await comment(bo, pa["id"])

    await anna.ok(UNMUTE, {"m": bo.id})

    async def unmuted() -> bool:
        return await hub_feed(anna, hub) == [pb["id"], pa["id"]]

    await eventually(unmuted)
    assert await home_feed(anna) == [pb["id"], pa["id"]]


# --- deleted posts -------------------------------------------------------------------------------------------


async def test_deleted_posts_leave_every_feed(api: Api) -> None:
    owner, _, hub = await make_hub(api)
    anna = await joined(api, hub)
    await anna.ok(FOLLOW, {"t": hub["id"]})
    kept = await post(anna, hubId=hub["id"], body="Kvar #radering")
    gone = await post(anna, hubId=hub["id"], body="Borta #radering")
    reply = await comment(owner, gone["id"])

    async def home_has_both() -> bool:
        return set(await home_feed(anna)) == {kept["id"], gone["id"]}

    await eventually(home_has_both)
    assert await tag_feed(api, "radering") == [gone["id"], kept["id"]]
    assert await activity(api, anna.handle) == [gone["id"], kept["id"]]
    assert await hub_feed(api, hub) == [gone["id"], kept["id"]]

    deleted = (await anna.ok(DELETE_POST, {"id": gone["id"]}))["deletePost"]["post"]
    assert deleted == {"id": gone["id"], "isDeleted": True, "body": ""}

    for reader in (api, anna, owner):
        assert await hub_feed(reader, hub) == [kept["id"]]
        assert await tag_feed(reader, "radering") == [kept["id"]]
        assert await activity(reader, anna.handle) == [kept["id"]]
        # The code answers null for a deleted post, for everyone including its author.
        assert await node(reader, gone["id"]) is None
    assert await home_feed(anna) == [kept["id"]]
    assert gone["id"] not in await home_feed(owner)

    # It cannot be touched any more: no edits, comments, reactions, pins or second delete.
    for who, query, variables, name in (
        (anna, UPDATE_POST, {"i": {"id": gone["id"], "body": "Igen"}}, "updatePost"),
        (anna, DELETE_POST, {"id": gone["id"]}, "deletePost"),
        (owner, PIN, {"id": gone["id"]}, "pinPost"),
        (owner, COMMENT, {"t": gone["id"], "b": "Hallå?"}, "createComment"),
        (owner, REACT, {"t": gone["id"]}, "react"),
    ):
        codes = [c for _, c in user_errors(await who.gql(query, variables), name)]
        assert codes == ["NOT_FOUND"], (name, codes)
    assert await node(owner, reply["id"]) is None
