"""Every feed through the GraphQL API: pages that stay whole while new items arrive between
fetches (forward with first/after, backward with last/before, catching up on what is new),
pinned posts first in a hub, the hub's library of resources, upcoming events by hub,
organisation, county and dates, and what a home feed is made of."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api, Session, poll

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id slug }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
FOLLOW = """mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id kind title url tags isPinned organisation { slug } hub { slug } author { handle } }
  userErrors { field message code } } }"""
UPDATE_POST = """mutation($i: UpdatePostInput!) { updatePost(input: $i) { post { id kind title url }
  userErrors { field message code } } }"""
DELETE_POST = """mutation($id: ID!) { deletePost(input: {id: $id}) { post { id } userErrors { message } } }"""
PIN = """mutation($id: ID!) { pinPost(input: {id: $id}) { post { id isPinned } userErrors { field message } } }"""
UNPIN = """mutation($id: ID!) { unpinPost(input: {id: $id}) { post { id isPinned } userErrors { field message } } }"""
EVENT = """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id startsAt county { code } }
  userErrors { field message code } } }"""
UPDATE_EVENT = """mutation($i: UpdateEventInput!) { updateEvent(input: $i) { event { id startsAt }
  userErrors { field message code } } }"""
CANCEL_EVENT = """mutation($id: ID!) { cancelEvent(input: {id: $id}) { event { status } userErrors { message } } }"""

PAGE_VARS = "$first: Int, $after: String, $last: Int, $before: String"
PAGE_ARGS = "first: $first, after: $after, last: $last, before: $before"
NODE = "__typename ... on Post { id isPinned } ... on Event { id }"
CONN = f"""edges {{ cursor node {{ {NODE} }} }} nodes {{ {NODE} }}
  pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} totalCount"""
HUB_FEED = f"query($slug: String!, {PAGE_VARS}) {{ hub(slug: $slug) {{ feed({PAGE_ARGS}) {{ {CONN} }} }} }}"
HOME_FEED = f"query({PAGE_VARS}) {{ homeFeed({PAGE_ARGS}) {{ {CONN} }} }}"
ORG_FEED = f"query($slug: String!, {PAGE_VARS}) {{ organisation(slug: $slug) {{ feed({PAGE_ARGS}) {{ {CONN} }} }} }}"
ACTIVITY = f"query($h: String!, {PAGE_VARS}) {{ member(handle: $h) {{ activity({PAGE_ARGS}) {{ {CONN} }} }} }}"
TAG_FEED = f"query($tag: String!, {PAGE_VARS}) {{ tagFeed(tag: $tag, {PAGE_ARGS}) {{ {CONN} }} }}"
RESOURCES = """query($slug: String!, $kind: PostKind) { hub(slug: $slug) { resources(kind: $kind, first: 50) {
  nodes { __typename ... on Post { id kind title url } } } } }"""
UPCOMING = """query($hub: ID, $org: ID, $county: String, $after: DateTime, $before: DateTime) {
  upcomingEvents(hubId: $hub, organisationId: $org, countyCode: $county, startsAfter: $after, startsBefore: $before,
  first: 50) { totalCount nodes { id } } }"""


# --- helpers ---------------------------------------------------------------------------------


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_org(owner: Session, **fields: Any) -> dict[str, Any]:
    data = {"slug": slug(owner.api, "org"), "name": "AI Sweden", "kind": "OTHER", **fields}
    return (await owner.ok(ORG, {"i": data}))["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org_id: str) -> dict[str, Any]:
    data = {"slug": slug(owner.api, "hub"), "name": "Kraftsamlingen", "organisationId": org_id}
    return (await owner.ok(HUB, {"i": data}))["createHub"]["hub"]  # type: ignore[no-any-return]


async def joined(api: Api, hub: dict[str, Any]) -> Session:
    member = await api.sign_up()
    assert (await member.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    return member


async def make_post(author: Session, **fields: Any) -> dict[str, Any]:
    data = await author.ok(POST, {"i": {"body": "Hej från Hubben", **fields}})
    return data["createPost"]["post"]  # type: ignore[no-any-return]


def at(days: float, hours: float = 2) -> dict[str, str]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"startsAt": starts.isoformat(), "endsAt": (starts + timedelta(hours=hours)).isoformat()}


async def make_event(organiser: Session, days: float = 7, hours: float = 2, **fields: Any) -> dict[str, Any]:
    data = {"title": "AI-fika", **at(days, hours), "location": "Lindholmen", **fields}
    return (await organiser.ok(EVENT, {"i": data}))["createEvent"]["event"]  # type: ignore[no-any-return]


def ids(conn: dict[str, Any]) -> list[str]:
    return [n["id"] for n in conn["nodes"]]


@dataclass
class Feed:
    """One feed as a reader pages it."""

    reader: Session | Api
    query: str
    path: tuple[str, ...]
    variables: dict[str, Any] = field(default_factory=dict)

    async def page(self, **page: Any) -> dict[str, Any]:
        conn: Any = await self.reader.ok(self.query, {**self.variables, **page})
        for step in self.path:
            conn = conn[step]
        assert conn["nodes"] == [e["node"] for e in conn["edges"]]
        cursors = [e["cursor"] for e in conn["edges"]]
        assert len(set(cursors)) == len(cursors)
        assert conn["pageInfo"]["startCursor"] == (cursors[0] if cursors else None)
        assert conn["pageInfo"]["endCursor"] == (cursors[-1] if cursors else None)
        return conn  # type: ignore[no-any-return]

    async def all(self) -> list[str]:
        conn = await self.page(first=100)
        assert conn["pageInfo"]["hasNextPage"] is False
        return ids(conn)


Add = Callable[[], Awaitable[str]]


async def walk_forward_with_inserts(feed: Feed, add: Add, existing: list[str], size: int = 3) -> list[str]:
    """Page forward, adding two items between fetches: the pages hold exactly what was there
    when the first page was read, in order. Returns the items added, oldest first."""
    added: list[str] = []
    conn = await feed.page(first=size)
    seen = ids(conn)
    assert seen == existing[:size]
    assert conn["pageInfo"]["hasPreviousPage"] is False
    while conn["pageInfo"]["hasNextPage"]:
        added += [await add(), await add()]
        conn = await feed.page(first=size, after=conn["pageInfo"]["endCursor"])
        assert conn["pageInfo"]["hasPreviousPage"] is True
        seen += ids(conn)
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert seen == existing, "an item was skipped, repeated or out of order"
    assert not set(seen) & set(added)
    return added


async def check_feed_pages_while_items_arrive(feed: Feed, add: Add, existing: list[str]) -> None:
    assert await feed.all() == existing
    top = (await feed.page(first=1))["pageInfo"]["startCursor"]
    added = await walk_forward_with_inserts(feed, add, existing)
    newest_first = list(reversed(added))
    assert await feed.all() == newest_first + existing

    # Catching up: backward from the top of the first read, the new items, with no gap.
    newer: list[str] = []
    before = top
    while True:
        conn = await feed.page(last=3, before=before)
        newer = ids(conn) + newer
        assert conn["pageInfo"]["hasNextPage"] is True  # the old top lies after
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert newer == newest_first

    # A backward walk from the oldest item, adding one between fetches, reaches the newest.
    everything = newest_first + existing
    conn = await feed.page(last=3)
    seen = ids(conn)
    assert seen == everything[-3:] and conn["pageInfo"]["hasNextPage"] is False
    more: list[str] = []
    while conn["pageInfo"]["hasPreviousPage"]:
        more.append(await add())
        conn = await feed.page(last=3, before=conn["pageInfo"]["startCursor"])
        seen = ids(conn) + seen
    assert seen == list(reversed(more)) + everything
    assert await feed.all() == seen


# --- paging while items arrive, for each feed ------------------------------------------------


async def hub_feed_case(api: Api) -> tuple[Feed, Add, list[str]]:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    anna = await joined(api, hub)
    n = 0

    async def add() -> str:
        nonlocal n
        n += 1
        author = (owner, anna)[n % 2]
        await make_post(author, body=f"Utanför hubben {n}")  # on the profile: not in the hub
        if n % 3 == 0:
            return (await make_event(author, hubId=hub["id"], title=f"Träff {n}"))["id"]  # type: ignore[no-any-return]
        return (await make_post(author, hubId=hub["id"], body=f"Inlägg {n}"))["id"]  # type: ignore[no-any-return]

    made = [await add() for _ in range(7)]
    return Feed(api, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]}), add, list(reversed(made))


async def home_feed_case(api: Api) -> tuple[Feed, Add, list[str]]:
    owner, reader, friend, stranger = [await api.sign_up() for _ in range(4)]
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await reader.ok(FOLLOW, {"t": hub["id"]})
    await reader.ok(FOLLOW, {"t": friend.id})
    feed = Feed(reader, HOME_FEED, ("homeFeed",))
    made = [(await make_post(owner, hubId=hub["id"]))["id"], (await make_post(friend))["id"]]

    async def knows_follows() -> bool:
        return set(await feed.all()) == set(made)

    await poll(knows_follows)
    n = 0

    async def add() -> str:
        nonlocal n
        n += 1
        await make_post(stranger, body=f"Ingen följer mig {n}")
        author, place = [(owner, {"hubId": hub["id"]}), (friend, {}), (reader, {})][n % 3]
        if n % 4 == 0:
            item: str = (await make_event(author, **place))["id"]
        else:
            item = (await make_post(author, body=f"Inlägg {n}", **place))["id"]

        async def arrived() -> bool:  # fan-out to home timelines runs after the commit
            return item in await feed.all()

        await poll(arrived)
        return item

    made += [await add() for _ in range(5)]
    return feed, add, list(reversed(made))


async def organisation_feed_case(api: Api) -> tuple[Feed, Add, list[str]]:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    n = 0

    async def add() -> str:
        nonlocal n
        n += 1
        await make_post(owner, body=f"Som mig själv {n}")
        await make_post(owner, hubId=hub["id"], body=f"I hubben som mig själv {n}")
        if n % 3 == 0:
            return (await make_event(owner, organisationId=org["id"]))["id"]  # type: ignore[no-any-return]
        place = {"hubId": hub["id"]} if n % 2 else {}
        return (await make_post(owner, organisationId=org["id"], body=f"Som AI Sweden {n}", **place))["id"]  # type: ignore[no-any-return]

    made = [await add() for _ in range(7)]
    return Feed(api, ORG_FEED, ("organisation", "feed"), {"slug": org["slug"]}), add, list(reversed(made))


async def member_activity_case(api: Api) -> tuple[Feed, Add, list[str]]:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    anna = await joined(api, hub)
    n = 0

    async def add() -> str:
        nonlocal n
        n += 1
        await make_post(owner, hubId=hub["id"], body=f"Någon annans {n}")
        if n % 3 == 0:
            return (await make_event(anna, hubId=hub["id"]))["id"]  # type: ignore[no-any-return]
        place = {"hubId": hub["id"]} if n % 2 else {}
        return (await make_post(anna, body=f"Annas inlägg {n}", **place))["id"]  # type: ignore[no-any-return]

    made = [await add() for _ in range(7)]
    viewer = await api.sign_up()
    return Feed(viewer, ACTIVITY, ("member", "activity"), {"h": anna.handle}), add, list(reversed(made))


async def tag_feed_case(api: Api) -> tuple[Feed, Add, list[str]]:
    anna, bo = await api.sign_up(), await api.sign_up()
    n = 0

    async def add() -> str:
        nonlocal n
        n += 1
        await make_post(bo, body=f"Om #annat {n}")
        await make_post(anna, body=f"Utan tagg {n}")
        return (await make_post((anna, bo)[n % 2], body=f"Inlägg {n} om #Sidvisning"))["id"]  # type: ignore[no-any-return]

    made = [await add() for _ in range(7)]
    return Feed(api, TAG_FEED, ("tagFeed",), {"tag": "sidvisning"}), add, list(reversed(made))


FEEDS: dict[str, Callable[[Api], Awaitable[tuple[Feed, Add, list[str]]]]] = {
    "Hub.feed": hub_feed_case,
    "Query.homeFeed": home_feed_case,
    "Organisation.feed": organisation_feed_case,
    "Member.activity": member_activity_case,
    "Query.tagFeed": tag_feed_case,
}


@pytest.mark.parametrize("name", list(FEEDS))
async def test_feed_pages_stay_whole_while_items_arrive(api: Api, name: str) -> None:
    feed, add, existing = await FEEDS[name](api)
    assert len(existing) == 7
    await check_feed_pages_while_items_arrive(feed, add, existing)


# --- hub feed: pinned first ---------------------------------------------------------------------


async def test_hub_feed_has_pinned_posts_first(api: Api) -> None:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    anna = await joined(api, hub)
    posts = [(await make_post((owner, anna)[i % 2], hubId=hub["id"], body=f"Inlägg {i}"))["id"] for i in range(5)]
    event = (await make_event(anna, hubId=hub["id"]))["id"]
    feed = Feed(anna, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]})
    assert await feed.all() == [event, *reversed(posts)]

    assert (await owner.ok(PIN, {"id": posts[1]}))["pinPost"]["post"]["isPinned"] is True
    await owner.ok(PIN, {"id": posts[3]})
    # Pinned first, newest of them first; then the rest, newest first.
    expected = [posts[3], posts[1], event, posts[4], posts[2], posts[0]]
    conn = await feed.page(first=100)
    assert ids(conn) == expected
    assert [n.get("isPinned") for n in conn["nodes"]] == [True, True, None, False, False, False]

    # Paging forward and backward across the pinned ones, while posts arrive.
    async def add() -> str:
        return (await make_post(anna, hubId=hub["id"], body="Nytt"))["id"]  # type: ignore[no-any-return]

    added = await walk_forward_with_inserts(feed, add, expected, size=3)
    expected = expected[:2] + list(reversed(added)) + expected[2:]
    assert await feed.all() == expected
    # Read only as far as the pinned posts, what arrives next comes right after them.
    pinned = await feed.page(first=2)
    assert ids(pinned) == [posts[3], posts[1]]
    newest = await add()
    rest = await feed.page(first=100, after=pinned["pageInfo"]["endCursor"])
    assert ids(rest) == [newest, *expected[2:]]
    added.append(newest)
    expected = expected[:2] + [newest] + expected[2:]
    seen: list[str] = []
    before = None
    while True:
        conn = await feed.page(last=2, before=before)
        seen = ids(conn) + seen
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert seen == expected

    # Unpinned, a post goes back to its place; a deleted pinned post leaves the feed.
    assert (await owner.ok(UNPIN, {"id": posts[3]}))["unpinPost"]["post"]["isPinned"] is False
    await owner.ok(DELETE_POST, {"id": posts[1]})
    assert await feed.all() == [*reversed(added), event, posts[4], posts[3], posts[2], posts[0]]


# --- hub resources -----------------------------------------------------------------------------


async def test_hub_resources_list_the_library_by_kind(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    other = await make_hub(owner, org["id"])
    update = await make_post(owner, hubId=hub["id"], body="Bara en uppdatering")
    news = await make_post(owner, hubId=hub["id"], kind="NEWS", title="Nyhet", body="Nytt från AI Sweden")
    article = await make_post(owner, hubId=hub["id"], kind="ARTICLE", title="Artikel", body="Lång text")
    question = await make_post(owner, hubId=hub["id"], kind="QUESTION", body="Hur gör ni?")
    resource = await make_post(
        owner, hubId=hub["id"], kind="RESOURCE", title="Vägledning", url="https://ai.se/guide", body="Läs den"
    )
    assert (resource["kind"], resource["title"], resource["url"]) == ("RESOURCE", "Vägledning", "https://ai.se/guide")
    await make_event(owner, hubId=hub["id"])
    await make_post(owner, hubId=other["id"], kind="NEWS", title="Annan hubb", body="Syns inte här")
    await make_post(owner, kind="ARTICLE", title="Profil", body="Inte i hubben")

    async def library(kind: str | None = None, reader: Session | Api = api) -> list[str]:
        data = await reader.ok(RESOURCES, {"slug": hub["slug"], "kind": kind})
        nodes = data["hub"]["resources"]["nodes"]
        assert all(n["__typename"] == "Post" for n in nodes)
        assert all(n["kind"] == kind for n in nodes) if kind else all(n["kind"] != "UPDATE" for n in nodes)
        return [n["id"] for n in nodes]

    assert await library() == [resource["id"], question["id"], article["id"], news["id"]]
    for kind, post in (("NEWS", news), ("ARTICLE", article), ("QUESTION", question), ("RESOURCE", resource)):
        assert await library(kind) == [post["id"]], kind

    # A resource needs a title and a link.
    body = await owner.gql(POST, {"i": {"hubId": hub["id"], "kind": "RESOURCE", "body": "x", "url": "https://ai.se"}})
    assert [(e["field"], e["code"]) for e in body["data"]["createPost"]["userErrors"]] == [("title", "BAD_USER_INPUT")]
    body = await owner.gql(POST, {"i": {"hubId": hub["id"], "kind": "RESOURCE", "body": "x", "title": "Länk"}})
    assert [(e["field"], e["code"]) for e in body["data"]["createPost"]["userErrors"]] == [("url", "BAD_USER_INPUT")]
    body = await owner.gql(UPDATE_POST, {"i": {"id": news["id"], "kind": "RESOURCE"}})
    assert [(e["field"], e["code"]) for e in body["data"]["updatePost"]["userErrors"]] == [("kind", "BAD_USER_INPUT")]

    # Changing a post's kind moves it in or out of the library.
    await owner.ok(UPDATE_POST, {"i": {"id": update["id"], "kind": "QUESTION"}})
    await owner.ok(UPDATE_POST, {"i": {"id": news["id"], "kind": "UPDATE"}})
    assert await library() == [resource["id"], question["id"], article["id"], update["id"]]
    assert await library("QUESTION") == [question["id"], update["id"]]
    assert await library("NEWS") == []
    await owner.ok(UPDATE_POST, {"i": {"id": article["id"], "kind": "RESOURCE", "url": "https://ai.se/artikel"}})
    assert await library("RESOURCE") == [resource["id"], article["id"]]
    await owner.ok(DELETE_POST, {"id": resource["id"]})
    assert await library() == [question["id"], article["id"], update["id"]]

    # Pages of the library hold together.
    conn = (await api.ok(RESOURCES.replace("first: 50", "first: 2"), {"slug": hub["slug"], "kind": None}))["hub"]
    assert [n["id"] for n in conn["resources"]["nodes"]] == [question["id"], article["id"]]


# --- upcoming events ---------------------------------------------------------------------------


async def test_upcoming_events_soonest_first_and_filtered(api: Api) -> None:
    owner = await api.sign_up()
    lulea = await make_org(owner, name="Luleå kommun", kind="MUNICIPALITY", municipalityCode="2580")
    hub = await make_hub(owner, lulea["id"])
    other_hub = await make_hub(owner, lulea["id"])

    # Made out of order; each is placed by where it happens (its municipality, else the organiser's county).
    mid = await make_event(owner, days=5, hubId=other_hub["id"], organisationId=lulea["id"])
    far = await make_event(owner, days=10, municipalityCode="0180")
    soon = await make_event(owner, days=1, hubId=hub["id"], municipalityCode="1480")
    past = await make_event(owner, days=-3, hubId=hub["id"], organisationId=lulea["id"], municipalityCode="1480")
    running = await make_event(
        owner, days=-1 / 24, hours=3, hubId=hub["id"], organisationId=lulea["id"], municipalityCode="1480"
    )
    cancelled = await make_event(owner, days=2, hubId=hub["id"], organisationId=lulea["id"])
    await owner.ok(CANCEL_EVENT, {"id": cancelled["id"]})
    earliest = await make_event(owner, days=0.5, hubId=hub["id"])
    assert (mid["county"], far["county"], soon["county"], running["county"]) == (
        {"code": "25"},
        {"code": "01"},
        {"code": "14"},
        {"code": "14"},
    )
    assert earliest["county"] is None

    async def upcoming(reader: Session | Api = api, **flt: Any) -> list[str]:
        data = await reader.ok(UPCOMING, flt)
        conn = data["upcomingEvents"]
        assert conn["totalCount"] == len(conn["nodes"])
        return ids(conn)

    everything = [running["id"], earliest["id"], soon["id"], mid["id"], far["id"]]
    assert past["id"] not in everything and cancelled["id"] not in everything
    assert await upcoming() == everything
    assert await upcoming(await api.sign_up()) == everything
    assert await upcoming(hub=hub["id"]) == [running["id"], earliest["id"], soon["id"]]
    assert await upcoming(hub=other_hub["id"]) == [mid["id"]]
    assert await upcoming(org=lulea["id"]) == [running["id"], mid["id"]]
    assert await upcoming(county="14") == [running["id"], soon["id"]]
    assert await upcoming(county="25") == [mid["id"]]
    assert await upcoming(county="01") == [far["id"]]
    assert await upcoming(county="03") == []
    assert await upcoming(hub=hub["id"], county="14") == [running["id"], soon["id"]]
    assert await upcoming(org=lulea["id"], county="14") == [running["id"]]

    def day(n: float) -> str:
        return (datetime.now(UTC) + timedelta(days=n)).isoformat()

    assert await upcoming(after=day(3)) == [mid["id"], far["id"]]
    assert await upcoming(before=day(3)) == [running["id"], earliest["id"], soon["id"]]
    assert await upcoming(after=day(3), before=day(7)) == [mid["id"]]
    assert await upcoming(after=day(0.75), before=day(7), hub=hub["id"]) == [soon["id"]]
    # Another offset is the same instant.
    assert await upcoming(after=(datetime.now(UTC) + timedelta(days=3)).astimezone().isoformat()) == [
        mid["id"],
        far["id"],
    ]
    # The range is of starts: an event already running at its start is not in it.
    long_one = await make_event(owner, days=2, hours=72)
    assert await upcoming(after=day(3)) == [mid["id"], far["id"]]
    assert await upcoming(after=day(1.5), before=day(3)) == [long_one["id"]]
    await owner.ok(CANCEL_EVENT, {"id": long_one["id"]})
    # An earlier start of the range does not bring back what is over.
    assert await upcoming(after=day(-7)) == everything
    assert await upcoming(after=day(-7), before=day(-1)) == []

    # The hub's and the organisation's own lists.
    own = """query($slug: String!, $org: String!) { hub(slug: $slug) { upcomingEvents(first: 50) { nodes { id } } }
      organisation(slug: $org) { upcomingEvents(first: 50) { nodes { id } } } }"""
    data = await api.ok(own, {"slug": hub["slug"], "org": lulea["slug"]})
    assert ids(data["hub"]["upcomingEvents"]) == [running["id"], earliest["id"], soon["id"]]
    assert ids(data["organisation"]["upcomingEvents"]) == [running["id"], mid["id"]]

    # Moving an event moves it in the list.
    await owner.ok(UPDATE_EVENT, {"i": {"id": far["id"], **at(0.25, 1)}})
    assert await upcoming() == [running["id"], far["id"], earliest["id"], soon["id"], mid["id"]]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"county": "99"}, "countyCode"),
        ({"county": "1"}, "countyCode"),
        ({"county": "ab"}, "countyCode"),
        ({"county": "1480"}, "countyCode"),
        ({"after": "2030-01-01T10:00:00"}, "startsAfter"),
        ({"before": "2030-01-01T10:00:00"}, "startsBefore"),
        ({"hub": "garbage"}, "hubId"),
        ({"hub": ""}, "hubId"),
        ({"org": "garbage"}, "organisationId"),
        ({"org": ""}, "organisationId"),
    ],
)
async def test_upcoming_events_refuses_bad_filters(api: Api, variables: dict[str, Any], field: str) -> None:
    for reader in (api, await api.sign_up()):
        body = await reader.gql(UPCOMING, variables)
        assert body["_status"] < 500, body
        assert body.get("errors"), body
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert error["extensions"].get("field") == field, body


async def test_upcoming_events_refuse_an_unparseable_date(api: Api) -> None:
    body = await api.gql(UPCOMING, {"after": "next tuesday"})
    assert body["_status"] < 500 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- home feed ------------------------------------------------------------------------------------


async def test_home_feed_is_what_you_follow_and_your_own(api: Api) -> None:
    reader, hub_owner, friend, stranger = [await api.sign_up() for _ in range(4)]
    followed_org = await make_org(hub_owner)
    hub = await make_hub(hub_owner, followed_org["id"])
    unfollowed_hub = await make_hub(hub_owner, followed_org["id"])
    friends_org = await make_org(friend)  # an organisation the reader does not follow, yet
    await friend.ok(JOIN, {"h": unfollowed_hub["id"]})
    await stranger.ok(JOIN, {"h": hub["id"]})
    for target in (hub["id"], followed_org["id"], friend.id):
        assert (await reader.ok(FOLLOW, {"t": target}))["follow"]["following"] is True

    shown = [
        (await make_post(stranger, hubId=hub["id"], body="I en följd hubb"))["id"],
        (await make_event(stranger, hubId=hub["id"]))["id"],
        (await make_post(hub_owner, organisationId=followed_org["id"], body="Som en följd organisation"))["id"],
        (await make_event(hub_owner, organisationId=followed_org["id"]))["id"],
        (await make_post(friend, body="Från en vän"))["id"],
        (await make_post(friend, hubId=unfollowed_hub["id"], body="Vännen i en annan hubb"))["id"],
        (await make_event(friend))["id"],
        (await make_post(reader, body="Mitt eget"))["id"],
    ]
    as_org = (await make_post(friend, organisationId=friends_org["id"], body="Vännen som organisation"))["id"]
    hidden = [
        as_org,
        (await make_post(stranger, body="En främlings profil"))["id"],
        (await make_post(hub_owner, hubId=unfollowed_hub["id"], body="En hubb ingen följer"))["id"],
        (await make_post(hub_owner, body="Hubbägaren som sig själv"))["id"],
    ]
    expected = list(reversed(shown))
    feed = Feed(reader, HOME_FEED, ("homeFeed",))

    async def home_is(wanted: list[str]) -> bool:
        return await feed.all() == wanted

    await poll(lambda: home_is(expected))
    assert not set(hidden) & set(await feed.all())
    conn = await feed.page(first=3)
    assert ids(conn) == expected[:3] and conn["pageInfo"]["hasNextPage"] is True

    # Following the friend's organisation brings in what they posted as it.
    await reader.ok(FOLLOW, {"t": friends_org["id"]})
    expected = [as_org, *reversed(shown)]  # made after the others: the newest
    await poll(lambda: home_is(expected))

    # Nobody else's home feed has the reader's own post.
    assert shown[-1] not in await Feed(stranger, HOME_FEED, ("homeFeed",)).all()


async def test_anonymous_home_feed_is_unauthenticated(api: Api) -> None:
    body = await api.gql("{ homeFeed(first: 5) { nodes { __typename } } }")
    assert body["_status"] < 500, body
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_member_activity_is_what_they_published_under_their_own_name(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    own = [
        (await make_post(owner, body="På profilen"))["id"],
        (await make_post(owner, hubId=hub["id"], body="I hubben"))["id"],
        (await make_event(owner, hubId=hub["id"]))["id"],
    ]
    await make_post(owner, organisationId=org["id"], body="Som organisationen")
    await make_event(owner, organisationId=org["id"])
    activity = Feed(api, ACTIVITY, ("member", "activity"), {"h": owner.handle})
    assert await activity.all() == list(reversed(own))
