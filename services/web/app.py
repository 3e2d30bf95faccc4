"""The admin panel's ASGI app, mounted by the gateway at /admin (or run on its own with
HUBBEN_GATEWAY_URL). It keeps no data: every page is GraphQL calls to the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web import formats, i18n, vocabulary
from services.web.gql import GatewayClient, GraphQLFailure
from services.web.panel import FormState, LoginRequired, PanelError, WebState, panel_of, safe_next
from services.web.session import SessionCodec, load_session_key
from services.web.views import auth, cases, platform
from shared.settings import Settings

HERE = Path(__file__).resolve().parent
log = structlog.get_logger("hubben.web")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a tile URL's host ("https://*.tile.example" for a {s} subdomain);
    None without tiles."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def map_security_headers(settings: Settings, connect: str | None = None) -> dict[str, str]:
    """The public map's headers: as the panel's, but images from the tile server only (and
    ours), GraphQL calls to `connect` (the gateway's origin when it is elsewhere), and the
    origin sent as Referer to the tile server, as OpenStreetMap's tile policy asks."""
    images = " ".join(s for s in ("'self'", "data:", tile_source(settings.map_tile_url)) if s)
    connects = " ".join(s for s in ("'self'", connect) if s)
    return {
        **SECURITY_HEADERS,
        "content-security-policy": (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; connect-src {connects}; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "referrer-policy": "strict-origin-when-cross-origin",
    }


class SecurityHeaders:
    """On every response of the panel (or, given `headers`, the map); pages (everything but
    /static) are never cached."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = headers or SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = str(scope.get("root_path", ""))
        static = str(scope.get("path", "")).removeprefix(root).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = self.headers
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in ours]
                headers += [(k.encode(), v.encode()) for k, v in ours.items()]
                if not static:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


@jinja2.pass_context
def _options(context: jinja2.runtime.Context, labels: dict[str, str], keys: Iterable[str] | None = None) -> list[Any]:
    """(value, label in the page's language) pairs for a <select>, of `keys` if given, in order."""
    lang = str(context.get("lang"))
    return [(k, i18n.translate(lang, labels[k])) for k in (keys if keys is not None else labels) if k in labels]


def _pairs(items: list[dict[str, Any]], value: str, label: str) -> list[Any]:
    return [(item[value], item[label]) for item in items]


@jinja2.pass_context
def _audit_actions(context: jinja2.runtime.Context) -> list[Any]:
    lang = str(context.get("lang"))
    subjects = {"case": "Case", "content": "Content", **vocabulary.AUDIT_TARGETS}
    out = []
    for action in vocabulary.AUDIT_ACTIONS:
        subject = subjects.get(action.split(".")[0], action)
        label = f"{i18n.translate(lang, subject)}: {i18n.translate(lang, vocabulary.audit_action(action))}"
        out.append((action, label))
    return out


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n.install(env)
    env.filters["when"] = formats.when
    env.filters["iso"] = formats.iso
    env.filters["pretty_json"] = formats.pretty_json
    env.globals["vocabulary"] = vocabulary
    env.globals["options"] = _options
    env.globals["pairs"] = _pairs
    env.globals["audit_actions"] = _audit_actions
    env.globals["blank"] = FormState
    env.globals["languages"] = {"sv": "Svenska", "en": "English"}
    return env


def create_app(settings: Settings, gateway: ASGIApp | None = None) -> FastAPI:
    """The panel; `gateway` is the gateway app to call in-process, else settings.gateway_url."""
    client = GatewayClient(settings, gateway)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Runs only when the panel is its own app; mounted, it lives as long as the gateway.
        yield
        await client.aclose()

    app = FastAPI(title="Hubben admin", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    try:
        key = load_session_key(settings)
    except RuntimeError as exc:
        # Without a shared key the panel stays shut, and says why; the API keeps serving.
        log.error("web.disabled", reason=str(exc))
        message = f"The admin panel is not configured: {exc}."

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def _shut(path: str) -> Response:
            return PlainTextResponse(message, status_code=503)

        return app
    codec = SessionCodec(key, settings.refresh_token_ttl_days * 86_400)
    app.state.web = WebState(settings=settings, gateway=client, codec=codec, templates=templates())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(platform.router)

    @app.exception_handler(PanelError)
    async def _refused(request: Request, exc: PanelError) -> Response:
        p = panel_of(request)
        response = p.render("error.html", status=exc.status, status_code=exc.status, message=exc.message)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(LoginRequired)
    async def _log_in_first(request: Request, _: LoginRequired) -> Response:
        p = panel_of(request)
        here = safe_next(p.here) if request.method == "GET" else "/"
        return p.redirect("/login", next=here if here != "/" else None)

    @app.exception_handler(GraphQLFailure)
    async def _failed(request: Request, exc: GraphQLFailure) -> Response:
        p = panel_of(request)
        status = 400 if exc.code == "BAD_USER_INPUT" else 502
        return p.render("error.html", status=status, status_code=status, message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        p = panel_of(request)
        message = p._("Not found.") if exc.status_code == 404 else str(exc.detail)
        return p.render("error.html", status=exc.status_code, status_code=exc.status_code, message=message)

    return app
