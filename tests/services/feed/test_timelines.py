"""Home timelines, fan-out on write: what followers' timelines receive and what they never
do, unfollow and follow, deletion everywhere, blocks and mutes, the cap and the database
beyond it, rebuilding a flushed Redis, idempotent jobs, Redis going away, and the proof that
a home feed is the same whether its sources were fanned out, merged in on read, or read
from the database alone.

The PostgreSQL backend keeps timelines in Redis; the SQLite default reads the database,
and the behaviour tests run against both. Tests that need their own settings (a small cap,
a low follower threshold) run an app of their own on a private redis-server, so its arq
queue stays apart from the shared app's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from services.feed import fanout
from services.feed.models import Entry
from services.feed.service import feeds
from services.feed.timelines import Timelines, timeline_key
from shared.auth import Principal
from shared.ids import from_global_id
from shared.outbox import OutboxEvent
from shared.pagination import PageRequest
from tests.conftest import Api, Session, _empty_tables, make_settings, poll, served_app
from tests.redis_process import RedisProcess
from tests.services.feed.test_feeds import (
    FOLLOW,
    HOME_FEED,
    JOIN,
    PIN,
    Feed,
    check_feed_pages_while_items_arrive,
    home_feed_case,
    make_event,
    make_hub,
    make_org,
    make_post,
)
from tests.test_split_mode import free_port

UNFOLLOW = """mutation($t: ID!) { unfollow(input: {targetId: $t}) { following userErrors { message } } }"""
DELETE_POST = """mutation($id: ID!) { deletePost(input: {id: $id}) { post { id } userErrors { message } } }"""
BLOCK = """mutation($m: ID!) { blockMember(input: {memberId: $m}) { member { viewerHasBlocked }
  userErrors { message } } }"""
UNBLOCK = """mutation($m: ID!) { unblockMember(input: {memberId: $m}) { member { viewerHasBlocked }
  userErrors { message } } }"""
MUTE = (
    """mutation($m: ID!) { muteMember(input: {memberId: $m}) { member { viewerHasMuted } userErrors { message } } }"""
)
UNMUTE = (
    """mutation($m: ID!) { unmuteMember(input: {memberId: $m}) { member { viewerHasMuted } userErrors { message } } }"""
)


# --- helpers ------------------------------------------------------------------------------------


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


def home(reader: Session) -> Feed:
    return Feed(reader, HOME_FEED, ("homeFeed",))


def timelines(api: Api) -> Timelines | None:
    return api.app.state.feed_app.state.timelines  # type: ignore[no-any-return]


async def timeline(api: Api, member: Session) -> list[int]:
    """The entry ids in the member's Redis timeline, newest first."""
    store = timelines(api)
    assert store is not None
    return await store.ids(raw(member.id))


async def shows(reader: Session, wanted: list[str]) -> None:
    """Wait until the reader's home feed is exactly `wanted` (newest first)."""
    feed = home(reader)

    async def check() -> bool:
        return await feed.all() == wanted

    await poll(check)


async def open_timelines(*readers: Session) -> None:
    """Read each home feed once: a member's timeline is made by their first read (fan-out
    only extends timelines that exist)."""
    for reader in readers:
        await home(reader).all()


# --- what fan-out delivers -----------------------------------------------------------------------


async def test_a_post_reaches_followers_but_not_who_blocked_muted_or_cannot_see_it(api: Api) -> None:
    owner, author = await api.sign_up(), await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await author.ok(JOIN, {"h": hub["id"]})
    hub_fan, author_fan, muter, blocker, insider = [await api.sign_up() for _ in range(5)]
    await insider.ok(JOIN, {"h": hub["id"]})
    for reader in (hub_fan, muter, blocker, insider):
        await reader.ok(FOLLOW, {"t": hub["id"]})
    await author_fan.ok(FOLLOW, {"t": author.id})
    await muter.ok(MUTE, {"m": author.id})
    await blocker.ok(BLOCK, {"m": author.id})
    await api.settle()
    await open_timelines(author, hub_fan, author_fan, muter, blocker, insider)

    public = (await make_post(author, hubId=hub["id"], body="Till alla som följer hubben"))["id"]
    internal = (await make_post(author, hubId=hub["id"], body="Bara för medlemmar", visibility="HUB_MEMBERS"))["id"]
    expected = [
        (hub_fan, [public]),
        (author_fan, [public]),  # a members-only item is for the hub's members, however followed
        (insider, [internal, public]),
        (author, [internal, public]),
        (muter, []),
        (blocker, []),
    ]
    for reader, wanted in expected:
        await shows(reader, wanted)
    if api.backend == "postgres":  # what the timelines themselves received
        await api.settle()
        for reader, wanted in expected:
            assert await timeline(api, reader) == [raw(i) for i in wanted], reader.handle


async def test_unfollow_removes_the_sources_entries_and_follow_brings_them_back(api: Api) -> None:
    owner, friend, reader = await api.sign_up(), await api.sign_up(), await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await friend.ok(JOIN, {"h": hub["id"]})
    await reader.ok(FOLLOW, {"t": hub["id"]})
    await reader.ok(FOLLOW, {"t": friend.id})
    await api.settle()
    await open_timelines(reader)

    by_owner = (await make_post(owner, hubId=hub["id"], body="Hubbens nyheter"))["id"]
    friend_in_hub = (await make_post(friend, hubId=hub["id"], body="Vännen i hubben"))["id"]
    friend_alone = (await make_post(friend, body="Vännen på sin profil"))["id"]
    await shows(reader, [friend_alone, friend_in_hub, by_owner])

    # The friend's hub post stays: the reader still follows the friend.
    await reader.ok(UNFOLLOW, {"t": hub["id"]})
    await shows(reader, [friend_alone, friend_in_hub])
    if api.backend == "postgres":
        await api.settle()
        assert await timeline(api, reader) == [raw(friend_alone), raw(friend_in_hub)]

    await reader.ok(UNFOLLOW, {"t": friend.id})
    await shows(reader, [])

    # Following again backfills what was posted before.
    await reader.ok(FOLLOW, {"t": hub["id"]})
    await shows(reader, [friend_in_hub, by_owner])
    if api.backend == "postgres":
        await poll(lambda: _holds(api, reader, [friend_in_hub, by_owner]))


async def _holds(api: Api, member: Session, wanted: list[str]) -> bool:
    return await timeline(api, member) == [raw(i) for i in wanted]


async def test_a_deleted_post_leaves_every_timeline(api: Api) -> None:
    owner, author = await api.sign_up(), await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await author.ok(JOIN, {"h": hub["id"]})
    readers = [await api.sign_up() for _ in range(3)]
    for reader in readers[:2]:
        await reader.ok(FOLLOW, {"t": hub["id"]})
    await readers[2].ok(FOLLOW, {"t": author.id})
    await api.settle()
    await open_timelines(author, *readers)

    kept = (await make_post(author, hubId=hub["id"], body="Kvar"))["id"]
    gone = (await make_post(author, hubId=hub["id"], body="Borta"))["id"]
    for reader in (author, *readers):
        await shows(reader, [gone, kept])
    if api.backend == "postgres":
        for reader in (author, *readers):
            await poll(lambda reader=reader: _holds(api, reader, [gone, kept]))

    await author.ok(DELETE_POST, {"id": gone})
    for reader in (author, *readers):
        await shows(reader, [kept])
    if api.backend == "postgres":
        for reader in (author, *readers):
            await poll(lambda reader=reader: _holds(api, reader, [kept]))


@pytest.mark.parametrize(("hide", "lift"), [(MUTE, UNMUTE), (BLOCK, UNBLOCK)])
async def test_blocks_and_mutes_hide_entries_and_lifting_them_brings_all_back(api: Api, hide: str, lift: str) -> None:
    owner, other, reader = await api.sign_up(), await api.sign_up(), await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    await other.ok(JOIN, {"h": hub["id"]})
    await reader.ok(FOLLOW, {"t": hub["id"]})
    await api.settle()
    await open_timelines(reader)
    before = (await make_post(other, hubId=hub["id"], body="Före"))["id"]
    by_owner = (await make_post(owner, hubId=hub["id"], body="Ägarens"))["id"]
    await shows(reader, [by_owner, before])

    await reader.ok(hide, {"m": other.id})
    await shows(reader, [by_owner])
    during = (await make_post(other, hubId=hub["id"], body="Under tiden"))["id"]
    await api.settle()
    assert await home(reader).all() == [by_owner]
    if api.backend == "postgres":
        # Reads filter what the timeline keeps; fan-out skipped the new post.
        assert await timeline(api, reader) == [raw(by_owner), raw(before)]

    await reader.ok(lift, {"m": other.id})
    await shows(reader, [during, by_owner, before])
    if api.backend == "postgres":
        await poll(lambda: _holds(api, reader, [during, by_owner, before]))


# --- pages, the cap, and the database beyond it ------------------------------------------------------


SMALL = {"timeline_cap": 10, "fanout_batch": 2, "fanout_max_followers": 2}


@pytest.fixture(scope="module")
async def small_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """An app whose timelines hold 10 entries, whose fan-out batches hold 2 followers, and
    which merges sources with more than 2 followers in on read."""
    assert backend == "postgres", "timelines live in Redis, which only the PostgreSQL backend runs with"
    workdir = tmp_path_factory.mktemp("small-timelines")
    server = RedisProcess(workdir / "redis", persistent=False)
    try:
        server.start()
        settings = make_settings("postgres", workdir).model_copy(update={"redis_url": server.url, **SMALL})
        async with served_app(settings) as app:
            yield app
    finally:
        server.stop()


@pytest.fixture
async def small(small_app: Any) -> AsyncIterator[Api]:
    await _empty_tables(small_app)
    await small_app.state.redis.flushdb()
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
        yield Api(http=http, app=small_app, backend="postgres")


@pytest.mark.postgres_only
async def test_timelines_keep_the_newest_entries_and_older_pages_come_from_the_database(small: Api) -> None:
    author, reader = await small.sign_up(), await small.sign_up()
    await reader.ok(FOLLOW, {"t": author.id})
    await small.settle()
    await open_timelines(reader)
    posts = [(await make_post(author, body=f"Inlägg {n}"))["id"] for n in range(14)]
    newest_first = list(reversed(posts))
    await poll(lambda: _holds(small, reader, newest_first[:10]))
    store = timelines(small)
    assert store is not None
    assert await small.app.state.redis.zcard(timeline_key(raw(reader.id))) == 11  # and the sentinel
    # Older than its lowest entry, the timeline does not answer: the database does.
    assert await store.floor(raw(reader.id)) == raw(newest_first[9]) - 1

    assert await home(reader).all() == newest_first
    walked: list[str] = []
    conn = await home(reader).page(first=3)
    while True:
        walked += [n["id"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        conn = await home(reader).page(first=3, after=conn["pageInfo"]["endCursor"])
    assert walked == newest_first


@pytest.mark.postgres_only
async def test_home_pages_stay_whole_while_posts_arrive_across_the_timelines_floor(small: Api) -> None:
    feed, add, existing = await home_feed_case(small)
    await check_feed_pages_while_items_arrive(feed, add, existing)
    store = timelines(small)
    assert store is not None
    assert await store.floor(raw(feed.reader.id)) not in (None, 0)  # type: ignore[union-attr]


Page = tuple[list[int], bool, bool]


async def walk(read: Callable[[PageRequest], Awaitable[Any]], size: int) -> list[list[Page]]:
    """Every page forward with first/after and backward with last/before: ids, hasNext, hasPrevious."""
    forward: list[Page] = []
    req = PageRequest(first=size)
    while True:
        page = await read(req)
        forward.append(([raw_cursor(c) for c in page.cursors], page.has_next_page, page.has_previous_page))
        if not page.has_next_page:
            break
        req = PageRequest(first=size, after=page.cursors[-1])
    backward: list[Page] = []
    req = PageRequest(last=size)
    while True:
        page = await read(req)
        backward.append(([raw_cursor(c) for c in page.cursors], page.has_next_page, page.has_previous_page))
        if not page.has_previous_page:
            break
        req = PageRequest(last=size, before=page.cursors[0])
    return [forward, backward]


def raw_cursor(cursor: str) -> int:
    from shared.pagination import decode_cursor

    return decode_cursor(cursor, "cursor")


class InlineQueue:
    """Runs a job at once, as the in-process runner does."""

    def __init__(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx

    async def enqueue(self, name: str, arg: dict[str, Any], key: str) -> None:
        job = {fanout.INSERT: fanout.timeline_insert}[name]
        await job(self.ctx, arg)


@pytest.mark.postgres_only
async def test_a_home_feed_is_identical_fanned_out_merged_on_read_or_from_the_database(small: Api) -> None:
    """Sources with more than 2 followers are not fanned out here; the same feed read three
    ways gives the same pages: from timelines with those sources merged in on read, from the
    database alone, and from timelines into which everything was fanned out."""
    owner = await small.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    friend, muted, blocked, insider = [await small.sign_up() for _ in range(4)]
    readers = [await small.sign_up() for _ in range(3)]
    anna, bo, _ = readers
    for member in (friend, muted, blocked, insider, bo):
        await member.ok(JOIN, {"h": hub["id"]})
    for reader in readers:  # three followers each: both merged in on read
        await reader.ok(FOLLOW, {"t": hub["id"]})
        await reader.ok(FOLLOW, {"t": org["id"]})
    await anna.ok(FOLLOW, {"t": friend.id})  # one follower: fanned out
    await bo.ok(FOLLOW, {"t": friend.id})
    await anna.ok(MUTE, {"m": muted.id})
    await anna.ok(BLOCK, {"m": blocked.id})
    await small.settle()
    await open_timelines(*readers)

    made = [
        (await make_post(owner, hubId=hub["id"], body="Hubbens första"))["id"],
        (await make_post(friend, body="Vännens egna"))["id"],
        (await make_post(friend, hubId=hub["id"], body="Vännen i hubben"))["id"],
        (await make_post(owner, organisationId=org["id"], body="Som organisationen"))["id"],
        (await make_event(owner, organisationId=org["id"], hubId=hub["id"]))["id"],
        (await make_post(muted, hubId=hub["id"], body="Tystad"))["id"],
        (await make_post(blocked, hubId=hub["id"], body="Blockerad"))["id"],
        (await make_post(insider, hubId=hub["id"], body="Internt", visibility="HUB_MEMBERS"))["id"],
        (await make_post(anna, body="Annas egna"))["id"],
        (await make_event(friend))["id"],
    ]
    made += [(await make_post(friend, body=f"Vännen igen {n}"))["id"] for n in range(4)]
    made += [(await make_post(owner, hubId=hub["id"], body=f"Hubben igen {n}"))["id"] for n in range(4)]
    gone = (await make_post(friend, hubId=hub["id"], body="Ångrat"))["id"]
    await friend.ok(DELETE_POST, {"id": gone})
    # Pinned in the hub: merged in on read along the hub's index among the unpinned.
    await owner.ok(PIN, {"id": made[0]})
    await owner.ok(PIN, {"id": made[2]})
    await small.settle()

    app = small.app
    store = timelines(small)
    assert store is not None
    # The hub and the organisation were not fanned out: Anna's timeline holds what her
    # friend and she herself posted, nothing of the owner's.
    held = set(await store.ids(raw(anna.id)))
    assert raw(made[1]) in held and raw(made[0]) not in held and raw(made[3]) not in held

    # Everything fanned out, into fresh timelines that start complete and empty.
    ctx = dict(app.state.jobs.ctx)
    everything = Timelines(store.redis, store.cap, max_followers=1_000_000)
    ctx.update(settings=app.state.settings.model_copy(update={"fanout_max_followers": 1_000_000}))
    ctx.update(timelines=everything, jobs=InlineQueue(ctx))
    async with app.state.feed_app.state.sessionmaker() as s:
        entry_ids = list((await s.execute(select(Entry.id).order_by(Entry.id))).scalars())
    fanned_out: dict[int, list[list[Page]]] = {}
    merged: dict[int, list[list[Page]]] = {}
    database: dict[int, list[list[Page]]] = {}
    maker = app.state.feed_app.state.sessionmaker

    def reader_of(member: Session, source: Timelines | None) -> Callable[[PageRequest], Awaitable[Any]]:
        actor = Principal(member_id=raw(member.id))

        async def read(req: PageRequest) -> Any:
            async with maker() as s:
                return await feeds.home_feed(s, actor, req, source)

        return read

    for size in (1, 3, 7, 100):
        for reader in readers:
            merged.setdefault(size, []).append(await walk(reader_of(reader, store), size))
            database.setdefault(size, []).append(await walk(reader_of(reader, None), size))
    for reader in readers:
        member_id = raw(reader.id)
        await store.drop(member_id)
        assert await everything.begin_rebuild(member_id) is None
        assert await everything.fill(member_id, [], 0, finish=True)
    for n, entry_id in enumerate(entry_ids):
        await fanout.fanout(
            ctx, {"id": n, "source": "feed", "topic": "post.created", "payload": {"entry_id": entry_id}}
        )
    # Now the owner's hub posts were fanned out too, and the oldest entries trimmed away.
    assert raw(made[-1]) in await everything.ids(raw(anna.id))
    assert await everything.floor(raw(anna.id)) not in (None, 0)
    for size in (1, 3, 7, 100):
        for reader in readers:
            fanned_out.setdefault(size, []).append(await walk(reader_of(reader, everything), size))

    assert merged == database == fanned_out
    anna_all = [i for page in database[100][0][0] for i in page[0]]
    assert raw(made[5]) not in anna_all and raw(made[6]) not in anna_all and raw(made[7]) not in anna_all
    assert raw(made[0]) in anna_all and raw(gone) not in anna_all and len(anna_all) == len(made) - 3
    bo_all = [i for page in database[100][1][0] for i in page[0]]
    assert raw(made[7]) in bo_all  # Bo is a member of the hub


@pytest.mark.postgres_only
async def test_what_fan_out_skipped_stays_merged_in_once_a_source_has_fewer_followers(small: Api) -> None:
    owner = await small.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    anna, bo, carl = [await small.sign_up() for _ in range(3)]
    for reader in (anna, bo, carl):  # three followers: merged in on read
        await reader.ok(FOLLOW, {"t": hub["id"]})
    await small.settle()
    await open_timelines(anna)
    skipped = [(await make_post(owner, hubId=hub["id"], body=f"Till många {n}"))["id"] for n in range(2)]
    await shows(anna, list(reversed(skipped)))

    await carl.ok(UNFOLLOW, {"t": hub["id"]})  # two followers: fanned out from now on
    await small.settle()
    fanned = (await make_post(owner, hubId=hub["id"], body="Till färre"))["id"]
    await shows(anna, [fanned, *reversed(skipped)])
    await small.settle()
    assert await timeline(small, anna) == [raw(fanned)]

    store = timelines(small)
    maker = small.app.state.feed_app.state.sessionmaker
    actor = Principal(member_id=raw(anna.id))

    def reader(source: Timelines | None) -> Callable[[PageRequest], Awaitable[Any]]:
        async def read(req: PageRequest) -> Any:
            async with maker() as s:
                return await feeds.home_feed(s, actor, req, source)

        return read

    for size in (1, 2, 5):
        assert await walk(reader(store), size) == await walk(reader(None), size)


# --- Redis: rebuilt when flushed, jobs that run twice, and reads when it is away ----------------------


@pytest.mark.postgres_only
async def test_a_flushed_redis_is_rebuilt_from_the_database_on_read(api: Api) -> None:
    author, reader = await api.sign_up(), await api.sign_up()
    await reader.ok(FOLLOW, {"t": author.id})
    await api.settle()
    await open_timelines(reader)
    posts = [(await make_post(author, body=f"Inlägg {n}"))["id"] for n in range(3)]
    await shows(reader, list(reversed(posts)))
    await api.settle()

    await api.app.state.redis.flushdb()
    assert not await api.app.state.redis.exists(timeline_key(raw(reader.id)))
    assert await home(reader).all() == list(reversed(posts))
    assert await timeline(api, reader) == [raw(p) for p in reversed(posts)]
    store = timelines(api)
    assert store is not None and await store.floor(raw(reader.id)) == 0  # all of it: nothing below


@pytest.mark.postgres_only
async def test_fan_out_jobs_that_run_twice_add_nothing_twice(api: Api) -> None:
    author, reader = await api.sign_up(), await api.sign_up()
    await reader.ok(FOLLOW, {"t": author.id})
    await api.settle()
    await open_timelines(reader, author)
    post = (await make_post(author, body="En gång"))["id"]
    await shows(reader, [post])
    await api.settle()

    ctx = api.app.state.jobs.ctx
    (event,) = [e for e in await _feed_outbox(api, "post.created") if e["payload"]["post_id"] == raw(post)]
    for _ in range(2):
        await fanout.fanout(ctx, event)  # the same batch keys: arq runs them once
        for member in (reader, author):  # and an insert that does run again changes nothing
            await fanout.timeline_insert(ctx, {"entry_id": raw(post), "members": [raw(member.id)]})
    await api.settle()
    for member in (reader, author):
        assert await timeline(api, member) == [raw(post)]
        assert await home(member).all() == [post]


async def _feed_outbox(api: Api, topic: str) -> list[dict[str, Any]]:
    async with api.app.state.feed_app.state.sessionmaker() as s:
        rows = (await s.execute(select(OutboxEvent).where(OutboxEvent.topic == topic))).scalars()
        return [{"id": r.id, "source": "feed", "topic": r.topic, "payload": r.payload} for r in rows]


async def test_home_feed_reads_come_from_the_database_when_redis_is_away(api: Api) -> None:
    author, reader = await api.sign_up(), await api.sign_up()
    await reader.ok(FOLLOW, {"t": author.id})
    await api.settle()
    posts = [(await make_post(author, body=f"Inlägg {n}"))["id"] for n in range(3)]
    await shows(reader, list(reversed(posts)))

    away = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        store = Timelines(away, cap=800, max_followers=10_000)
        async with api.app.state.feed_app.state.sessionmaker() as s:
            page = await feeds.home_feed(s, Principal(member_id=raw(reader.id)), PageRequest(first=2), store)
    finally:
        await away.aclose()
    assert [raw_cursor(c) for c in page.cursors] == [raw(p) for p in reversed(posts)][:2]
    assert page.has_next_page is True
