"""Every connection in the schema pages forward and backward with Relay semantics.

A generic walker pages any connection given a query template: forward with `first` + `after`,
backward with `last` + `before`, and checks order, gaps, duplicates, pageInfo and totalCount at
every step, plus the refusals (page size, both directions, malformed cursors)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api, Session, poll

N = 7
STEP = 3
PAGE_VARS = "$first: Int, $after: String, $last: Int, $before: String"
PAGE_ARGS = "first: $first, after: $after, last: $last, before: $before"


@dataclass
class Walk:
    """One connection: a query template with {vars}, {args} and {selection}, the path from
    `data` to the connection, the node fields to select and how to key a node."""

    viewer: Session | Api
    template: str
    path: tuple[str, ...]
    node_fields: str
    key: Callable[[dict[str, Any]], str]
    variables: dict[str, Any] = field(default_factory=dict)
    # Feeds leave totalCount null: counting a timeline is not cheap, and pages must not cost more as it grows.
    counted: bool = True

    def count(self, total: int) -> int | None:
        return total if self.counted else None

    def query(self) -> str:
        selection = (
            f"{{ edges {{ cursor node {{ {self.node_fields} }} }} nodes {{ {self.node_fields} }} "
            "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount }"
        )
        return self.template.format(vars=PAGE_VARS, args=PAGE_ARGS, selection=selection)

    async def raw(self, **page: Any) -> dict[str, Any]:
        return await self.viewer.gql(self.query(), {**self.variables, **page})

    async def page(self, **page: Any) -> dict[str, Any]:
        body = await self.raw(**page)
        assert "errors" not in body, body
        conn: Any = body["data"]
        for step in self.path:
            conn = conn[step]
        # nodes mirrors edges, and the cursors at the ends are the edges' cursors.
        assert conn["nodes"] == [e["node"] for e in conn["edges"]]
        cursors = [e["cursor"] for e in conn["edges"]]
        assert conn["pageInfo"]["startCursor"] == (cursors[0] if cursors else None)
        assert conn["pageInfo"]["endCursor"] == (cursors[-1] if cursors else None)
        return conn  # type: ignore[no-any-return]

    def keys(self, conn: dict[str, Any]) -> list[str]:
        return [self.key(e["node"]) for e in conn["edges"]]

    async def error(self, **page: Any) -> dict[str, Any]:
        body = await self.raw(**page)
        assert body["_status"] < 500, body
        assert body.get("errors"), body
        return body["errors"][0]  # type: ignore[no-any-return]

    async def error_code(self, **page: Any) -> str:
        return (await self.error(**page))["extensions"]["code"]  # type: ignore[no-any-return]


async def check_page_size_required(walk: Walk) -> None:
    for page in ({}, {"first": None}, {"first": None, "last": None}):
        error = await walk.error(**page)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["message"].startswith("first or last is required on "), error
        assert error["message"].endswith(f".{walk.path[-1]} (at most 100)"), error


async def check_connection(walk: Walk, expected: list[str]) -> None:
    """Walk the whole connection both ways and check everything a client relies on."""
    total = len(expected)
    assert len(set(expected)) == total, "the fixture must make distinct nodes"

    whole = await walk.page(first=100)
    assert walk.keys(whole) == expected
    assert whole["totalCount"] == walk.count(total)
    assert whole["pageInfo"]["hasNextPage"] is False and whole["pageInfo"]["hasPreviousPage"] is False
    cursor_of = {walk.key(e["node"]): e["cursor"] for e in whole["edges"]}
    assert len(set(cursor_of.values())) == total

    # No default page: a page size is required, refused before anything runs.
    await check_page_size_required(walk)

    # Forward: first + after, until the end.
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        conn = await walk.page(first=STEP, after=after)
        keys = walk.keys(conn)
        start = len(seen)
        assert keys == expected[start : start + STEP], (start, keys)
        assert conn["totalCount"] == walk.count(total)
        assert conn["pageInfo"]["hasNextPage"] is (start + STEP < total)
        assert conn["pageInfo"]["hasPreviousPage"] is (start > 0)
        assert [e["cursor"] for e in conn["edges"]] == [cursor_of[k] for k in keys]  # cursors are stable
        seen += keys
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == expected  # no gaps, no duplicates, in order
    assert pages == -(-total // STEP)

    # Past the end: an empty page that knows what lies before it.
    end = await walk.page(first=STEP, after=cursor_of[expected[-1]])
    assert end["edges"] == [] and end["totalCount"] == walk.count(total)
    assert end["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None}

    # Backward: last + before, until the start.
    seen = []
    before = None
    while True:
        conn = await walk.page(last=STEP, before=before)
        keys = walk.keys(conn)
        stop = total - len(seen)
        assert keys == expected[max(0, stop - STEP) : stop], (stop, keys)
        assert conn["totalCount"] == walk.count(total)
        assert conn["pageInfo"]["hasPreviousPage"] is (stop - STEP > 0)
        assert conn["pageInfo"]["hasNextPage"] is (stop < total)
        seen = keys + seen
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert seen == expected

    start_page = await walk.page(last=STEP, before=cursor_of[expected[0]])
    assert start_page["edges"] == []
    assert start_page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }

    # A window between two cursors, in both directions.
    window = await walk.page(first=100, after=cursor_of[expected[1]], before=cursor_of[expected[5]])
    assert walk.keys(window) == expected[2:5]
    assert window["pageInfo"]["hasPreviousPage"] is True
    window = await walk.page(last=2, after=cursor_of[expected[1]], before=cursor_of[expected[5]])
    assert walk.keys(window) == expected[3:5]
    assert window["pageInfo"]["hasPreviousPage"] is True and window["pageInfo"]["hasNextPage"] is True
    window = await walk.page(first=2, after=cursor_of[expected[1]], before=cursor_of[expected[5]])
    assert walk.keys(window) == expected[2:4]
    assert window["pageInfo"]["hasPreviousPage"] is True and window["pageInfo"]["hasNextPage"] is True

    # Exactly the whole list: no next page, and first == total is not "more".
    exact = await walk.page(first=total)
    assert walk.keys(exact) == expected and exact["pageInfo"]["hasNextPage"] is False
    exact = await walk.page(last=total)
    assert walk.keys(exact) == expected and exact["pageInfo"]["hasPreviousPage"] is False

    # Zero-sized pages.
    zero = await walk.page(first=0)
    assert zero["edges"] == [] and zero["totalCount"] == walk.count(total)
    assert zero["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
    zero = await walk.page(last=0)
    assert zero["edges"] == [] and zero["totalCount"] == walk.count(total)
    assert zero["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None}

    await check_refusals(walk, cursor_of[expected[0]])


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MALFORMED_CURSORS = [
    "garbage",
    "",
    "!!!",
    "ö",
    _b64("c:"),
    _b64("c:-1"),
    _b64("c:1.5"),
    _b64("x:1"),
    _b64("Member:1"),
    _b64("c:" + "9" * 19),  # beyond a 64-bit key
    _b64("c:" + "1" * 20),
    "a" * 201,
]


async def check_refusals(walk: Walk, good_cursor: str) -> None:
    assert await walk.error_code(first=101) == "BAD_USER_INPUT"
    assert await walk.error_code(last=101) == "BAD_USER_INPUT"
    assert (await walk.error(first=101))["message"].startswith("first is 101 on ")
    assert (await walk.error(last=5000))["message"].endswith("; the limit is 100")
    assert await walk.error_code(first=-1) == "BAD_USER_INPUT"
    assert await walk.error_code(last=-1) == "BAD_USER_INPUT"
    assert await walk.error_code(first=1, last=1) == "BAD_USER_INPUT"
    assert await walk.error_code(first=0, last=0) == "BAD_USER_INPUT"
    for cursor in MALFORMED_CURSORS:
        assert await walk.error_code(first=3, after=cursor) == "BAD_USER_INPUT", cursor
        assert await walk.error_code(last=3, before=cursor) == "BAD_USER_INPUT", cursor
    # The good cursor still works after all that.
    assert len((await walk.page(first=1, after=good_cursor))["edges"]) == 1
    # Exactly 100 is allowed.
    assert (await walk.page(first=100))["pageInfo"]["hasNextPage"] is False


# --- fixtures: each makes N rows for one connection --------------------------------------

CREATE_ORG = """mutation($slug: String!, $kind: OrganisationKind!) {
  createOrganisation(input: {slug: $slug, name: $slug, kind: $kind}) {
  organisation { id slug } userErrors { field message code } } }"""
CREATE_HUB = """mutation($slug: String!, $org: ID!, $visibility: HubVisibility) {
  createHub(input: {slug: $slug, name: $slug, organisationId: $org, visibility: $visibility}) {
  hub { id slug } userErrors { field message code } } }"""
FOLLOW = "mutation($id: ID!) { follow(input: {targetId: $id}) { following userErrors { message } } }"
INVITE = """mutation($org: ID!, $m: ID!) { inviteToOrganisation(input: {organisationId: $org, memberId: $m}) {
  invitation { id } userErrors { field message code } } }"""
ACCEPT = """mutation($id: ID!) { acceptOrganisationInvitation(input: {invitationId: $id}) {
  invitation { status } userErrors { message } } }"""
JOIN = "mutation($id: ID!) { joinHub(input: {hubId: $id}) { membership { state } userErrors { message } } }"
PAT = """mutation($name: String!) { createPersonalAccessToken(input: {name: $name, scopes: ["read"]}) {
  personalAccessToken { id } userErrors { message } } }"""
BLOCK = "mutation($id: ID!) { blockMember(input: {memberId: $id}) { userErrors { message } } }"


async def make_org(owner: Session, kind: str = "MUNICIPALITY") -> dict[str, str]:
    slug = owner.api.unique("org").replace("_", "-")
    data = await owner.ok(CREATE_ORG, {"slug": slug, "kind": kind})
    return data["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org_id: str, visibility: str = "PUBLIC") -> dict[str, str]:
    slug = owner.api.unique("hub").replace("_", "-")
    data = await owner.ok(CREATE_HUB, {"slug": slug, "org": org_id, "visibility": visibility})
    return data["createHub"]["hub"]  # type: ignore[no-any-return]


async def members(api: Api, n: int = N) -> list[Session]:
    return [await api.sign_up() for _ in range(n)]


def by(*path: str) -> Callable[[dict[str, Any]], str]:
    def key(node: dict[str, Any]) -> str:
        value: Any = node
        for step in path:
            value = value[step]
        return str(value)

    return key


MEMBER_CONN = "query({vars}, $h: String!) {{ member(handle: $h) {{ {name}({args}) {selection} }} }}"
NODE_CONN = "query({vars}, $id: ID!) {{ node(id: $id) {{ ... on {type} {{ {name}({args}) {selection} }} }} }}"


def member_walk(viewer: Session | Api, handle: str, name: str, fields: str, key: Callable[..., str]) -> Walk:
    template = MEMBER_CONN.replace("{name}", name)
    return Walk(viewer, template, ("member", name), fields, key, {"h": handle})


def node_walk(
    viewer: Session | Api, gid: str, type_name: str, name: str, fields: str, key: Callable[..., str], **extra: Any
) -> Walk:
    template = NODE_CONN.replace("{type}", type_name).replace("{name}", name)
    if extra:
        extra_vars = "".join(f", ${k}: {v[0]}" for k, v in extra.items())
        extra_args = "".join(f", {k}: ${k}" for k in extra)
        template = template.replace("{vars}", "{vars}" + extra_vars).replace("({args})", "({args}" + extra_args + ")")
    return Walk(viewer, template, ("node", name), fields, key, {"id": gid, **{k: v[1] for k, v in extra.items()}})


Case = Callable[[Api], Awaitable[tuple[Walk, list[str]]]]


async def member_followers(api: Api) -> tuple[Walk, list[str]]:
    star, *fans = await members(api, N + 1)
    for fan in fans:
        await fan.ok(FOLLOW, {"id": star.id})
    # Newest follower first.
    return member_walk(star, star.handle, "followers", "handle", by("handle")), [f.handle for f in reversed(fans)]


async def member_following_members(api: Api) -> tuple[Walk, list[str]]:
    fan, *stars = await members(api, N + 1)
    for star in stars:
        await fan.ok(FOLLOW, {"id": star.id})
    viewer = await api.sign_up()
    walk = member_walk(viewer, fan.handle, "followingMembers", "handle", by("handle"))
    return walk, [s.handle for s in reversed(stars)]


async def member_following_organisations(api: Api) -> tuple[Walk, list[str]]:
    fan, owner = await members(api, 2)
    orgs = [await make_org(owner) for _ in range(N)]
    for org in orgs:
        await fan.ok(FOLLOW, {"id": org["id"]})
    walk = member_walk(api, fan.handle, "followingOrganisations", "slug", by("slug"))
    return walk, [o["slug"] for o in reversed(orgs)]


async def member_following_hubs(api: Api) -> tuple[Walk, list[str]]:
    fan, owner = await members(api, 2)
    org = await make_org(owner)
    hubs = [await make_hub(owner, org["id"]) for _ in range(N)]
    for hub in hubs:
        await fan.ok(FOLLOW, {"id": hub["id"]})
    walk = member_walk(fan, fan.handle, "followingHubs", "slug", by("slug"))
    return walk, [h["slug"] for h in reversed(hubs)]


async def organisation_members(api: Api) -> tuple[Walk, list[str]]:
    owner, *people = await members(api, N)
    org = await make_org(owner)
    for person in people:
        inv = (await owner.ok(INVITE, {"org": org["id"], "m": person.id}))["inviteToOrganisation"]["invitation"]
        await person.ok(ACCEPT, {"id": inv["id"]})
    # In the order they joined: the owner first.
    walk = node_walk(api, org["id"], "Organisation", "members", "role member { handle }", by("member", "handle"))
    return walk, [owner.handle] + [p.handle for p in people]


async def organisation_followers(api: Api) -> tuple[Walk, list[str]]:
    owner, *fans = await members(api, N + 1)
    org = await make_org(owner)
    for fan in fans:
        await fan.ok(FOLLOW, {"id": org["id"]})
    walk = node_walk(owner, org["id"], "Organisation", "followers", "handle", by("handle"))
    return walk, [f.handle for f in reversed(fans)]


async def organisation_hubs(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    other = await make_org(owner)
    hubs = []
    for i in range(N):
        hubs.append(await make_hub(owner, org["id"]))
        if i % 2:
            await make_hub(owner, other["id"])  # interleaved hubs of another organisation stay out
    walk = node_walk(api, org["id"], "Organisation", "hubs", "slug", by("slug"))
    return walk, [h["slug"] for h in hubs]


async def organisation_invitations(api: Api) -> tuple[Walk, list[str]]:
    owner, *invitees = await members(api, N + 1)
    org = await make_org(owner)
    ids = []
    for person in invitees:
        inv = (await owner.ok(INVITE, {"org": org["id"], "m": person.id}))["inviteToOrganisation"]["invitation"]
        ids.append(inv["id"])
    # Newest first.
    walk = node_walk(owner, org["id"], "Organisation", "invitations", "id status invitee { handle }", by("id"))
    return walk, list(reversed(ids))


async def hub_members(api: Api) -> tuple[Walk, list[str]]:
    owner, *joiners = await members(api, N)
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    for person in joiners:
        await person.ok(JOIN, {"id": hub["id"]})
    walk = node_walk(api, hub["id"], "Hub", "members", "state role member { handle }", by("member", "handle"))
    return walk, [owner.handle] + [p.handle for p in joiners]


async def hub_followers(api: Api) -> tuple[Walk, list[str]]:
    owner, *fans = await members(api, N + 1)
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    for fan in fans:
        await fan.ok(FOLLOW, {"id": hub["id"]})
    walk = node_walk(fans[0], hub["id"], "Hub", "followers", "handle", by("handle"))
    return walk, [f.handle for f in reversed(fans)]


async def query_organisations(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    orgs = [await make_org(owner) for _ in range(N)]
    template = "query({vars}) {{ organisations({args}) {selection} }}"
    return Walk(api, template, ("organisations",), "slug", by("slug")), [o["slug"] for o in orgs]


async def query_organisations_by_kind(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    orgs = []
    for i in range(N):
        orgs.append(await make_org(owner, "REGION"))
        if i % 2 == 0:
            await make_org(owner, "COMPANY")
    template = "query({vars}) {{ organisations(kind: REGION, {args}) {selection} }}"
    return Walk(api, template, ("organisations",), "slug kind", by("slug")), [o["slug"] for o in orgs]


async def query_hubs(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    hubs = [await make_hub(owner, org["id"]) for _ in range(N)]
    template = "query({vars}) {{ hubs({args}) {selection} }}"
    return Walk(await api.sign_up(), template, ("hubs",), "slug", by("slug")), [h["slug"] for h in hubs]


async def query_hubs_hides_members_only(api: Api) -> tuple[Walk, list[str]]:
    """Members-only hubs interleaved with public ones: an outsider pages the public ones only."""
    owner = await api.sign_up()
    org = await make_org(owner)
    public = []
    for i in range(N):
        public.append(await make_hub(owner, org["id"]))
        if i % 2:
            await make_hub(owner, org["id"], "MEMBERS_ONLY")
    template = "query({vars}) {{ hubs({args}) {selection} }}"
    return Walk(await api.sign_up(), template, ("hubs",), "slug", by("slug")), [h["slug"] for h in public]


async def query_hubs_for_a_moderator(api: Api) -> tuple[Walk, list[str]]:
    """A platform moderator sees members-only hubs too."""
    owner = await api.sign_up()
    org = await make_org(owner)
    hubs = [await make_hub(owner, org["id"], "MEMBERS_ONLY" if i % 2 else "PUBLIC") for i in range(N)]
    template = "query({vars}, $org: ID) {{ hubs(organisationId: $org, {args}) {selection} }}"
    walk = Walk(await api.make_admin("moderator"), template, ("hubs",), "slug", by("slug"), {"org": org["id"]})
    return walk, [h["slug"] for h in hubs]


async def viewer_tokens(api: Api) -> tuple[Walk, list[str]]:
    me = await api.sign_up()
    ids = [
        (await me.ok(PAT, {"name": f"token {i}"}))["createPersonalAccessToken"]["personalAccessToken"]["id"]
        for i in range(N)
    ]
    other = await api.sign_up()
    await other.ok(PAT, {"name": "not mine"})
    template = "query({vars}) {{ viewer {{ personalAccessTokens({args}) {selection} }} }}"
    # Newest first.
    return Walk(me, template, ("viewer", "personalAccessTokens"), "id name", by("id")), list(reversed(ids))


async def viewer_invitations(api: Api) -> tuple[Walk, list[str]]:
    owner, me, other = await members(api, 3)
    ids = []
    for _ in range(N):
        org = await make_org(owner)
        ids.append((await owner.ok(INVITE, {"org": org["id"], "m": me.id}))["inviteToOrganisation"]["invitation"]["id"])
        await owner.ok(INVITE, {"org": org["id"], "m": other.id})  # someone else's stay out
    template = "query({vars}) {{ viewer {{ invitations({args}) {selection} }} }}"
    walk = Walk(me, template, ("viewer", "invitations"), "id status organisation { slug }", by("id"))
    return walk, list(reversed(ids))


# --- the feed's connections ------------------------------------------------------------------

CREATE_POST = """mutation($i: CreatePostInput!) { createPost(input: $i) { post { id }
  userErrors { field message code } } }"""
CREATE_EVENT = """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id }
  userErrors { field message code } } }"""
CREATE_COMMENT = """mutation($t: ID!, $p: ID) { createComment(input: {targetId: $t, parentId: $p, body: "Hej"}) {
  comment { id } userErrors { field message code } } }"""
PIN = "mutation($id: ID!) { pinPost(input: {id: $id}) { post { isPinned } userErrors { message } } }"
RSVP = """mutation($e: ID!, $s: RsvpStatus!) { rsvpToEvent(input: {eventId: $e, status: $s}) {
  rsvp { status } userErrors { field message code } } }"""
FEED_ITEM = "__typename ... on Post { id } ... on Event { id }"
# Start days of seven events, out of order: upcoming lists sort them soonest first.
START_DAYS = [5, 1, 7, 3, 2, 6, 4]


def uncounted(walk: Walk) -> Walk:
    walk.counted = False
    return walk


async def post(author: Session, **fields: Any) -> str:
    data = await author.ok(CREATE_POST, {"i": {"body": "Hej från Hubben", **fields}})
    return data["createPost"]["post"]["id"]  # type: ignore[no-any-return]


async def event(organiser: Session, days: float = 7, **fields: Any) -> str:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    data = {
        "title": "AI-fika",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "location": "Lindholmen",
        **fields,
    }
    return (await organiser.ok(CREATE_EVENT, {"i": data}))["createEvent"]["event"]["id"]  # type: ignore[no-any-return]


async def comment(author: Session, target: str, parent: str | None = None) -> str:
    data = await author.ok(CREATE_COMMENT, {"t": target, "p": parent})
    return data["createComment"]["comment"]["id"]  # type: ignore[no-any-return]


def soonest_first(made: list[tuple[float, str]]) -> list[str]:
    return [i for _, i in sorted(made)]


async def hub_feed(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    items = []
    for i in range(N):
        items.append(await (event(owner, hubId=hub["id"]) if i % 3 == 1 else post(owner, hubId=hub["id"])))
        await post(owner)  # on the profile, not in the hub
    await owner.ok(PIN, {"id": items[2]})
    # The pinned post first, then newest first.
    expected = [items[2]] + [i for i in reversed(items) if i != items[2]]
    return uncounted(node_walk(api, hub["id"], "Hub", "feed", FEED_ITEM, by("id"))), expected


async def hub_resources(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    kinds = [
        {"kind": "NEWS", "title": "Nytt"},
        {"kind": "ARTICLE", "title": "Artikel"},
        {"kind": "QUESTION"},
        {"kind": "RESOURCE", "title": "Vägledning", "url": "https://ai.se/guide"},
    ]
    items = []
    for i in range(N):
        items.append(await post(owner, hubId=hub["id"], **kinds[i % 4]))
        await post(owner, hubId=hub["id"])  # plain updates stay out of the library
        if i % 3 == 0:
            await event(owner, hubId=hub["id"])
    walk = node_walk(api, hub["id"], "Hub", "resources", "... on Post { id kind }", by("id"))
    return uncounted(walk), list(reversed(items))


async def hub_resources_by_kind(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    items = []
    for _ in range(N):
        items.append(await post(owner, hubId=hub["id"], kind="QUESTION"))
        await post(owner, hubId=hub["id"], kind="NEWS", title="Nytt")
    kind = {"kind": ("PostKind", "QUESTION")}
    walk = node_walk(api, hub["id"], "Hub", "resources", "... on Post { id kind }", by("id"), **kind)
    return uncounted(walk), list(reversed(items))


async def hub_upcoming_events(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub, other = await make_hub(owner, org["id"]), await make_hub(owner, org["id"])
    made = []
    for days in START_DAYS:
        made.append((days, await event(owner, days, hubId=hub["id"])))
        await event(owner, days + 0.5, hubId=other["id"])
    await event(owner, -2, hubId=hub["id"])  # over
    walk = node_walk(api, hub["id"], "Hub", "upcomingEvents", "id startsAt", by("id"))
    return walk, soonest_first(made)


async def organisation_feed(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    items = []
    for i in range(N):
        as_org = {"organisationId": org["id"]}
        items.append(await (event(owner, **as_org) if i % 3 == 1 else post(owner, **as_org)))
        await post(owner)  # as themselves
        await post(owner, hubId=hub["id"])
    walk = node_walk(api, org["id"], "Organisation", "feed", FEED_ITEM, by("id"))
    return uncounted(walk), list(reversed(items))


async def organisation_upcoming_events(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    made = []
    for days in START_DAYS:
        made.append((days, await event(owner, days, organisationId=org["id"])))
        await event(owner, days + 0.5)  # organised by the owner, not the organisation
    walk = node_walk(api, org["id"], "Organisation", "upcomingEvents", "id startsAt", by("id"))
    return walk, soonest_first(made)


async def member_activity(api: Api) -> tuple[Walk, list[str]]:
    owner, anna = await members(api, 2)
    org = await make_org(anna)
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await anna.ok(JOIN, {"id": hub["id"]})
    items = []
    for i in range(N):
        items.append(await (event(anna) if i % 3 == 1 else post(anna, **({"hubId": hub["id"]} if i % 2 else {}))))
        await post(owner, hubId=hub["id"])  # someone else's
        await post(anna, organisationId=org["id"])  # as the organisation, not under her own name
    walk = member_walk(await api.sign_up(), anna.handle, "activity", FEED_ITEM, by("id"))
    return uncounted(walk), list(reversed(items))


async def query_home_feed(api: Api) -> tuple[Walk, list[str]]:
    owner, reader, stranger = await members(api, 3)
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await reader.ok(FOLLOW, {"id": hub["id"]})
    items = []
    for i in range(N):
        items.append(await (event(owner, hubId=hub["id"]) if i % 3 == 1 else post(owner, hubId=hub["id"])))
        await post(stranger)  # not followed
    template = "query({vars}) {{ homeFeed({args}) {selection} }}"
    walk = uncounted(Walk(reader, template, ("homeFeed",), FEED_ITEM, by("id")))
    expected = list(reversed(items))

    async def follow_known() -> bool:
        return walk.keys(await walk.page(first=100)) == expected

    await poll(follow_known)  # the feed learns of the follow from the graph's event
    return walk, expected


async def query_tag_feed(api: Api) -> tuple[Walk, list[str]]:
    anna, bo = await members(api, 2)
    items = []
    for i in range(N):
        items.append(await post((anna, bo)[i % 2], body=f"Nummer {i} om #Sidor"))
        await post(bo, body="Utan tagg")
        await post(anna, body="Om #annat")
    template = "query({vars}, $tag: String!) {{ tagFeed(tag: $tag, {args}) {selection} }}"
    return uncounted(Walk(api, template, ("tagFeed",), FEED_ITEM, by("id"), {"tag": "sidor"})), list(reversed(items))


async def query_upcoming_events(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    made = []
    for days in START_DAYS:
        made.append((days, await event(owner, days)))
    await event(owner, -2)  # over
    template = "query({vars}) {{ upcomingEvents({args}) {selection} }}"
    return Walk(api, template, ("upcomingEvents",), "id startsAt", by("id")), soonest_first(made)


async def query_upcoming_events_in_a_county(api: Api) -> tuple[Walk, list[str]]:
    owner = await api.sign_up()
    made = []
    for days in START_DAYS:
        made.append((days, await event(owner, days, municipalityCode="1480")))  # Göteborg, county 14
        await event(owner, days + 0.5, municipalityCode="0180")  # Stockholm, county 01
    template = 'query({vars}) {{ upcomingEvents(countyCode: "14", {args}) {selection} }}'
    return Walk(api, template, ("upcomingEvents",), "id county { code }", by("id")), soonest_first(made)


async def post_comments(api: Api) -> tuple[Walk, list[str]]:
    author, reader = await members(api, 2)
    target = await post(author)
    top = [await comment(reader if i % 2 else author, target) for i in range(N)]
    for parent in top[::2]:
        await comment(author, target, parent)  # replies stay under their comment
    # Oldest first, as conversations read.
    return node_walk(api, target, "Post", "comments", "id body", by("id")), top


async def event_comments(api: Api) -> tuple[Walk, list[str]]:
    organiser, reader = await members(api, 2)
    target = await event(organiser)
    top = []
    for i in range(N):
        top.append(await comment(reader if i % 2 else organiser, target))
        await comment(organiser, target, top[-1])
    return node_walk(reader, target, "Event", "comments", "id", by("id")), top


async def comment_replies(api: Api) -> tuple[Walk, list[str]]:
    author, reader = await members(api, 2)
    target = await post(author)
    parent = await comment(author, target)
    other = await comment(reader, target)
    replies = []
    for i in range(N):
        replies.append(await comment(reader if i % 2 else author, target, parent))
        await comment(author, target)  # another top-level comment
        await comment(reader, target, other)  # a reply to another comment
    return node_walk(api, parent, "Comment", "replies", "id parent { id }", by("id")), replies


async def event_rsvps(api: Api) -> tuple[Walk, list[str]]:
    organiser, *people = await members(api, N + 1)
    target = await event(organiser, capacity=3)
    for i, person in enumerate(people):
        await person.ok(RSVP, {"e": target, "s": ("GOING", "INTERESTED", "NOT_GOING")[i % 3]})
    # Everyone's answer, for the organiser, in the order they first answered.
    walk = node_walk(organiser, target, "Event", "rsvps", "status member { handle }", by("member", "handle"))
    return walk, [p.handle for p in people]


async def event_rsvps_going(api: Api) -> tuple[Walk, list[str]]:
    organiser, *people = await members(api, N + 4)
    target = await event(organiser)
    going = []
    for i, person in enumerate(people):
        if i % 3 == 2:
            await person.ok(RSVP, {"e": target, "s": "INTERESTED"})
        else:
            await person.ok(RSVP, {"e": target, "s": "GOING"})
            going.append(person.handle)
    # Who is going is public: an anonymous reader pages it.
    status = {"status": ("RsvpState", "GOING")}
    walk = node_walk(api, target, "Event", "rsvps", "status member { handle }", by("member", "handle"), **status)
    return walk, going


async def event_waitlist(api: Api) -> tuple[Walk, list[str]]:
    organiser, first, *queue = await members(api, N + 2)
    target = await event(organiser, capacity=1)
    for person in (first, *queue):
        await person.ok(RSVP, {"e": target, "s": "GOING"})
    # The waitlist in queue order.
    status = {"status": ("RsvpState", "WAITLISTED")}
    fields = "status waitlistPosition member { handle }"
    walk = node_walk(organiser, target, "Event", "rsvps", fields, by("member", "handle"), **status)
    return walk, [p.handle for p in queue]


async def query_notifications(api: Api) -> tuple[Walk, list[str]]:
    anna = await api.sign_up()
    fans = await members(api, N)
    for fan in fans:
        await fan.ok(FOLLOW, {"id": anna.id})
        await api.settle()  # one at a time, so the notifications come in a known order
    template = "query({vars}) {{ notifications({args}) {selection} }}"
    walk = uncounted(Walk(anna, template, ("notifications",), "id actor { handle }", by("actor", "handle")))
    return walk, [fan.handle for fan in reversed(fans)]


async def query_failed_jobs(api: Api) -> tuple[Walk, list[str]]:
    from shared.database import utcnow
    from shared.outbox import FailedJob

    admin = await api.make_admin()
    async with api.app.state.feed_app.state.sessionmaker() as db:
        for i in range(N):
            db.add(FailedJob(job=f"feed.test_{i}", key=f"feed.test_{i}:x", arg={}, error="boom", dead_at=utcnow()))
            await db.flush()
        await db.commit()
    template = "query({vars}) {{ failedJobs(service: FEED, {args}) {selection} }}"
    walk = Walk(admin, template, ("failedJobs",), "id job", by("job"))
    return walk, [f"feed.test_{i}" for i in reversed(range(N))]


REPORT = """mutation($t: ID!) { reportContent(input: {targetId: $t, reason: SPAM}) { userErrors { message } } }"""
WARN = """mutation($m: ID!, $r: String!) { moderateMember(input: {memberId: $m, action: WARN, reason: $r}) {
  userErrors { message } } }"""


async def reported_posts(api: Api) -> tuple[Session, list[str]]:
    author, reporter = await members(api, 2)
    posts = [await post(author) for _ in range(N)]
    for p in posts:
        await reporter.ok(REPORT, {"t": p})
    return await api.make_admin("moderator"), posts


async def query_moderation_cases(api: Api) -> tuple[Walk, list[str]]:
    moderator, posts = await reported_posts(api)
    template = "query({vars}) {{ moderationCases({args}) {selection} }}"
    # Without a status filter: newest first.
    return Walk(moderator, template, ("moderationCases",), "id targetId", by("targetId")), list(reversed(posts))


async def query_open_moderation_cases(api: Api) -> tuple[Walk, list[str]]:
    moderator, posts = await reported_posts(api)
    template = "query({vars}) {{ moderationCases(filter: {{status: OPEN}}, {args}) {selection} }}"
    # The open queue is worked oldest first.
    return Walk(moderator, template, ("moderationCases",), "id targetId", by("targetId")), posts


async def query_my_moderation_cases(api: Api) -> tuple[Walk, list[str]]:
    author, reporter = await members(api, 2)
    posts = [await post(author) for _ in range(N)]
    moderator = await api.make_admin("moderator")
    decide = """mutation($c: ID!) { decideCase(input: {caseId: $c, action: DISMISS, reason: "Fine"}) {
      userErrors { message } } }"""
    for p in posts:
        await reporter.ok(REPORT, {"t": p})
        case = await moderator.ok("{ moderationCases(first: 1) { nodes { id } } }")
        await moderator.ok(decide, {"c": case["moderationCases"]["nodes"][0]["id"]})
    template = "query({vars}) {{ myModerationCases({args}) {selection} }}"
    return Walk(author, template, ("myModerationCases",), "id targetId", by("targetId")), list(reversed(posts))


async def moderation_case_reports(api: Api) -> tuple[Walk, list[str]]:
    # A member reported (content would be hidden after a few reports, out of the others' sight).
    reported, *reporters = await members(api, N + 1)
    for reporter in reporters:
        await reporter.ok(REPORT, {"t": reported.id})
    moderator = await api.make_admin("moderator")
    cases = await moderator.ok("{ moderationCases(first: 1) { nodes { id } } }")
    template = "query($id: ID!, {vars}) {{ moderationCase(id: $id) {{ reports({args}) {selection} }} }}"
    walk = Walk(
        moderator,
        template,
        ("moderationCase", "reports"),
        "id reporter { handle }",
        by("reporter", "handle"),
        {"id": cases["moderationCases"]["nodes"][0]["id"]},
    )
    return walk, [r.handle for r in reporters]  # oldest first


async def warned(api: Api) -> tuple[Session, Session, list[str]]:
    moderator = await api.make_admin("moderator")
    member = await api.sign_up()
    reasons = [f"warning {i}" for i in range(N)]
    for reason in reasons:
        await moderator.ok(WARN, {"m": member.id, "r": reason})
    return moderator, member, list(reversed(reasons))  # newest first


async def moderation_history_decisions(api: Api) -> tuple[Walk, list[str]]:
    moderator, member, expected = await warned(api)
    template = "query($m: ID!, {vars}) {{ moderationHistory(memberId: $m) {{ decisions({args}) {selection} }} }}"
    path = ("moderationHistory", "decisions")
    return Walk(moderator, template, path, "id reason", by("reason"), {"m": member.id}), expected


async def query_audit_log(api: Api) -> tuple[Walk, list[str]]:
    moderator, _, expected = await warned(api)
    # The audit log outlives the tests' emptied tables: this moderator's entries are this test's.
    template = "query($a: ID!, {vars}) {{ auditLog(filter: {{actorId: $a}}, {args}) {selection} }}"
    return Walk(moderator, template, ("auditLog",), "id reason", by("reason"), {"a": moderator.id}), expected


CREATE_INITIATIVE = """mutation($i: CreateInitiativeInput!) { createInitiative(input: $i) {
  initiative { id title } userErrors { field message code } } }"""


async def initiatives(api: Api, n: int = N) -> tuple[Session, dict[str, str], list[str]]:
    """An organisation with `n` public initiatives in Luleå, every other one on elderly care,
    and an organisation-only one; the titles newest first."""
    owner = await api.sign_up()
    org = await make_org(owner)
    titles = [f"initiativ {i}" for i in range(n)]
    for i, title in enumerate(titles):
        area = "ELDERLY_CARE" if i % 2 else "EDUCATION"
        data = {"organisationId": org["id"], "title": title, "area": area, "places": [{"municipalityCode": "2580"}]}
        await owner.ok(CREATE_INITIATIVE, {"i": data})
    data = {"organisationId": org["id"], "title": "internt", "area": "EDUCATION", "visibility": "ORGANISATION"}
    await owner.ok(CREATE_INITIATIVE, {"i": {**data, "places": [{"municipalityCode": "2580"}]}})
    return owner, org, list(reversed(titles))


async def organisation_initiatives(api: Api) -> tuple[Walk, list[str]]:
    _, org, titles = await initiatives(api)
    return node_walk(api, org["id"], "Organisation", "initiatives", "title", by("title")), titles


async def query_initiatives(api: Api) -> tuple[Walk, list[str]]:
    _, _, titles = await initiatives(api)
    template = 'query({vars}) {{ initiatives(filter: {{countyCode: "25"}}, {args}) {selection} }}'
    return Walk(api, template, ("initiatives",), "title", by("title")), titles


async def query_initiatives_by_area(api: Api) -> tuple[Walk, list[str]]:
    owner, _, _ = await initiatives(api, 2 * N)
    template = "query({vars}) {{ initiatives(filter: {{area: ELDERLY_CARE}}, {args}) {selection} }}"
    expected = [f"initiativ {i}" for i in reversed(range(2 * N)) if i % 2]
    return Walk(api, template, ("initiatives",), "title", by("title")), expected


async def query_municipality_initiatives(api: Api) -> tuple[Walk, list[str]]:
    owner, _, titles = await initiatives(api)
    # The map's list shows public initiatives only, also to the organisation's own members.
    template = 'query({vars}) {{ municipalityInitiatives(code: "2580", {args}) {selection} }}'
    return Walk(owner, template, ("municipalityInitiatives",), "title", by("title")), titles


CASES: dict[str, Case] = {
    "Member.followers": member_followers,
    "Member.followingMembers": member_following_members,
    "Member.followingOrganisations": member_following_organisations,
    "Member.followingHubs": member_following_hubs,
    "Organisation.members": organisation_members,
    "Organisation.followers": organisation_followers,
    "Organisation.hubs": organisation_hubs,
    "Organisation.invitations": organisation_invitations,
    "Hub.members": hub_members,
    "Hub.followers": hub_followers,
    "Query.organisations": query_organisations,
    "Query.organisations(kind)": query_organisations_by_kind,
    "Query.hubs": query_hubs,
    "Query.hubs(members-only hidden)": query_hubs_hides_members_only,
    "Query.hubs(moderator)": query_hubs_for_a_moderator,
    "Viewer.personalAccessTokens": viewer_tokens,
    "Viewer.invitations": viewer_invitations,
    "Hub.feed": hub_feed,
    "Hub.resources": hub_resources,
    "Hub.resources(kind)": hub_resources_by_kind,
    "Hub.upcomingEvents": hub_upcoming_events,
    "Organisation.feed": organisation_feed,
    "Organisation.upcomingEvents": organisation_upcoming_events,
    "Member.activity": member_activity,
    "Query.homeFeed": query_home_feed,
    "Query.tagFeed": query_tag_feed,
    "Query.upcomingEvents": query_upcoming_events,
    "Query.upcomingEvents(countyCode)": query_upcoming_events_in_a_county,
    "Post.comments": post_comments,
    "Event.comments": event_comments,
    "Comment.replies": comment_replies,
    "Event.rsvps": event_rsvps,
    "Event.rsvps(GOING)": event_rsvps_going,
    "Event.rsvps(WAITLISTED)": event_waitlist,
    "Query.notifications": query_notifications,
    "Query.failedJobs": query_failed_jobs,
    "Query.moderationCases": query_moderation_cases,
    "Query.moderationCases(OPEN)": query_open_moderation_cases,
    "Query.myModerationCases": query_my_moderation_cases,
    "ModerationCase.reports": moderation_case_reports,
    "ModerationHistory.decisions": moderation_history_decisions,
    "Query.auditLog": query_audit_log,
    "Organisation.initiatives": organisation_initiatives,
    "Query.initiatives": query_initiatives,
    "Query.initiatives(area)": query_initiatives_by_area,
    "Query.municipalityInitiatives": query_municipality_initiatives,
}


@pytest.mark.parametrize("name", list(CASES))
async def test_connection_pages_both_ways(api: Api, name: str) -> None:
    walk, expected = await CASES[name](api)
    assert len(expected) == N
    await check_connection(walk, expected)


def test_every_connection_in_the_schema_is_covered() -> None:
    """A new connection field fails this test until it gets a case above."""
    from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

    from services.gateway.graphql.schema import build_schema

    schema = build_schema()._schema
    found = set()
    for type_name, gtype in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gtype, GraphQLObjectType):
            continue
        for field_name, f in gtype.fields.items():
            t = f.type
            while isinstance(t, GraphQLNonNull | GraphQLList):
                t = t.of_type
            if getattr(t, "name", "").endswith("Connection"):
                found.add(f"{type_name}.{field_name}")
    covered = {name.split("(")[0] for name in CASES}
    assert found == covered


async def test_blocked_followers_leave_no_gaps(api: Api) -> None:
    """Followers hidden by a block are left out of the pages and the count alike."""
    star, viewer, *fans = await members(api, N + 5)
    for fan in fans:
        await fan.ok(FOLLOW, {"id": star.id})
    # Two of the fans blocked the viewer, one was blocked by the viewer: all three are out of sight.
    await fans[1].ok(BLOCK, {"id": viewer.id})
    await fans[4].ok(BLOCK, {"id": viewer.id})
    await viewer.ok(BLOCK, {"id": fans[6].id})
    visible = [f.handle for f in reversed(fans) if f not in (fans[1], fans[4], fans[6])]
    assert len(visible) == N
    await check_connection(member_walk(viewer, star.handle, "followers", "handle", by("handle")), visible)


async def test_hub_members_in_other_states_page_for_staff(api: Api) -> None:
    owner, outsider, *askers = await members(api, N + 2)
    org = await make_org(owner)
    hub = (
        await owner.ok(
            """mutation($slug: String!, $org: ID!) { createHub(input: {slug: $slug, name: "Ask",
               organisationId: $org, joinPolicy: REQUEST}) { hub { id } userErrors { message } } }""",
            {"slug": api.unique("ask").replace("_", "-"), "org": org["id"]},
        )
    )["createHub"]["hub"]
    for person in askers:
        assert (await person.ok(JOIN, {"id": hub["id"]}))["joinHub"]["membership"]["state"] == "REQUESTED"
    requested = {"state": ("HubMembershipState!", "REQUESTED")}
    walk = node_walk(owner, hub["id"], "Hub", "members", "state member { handle }", by("member", "handle"), **requested)
    await check_connection(walk, [p.handle for p in askers])
    # Not for people outside the staff.
    outsider_walk = node_walk(
        outsider, hub["id"], "Hub", "members", "state member { handle }", by("member", "handle"), **requested
    )
    assert await outsider_walk.error_code(first=3) == "FORBIDDEN"


async def test_empty_connection(api: Api) -> None:
    me = await api.sign_up()
    walk = member_walk(me, me.handle, "followers", "handle", by("handle"))
    await check_page_size_required(walk)
    for page in ({"first": 3}, {"last": 3}, {"first": 0}, {"last": 0}):
        conn = await walk.page(**page)
        assert conn["edges"] == [] and conn["totalCount"] == 0
        assert conn["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        }


async def test_more_than_twenty_rows_need_a_page_size(api: Api) -> None:
    """There is no default page: without first or last the request is refused, even after a cursor."""
    me = await api.sign_up()
    for i in range(23):
        await me.ok(PAT, {"name": f"token {i}"})
    template = "query({vars}) {{ viewer {{ personalAccessTokens({args}) {selection} }} }}"
    walk = Walk(me, template, ("viewer", "personalAccessTokens"), "id", by("id"))
    await check_page_size_required(walk)
    page = await walk.page(first=20)
    assert len(page["edges"]) == 20 and page["totalCount"] == 23
    assert page["pageInfo"]["hasNextPage"] is True
    error = await walk.error(after=page["pageInfo"]["endCursor"])
    assert error["message"] == "first or last is required on Viewer.personalAccessTokens (at most 100)"
    rest = await walk.page(first=20, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 3 and rest["pageInfo"]["hasNextPage"] is False
    assert not {walk.key(e["node"]) for e in page["edges"]} & {walk.key(e["node"]) for e in rest["edges"]}
