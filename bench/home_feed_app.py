"""The server of bench/home_feed.py: the normal gateway app, as `hubben serve` runs it, with
one more route, `/bench/home-feed`, mounted only here. It is the floor the GraphQL path is
compared with: a plain FastAPI JSON endpoint that reads the same data the same way, through
the same service clients in the same process: the caller signed in as /graphql does it, the
feed's home page, then the page's authors in one batch from the graph service (as the
per-request DataLoader batches them), and the same fields written as the same JSON document
the GraphQL query answers with (`data.homeFeed`).

    uvicorn bench.home_feed_app:create_app --factory   (settings from HUBBEN_* as for serve)
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from services.feed import contracts as fc
from services.gateway.app import create_app as create_gateway_app
from services.gateway.context import authenticate
from services.graph import contracts as graph_contracts
from shared.ids import to_global_id
from shared.pagination import MAX_PAGE, PageRequest
from shared.settings import get_settings

# The GraphQL document the benchmark sends; the plain endpoint answers with what its
# `homeFeed` holds, field for field.
HOME_FEED_QUERY = """query HomeFeed($first: Int!) {
  homeFeed(first: $first) {
    edges {
      cursor
      node {
        __typename
        ... on Post {
          id
          kind
          title
          body
          createdAt
          commentsCount
          reactions { like insightful celebrate support total }
          author { id handle displayName headline avatarUrl }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _author(m: graph_contracts.MemberOut | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "id": to_global_id("Member", m.id),
        "handle": m.handle,
        "displayName": m.display_name,
        "headline": m.headline,
        "avatarUrl": m.avatar_url,
    }


def _post(p: fc.PostOut, author: graph_contracts.MemberOut | None) -> dict[str, Any]:
    counts = p.reaction_counts
    return {
        "__typename": "Post",
        "id": to_global_id("Post", p.id),
        "kind": p.kind.upper(),
        "title": p.title,
        "body": p.body,
        "createdAt": p.created_at.isoformat(),
        "commentsCount": p.comments_count,
        "reactions": {
            "like": counts.get("like", 0),
            "insightful": counts.get("insightful", 0),
            "celebrate": counts.get("celebrate", 0),
            "support": counts.get("support", 0),
            "total": sum(counts.values()),
        },
        "author": _author(author),
    }


def add_plain_home_feed(app: FastAPI) -> None:
    @app.get("/bench/home-feed")
    async def home_feed(request: Request, first: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 20) -> JSONResponse:
        state = request.app.state
        viewer = await authenticate(request.headers.get("authorization"), state.codec, state.graph)
        page = await state.feed.home(viewer, PageRequest(first=first))
        author_ids = list(dict.fromkeys(i.post.author_id for i in page.items if i.post is not None))
        found = await state.graph.members(viewer, author_ids) if author_ids else []
        authors = {m.id: m for m in found}
        edges = [
            {"cursor": cursor, "node": _post(item.post, authors.get(item.post.author_id))}
            for cursor, item in zip(page.cursors, page.items, strict=True)
            if item.post is not None  # the benchmark's feeds hold posts only
        ]
        return JSONResponse(
            {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": page.has_next_page,
                    "endCursor": page.cursors[-1] if page.cursors else None,
                },
            }
        )


class GcClock:
    """CPU time the collector spends per generation (the benchmark reads and resets it per run:
    a page of GraphQL makes many short-lived objects, and collections scale with the heap)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.reset()
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.thread_time()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.thread_time() - self.started
            self.count[generation] += 1

    def read(self) -> dict[str, Any]:
        out = {"collections": list(self.count), "seconds": [round(s, 4) for s in self.seconds]}
        self.reset()
        return out


def _gc_experiment(app: FastAPI, mode: str) -> None:
    """HUBBEN_BENCH_GC, to measure the collector's settings (not the production shape):
    `unfrozen` undoes the gateway's gc.freeze() once the app has started (the app as it was
    before it froze its start-up heap); `threshold:N` collects the youngest generation every
    N allocations instead of 700."""
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with started(a) as state:
            if mode == "unfrozen":
                gc.unfreeze()
            elif mode.startswith("threshold:"):
                gc.set_threshold(int(mode.split(":", 1)[1]), 10, 10)
            yield state

    app.router.lifespan_context = lifespan


def create_app() -> FastAPI:
    app = create_gateway_app(get_settings())
    add_plain_home_feed(app)
    clock = GcClock()
    mode = os.environ.get("HUBBEN_BENCH_GC", "")
    if mode:
        _gc_experiment(app, mode)

    @app.post("/bench/gc")
    async def gc_stats() -> dict[str, Any]:
        """The collector's work since the last call, and the objects it tracks."""
        return {**clock.read(), "tracked_objects": len(gc.get_objects())}

    return app
