"""The gateway: GraphQL at /graphql over the services' clients, plus health and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from cross_web import HTTPException as StrawberryHTTPException
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from graphql import GraphQLError, GraphQLFormattedError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from services.feed.client import FeedClient
from services.gateway.context import SERVICE_PRINCIPAL, build_context
from services.gateway.graphql.base import graphql_error_code
from services.gateway.graphql.notifications.subscriptions import MAX_SUBSCRIPTIONS, authenticate_connection
from services.gateway.graphql.schema import build_schema
from services.gateway.mail_links import router as mail_links_router
from services.gateway.public import router as public_router
from services.graph.client import GraphClient
from services.moderation.client import ModerationClient
from services.search.client import SearchClient
from shared.auth import TokenCodec, load_key_pair
from shared.broker import Broker, MemoryBroker, RedisBroker
from shared.cli import SERVICES
from shared.errors import DomainError, RateLimited
from shared.settings import Settings
from shared.web import BodyLimitMiddleware
from shared.worker import JobHost

log = structlog.get_logger("hubben.gateway")


def format_error(error: GraphQLError) -> GraphQLFormattedError:
    code = graphql_error_code(error)
    formatted = error.formatted
    if code == "INTERNAL":
        log.error("graphql.internal_error", error=repr(error.original_error or error), path=error.path)
        formatted["message"] = "internal error"
    if isinstance(error.original_error, DomainError) and error.original_error.field:
        formatted.setdefault("extensions", {})["field"] = error.original_error.field
    if isinstance(error.original_error, RateLimited) and error.original_error.retry_after is not None:
        formatted.setdefault("extensions", {})["retryAfter"] = error.original_error.retry_after
    formatted.setdefault("extensions", {})["code"] = code
    return formatted


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


class HubbenGraphQLRouter(GraphQLRouter[Any, None]):
    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # `null`, `42`, `"x"` would crash the view
            raise StrawberryHTTPException(400, "the request body must be a JSON object")
        return parsed

    async def on_ws_connect(self, context: Any) -> Any:
        return await authenticate_connection(context)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [format_error(e) for e in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def create_app(settings: Settings) -> FastAPI:
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
            yield

    app = FastAPI(title="Hubben", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        # Raised before execution (authentication): answer in GraphQL's error shape.
        return JSONResponse(
            {"data": None, "errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
            status_code=exc.status,
            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None,
        )

    app.include_router(public_router)
    app.include_router(mail_links_router)
    graphql = HubbenGraphQLRouter(
        build_schema(),
        context_getter=build_context,
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

    app.mount("/admin", create_web_app(settings, gateway=app))
    app.mount("/karta", create_karta_app(settings, gateway=app))
    app.mount("/open-data", create_open_data_app(lambda: app.state.graph))
    return app
