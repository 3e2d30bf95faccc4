"""The gateway: GraphQL at /graphql over the services' clients, plus health and readiness."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from services.feed.client import FeedClient
from services.gateway.context import SERVICE_PRINCIPAL, build_context
from services.gateway.graphql.notifications.subscriptions import MAX_SUBSCRIPTIONS
from services.gateway.graphql.schema import build_schema
from services.gateway.http import FIRST_PARTY, JSON, HubbenGraphQLRouter, graphql_response, negotiate
from services.gateway.mail_links import router as mail_links_router
from services.gateway.persisted import DocumentStore, PersistedQueries, load_manifest
from services.gateway.public import router as public_router
from services.graph.client import GraphClient
from services.moderation.client import ModerationClient
from services.search.client import SearchClient
from shared.auth import TokenCodec, load_key_pair
from shared.broker import Broker, MemoryBroker, RedisBroker
from shared.cli import SERVICES
from shared.errors import DomainError
from shared.settings import Settings
from shared.web import BodyLimitMiddleware
from shared.worker import JobHost

# The youngest generation is collected after this many net allocations (see the lifespan).
GC_YOUNG_THRESHOLD = 10_000


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def _first_party(app: ASGIApp) -> ASGIApp:
    """The gateway as the mounted panel and map call it in-process: marked as first party
    in the ASGI scope (which no HTTP client can set), so allow-list mode runs their documents."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, FIRST_PARTY: True} if scope["type"] == "http" else scope, receive, send)

    return asgi


def create_app(settings: Settings) -> FastAPI:
    allowlist = None
    if settings.graphql_persisted_queries == "allowlist":
        assert settings.graphql_allowlist is not None  # Settings refuses allowlist mode without one
        allowlist = load_manifest(settings.graphql_allowlist)  # a bad manifest stops the start

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            codec = TokenCodec(settings, load_key_pair(settings))
            app.state.codec = codec
            app.state.settings = settings
            graph, app.state.graph_app = await GraphClient.for_settings(settings, codec, stack)
            app.state.graph = graph
            feed, app.state.feed_app = await FeedClient.for_settings(settings, codec, stack, graph)
            app.state.feed = feed
            search, app.state.search_app = await SearchClient.for_settings(settings, codec, stack, graph, feed)
            app.state.search = search
            moderation, app.state.moderation_app = await ModerationClient.for_settings(
                settings, codec, stack, app.state.graph_app, app.state.feed_app
            )
            app.state.moderation = moderation
            app.state.redis = None
            if settings.redis_url:
                import redis.asyncio as aioredis

                app.state.redis = aioredis.from_url(settings.redis_url)
                stack.push_async_callback(app.state.redis.aclose)
            app.state.persisted_queries = PersistedQueries(
                settings.graphql_persisted_queries,
                DocumentStore(
                    app.state.redis,
                    settings.graphql_persisted_queries_ttl_seconds,
                    settings.graphql_persisted_queries_cache_size,
                ),
                allowlist,
            )
            broker: Broker = RedisBroker(app.state.redis) if app.state.redis is not None else MemoryBroker()
            stack.push_async_callback(broker.close)
            app.state.broker = broker
            app.state.jobs = None
            service_apps = {
                "graph": app.state.graph_app,
                "feed": app.state.feed_app,
                "search": app.state.search_app,
                "moderation": app.state.moderation_app,
            }
            if all(a is not None for a in service_apps.values()) and settings.run_jobs_in_process:
                # One process: this process relays the outboxes and runs the jobs.
                host = JobHost(
                    settings,
                    {name: a.state.sessionmaker for name, a in service_apps.items()},
                    graph=graph,
                    codec=codec,
                    broker=broker,
                    feed=feed,
                    search_index=app.state.search_app.state.index,
                )
                await host.start()
                stack.push_async_callback(host.stop)
                app.state.jobs = host
                for name, service_app in service_apps.items():
                    service_app.state.on_commit = lambda name=name: host.wake(name)
                if settings.demo_data and settings.embedded:
                    from services.feed.demo import seed_if_empty

                    await host.drain()  # the feed first learns the demo hub's members
                    await seed_if_empty(feed, graph)
            # What start-up made (modules, the schema, the services' engines and clients) lives
            # as long as the process: frozen, the collector no longer walks it in every full
            # collection. Under load that was ~0.2 s of CPU a full collection (~300,000 objects)
            # and 4.5 ms of collection a GraphQL page, 1.8 ms frozen (bench/home_feed.py). Unfrozen
            # on shutdown, so an app started and stopped (tests) leaves nothing uncollectable.
            gc.freeze()
            stack.callback(gc.unfreeze)
            # Under load the youngest generation filled about once a request at the default
            # threshold (700), promoting the objects of requests still in flight into older
            # generations that are walked again. Collected every 10,000 net allocations
            # instead: ~5 % less CPU a GraphQL page in process, and a third less time collecting
            # under load (bench/home_feed.py, one worker).
            stack.callback(gc.set_threshold, *gc.get_threshold())
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
            yield

    app = FastAPI(title="Hubben", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        # Raised before execution (authentication): answer in GraphQL's error shape.
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"data": None, "errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
        if request.url.path.rstrip("/") == "/graphql":
            # Refused before the request is read, as a proxy would: `data: null` stays, as before.
            media_type = negotiate(request.headers.get("accept")) or JSON
            return graphql_response(body, exc.status, media_type, headers)
        return JSONResponse(
            body,
            status_code=exc.status,
            headers=headers,
        )

    app.include_router(public_router)
    app.include_router(mail_links_router)
    graphql = HubbenGraphQLRouter(
        build_schema(),
        context_getter=build_context,
        # An allow-list admits only known documents, so GraphiQL would have nothing to run.
        graphql_ide=None if allowlist is not None else "graphiql",
        # Subscriptions over graphql-transport-ws only, signed in on connection_init.
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
        connection_init_wait_timeout=timedelta(seconds=10),
    )
    app.include_router(graphql, prefix="/graphql")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        for name in SERVICES:
            try:
                await getattr(request.app.state, name).call(SERVICE_PRINCIPAL, "GET", "/readyz")
                checks[name] = "ok"
            except Exception as exc:  # readiness reports every failure rather than raising it
                checks[name] = f"unavailable: {type(exc).__name__}"
        if request.app.state.redis is not None:
            try:
                await request.app.state.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"unavailable: {type(exc).__name__}"
        # Without Redis writes are still accepted (their jobs wait in the outboxes), so a
        # Redis outage degrades the gateway but does not take it out of the load balancer.
        ready = all(checks[name] == "ok" for name in SERVICES)
        status = "unavailable" if not ready else "ready" if all(v == "ok" for v in checks.values()) else "degraded"
        return JSONResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)

    from services.web.app import create_app as create_web_app
    from services.web.karta import create_karta_app
    from services.web.open_data import create_open_data_app

    app.mount("/admin", create_web_app(settings, gateway=_first_party(app)))
    app.mount("/karta", create_karta_app(settings, gateway=_first_party(app)))
    app.mount("/open-data", create_open_data_app(lambda: app.state.graph))
    return app
