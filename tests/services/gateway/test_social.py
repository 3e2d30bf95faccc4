"""Follows with counts, blocks and mutes between members, and profile edits."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from shared.ids import to_global_id
from tests.conftest import Api, Session

FOLLOW = """mutation($id: ID!) { follow(input: {targetId: $id}) {
  following targetId targetType userErrors { field message code } } }"""
UNFOLLOW = """mutation($id: ID!) { unfollow(input: {targetId: $id}) {
  following targetId targetType userErrors { field message code } } }"""
BLOCK = """mutation($id: ID!) { blockMember(input: {memberId: $id}) {
  member { handle viewerHasBlocked } userErrors { field message code } } }"""
UNBLOCK = """mutation($id: ID!) { unblockMember(input: {memberId: $id}) {
  member { handle viewerHasBlocked } userErrors { field message code } } }"""
MUTE = """mutation($id: ID!) { muteMember(input: {memberId: $id}) {
  member { handle viewerHasMuted } userErrors { field message code } } }"""
UNMUTE = """mutation($id: ID!) { unmuteMember(input: {memberId: $id}) {
  member { handle viewerHasMuted } userErrors { field message code } } }"""
MEMBER = """query($h: String!) { member(handle: $h) {
  id handle followersCount followingCount viewerIsFollowing followsViewer viewerHasBlocked viewerHasMuted } }"""
NODE = """query($id: ID!) { node(id: $id) {
  id
  ... on Member { handle followersCount followingCount viewerIsFollowing }
  ... on Organisation { slug followersCount viewerIsFollowing }
  ... on Hub { slug followersCount viewerIsFollowing } } }"""
FOLLOWERS = """query($h: String!) { member(handle: $h) { followers(first: 50) { nodes { handle } totalCount } } }"""
ORG_FOLLOWERS = """query($id: ID!) { node(id: $id) { ... on Organisation {
  followers(first: 50) { nodes { handle } totalCount } } } }"""
CREATE_ORG = """mutation($slug: String!) { createOrganisation(input: {slug: $slug, name: "Org", kind: MUNICIPALITY}) {
  organisation { id slug } userErrors { field message code } } }"""
CREATE_HUB = """mutation($slug: String!, $org: ID!) {
  createHub(input: {slug: $slug, name: "Hub", organisationId: $org}) {
  hub { id slug } userErrors { field message code } } }"""
PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  member { displayName headline bio bioHtml avatarUrl skills links { label url } language
           municipality { code name county { code } } organisation { slug } }
  userErrors { field message code } } }"""
VIEWER_PROFILE = """{ viewer { member { displayName headline bio avatarUrl skills links { label url } language
  municipality { code } organisation { slug } } } }"""


async def counts(viewer: Session, handle: str) -> tuple[int, int]:
    m = (await viewer.ok(MEMBER, {"h": handle}))["member"]
    return m["followersCount"], m["followingCount"]


async def node(viewer: Session, gid: str) -> dict[str, Any] | None:
    return (await viewer.ok(NODE, {"id": gid}))["node"]  # type: ignore[no-any-return]


async def make_org(owner: Session) -> dict[str, str]:
    slug = owner.api.unique("org").replace("_", "-")
    return (await owner.ok(CREATE_ORG, {"slug": slug}))["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org_id: str) -> dict[str, str]:
    slug = owner.api.unique("hub").replace("_", "-")
    return (await owner.ok(CREATE_HUB, {"slug": slug, "org": org_id}))["createHub"]["hub"]  # type: ignore[no-any-return]


async def test_follow_and_unfollow_a_member_with_counts(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    assert await counts(anna, anna.handle) == (0, 0)
    assert await counts(anna, bo.handle) == (0, 0)

    payload = (await anna.ok(FOLLOW, {"id": bo.id}))["follow"]
    assert payload == {"following": True, "targetId": bo.id, "targetType": "MEMBER", "userErrors": []}
    assert await counts(anna, anna.handle) == (0, 1)
    assert await counts(anna, bo.handle) == (1, 0)
    seen_by_anna = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen_by_anna["viewerIsFollowing"] is True and seen_by_anna["followsViewer"] is False
    seen_by_bo = (await bo.ok(MEMBER, {"h": anna.handle}))["member"]
    assert seen_by_bo["viewerIsFollowing"] is False and seen_by_bo["followsViewer"] is True

    # Following twice changes nothing.
    again = (await anna.ok(FOLLOW, {"id": bo.id}))["follow"]
    assert again["following"] is True and again["userErrors"] == []
    assert await counts(anna, anna.handle) == (0, 1)
    assert await counts(anna, bo.handle) == (1, 0)
    assert len(await api.outbox("follow.created")) == 1

    # Mutual follow shows up both ways.
    await bo.ok(FOLLOW, {"id": anna.id})
    seen_by_anna = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen_by_anna["viewerIsFollowing"] is True and seen_by_anna["followsViewer"] is True
    assert await counts(anna, anna.handle) == (1, 1)
    assert await counts(anna, bo.handle) == (1, 1)

    payload = (await anna.ok(UNFOLLOW, {"id": bo.id}))["unfollow"]
    assert payload == {"following": False, "targetId": bo.id, "targetType": "MEMBER", "userErrors": []}
    assert await counts(anna, anna.handle) == (1, 0)
    assert await counts(anna, bo.handle) == (0, 1)
    seen_by_anna = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen_by_anna["viewerIsFollowing"] is False and seen_by_anna["followsViewer"] is True

    # Unfollowing what you don't follow changes nothing.
    payload = (await anna.ok(UNFOLLOW, {"id": bo.id}))["unfollow"]
    assert payload["following"] is False and payload["userErrors"] == []
    assert await counts(anna, anna.handle) == (1, 0)
    assert await counts(anna, bo.handle) == (0, 1)
    assert len(await api.outbox("follow.deleted")) == 1


async def test_follow_and_unfollow_an_organisation_and_a_hub(api: Api) -> None:
    owner, fan = await api.sign_up(), await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])

    for target, kind in ((org, "ORGANISATION"), (hub, "HUB")):
        before = await node(fan, target["id"])
        assert before is not None
        assert before["followersCount"] == 0 and before["viewerIsFollowing"] is False
        start_following = (await counts(fan, fan.handle))[1]

        payload = (await fan.ok(FOLLOW, {"id": target["id"]}))["follow"]
        assert payload == {"following": True, "targetId": target["id"], "targetType": kind, "userErrors": []}
        after = await node(fan, target["id"])
        assert after is not None and after["followersCount"] == 1 and after["viewerIsFollowing"] is True
        assert (await counts(fan, fan.handle))[1] == start_following + 1

        # Twice: still one follower, one follow.
        assert (await fan.ok(FOLLOW, {"id": target["id"]}))["follow"]["following"] is True
        again = await node(fan, target["id"])
        assert again is not None and again["followersCount"] == 1
        assert (await counts(fan, fan.handle))[1] == start_following + 1
        # The owner sees the count too, without following.
        by_owner = await node(owner, target["id"])
        assert by_owner is not None and by_owner["followersCount"] == 1 and by_owner["viewerIsFollowing"] is False

    fan_view = (
        await fan.ok(
            """query($h: String!) { member(handle: $h) { followingCount
               followingOrganisations(first: 10) { nodes { id } totalCount }
               followingHubs(first: 10) { nodes { id } totalCount } } }""",
            {"h": fan.handle},
        )
    )["member"]
    assert fan_view["followingCount"] == 2
    assert fan_view["followingOrganisations"] == {"nodes": [{"id": org["id"]}], "totalCount": 1}
    assert fan_view["followingHubs"] == {"nodes": [{"id": hub["id"]}], "totalCount": 1}

    for target, kind in ((org, "ORGANISATION"), (hub, "HUB")):
        payload = (await fan.ok(UNFOLLOW, {"id": target["id"]}))["unfollow"]
        assert payload == {"following": False, "targetId": target["id"], "targetType": kind, "userErrors": []}
        after = await node(fan, target["id"])
        assert after is not None and after["followersCount"] == 0 and after["viewerIsFollowing"] is False
        # Unfollowing again: no error, counts stay at zero (never negative).
        assert (await fan.ok(UNFOLLOW, {"id": target["id"]}))["unfollow"]["following"] is False
        again = await node(fan, target["id"])
        assert again is not None and again["followersCount"] == 0
    assert await counts(fan, fan.handle) == (0, 0)


async def test_unfollow_of_something_never_followed_changes_nothing(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    org = await make_org(bo)
    for target in (bo.id, org["id"]):
        payload = (await anna.ok(UNFOLLOW, {"id": target}))["unfollow"]
        assert payload["following"] is False and payload["userErrors"] == []
    assert await counts(anna, anna.handle) == (0, 0)
    assert await counts(anna, bo.handle) == (0, 0)
    org_node = await node(anna, org["id"])
    assert org_node is not None and org_node["followersCount"] == 0
    assert await api.outbox("follow.deleted") == []


async def test_cannot_follow_yourself(api: Api) -> None:
    anna = await api.sign_up()
    payload = (await anna.gql(FOLLOW, {"id": anna.id}))["data"]["follow"]
    assert payload["following"] is False
    assert payload["targetId"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("targetId", "BAD_USER_INPUT")]
    assert await counts(anna, anna.handle) == (0, 0)


async def test_follow_targets_must_exist_and_be_followable(api: Api) -> None:
    anna = await api.sign_up()
    missing_member = to_global_id("Member", 12345)
    payload = (await anna.gql(FOLLOW, {"id": missing_member}))["data"]["follow"]
    assert payload["following"] is False
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    token = (
        await anna.ok(
            """mutation { createPersonalAccessToken(input: {name: "t", scopes: ["read"]}) {
               personalAccessToken { id } userErrors { message } } }"""
        )
    )["createPersonalAccessToken"]["personalAccessToken"]["id"]
    payload = (await anna.gql(FOLLOW, {"id": token}))["data"]["follow"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("targetId", "BAD_USER_INPUT")]
    assert await counts(anna, anna.handle) == (0, 0)


async def test_anonymous_cannot_follow(api: Api) -> None:
    bo = await api.sign_up()
    for mutation in (FOLLOW, UNFOLLOW, BLOCK, MUTE):
        body = await api.gql(mutation, {"id": bo.id})
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert (await api.ok(MEMBER, {"h": bo.handle}))["member"]["followersCount"] == 0


async def test_block_ends_follows_both_ways_and_hides_the_blocker(api: Api) -> None:
    anna, bo, cleo = await api.sign_up(), await api.sign_up(), await api.sign_up()
    org = await make_org(cleo)
    await anna.ok(FOLLOW, {"id": bo.id})
    await bo.ok(FOLLOW, {"id": anna.id})
    # Both also follow cleo and cleo's organisation, so the blocked member can look at those lists.
    for s in (anna, bo):
        await s.ok(FOLLOW, {"id": cleo.id})
        await s.ok(FOLLOW, {"id": org["id"]})
    assert await counts(cleo, anna.handle) == (1, 3)
    assert await counts(cleo, bo.handle) == (1, 3)

    blocked = (await anna.ok(BLOCK, {"id": bo.id}))["blockMember"]["member"]
    assert blocked == {"handle": bo.handle, "viewerHasBlocked": True}

    # Follows between them are gone, both ways, with counts corrected; others are untouched.
    assert await counts(cleo, anna.handle) == (0, 2)
    assert await counts(cleo, bo.handle) == (0, 2)
    assert await counts(cleo, cleo.handle) == (2, 0)
    seen = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen["viewerIsFollowing"] is False and seen["followsViewer"] is False
    assert seen["viewerHasBlocked"] is True
    assert len(await api.outbox("follow.deleted")) == 2

    # The blocked member no longer sees the blocker anywhere.
    assert (await bo.ok(MEMBER, {"h": anna.handle}))["member"] is None
    assert (await bo.ok(NODE, {"id": anna.id}))["node"] is None
    assert (await bo.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [anna.id, cleo.id]}))["nodes"] == [
        None,
        {"id": cleo.id},
    ]
    cleo_followers = (await bo.ok(FOLLOWERS, {"h": cleo.handle}))["member"]["followers"]
    assert [n["handle"] for n in cleo_followers["nodes"]] == [bo.handle]
    assert cleo_followers["totalCount"] == 1
    org_followers = (await bo.ok(ORG_FOLLOWERS, {"id": org["id"]}))["node"]["followers"]
    assert [n["handle"] for n in org_followers["nodes"]] == [bo.handle]
    # A third party still sees both.
    cleo_sees = (await cleo.ok(FOLLOWERS, {"h": cleo.handle}))["member"]["followers"]
    assert {n["handle"] for n in cleo_sees["nodes"]} == {anna.handle, bo.handle}

    # The blocked member cannot follow the blocker, and the blocker cannot follow them either.
    refused = await bo.gql(FOLLOW, {"id": anna.id})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await anna.gql(FOLLOW, {"id": bo.id})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(cleo, anna.handle) == (0, 2)
    assert await counts(cleo, bo.handle) == (0, 2)

    # Blocking twice is harmless.
    assert (await anna.ok(BLOCK, {"id": bo.id}))["blockMember"]["member"]["viewerHasBlocked"] is True
    assert len(await api.outbox("block.created")) == 1

    # The blocker still sees the blocked member.
    seen = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen["handle"] == bo.handle and seen["viewerHasBlocked"] is True
    seen_node = await node(anna, bo.id)
    assert seen_node is not None and seen_node["handle"] == bo.handle

    # Unblock restores visibility, but not the follows.
    unblocked = (await anna.ok(UNBLOCK, {"id": bo.id}))["unblockMember"]["member"]
    assert unblocked == {"handle": bo.handle, "viewerHasBlocked": False}
    assert (await bo.ok(MEMBER, {"h": anna.handle}))["member"]["handle"] == anna.handle
    back = await node(bo, anna.id)
    assert back is not None and back["handle"] == anna.handle
    cleo_followers = (await bo.ok(FOLLOWERS, {"h": cleo.handle}))["member"]["followers"]
    assert {n["handle"] for n in cleo_followers["nodes"]} == {anna.handle, bo.handle}
    assert await counts(bo, anna.handle) == (0, 2)
    # And following is possible again.
    assert (await bo.ok(FOLLOW, {"id": anna.id}))["follow"]["following"] is True
    assert await counts(bo, anna.handle) == (1, 2)
    # Unblocking someone not blocked changes nothing.
    assert (await anna.ok(UNBLOCK, {"id": bo.id}))["unblockMember"]["member"]["viewerHasBlocked"] is False
    assert len(await api.outbox("block.deleted")) == 1


async def test_cannot_block_or_mute_yourself(api: Api) -> None:
    anna = await api.sign_up()
    for mutation, name in ((BLOCK, "blockMember"), (MUTE, "muteMember")):
        payload = (await anna.gql(mutation, {"id": anna.id}))["data"][name]
        assert payload["member"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("memberId", "BAD_USER_INPUT")]


async def test_mute_and_unmute(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    await anna.ok(FOLLOW, {"id": bo.id})
    muted = (await anna.ok(MUTE, {"id": bo.id}))["muteMember"]["member"]
    assert muted == {"handle": bo.handle, "viewerHasMuted": True}
    seen = (await anna.ok(MEMBER, {"h": bo.handle}))["member"]
    assert seen["viewerHasMuted"] is True
    # Muting is private and leaves follows alone: the muted member still sees and is followed.
    assert seen["viewerIsFollowing"] is True and seen["viewerHasBlocked"] is False
    assert (await bo.ok(MEMBER, {"h": anna.handle}))["member"]["viewerHasMuted"] is False
    assert (await bo.ok(MEMBER, {"h": anna.handle}))["member"]["followsViewer"] is True
    # Muting twice is harmless.
    assert (await anna.ok(MUTE, {"id": bo.id}))["muteMember"]["member"]["viewerHasMuted"] is True
    assert len(await api.outbox("mute.created")) == 1

    unmuted = (await anna.ok(UNMUTE, {"id": bo.id}))["unmuteMember"]["member"]
    assert unmuted == {"handle": bo.handle, "viewerHasMuted": False}
    assert (await anna.ok(MEMBER, {"h": bo.handle}))["member"]["viewerHasMuted"] is False
    assert (await anna.ok(UNMUTE, {"id": bo.id}))["unmuteMember"]["member"]["viewerHasMuted"] is False
    assert len(await api.outbox("mute.deleted")) == 1


# --- profiles -----------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


async def test_update_profile_edits_and_clears(api: Api) -> None:
    anna = await api.sign_up()
    org = await make_org(anna)
    data = (
        await anna.ok(
            PROFILE,
            {
                "input": {
                    "displayName": "  Anna Lindqvist  ",
                    "headline": "AI lead, Luleå kommun",
                    "bio": "Works on **AI** in the public sector.",
                    "avatarUrl": "https://example.se/anna.png",
                    "municipalityCode": "2580",
                    "organisationId": org["id"],
                    "skills": ["nlp", "python", "nlp"],
                    "links": [{"label": "Site", "url": "https://example.se"}],
                    "language": "EN",
                }
            },
        )
    )["updateProfile"]["member"]
    assert data["displayName"] == "Anna Lindqvist"
    assert data["headline"] == "AI lead, Luleå kommun"
    assert data["bioHtml"].strip() == "<p>Works on <strong>AI</strong> in the public sector.</p>"
    assert data["avatarUrl"] == "https://example.se/anna.png"
    assert data["municipality"] == {"code": "2580", "name": "Luleå", "county": {"code": "25"}}
    assert data["organisation"] == {"slug": org["slug"]}
    assert data["skills"] == ["nlp", "python"]
    assert data["links"] == [{"label": "Site", "url": "https://example.se"}]
    assert data["language"] == "EN"

    # Only the fields passed change.
    data = (await anna.ok(PROFILE, {"input": {"headline": "New headline"}}))["updateProfile"]["member"]
    assert data["headline"] == "New headline" and data["displayName"] == "Anna Lindqvist"
    assert data["skills"] == ["nlp", "python"] and data["municipality"]["code"] == "2580"

    # Null clears the optional fields.
    cleared = (
        await anna.ok(
            PROFILE,
            {
                "input": {
                    "avatarUrl": None,
                    "municipalityCode": None,
                    "organisationId": None,
                    "skills": None,
                    "links": None,
                }
            },
        )
    )["updateProfile"]["member"]
    assert cleared["avatarUrl"] is None
    assert cleared["municipality"] is None
    assert cleared["organisation"] is None
    assert cleared["skills"] == [] and cleared["links"] == []
    assert cleared["displayName"] == "Anna Lindqvist" and cleared["headline"] == "New headline"
    viewer = (await anna.ok(VIEWER_PROFILE))["viewer"]["member"]
    assert viewer["avatarUrl"] is None and viewer["municipality"] is None and viewer["organisation"] is None
    assert viewer["skills"] == [] and viewer["links"] == []

    # Headline and bio clear to empty text.
    cleared = (await anna.ok(PROFILE, {"input": {"headline": None, "bio": None}}))["updateProfile"]["member"]
    assert cleared["headline"] == "" and cleared["bio"] == "" and cleared["bioHtml"] == ""

    # Display name and language cannot be cleared.
    for field in ("displayName", "language"):
        payload = (await anna.gql(PROFILE, {"input": {field: None}}))["data"]["updateProfile"]
        assert payload["member"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "BAD_USER_INPUT")]
    viewer = (await anna.ok(VIEWER_PROFILE))["viewer"]["member"]
    assert viewer["displayName"] == "Anna Lindqvist" and viewer["language"] == "EN"


async def test_bio_html_is_sanitised(api: Api) -> None:
    anna = await api.sign_up()
    bio = "\n\n".join(
        [
            "<script>alert('x')</script>",
            "[click](javascript:alert(1))",
            '<a href="javascript:alert(2)">raw</a>',
            "[ok](https://example.se) and <img src=x onerror=alert(3)>",
            "[data](data:text/html;base64,PHNjcmlwdD4=)",
            "<iframe src='https://evil.example'></iframe>",
        ]
    )
    data = (await anna.ok(PROFILE, {"input": {"bio": bio}}))["updateProfile"]["member"]
    assert data["bio"] == bio  # the source is kept as written
    html = data["bioHtml"]
    parser = _Links()
    parser.feed(html)
    assert set(parser.tags) <= {"p", "a", "strong", "em", "code", "br"}, parser.tags
    assert "script" not in parser.tags and "img" not in parser.tags and "iframe" not in parser.tags
    assert "https://example.se" in parser.hrefs
    assert all(h.startswith(("https://", "http://", "mailto:", "/")) for h in parser.hrefs), parser.hrefs
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    # Raw HTML shows as escaped text; no real tag carries a javascript: or data: URL.
    assert not re.search(r"<a\s[^>]*(javascript|data):", html, re.IGNORECASE)
    assert "&lt;script&gt;" in html
    assert not [a for a in parser.attrs if a.startswith("on") or a in ("src", "style")], parser.attrs


async def test_update_profile_rejects_bad_input(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    bos_org = await make_org(bo)
    await anna.ok(PROFILE, {"input": {"headline": "Before", "skills": ["python"]}})
    before = (await anna.ok(VIEWER_PROFILE))["viewer"]["member"]

    cases: list[tuple[dict[str, Any], str]] = [
        ({"municipalityCode": "9999"}, "municipalityCode"),
        ({"municipalityCode": "25800"}, "municipalityCode"),
        ({"organisationId": bos_org["id"]}, "organisationId"),
        ({"skills": [f"skill{i}" for i in range(31)]}, "skills"),
        ({"skills": ["x" * 41]}, "skills"),
        ({"skills": ["   "]}, "skills"),
        ({"headline": "h" * 201}, "headline"),
        ({"displayName": "d" * 101}, "displayName"),
        ({"displayName": "   "}, "displayName"),
        ({"bio": "b" * 5001}, "bio"),
        ({"avatarUrl": "javascript:alert(1)"}, "avatarUrl"),
        ({"links": [{"label": "x", "url": "ftp://example.se"}]}, "links"),
        ({"links": [{"label": "x", "url": "https://example.se"}] * 11}, "links"),
    ]
    for change, field in cases:
        # A valid change rides along with the bad one; it must not be applied either.
        edit = change if field == "headline" else {**change, "headline": "Changed"}
        payload = (await anna.gql(PROFILE, {"input": edit}))["data"]["updateProfile"]
        assert payload["member"] is None, change
        assert len(payload["userErrors"]) == 1, payload
        error = payload["userErrors"][0]
        assert error["code"] == "BAD_USER_INPUT", error
        assert error["field"] is not None and error["field"].split(".")[0] == field, (change, error)
        assert error["message"]
    # Nothing changed: a refused edit changes no field, not even the valid ones passed with it.
    assert (await anna.ok(VIEWER_PROFILE))["viewer"]["member"] == before

    # Exactly at the limits is fine.
    ok = (await anna.ok(PROFILE, {"input": {"headline": "h" * 200, "skills": [f"s{i}" for i in range(30)]}}))[
        "updateProfile"
    ]["member"]
    assert len(ok["headline"]) == 200 and len(ok["skills"]) == 30


async def test_update_profile_needs_sign_in(api: Api) -> None:
    body = await api.gql(PROFILE, {"input": {"headline": "x"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
