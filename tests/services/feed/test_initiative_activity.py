"""Initiatives in feeds: a public initiative's creation and its status changes reach the
organisation's feed, its followers' home feeds (in order with posts; on PostgreSQL through
their Redis timelines) and its RSS/Atom feeds, as `InitiativeUpdate` items. An initiative
kept to its organisation shows nothing until it is published; made non-public or deleted,
its items leave every feed; a redelivered or late graph event changes nothing twice."""

from __future__ import annotations

from typing import Any

import feedparser
from sqlalchemy import func, select

from services.feed.jobs import apply_graph_event
from services.feed.models import Entry, InitiativeActivity
from services.graph import contracts as gc
from services.graph.client import GraphClient
from shared.auth import ANONYMOUS, Principal
from shared.ids import expect_global_id, from_global_id
from shared.outbox import OutboxEvent
from shared.pagination import PageRequest
from tests.conftest import Api, Session, poll
from tests.services.feed.test_feeds import FOLLOW, make_org, make_post

ITEM = """__typename
  ... on Post { id body }
  ... on Event { id }
  ... on InitiativeUpdate { id kind fromStatus toStatus createdAt
        initiative { id title status } organisation { slug } actor { handle } }"""
HOME = f"query {{ homeFeed(first: 50) {{ nodes {{ {ITEM} }} pageInfo {{ hasNextPage }} }} }}"
ORG_FEED = f"""query($slug: String!) {{ organisation(slug: $slug) {{ feed(first: 50) {{ nodes {{ {ITEM} }} }} }} }}"""
NODE = """query($id: ID!) { node(id: $id) { __typename ... on InitiativeUpdate { id kind
  initiative { title } } } }"""


# --- helpers ------------------------------------------------------------------------------------


def graph(api: Api) -> GraphClient:
    return api.app.state.graph  # type: ignore[no-any-return]


def as_member(s: Session) -> Principal:
    return Principal(member_id=expect_global_id(s.id, "Member"), roles=("member",), token_kind="jwt")


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


async def make_initiative(api: Api, owner: Session, org: dict[str, Any], **fields: Any) -> gc.InitiativeOut:
    data = {"title": "Chattbot för bygglov", "area": "urban_planning", "summary": "Svarar på frågor", **fields}
    return await graph(api).create_initiative(as_member(owner), expect_global_id(org["id"], "Organisation"), data)


async def edit(api: Api, owner: Session, initiative: gc.InitiativeOut, **fields: Any) -> gc.InitiativeOut:
    return await graph(api).update_initiative(as_member(owner), initiative.id, fields)


def brief(node: dict[str, Any]) -> tuple[str, ...]:
    """A feed item in a few words: ("Post", body), or ("InitiativeUpdate", kind, from, to, title)."""
    if node["__typename"] == "InitiativeUpdate":
        title = node["initiative"]["title"] if node["initiative"] else None
        return ("InitiativeUpdate", node["kind"], node["fromStatus"], node["toStatus"], title)
    return (node["__typename"], node.get("body", ""))


async def home(reader: Session) -> list[dict[str, Any]]:
    conn = (await reader.ok(HOME))["homeFeed"]
    assert conn["pageInfo"]["hasNextPage"] is False
    return conn["nodes"]  # type: ignore[no-any-return]


async def org_feed(viewer: Session | Api, org: dict[str, Any]) -> list[dict[str, Any]]:
    return (await viewer.ok(ORG_FEED, {"slug": org["slug"]}))["organisation"]["feed"]["nodes"]  # type: ignore[no-any-return]


async def shows(read: Any, wanted: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Wait until `read()` gives exactly these items, newest first; return them."""
    seen: list[dict[str, Any]] = []

    async def check() -> bool:
        nonlocal seen
        seen = await read()
        return [brief(n) for n in seen] == wanted

    try:
        await poll(check)
    except AssertionError:
        raise AssertionError(f"wanted {wanted}, saw {[brief(n) for n in seen]}") from None
    return seen


async def timeline(api: Api, member: Session) -> list[int]:
    store = api.app.state.feed_app.state.timelines
    assert store is not None
    return await store.ids(raw(member.id))  # type: ignore[no-any-return]


async def setting(api: Api) -> tuple[Session, dict[str, Any], Session, Session]:
    """An organisation with an owner, one follower and one member who does not follow it; both
    readers have read their home feed once, so on PostgreSQL their timelines exist."""
    owner, follower, stranger = await api.sign_up(), await api.sign_up(), await api.sign_up()
    org = await make_org(owner)
    await follower.ok(FOLLOW, {"t": org["id"]})
    await api.settle()
    for reader in (follower, stranger):
        assert await home(reader) == []
    return owner, org, follower, stranger


async def counts(api: Api) -> tuple[int, int, int]:
    """Initiative activities, their entries, and the feed's outbox events about them."""
    async with api.app.state.feed_app.state.sessionmaker() as s:
        activities = (await s.execute(select(func.count()).select_from(InitiativeActivity))).scalar_one()
        entries = (await s.execute(select(func.count()).where(Entry.item_type == "initiative"))).scalar_one()
        topics = ("initiative_activity.created", "entry.hidden", "entry.restored")
        events = (await s.execute(select(func.count()).where(OutboxEvent.topic.in_(topics)))).scalar_one()  # type: ignore[attr-defined]
    return activities, entries, events


# --- what followers see -------------------------------------------------------------------------


async def test_followers_see_creation_and_status_changes_in_order_with_posts(api: Api) -> None:
    owner, org, follower, stranger = await setting(api)
    await make_post(owner, organisationId=org["id"], body="Före")
    initiative = await make_initiative(api, owner, org)
    await api.settle()
    await make_post(owner, organisationId=org["id"], body="Mellan")
    await edit(api, owner, initiative, status="pilot")
    await api.settle()

    title = initiative.title
    wanted = [
        ("InitiativeUpdate", "STATUS_CHANGED", "IDEA", "PILOT", title),
        ("Post", "Mellan"),
        ("InitiativeUpdate", "CREATED", None, "IDEA", title),
        ("Post", "Före"),
    ]
    seen = await shows(lambda: home(follower), wanted)
    changed, created = seen[0], seen[2]
    for item in (changed, created):
        assert item["organisation"] == {"slug": org["slug"]}
        assert item["actor"] == {"handle": owner.handle}
        assert expect_global_id(item["initiative"]["id"], "Initiative") == initiative.id
        assert item["initiative"]["status"] == "PILOT"  # the initiative as it is now
    assert created["createdAt"] <= changed["createdAt"]

    # Not followed, not shown; the organisation's own feed shows it to everyone.
    assert await home(stranger) == []
    await shows(lambda: org_feed(api, org), wanted)
    await shows(lambda: org_feed(stranger, org), wanted)

    # Each item is a node of its own.
    node = (await api.ok(NODE, {"id": changed["id"]}))["node"]
    assert node == {**{k: changed[k] for k in ("__typename", "id", "kind")}, "initiative": {"title": title}}

    if api.backend == "postgres":  # fan-out delivered them to the follower's timeline, not the stranger's
        assert await timeline(api, follower) == [raw(n["id"]) for n in seen]
        assert await timeline(api, stranger) == []


async def test_the_feed_client_gives_the_items_with_their_initiative_and_change(api: Api) -> None:
    owner, org, follower, _ = await setting(api)
    initiative = await make_initiative(api, owner, org, status="pilot")
    await edit(api, owner, initiative, status="in_production")
    await edit(api, owner, initiative, title="Bygglovsboten")  # an edit that is no status change: no item
    await api.settle()

    feed = api.app.state.feed
    page = await feed.home(as_member(follower), PageRequest(first=10))
    items = [i.initiative_activity for i in page.items]
    assert all(i is not None for i in items) and len(items) == 2
    changed, created = items[0], items[1]
    assert changed is not None and created is not None
    assert (changed.kind, changed.from_status, changed.to_status) == ("status_changed", "pilot", "in_production")
    assert (created.kind, created.from_status, created.to_status) == ("created", None, "pilot")
    owner_id = expect_global_id(owner.id, "Member")
    org_id = expect_global_id(org["id"], "Organisation")
    for item in (changed, created):
        assert (item.initiative_id, item.organisation_id, item.actor_id) == (initiative.id, org_id, owner_id)
    org_page = await feed.organisation_feed(ANONYMOUS, org_id, PageRequest(first=10))
    assert [i.initiative_activity for i in org_page.items] == items
    # Members' own activity lists what they posted as themselves: not the organisation's items.
    assert (await feed.member_activity(ANONYMOUS, owner_id, PageRequest(first=10))).items == []
    assert await feed.initiative_activities(ANONYMOUS, [created.id, 12345, changed.id]) == [created, changed]


# --- only what is public ------------------------------------------------------------------------


async def test_an_organisation_only_initiative_shows_nothing_until_published(api: Api) -> None:
    owner, org, follower, _ = await setting(api)
    insider = await api.sign_up()
    await insider.ok(FOLLOW, {"t": org["id"]})
    initiative = await make_initiative(api, owner, org, visibility="organisation")
    await edit(api, owner, initiative, status="pilot")  # while kept to the organisation: never shown
    await api.settle()
    assert await home(follower) == []
    assert await org_feed(owner, org) == []  # not even to its own members: feeds show public work
    assert await counts(api) == (0, 0, 0)

    await edit(api, owner, initiative, visibility="public")
    await api.settle()
    published = [("InitiativeUpdate", "CREATED", None, None, initiative.title)]
    first = await shows(lambda: home(follower), published)
    await shows(lambda: org_feed(api, org), published)

    # Kept to the organisation again, its items leave; public again, the same ones are back.
    await edit(api, owner, initiative, visibility="organisation")
    await api.settle()
    await shows(lambda: home(follower), [])
    await shows(lambda: org_feed(api, org), [])
    if api.backend == "postgres":
        assert await timeline(api, follower) == []

    await edit(api, owner, initiative, visibility="public", status="in_production")
    await api.settle()
    again = await shows(
        lambda: home(follower),
        [
            ("InitiativeUpdate", "STATUS_CHANGED", "PILOT", "IN_PRODUCTION", initiative.title),
            ("InitiativeUpdate", "CREATED", None, None, initiative.title),
        ],
    )
    assert again[1]["id"] == first[0]["id"]
    if api.backend == "postgres":
        assert await timeline(api, follower) == [raw(n["id"]) for n in again]


async def test_a_deleted_initiative_takes_its_items_out_of_every_feed(api: Api) -> None:
    owner, org, follower, _ = await setting(api)
    await make_post(owner, organisationId=org["id"], body="Kvar")
    initiative = await make_initiative(api, owner, org)
    await edit(api, owner, initiative, status="pilot")
    await api.settle()
    items = await shows(
        lambda: home(follower),
        [
            ("InitiativeUpdate", "STATUS_CHANGED", "IDEA", "PILOT", initiative.title),
            ("InitiativeUpdate", "CREATED", None, "IDEA", initiative.title),
            ("Post", "Kvar"),
        ],
    )
    rss = await api.http.get(f"/organisations/{org['slug']}/feed.rss")
    assert feedparser.parse(rss.content).entries[1].title == f"Nytt initiativ: {initiative.title}"

    await graph(api).delete_initiative(as_member(owner), initiative.id)
    await api.settle()
    await shows(lambda: home(follower), [("Post", "Kvar")])
    await shows(lambda: org_feed(api, org), [("Post", "Kvar")])
    assert (await api.ok(NODE, {"id": items[0]["id"]}))["node"] is None
    parsed = feedparser.parse((await api.http.get(f"/organisations/{org['slug']}/feed.atom")).content)
    assert [e.title for e in parsed.entries] == ["Kvar"]
    if api.backend == "postgres":
        assert await timeline(api, follower) == [raw(items[2]["id"])]


async def test_syndication_feeds_carry_the_items_worded_in_swedish(api: Api) -> None:
    owner, org, _, _ = await setting(api)
    initiative = await make_initiative(api, owner, org, title="Språkmodell för tolkning")
    await edit(api, owner, initiative, status="in_production")
    await make_initiative(api, owner, org, title="Hemlig", visibility="organisation")
    await api.settle()
    for fmt in ("rss", "atom"):
        r = await api.http.get(f"/organisations/{org['slug']}/feed.{fmt}")
        assert r.status_code == 200
        parsed = feedparser.parse(r.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert [e.title for e in parsed.entries] == [
            "Ny status för Språkmodell för tolkning: I drift (tidigare Idé)",
            "Nytt initiativ: Språkmodell för tolkning",
        ]
        assert all(e.link.endswith(f"#initiative-{initiative.id}") for e in parsed.entries)
        assert len({e.id for e in parsed.entries}) == 2
        created = parsed.entries[1]
        assert "Svarar på frågor" in (created.content[0].value if "content" in created else created.summary)


# --- delivery: once, and in any order ------------------------------------------------------------


def _ctx(api: Api) -> dict[str, Any]:
    return {"feed_sessionmaker": api.app.state.feed_app.state.sessionmaker}


async def _graph_events(api: Api, initiative_id: int) -> list[dict[str, Any]]:
    async with await api.graph_session() as s:
        rows = (await s.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars()  # type: ignore[arg-type]
        return [
            {"id": r.id, "source": "graph", "topic": r.topic, "payload": r.payload}
            for r in rows
            if r.topic.startswith("initiative.") and r.payload["initiative_id"] == initiative_id
        ]


async def test_a_redelivered_event_changes_nothing(api: Api) -> None:
    owner, org, follower, _ = await setting(api)
    initiative = await make_initiative(api, owner, org)
    await edit(api, owner, initiative, status="pilot")
    await edit(api, owner, initiative, visibility="organisation")
    await edit(api, owner, initiative, visibility="public")
    await api.settle()
    wanted = [
        ("InitiativeUpdate", "STATUS_CHANGED", "IDEA", "PILOT", initiative.title),
        ("InitiativeUpdate", "CREATED", None, "IDEA", initiative.title),
    ]
    await shows(lambda: home(follower), wanted)
    before = await counts(api)
    assert before[:2] == (2, 2)

    events = await _graph_events(api, initiative.id)
    assert [e["topic"] for e in events] == [
        "initiative.created",
        "initiative.updated",
        "initiative.status_changed",
        "initiative.updated",
        "initiative.updated",
    ]
    for event in events:  # every event delivered once more, in order and in reverse
        await apply_graph_event(_ctx(api), event)
    for event in reversed(events):
        await apply_graph_event(_ctx(api), event)
    await api.settle()
    assert await counts(api) == before
    await shows(lambda: home(follower), wanted)


def _event(event_id: int, topic: str, initiative_id: int, org_id: int, by: int, **payload: Any) -> dict[str, Any]:
    body = {"initiative_id": initiative_id, "organisation_id": org_id, "by": by, "visibility": "public", **payload}
    return {"id": event_id, "source": "graph", "topic": topic, "payload": body}


async def test_events_arriving_out_of_order_never_undo_a_newer_state(api: Api) -> None:
    owner, org, follower, _ = await setting(api)
    org_id, by = expect_global_id(org["id"], "Organisation"), expect_global_id(owner.id, "Member")
    initiative_id = 7_000_001
    made = _event(10, "initiative.created", initiative_id, org_id, by, status="idea")
    hidden = _event(
        20, "initiative.updated", initiative_id, org_id, by, visibility="organisation", fields=["visibility"]
    )
    changed = _event(15, "initiative.status_changed", initiative_id, org_id, by, **{"from": "idea", "to": "pilot"})
    shown = _event(30, "initiative.updated", initiative_id, org_id, by, fields=["visibility"])

    # Kept to the organisation (the newest news) before the older creation and change arrive:
    # their items are made, but not shown.
    for event in (hidden, made, changed):
        await apply_graph_event(_ctx(api), event)
    async with api.app.state.feed_app.state.sessionmaker() as s:
        entries = (await s.execute(select(Entry).where(Entry.item_type == "initiative"))).scalars().all()
    assert len(entries) == 2 and not any(e.live for e in entries)
    await api.settle()
    assert await counts(api) == (2, 2, 0)  # nothing to fan out or take back
    assert await home(follower) == []

    # Public again: both come back, and no second "created" is made.
    await apply_graph_event(_ctx(api), shown)
    await api.settle()
    assert await counts(api) == (2, 2, 2)  # two entry.restored
    async with api.app.state.feed_app.state.sessionmaker() as s:
        live = (await s.execute(select(Entry.id).where(Entry.item_type == "initiative", Entry.live))).scalars().all()  # type: ignore[arg-type]
    assert sorted(live) == sorted(e.id for e in entries)
    # The initiative itself was never in the graph: the items show, their initiative is null.
    items = await shows(
        lambda: home(follower),
        [
            ("InitiativeUpdate", "STATUS_CHANGED", "IDEA", "PILOT", None),
            ("InitiativeUpdate", "CREATED", None, "IDEA", None),
        ],
    )
    assert all(i["initiative"] is None for i in items)

    # A deletion is for good, whatever older news arrives after it.
    await apply_graph_event(_ctx(api), _event(40, "initiative.deleted", initiative_id, org_id, by))
    await apply_graph_event(
        _ctx(api), _event(35, "initiative.updated", initiative_id, org_id, by, fields=["visibility"])
    )
    await apply_graph_event(
        _ctx(api),
        _event(36, "initiative.status_changed", initiative_id, org_id, by, **{"from": "pilot", "to": "ended"}),
    )
    await api.settle()
    await shows(lambda: home(follower), [])
    assert (await counts(api))[:2] == (2, 2)
