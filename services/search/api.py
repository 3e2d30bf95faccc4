"""The search service's REST API. Every route needs an internal token (see shared.web):
the gateway searches on behalf of its viewer, whose principal the token carries."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response

from services.search import contracts as c
from services.search import service
from services.search.backends import open_engine
from services.search.engine import SearchEngine
from services.search.jobs_api import router as failed_jobs_router
from shared.errors import Conflict
from shared.settings import Settings
from shared.web import Actor, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "search"
router = APIRouter(prefix="/v1")
log = structlog.get_logger("hubben.search")


# async, though they do not wait: FastAPI runs a plain `def` dependency in its thread pool,
# two thread hops per search for nothing.
async def engine_of(request: Request) -> SearchEngine:
    return request.app.state.index  # type: ignore[no-any-return]


async def sources_of(request: Request) -> service.Sources:
    return request.app.state.sources  # type: ignore[no-any-return]


Engine = Annotated[SearchEngine, Depends(engine_of)]
Sources = Annotated[service.Sources, Depends(sources_of)]


@router.post("/search", response_model=c.SearchOut)
async def search(data: c.SearchIn, actor: Actor, engine: Engine, sources: Sources) -> Response:
    out = await service.search(engine, await service.scope_of(sources, actor), data)
    # Serialised once, by the model that made it (FastAPI would validate it all again).
    return Response(out.model_dump_json(), media_type="application/json")


@router.post("/suggest", response_model=c.SuggestOut)
async def suggest(data: c.SuggestIn, actor: Actor, engine: Engine, sources: Sources) -> c.SuggestOut:
    return await service.suggest(engine, await service.scope_of(sources, actor), data)


async def rebuild(app: FastAPI) -> None:
    """Refill an index that a new version's schema started afresh, from the owners' data.
    Another process may be at it already (a reindex then refuses to start)."""
    try:
        out = await service.reindex(app.state.index, app.state.sources, app.state.sessionmaker)
    except Conflict:
        log.info("search.rebuild_elsewhere")
    except Exception:
        log.exception("search.rebuild_failed", action="run `hubben search reindex`")
    else:
        log.info("search.rebuilt", generation=out.generation, documents=out.documents)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings, graph: Any = None, feed: Any = None, engine: SearchEngine | None = None) -> FastAPI:
    """`graph`/`feed`: the gateway's clients in one process; otherwise made for
    HUBBEN_GRAPH_URL and HUBBEN_FEED_URL. `engine`: shared with this process's jobs."""

    async def resources(app: FastAPI, stack: AsyncExitStack) -> None:
        from services.feed.client import FeedClient
        from services.graph.client import GraphClient

        graph_client = graph or GraphClient.remote(settings.graph_url, app.state.codec, service=SERVICE)
        feed_client = feed or FeedClient.remote(settings.feed_url, app.state.codec, service=SERVICE)
        for client, given in ((graph_client, graph), (feed_client, feed)):
            if given is None:
                stack.push_async_callback(client.aclose)
        app.state.sources = service.Sources(graph=graph_client, feed=feed_client)
        if engine is not None:
            app.state.index = engine
        else:
            app.state.index = open_engine(settings)
            stack.push_async_callback(app.state.index.close)
        if await app.state.index.stale():
            # Searches answer from the empty index meanwhile; the rebuild swaps the full one in.
            stack.push_async_callback(_stop, asyncio.create_task(rebuild(app)))

    app = create_service_app(SERVICE, settings, router, MIGRATIONS, resources)
    app.include_router(failed_jobs_router)
    return app
