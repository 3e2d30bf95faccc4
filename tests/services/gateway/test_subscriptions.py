"""GraphQL subscriptions over graphql-transport-ws at /graphql, with a real websocket client
(`websockets`) against a real uvicorn server: the app of the test backend served in this
process (SQLite: in-memory broker; PostgreSQL: Redis pub/sub), and, for delivery across
processes, `hubben serve` and `hubben worker` as separate processes sharing PostgreSQL and
Redis. Sign-in happens on connection_init; bad tokens are refused, and what arrives is
what the viewer may see."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from shared.broker import hub_channel, notifications_channel
from shared.ids import from_global_id
from tests.conftest import PG_URL, Api, Session, poll, require_server
from tests.redis_process import RedisProcess
from tests.test_split_mode import free_port, hubben_env, hubben_serve, private_pem, wait_healthy
from tests.test_worker import gql, hubben_worker, sign_up

PROTOCOL = Subprotocol("graphql-transport-ws")
NOTIFICATION_ADDED = "subscription { notificationAdded { id kind text actor { handle } } }"
HUB_ITEMS = """subscription($h: ID!) { hubFeedItemAdded(hubId: $h) {
  __typename ... on Post { id body } ... on Event { id title } } }"""
FOLLOW = """mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"""
ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id }
  userErrors { message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id } userErrors { message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) { post { id } userErrors { message } } }"""
MUTE = """mutation($m: ID!) { muteMember(input: {memberId: $m}) { userErrors { message } } }"""


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


# --- a websocket client speaking graphql-transport-ws ---------------------------------------------


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw_message in self.ws:
            message = json.loads(raw_message)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif "id" in message:
                self.inbox.setdefault(message["id"], asyncio.Queue()).put_nowait(message)

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))

    async def receive(self, op_id: str, within: float = 20) -> dict[str, Any]:
        queue = self.inbox.setdefault(op_id, asyncio.Queue())
        return await asyncio.wait_for(queue.get(), within)

    async def data(self, op_id: str, within: float = 20) -> dict[str, Any]:
        message = await self.receive(op_id, within)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]

    def nothing_more(self, op_id: str) -> bool:
        return self.inbox.setdefault(op_id, asyncio.Queue()).empty()


@asynccontextmanager
async def ws_client(url: str, params: dict[str, Any] | None = None) -> AsyncIterator[Client]:
    async with connect(url, subprotocols=[PROTOCOL], proxy=None, open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": params or {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        client = Client(ws)
        try:
            yield client
        finally:
            client.reader.cancel()


def bearer(who: Session) -> dict[str, str]:
    return {"authorization": f"Bearer {who.token}"}


@pytest.fixture
async def ws_url(api: Api) -> AsyncIterator[str]:
    """The test app behind a real uvicorn server, in this event loop (its lifespan already runs)."""
    port = free_port()
    config = uvicorn.Config(api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    config.timeout_graceful_shutdown = 5
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await poll(lambda: server.started, within=10)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await task


async def listening(api: Api, channel: str) -> None:
    """Wait until this process's broker carries the channel (the subscription is live)."""
    await poll(lambda: channel in api.app.state.broker.listeners, within=10)


# --- in one process ------------------------------------------------------------------------------


async def test_a_bad_token_is_refused_on_connection_init(api: Api, ws_url: str) -> None:
    anna = await api.sign_up()
    for params in (
        {"authorization": "Bearer not-a-token"},
        {"authorization": f"Basic {anna.token}"},
        {"authorization": 42},
    ):
        async with connect(ws_url, subprotocols=[PROTOCOL], proxy=None) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": params}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, params

    # Subscribing before connection_init is refused as well.
    async with connect(ws_url, subprotocols=[PROTOCOL], proxy=None) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": NOTIFICATION_ADDED}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_only_graphql_transport_ws_is_spoken_and_only_over_websockets(api: Api, ws_url: str) -> None:
    async with connect(ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406
    over_http = await api.http.post("/graphql", json={"query": NOTIFICATION_ADDED})
    assert over_http.status_code == 400
    streamed = await api.http.post(
        "/graphql", json={"query": NOTIFICATION_ADDED}, headers={"accept": "multipart/mixed;subscriptionSpec=1.0"}
    )
    assert streamed.status_code == 406


async def test_a_new_notification_arrives_and_anonymous_viewers_get_none(api: Api, ws_url: str) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    async with ws_client(ws_url) as anonymous:
        await anonymous.subscribe("1", NOTIFICATION_ADDED)
        message = await anonymous.receive("1")
        assert message["type"] == "next" and message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async with ws_client(ws_url, bearer(anna)) as client:
        await client.subscribe("n", NOTIFICATION_ADDED)
        await listening(api, notifications_channel(raw(anna.id)))
        await bo.ok(FOLLOW, {"t": anna.id})
        added = (await client.data("n"))["notificationAdded"]
        assert added["kind"] == "FOLLOWER" and added["actor"] == {"handle": bo.handle}
        assert added["text"] == f"{bo.handle.title()} started following you"
        listed = await anna.ok("{ notifications(first: 5) { nodes { id } } }")
        assert [n["id"] for n in listed["notifications"]["nodes"]] == [added["id"]]
    # Closing the socket ends the subscription and its listener.
    await poll(lambda: notifications_channel(raw(anna.id)) not in api.app.state.broker.listeners, within=10)


async def test_a_hub_feed_delivers_new_items_each_viewer_may_see(api: Api, ws_url: str) -> None:
    owner, member, muter = [await api.sign_up() for _ in range(3)]
    org = await owner.ok(
        ORG, {"i": {"slug": api.unique("org").replace("_", "-"), "name": "AI Sweden", "kind": "OTHER"}}
    )
    hub = (
        await owner.ok(
            HUB,
            {
                "i": {
                    "slug": api.unique("hub").replace("_", "-"),
                    "name": "Kraftsamlingen",
                    "organisationId": org["createOrganisation"]["organisation"]["id"],
                }
            },
        )
    )["createHub"]["hub"]
    await member.ok(JOIN, {"h": hub["id"]})
    await muter.ok(MUTE, {"m": owner.id})
    await api.settle()  # the feed knows the membership and the mute before anything is published
    async with (
        ws_client(ws_url) as anonymous,
        ws_client(ws_url, bearer(member)) as joined,
        ws_client(ws_url, bearer(muter)) as muting,
    ):
        for client in (anonymous, joined, muting):
            await client.subscribe("h", HUB_ITEMS, {"h": hub["id"]})
        await poll(lambda: len(api.app.state.broker.listeners.get(hub_channel(raw(hub["id"])), ())) == 3, within=10)

        internal = await owner.ok(
            POST, {"i": {"body": "Bara för medlemmar", "hubId": hub["id"], "visibility": "HUB_MEMBERS"}}
        )
        public = await owner.ok(POST, {"i": {"body": "Till alla", "hubId": hub["id"]}})
        by_member = await member.ok(POST, {"i": {"body": "Från en medlem", "hubId": hub["id"]}})
        ids = [p["createPost"]["post"]["id"] for p in (internal, public, by_member)]

        seen = [(await joined.data("h"))["hubFeedItemAdded"]["id"] for _ in range(3)]
        assert sorted(seen) == sorted(ids)
        assert (await anonymous.data("h"))["hubFeedItemAdded"] == {
            "__typename": "Post",
            "id": ids[1],
            "body": "Till alla",
        }
        assert (await anonymous.data("h"))["hubFeedItemAdded"]["id"] == ids[2]
        assert (await muting.data("h"))["hubFeedItemAdded"]["id"] == ids[2]  # the muted owner's items are left out
        assert anonymous.nothing_more("h") and muting.nothing_more("h")

        # An unknown hub, a malformed id, and a connection's limit of subscriptions.
        await joined.subscribe("x", HUB_ITEMS, {"h": "SHViOjE"})
        assert (await joined.receive("x"))["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await joined.subscribe("y", HUB_ITEMS, {"h": "nonsense"})
        assert (await joined.receive("y"))["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    from services.gateway.graphql.notifications.subscriptions import MAX_SUBSCRIPTIONS

    async with ws_client(ws_url, bearer(member)) as client:
        for n in range(MAX_SUBSCRIPTIONS):
            await client.subscribe(str(n), HUB_ITEMS, {"h": hub["id"]})
        await poll(
            lambda: len(api.app.state.broker.listeners.get(hub_channel(raw(hub["id"])), ())) == MAX_SUBSCRIPTIONS,
            within=10,
        )
        await client.subscribe("one-too-many", HUB_ITEMS, {"h": hub["id"]})
        refused = await client.receive("one-too-many")
        assert refused["type"] == "error" and refused["payload"][0]["message"] == "Subscription limit reached"


# --- across processes ------------------------------------------------------------------------------


@contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A Redis of this test's own: the serve and worker processes share its queue, and no
    other test's arq worker (which polls the shared server's queue) can take their jobs."""
    server = RedisProcess(workdir / "redis", persistent=False)
    server.start()
    try:
        yield server.url.removesuffix("/0") + "/13"
    finally:
        server.stop()


async def test_a_notification_made_by_a_worker_process_reaches_a_gateway_process(tmp_path: Path) -> None:
    import redis.asyncio as aioredis

    from shared.settings import Settings
    from tests.conftest import _drop_schema, _migrate

    require_server("PostgreSQL", "127.0.0.1", 5432)
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    settings = Settings(database_url=PG_URL, database_schema_prefix=prefix, demo_data=False, environment="test")
    await _migrate(settings)
    try:
        with private_redis(tmp_path) as redis_url:
            env = hubben_env(
                var_dir=str(tmp_path / "var"),
                database_url=PG_URL,
                database_schema_prefix=prefix,
                redis_url=redis_url,
                run_jobs_in_process="false",
                jwt_private_key=private_pem(),
                demo_data="false",
                password_hash_time_cost="1",
                password_hash_memory_kib="1024",
                password_hash_parallelism="1",
            )
            redis = aioredis.from_url(redis_url)
            try:
                await poll(redis.ping, within=10, interval=0.05)
                with hubben_serve(env, tmp_path) as gateway, hubben_worker(env, tmp_path):
                    await wait_healthy(gateway)
                    await across_processes(gateway.url, redis)
                    assert "jobs.started" not in gateway.output()  # this process runs no jobs
            finally:
                await redis.aclose()
        worker_log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "jobs.started" in worker_log and "runner=arq" in worker_log, worker_log
    finally:
        await _drop_schema(settings)


async def across_processes(gateway_url: str, redis: Any) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        anna_token, anna_id = await sign_up(http, "anna")
        bo_token, _ = await sign_up(http, "bosse")
        ws_url = gateway_url.replace("http://", "ws://") + "/graphql"
        async with ws_client(ws_url, {"authorization": f"Bearer {anna_token}"}) as client:
            await client.subscribe("n", NOTIFICATION_ADDED)
            channel = notifications_channel(raw(anna_id))

            async def subscribed() -> bool:
                return dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1  # type: ignore[no-any-return]

            await poll(subscribed, within=20, interval=0.05)
            await gql(http, FOLLOW, {"t": anna_id}, bo_token)
            added = (await client.data("n", within=60))["notificationAdded"]
            assert added["kind"] == "FOLLOWER" and added["actor"] == {"handle": "bosse"}
            assert added["text"] == "bosse started following you"
