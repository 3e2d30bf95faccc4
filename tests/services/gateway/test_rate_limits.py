"""Rate limits: each request is charged its cost against its caller's budget (a personal
access token, a signed-in member, or an anonymous client address), refused with
RATE_LIMITED once the budget is spent (and charged nothing), and back when the window
ends. With Redis, gateways share the budgets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.ratelimit import Caller, RedisRateLimiter
from shared.broker import notifications_channel
from tests.conftest import Api, Session, make_settings, poll, served_app
from tests.redis_process import RedisProcess
from tests.services.gateway.test_subscriptions import (
    NOTIFICATION_ADDED,
    bearer,
    listening,
    raw,
    ws_client,
    ws_url,  # noqa: F401 — a fixture, for the websocket tests below
)

RATE = "{ rateLimit { limit cost remaining resetAt } }"
# 1 (rateLimit) + 1 (organisations) + 10 (nodes) + 1 (pageInfo)
COSTLY = "{ rateLimit { cost remaining } organisations(first: 10) { nodes { name } pageInfo { hasNextPage } } }"
COSTLY_COST = 13
HEADLINE = "set while over the limit"
# 10 (the mutation) + 1 (member)
MUTATE = 'mutation { updateProfile(input: {headline: "' + HEADLINE + '"}) { member { headline } } }'
MUTATE_COST = 11
PAT = """mutation($name: String!) { createPersonalAccessToken(input: {name: $name, scopes: ["read", "write"]}) {
  token userErrors { message } } }"""


def address() -> str:
    """A client address of this test's own (documentation range, RFC 3849)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


async def post(api: Api, query: str, *, token: str | None = None, ip: str | None = None) -> httpx.Response:
    headers = {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if ip:
        headers["x-forwarded-for"] = ip  # the test client is a local caller, whose proxy header counts
    return await api.http.post("/graphql", json={"query": query}, headers=headers)


async def rate(api: Api, *, token: str | None = None, ip: str | None = None) -> dict[str, Any]:
    r = await post(api, RATE, token=token, ip=ip)
    body = r.json()
    assert "errors" not in body, body
    state: dict[str, Any] = body["data"]["rateLimit"]
    return state


def check_headers(r: httpx.Response, state: dict[str, Any]) -> None:
    """The HTTP view's X-RateLimit-* headers agree with the rateLimit field."""
    assert r.headers["x-ratelimit-limit"] == str(state["limit"])
    assert r.headers["x-ratelimit-remaining"] == str(state["remaining"])
    reset = datetime.fromisoformat(state["resetAt"])
    assert abs(int(r.headers["x-ratelimit-reset"]) - reset.timestamp()) <= 1


@asynccontextmanager
async def small_budgets(backend: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Api]:
    settings = make_settings(backend, tmp_path).model_copy(update=overrides)
    async with served_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
            yield Api(http=http, app=app, backend=backend)


async def headline_of(api: Api, member: Session) -> str | None:
    r = await post(api, '{ member(handle: "' + member.handle + '") { headline } }', ip=address())
    return r.json()["data"]["member"]["headline"]  # type: ignore[no-any-return]


async def test_each_request_is_charged_its_cost(api: Api) -> None:
    budget = api.app.state.settings.rate_limit_member_points
    anna = await api.sign_up()
    started = datetime.now(UTC)
    first = await rate(api, token=anna.token)
    assert first["limit"] == budget and first["cost"] == 1 and first["remaining"] == budget - 1
    reset = datetime.fromisoformat(first["resetAt"])
    assert started + timedelta(seconds=3590) < reset <= datetime.now(UTC) + timedelta(seconds=3600)

    r = await post(api, COSTLY, token=anna.token)
    state = r.json()["data"]["rateLimit"]
    assert state == {"cost": COSTLY_COST, "remaining": budget - 1 - COSTLY_COST}
    check_headers(r, {**first, "remaining": state["remaining"]})

    # A mutation is charged too; the next request sees what is left.
    assert (await anna.ok(MUTATE))["updateProfile"]["member"]["headline"] == HEADLINE
    after = await rate(api, token=anna.token)
    assert after["remaining"] == budget - 1 - COSTLY_COST - MUTATE_COST - 1
    # The window opened with the first request and stays put.
    assert abs(datetime.fromisoformat(after["resetAt"]) - reset) < timedelta(seconds=1)


async def test_requests_refused_before_execution_cost_nothing(api: Api) -> None:
    budget = api.app.state.settings.rate_limit_token_points
    anna = await api.sign_up()
    read_only = await anna.ok('mutation { createPersonalAccessToken(input: {name: "r", scopes: ["read"]}) { token } }')
    token = read_only["createPersonalAccessToken"]["token"]
    refusals = [
        (MUTATE, {}, "FORBIDDEN"),  # the token lacks the write scope (ScopeGuard)
        ("{ organisations { totalCount } }", {}, "BAD_USER_INPUT"),  # no page size
        ("query($n: Int!) { organisations(first: $n) { totalCount } }", {"n": "x"}, "BAD_USER_INPUT"),
        ("{ viewer { nope } }", {}, "BAD_USER_INPUT"),  # validation
    ]
    for query, variables, code in refusals:
        r = await api.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
        )
        assert r.json()["errors"][0]["extensions"]["code"] == code, r.json()
        assert "x-ratelimit-remaining" not in r.headers
    assert (await rate(api, token=token))["remaining"] == budget - 1


async def test_tokens_members_and_addresses_have_their_own_budgets(backend: str, tmp_path: Path) -> None:
    budgets = {"rate_limit_token_points": 3000, "rate_limit_member_points": 2000, "rate_limit_anonymous_points": 1000}
    async with small_budgets(backend, tmp_path, **budgets) as api:
        anna = await api.sign_up()
        tokens = [(await anna.ok(PAT, {"name": f"t{i}"}))["createPersonalAccessToken"]["token"] for i in range(2)]
        here, there = address(), address()
        for _ in range(3):
            await post(api, COSTLY, token=anna.token)
            await post(api, COSTLY, token=tokens[0])
            await post(api, COSTLY, ip=here)

        session = await rate(api, token=anna.token)
        # Two token creations (11 each), three costly queries and this one.
        assert session["limit"] == 2000 and session["remaining"] == 2000 - 2 * 11 - 3 * COSTLY_COST - 1
        # Each token of the same member has a budget of its own, apart from the member's session.
        token = await rate(api, token=tokens[0])
        assert token["limit"] == 3000 and token["remaining"] == 3000 - 3 * COSTLY_COST - 1
        assert (await rate(api, token=tokens[1]))["remaining"] == 3000 - 1
        # Anonymous callers share one budget per address.
        anonymous = await rate(api, ip=here)
        assert anonymous["limit"] == 1000 and anonymous["remaining"] == 1000 - 3 * COSTLY_COST - 1
        assert (await rate(api, ip=there))["remaining"] == 1000 - 1
        # Another member's session starts full.
        bo = await api.sign_up()
        assert (await rate(api, token=bo.token))["remaining"] == 2000 - 1


async def test_a_spent_budget_is_refused_until_the_window_ends(backend: str, tmp_path: Path) -> None:
    window = 4
    async with small_budgets(backend, tmp_path, rate_limit_member_points=40, rate_limit_window_seconds=window) as api:
        anna = await api.sign_up()
        spent = 0
        for _ in range(2):
            r = await post(api, COSTLY, token=anna.token)
            spent += COSTLY_COST
            assert r.json()["data"]["rateLimit"]["remaining"] == 40 - spent
        assert (await anna.ok(MUTATE))["updateProfile"]["member"]["headline"] == HEADLINE
        spent += MUTATE_COST  # 37: 3 points left

        # Over the budget: refused before anything runs, and charged nothing.
        r = await post(api, MUTATE.replace(HEADLINE, "never set"), token=anna.token)
        body = r.json()
        assert body.get("data") is None, body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= window
        assert error["message"] == (
            f"the rate limit of 40 points per {window} seconds is spent (3 left; this request costs 11); "
            f"it resets in {error['extensions']['retryAfter']} seconds"
        )
        assert await headline_of(api, anna) == HEADLINE
        assert r.status_code == 429
        assert r.headers["retry-after"] == str(error["extensions"]["retryAfter"])
        assert r.headers["x-ratelimit-remaining"] == "3" and r.headers["x-ratelimit-limit"] == "40"

        # What still fits the budget runs.
        assert (await rate(api, token=anna.token))["remaining"] == 2
        # Others are not affected.
        bo = await api.sign_up()
        assert (await rate(api, token=bo.token))["remaining"] == 39

        # When the window ends, the whole budget is back.
        async def recovered() -> bool:
            r = await post(api, MUTATE.replace(HEADLINE, "after the reset"), token=anna.token)
            return r.status_code == 200 and "errors" not in r.json()

        await poll(recovered, within=window + 5, interval=0.2)
        assert await headline_of(api, anna) == "after the reset"
        assert (await rate(api, token=anna.token))["remaining"] == 40 - MUTATE_COST - 1


async def test_a_request_costing_more_than_the_whole_budget_says_so(backend: str, tmp_path: Path) -> None:
    async with small_budgets(backend, tmp_path, rate_limit_anonymous_points=10) as api:
        r = await post(api, COSTLY, ip=address())
        error = r.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["message"] == "this request costs 13 points, more than the 10 a window of 3,600 seconds allows"


async def test_concurrent_requests_never_overspend(backend: str, tmp_path: Path) -> None:
    async with small_budgets(backend, tmp_path, rate_limit_anonymous_points=30) as api:
        here = address()
        cheap = "{ organisations(first: 2) { nodes { name } } }"  # 3 points
        responses = await asyncio.gather(*(post(api, cheap, ip=here) for _ in range(16)))
        codes = [r.status_code for r in responses]
        assert codes.count(200) == 10 and codes.count(429) == 6, codes


@pytest.mark.postgres_only
async def test_gateways_sharing_redis_share_one_budget(backend: str, tmp_path: Path) -> None:
    """Two gateway apps on the same Redis (as two processes would be) spend one budget."""
    from services.gateway.app import create_app

    settings = make_settings(backend, tmp_path).model_copy(update={"rate_limit_anonymous_points": 30})
    async with served_app(settings) as one:
        two = create_app(settings)
        async with two.router.lifespan_context(two):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=one), base_url="http://one") as h1:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=two), base_url="http://two") as h2:
                    apis = [Api(http=h1, app=one, backend=backend), Api(http=h2, app=two, backend=backend)]
                    here = address()
                    remaining = [(await rate(apis[i % 2], ip=here))["remaining"] for i in range(4)]
                    assert remaining == [29, 28, 27, 26]

                    cheap = "{ organisations(first: 2) { nodes { name } } }"  # 3 points: 8 of them fit
                    responses = await asyncio.gather(*(post(apis[i % 2], cheap, ip=here) for i in range(12)))
                    codes = [r.status_code for r in responses]
                    assert codes.count(200) == 8 and codes.count(429) == 4, codes
                    assert (await rate(apis[1], ip=here))["remaining"] == 1
                    assert (await rate(apis[0], ip=here))["remaining"] == 0
                    spent = (await post(apis[1], RATE, ip=here)).json()
                    assert spent["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_the_limiter_keeps_working_through_a_redis_outage(tmp_path: Path) -> None:
    """Redis gone, a process falls back to its own counters rather than failing the API."""
    import redis.asyncio as aioredis

    server = RedisProcess(tmp_path / "redis", persistent=False)
    server.start()
    client = aioredis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    try:
        limiter = RedisRateLimiter(client, 60)
        caller = Caller.member(1)
        assert (await limiter.charge(caller, 5, 10)).remaining == 5
        assert (await limiter.charge(caller, 5, 10)).remaining == 0
        assert (await limiter.charge(caller, 1, 10)).exceeded
        server.stop()
        during = await limiter.charge(caller, 4, 10)  # this process's own budget, fresh
        assert not during.exceeded and during.remaining == 6
        server.start()  # not persistent: it comes back empty

        async def back() -> bool:
            try:
                return bool(await client.ping())
            except Exception:  # noqa: BLE001 — still reconnecting
                return False

        await poll(back, within=10)
        assert (await limiter.charge(caller, 3, 10)).remaining == 7
        assert int(await client.get("ratelimit:member:1")) == 3
    finally:
        await client.aclose()
        server.stop()


async def test_queries_over_the_websocket_are_charged_and_subscriptions_are_not(api: Api, ws_url: str) -> None:  # noqa: F811
    budget = api.app.state.settings.rate_limit_member_points
    anna = await api.sign_up()
    async with ws_client(ws_url, bearer(anna)) as client:
        await client.subscribe("s", NOTIFICATION_ADDED)
        await listening(api, notifications_channel(int(raw(anna.id))))
        await client.subscribe("q", "{ rateLimit { cost remaining } }")
        assert (await client.data("q")) == {"rateLimit": {"cost": 1, "remaining": budget - 1}}
        # Over HTTP the same member's budget: the subscription cost nothing.
        assert (await rate(api, token=anna.token))["remaining"] == budget - 2


async def test_limits_hold_for_subscriptions_too(api: Api, ws_url: str) -> None:  # noqa: F811
    anna = await api.sign_up()
    async with ws_client(ws_url, bearer(anna)) as client:
        await client.subscribe("big", NOTIFICATION_ADDED + " " * 40_000)
        message = await client.receive("big")
        assert message["type"] == "error", message
        [error] = message["payload"]
        assert error["message"] == f"the document is {len(NOTIFICATION_ADDED) + 40_000:,} bytes; the limit is 32,768"
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        await client.subscribe("unknown", NOTIFICATION_ADDED, {"stray": 1})
        message = await client.receive("unknown")
        assert message["type"] == "error" and message["payload"][0]["message"] == (
            "the operation declares no variable $stray"
        )
        # The connection still serves a subscription within the limits.
        await client.subscribe("ok", NOTIFICATION_ADDED)
        await listening(api, notifications_channel(int(raw(anna.id))))
        assert client.nothing_more("ok")


async def test_the_map_spends_its_visitors_budget(backend: str, tmp_path: Path) -> None:
    """/karta calls the API in-process for each page; the visitor's address pays, as it would
    calling the API itself, and the map answers 429 when that budget is spent."""
    async with small_budgets(backend, tmp_path, rate_limit_anonymous_points=300) as api:
        visitor, other = address(), address()
        transport = httpx.ASGITransport(app=api.app, client=(visitor, 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as browser:
            assert (await browser.get("/karta/")).status_code == 200
            left = (await rate(api, ip=visitor))["remaining"]
            assert 0 < left < 300 - 1
            assert (await rate(api, ip=other))["remaining"] == 300 - 1
            page_cost = 300 - 1 - left
            statuses = [(await browser.get("/karta/")).status_code for _ in range(left // page_cost + 1)]
            assert statuses == [200] * (left // page_cost) + [429]
            assert "Too many requests" in (await browser.get("/karta/?lang=en")).text


def test_one_address_is_one_caller_however_it_is_spelled() -> None:
    """IPv6 has many spellings of one address; the budget must not split between them."""
    from starlette.requests import Request

    from services.gateway.graphql.identity.mutations import client_ip

    def peer(host: str, forwarded: str | None = None) -> Request:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return Request({"type": "http", "client": (host, 1), "headers": headers})

    spellings = ["2001:db8::0abc:0001", "2001:DB8:0:0:0:0:abc:1", "2001:db8::abc:1"]
    assert {client_ip(peer(s)) for s in spellings} == {"2001:db8::abc:1"}
    assert {client_ip(peer("127.0.0.1", s)) for s in spellings} == {"2001:db8::abc:1"}
    assert client_ip(peer("testclient")) == "testclient"
