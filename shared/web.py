"""What every service's FastAPI app shares: error mapping, the caller's principal from the
internal token, the unit-of-work session, and request-body limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal, TokenCodec
from shared.database import session_scope
from shared.errors import DomainError, Unauthenticated


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validation_field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path") and not isinstance(p, int)]
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
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid input"}
        message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
        return JSONResponse(
            {"code": "BAD_USER_INPUT", "message": message, "field": validation_field(first.get("loc", ()))},
            status_code=422,
        )


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
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


Actor = Annotated[Principal, Depends(caller)]
Session = Annotated[AsyncSession, Depends(unit_of_work)]


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
