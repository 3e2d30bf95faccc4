"""What every service's FastAPI app shares: error mapping, the caller's principal from the
internal token, the unit-of-work session, and request-body limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal, TokenCodec, load_key_pair
from shared.database import make_sessionmaker, prepare_database, read_scope, session_scope
from shared.errors import BadUserInput, DomainError, Unauthenticated
from shared.pagination import MAX_PAGE, PageRequest
from shared.settings import Settings


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validation_field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    # Only the leading element says where the value came from; a field may itself be named "body".
    rest = list(loc)[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else list(loc)
    parts = [str(p) for p in rest if not isinstance(p, int)]
    return ".".join(_camel(p) for p in parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        body = exc.to_dict()
        if body["field"]:
            body["field"] = _camel(str(body["field"]))
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        error = bad_input(exc.errors())
        return JSONResponse({"code": error.code, "message": error.message, "field": error.field}, status_code=422)


def bad_input(errors: Sequence[Any]) -> BadUserInput:
    """Pydantic's validation errors as the one BadUserInput a client sees: the first error's
    message and the field it names (camelCase)."""
    first: dict[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid input"}
    message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
    field = validation_field(first.get("loc", ()))
    # A check across fields (a model validator) names its field on the error it raised.
    named = getattr((first.get("ctx") or {}).get("error"), "field", None)
    if field is None and isinstance(named, str):
        field = _camel(named)
    return BadUserInput(message, field=field)


def _codec(request: Request) -> TokenCodec:
    return request.app.state.codec  # type: ignore[no-any-return]


async def caller(request: Request) -> Principal:
    """Every service route is protected: the caller must present an internal token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("missing service token")
    return _codec(request).verify_internal_token(token)


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    if request.method in ("GET", "HEAD"):
        # Safe methods only read (HTTP's contract, and read_scope refuses writes).
        async with read_scope(request.app.state.sessionmaker) as session:
            yield session
        return
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session
    # Committed: let this service's outbox relay (if one runs in this process) deliver now.
    on_commit = getattr(request.app.state, "on_commit", None)
    if on_commit is not None:
        on_commit()


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a thread
# hop on every request that takes one.
async def page_params(
    first: Annotated[int | None, Query(ge=0, le=MAX_PAGE)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
    last: Annotated[int | None, Query(ge=0, le=MAX_PAGE)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> PageRequest:
    return PageRequest(first=first, after=after, last=last, before=before)


async def ids_param(ids: Annotated[str, Query(max_length=12000)]) -> list[int]:
    parts = ids.split(",") if ids else []
    if len(parts) > 500 or not all(p.isdigit() and len(p) <= 19 for p in parts):
        raise BadUserInput("ids: up to 500 comma-separated integers", field="ids")
    return [int(p) for p in parts]


Actor = Annotated[Principal, Depends(caller)]
# Function scope: the unit of work commits before the response is sent, so a caller that
# got an answer can read its own write (request scope would commit after sending).
Session = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]
Page = Annotated[PageRequest, Depends(page_params)]
Ids = Annotated[list[int], Depends(ids_param)]


class BodyLimitMiddleware:
    """Refuses bodies over the limit (413) and bodies that are not UTF-8 (400) before any parsing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, f"request body is larger than the limit of {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, f"request body is larger than the limit of {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            await _refuse(send, 400, "request body is not valid UTF-8")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    code = "BAD_USER_INPUT"
    payload = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code}}], "code": code, "message": message}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_service_app(
    service: str,
    settings: Settings,
    router: APIRouter,
    migrations: Path,
    extra: Callable[[FastAPI, AsyncExitStack], Awaitable[None]] | None = None,
) -> FastAPI:
    """A service's FastAPI app: its database (migrated or checked), token codec, error
    mapping, body limits, its routes, /healthz and /readyz. `extra` adds resources
    (other services' clients) to app.state within the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = await prepare_database(settings, service, migrations)
            stack.push_async_callback(engine.dispose)
            app.state.engine = engine
            app.state.sessionmaker = make_sessionmaker(engine)
            app.state.codec = TokenCodec(settings, load_key_pair(settings))
            app.state.settings = settings
            if extra is not None:
                await extra(app, stack)
            yield

    app = FastAPI(title=f"Hubben {service} service", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(actor: Actor) -> dict[str, str]:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ready"}

    return app
