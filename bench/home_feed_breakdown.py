"""Where the GraphQL home feed's own time goes: the same app in process, the services faked.

    python -m bench.home_feed_breakdown [--rounds 7] [--requests 300]

The gateway app of bench/home_feed_app.py (embedded settings, its real lifespan) with the
feed and graph clients replaced by fakes that answer at once with a page of 20 posts and
their authors shaped like the benchmark's, so what is left is the gateway's own work. Each
variant of the home-feed document leaves out part of the full one; the differences say what
each part costs. CPU time of this process per request (the least of `--rounds` rounds of
`--requests` requests each: the least disturbed by whatever else runs on the machine),
driven through the ASGI app directly (no sockets, no HTTP client). bench/home_feed.py runs it
and puts the table in its results."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.home_feed_app import HOME_FEED_QUERY, add_plain_home_feed
from services.feed import contracts as fc
from services.graph import contracts as graph_contracts
from shared.pagination import PageRequest, encode_cursor

AUTHOR = "author { id handle displayName headline avatarUrl }"
REACTIONS = "reactions { like insightful celebrate support total }"
VARIANTS = {
    "the full document": HOME_FEED_QUERY,
    "without authors": HOME_FEED_QUERY.replace(AUTHOR, ""),
    "without reactions": HOME_FEED_QUERY.replace(REACTIONS, ""),
    "without authors and reactions": HOME_FEED_QUERY.replace(AUTHOR, "").replace(REACTIONS, ""),
    "20 posts' ids only": "query HomeFeed($first: Int!) { homeFeed(first: $first) {"
    " edges { node { ... on Post { id } } } } }",
    "the page's pageInfo only": "query HomeFeed($first: Int!) { homeFeed(first: $first) { pageInfo { hasNextPage } } }",
    "{ __typename }": "query HomeFeed { __typename }",
}


def sample_page() -> tuple[fc.FeedPage, list[graph_contracts.MemberOut]]:
    now = datetime.now(UTC)
    members = [
        graph_contracts.MemberOut(
            id=(1 << 50) + i,
            handle=f"m{i:06d}",
            display_name="Anna Andersson",
            headline="AI-strateg",
            bio="",
            avatar_url=f"https://avatars.example.se/m{i:06d}.png",
            municipality_code="0114",
            organisation_id=None,
            skills=[],
            links=[],
            language="sv",
            platform_role="member",
            suspended_until=None,
            followers_count=12,
            following_count=40,
            created_at=now,
            updated_at=now,
        )
        for i in range(17)
    ]
    body = "Kommunen delar data om äldreomsorg och vi samverkan kring språkmodell i förvaltning. " * 3
    posts = [
        fc.PostOut(
            id=(1 << 52) + i,
            author_id=members[i % len(members)].id,
            organisation_id=None,
            hub_id=None,
            kind="update" if i % 5 else "news",
            title=None if i % 5 else "Nyheter från hubben",
            url=None,
            body=body,
            body_html=f"<p>{body}</p>",
            visibility="public",
            tags=["ai"],
            mentions=[],
            language="sv",
            comments_count=i % 4,
            reaction_counts={"like": 4, "insightful": 1} if i % 3 else {},
            pinned_at=None,
            created_at=now - timedelta(minutes=i),
            edited_at=None,
        )
        for i in range(20)
    ]
    page = fc.FeedPage(
        items=[fc.FeedItemOut(post=p) for p in posts],
        cursors=[encode_cursor(p.id) for p in posts],
        has_next_page=True,
        has_previous_page=False,
        total_count=None,
    )
    return page, members


class FakeFeed:
    def __init__(self, page: fc.FeedPage) -> None:
        self.page = page

    async def home(self, viewer: Any, req: PageRequest) -> fc.FeedPage:
        return self.page


class FakeGraph:
    def __init__(self, members: list[graph_contracts.MemberOut]) -> None:
        self.by_id = {m.id: m for m in members}

    async def members(self, viewer: Any, ids: list[int]) -> list[graph_contracts.MemberOut]:
        return [self.by_id[i] for i in ids if i in self.by_id]


async def _call(app: Any, method: str, path: str, query: bytes, body: bytes, token: str) -> bytes:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    out: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    if out[0]["status"] != 200:
        raise RuntimeError(f"{path}: {out}")
    return b"".join(m.get("body", b"") for m in out[1:])


async def _cpu_per_request(call: Any, rounds: int, requests: int) -> float:
    for _ in range(100):
        await call()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(requests):
            await call()
        best = min(best, (time.process_time() - t0) / requests)
    return best * 1e6


async def breakdown(rounds: int = 7, requests: int = 300) -> dict[str, Any]:
    """µs of CPU per request for each variant of the document and for the plain endpoint."""
    from services.gateway.app import create_app
    from shared.settings import Settings

    page, members = sample_page()
    async with AsyncExitStack() as stack:
        settings = Settings(
            var_dir=Path(stack.enter_context(tempfile.TemporaryDirectory())),
            demo_data=False,
            run_jobs_in_process=False,
            log_level="warning",
            **{"rate_limit_member_points": 10**12} if "rate_limit_member_points" in Settings.model_fields else {},
        )
        app = create_app(settings)
        add_plain_home_feed(app)
        await stack.enter_async_context(app.router.lifespan_context(app))
        app.state.feed, app.state.graph = FakeFeed(page), FakeGraph(members)
        token = app.state.codec.issue_access_token(members[0].id, ["member"])[0]
        plain = await _call(app, "GET", "/bench/home-feed", b"first=20", b"", token)
        out: dict[str, Any] = {"rounds": rounds, "requests_per_round": requests, "graphql_us": {}}
        for name, document in VARIANTS.items():
            variables = {"first": 20} if "$first" in document else {}
            body = json.dumps({"query": document, "variables": variables, "operationName": "HomeFeed"}).encode()
            answer = json.loads(await _call(app, "POST", "/graphql", b"", body, token))
            if answer.get("errors"):
                raise RuntimeError(f"{name}: {answer['errors']}")
            if document == HOME_FEED_QUERY and answer["data"]["homeFeed"] != json.loads(plain):
                raise RuntimeError("the GraphQL and the plain answers differ")

            async def graphql(body: bytes = body) -> bytes:
                return await _call(app, "POST", "/graphql", b"", body, token)

            out["graphql_us"][name] = round(await _cpu_per_request(graphql, rounds, requests))

        async def plain_call() -> bytes:
            return await _call(app, "GET", "/bench/home-feed", b"first=20", b"", token)

        out["plain_us"] = round(await _cpu_per_request(plain_call, rounds, requests))
    g = out["graphql_us"]
    out["parts_us"] = {
        "request handling (HTTP view, context, extensions, limits) above the plain endpoint's whole page": g[
            "{ __typename }"
        ]
        - out["plain_us"],
        "homeFeed resolver and the connection (20 Post objects, edges, pageInfo)": g["the page's pageInfo only"]
        - g["{ __typename }"],
        "20 edges' node (union type resolved) and id": g["20 posts' ids only"] - g["the page's pageInfo only"],
        "20 × cursor, __typename, kind, title, body, createdAt, commentsCount, and pageInfo": g[
            "without authors and reactions"
        ]
        - g["20 posts' ids only"],
        "20 × reactions (5 counts)": g["without authors"] - g["without authors and reactions"],
        "20 × author (loaded ahead in one batch, 5 fields)": g["the full document"] - g["without authors"],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(breakdown(args.rounds, args.requests)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
