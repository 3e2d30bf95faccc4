"""One request's view of the panel: its session, language, the moderator's capabilities, the
GraphQL calls made for them, and the responses (pages, redirects, refusals) that carry the
session cookie back."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web import i18n
from services.web.formats import local_input, parse_instant
from services.web.gql import GatewayClient, GraphQLFailure, UserErrors
from services.web.gql import payload as mutation_payload
from services.web.session import COOKIE, COOKIE_PATH, SessionCodec, SessionData
from shared.settings import Settings

MAX_FORM_BYTES = 64 * 1024
R = TypeVar("R", bound=Response)
# Refresh a little before the access token runs out, so a call never carries a dead one.
REFRESH_MARGIN_SECONDS = 30

CAPABILITIES = "{ moderationCapabilities { platform hubs { id slug name } } viewer { member { platformRole } } }"
REFRESH = """mutation($i: RefreshTokenInput!) { refreshSession(input: $i) {
  session { accessToken accessTokenExpiresAt refreshToken member { id handle } }
  userErrors { field message code } } }"""


@dataclass
class WebState:
    """What the panel app holds for all its requests (on app.state.web)."""

    settings: Settings
    gateway: GatewayClient
    codec: SessionCodec
    templates: jinja2.Environment


class PanelError(Exception):
    """A refusal shown as a page: 403, 404, 429, 502..."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class LoginRequired(Exception):
    pass


@dataclass
class FormErrors(Exception):
    """A form the API refused: messages by form field, and those that belong to no field."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)

    @classmethod
    def from_api(cls, errors: list[dict[str, Any]], fields: set[str]) -> FormErrors:
        out = cls()
        for error in errors:
            out.codes.add(str(error.get("code") or "BAD_USER_INPUT"))
            name = str(error.get("field") or "").rsplit(".", 1)[-1]
            message = str(error.get("message") or "")
            if name in fields and name not in out.by_field:
                out.by_field[name] = message
            else:
                out.general.append(message)
        return out


@dataclass
class FormState:
    """A submitted form to show again: what the user typed and what was wrong with it."""

    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)


@dataclass
class Capabilities:
    platform: bool
    hubs: list[dict[str, Any]]
    admin: bool = False  # a platform admin: also sees the dead-letter jobs

    def hub_ids(self) -> set[str]:
        return {str(h["id"]) for h in self.hubs}


@dataclass
class Panel:
    request: Request
    web: WebState
    session: SessionData
    dirty: bool = False
    caps: Capabilities | None = None
    form: dict[str, str] = field(default_factory=dict)

    # --- the request ----------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.web.settings

    @property
    def lang(self) -> str:
        return self.session.lang or i18n.negotiate(self.request.headers.get("accept-language", ""))

    def _(self, message: str, **variables: Any) -> str:
        text = i18n.translate(self.lang, message)
        return text % variables if variables else text

    def url(self, path: str, **query: Any) -> str:
        """A panel path ("/cases") as the browser addresses it ("/admin/cases?...")."""
        root = str(self.request.scope.get("root_path", "")).rstrip("/")
        params = {k: v for k, v in query.items() if v not in (None, "", False)}
        return root + path + ("?" + urlencode(params) if params else "")

    @property
    def path(self) -> str:
        """This page's panel path ("/cases"), without the mount point."""
        root = str(self.request.scope.get("root_path", "")).rstrip("/")
        path = self.request.url.path
        return (path[len(root) :] if root and path.startswith(root) else path) or "/"

    @property
    def here(self) -> str:
        """This page's panel path with its query, to come back to. A page answering a POST
        (a form shown again) comes back to the page the form was on."""
        if self.request.method != "GET":
            referer = urlsplit(self.request.headers.get("referer", ""))
            root = str(self.request.scope.get("root_path", "")).rstrip("/")
            same_site = f"{referer.scheme}://{referer.netloc}".lower() in self.own_origins()
            if same_site and referer.path.startswith(root + "/"):
                return safe_next(referer.path[len(root) :] + ("?" + referer.query if referer.query else ""))
            return "/"
        query = self.request.url.query
        return self.path + ("?" + query if query else "")

    @property
    def is_https(self) -> bool:
        proto = self.request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return self.request.url.scheme == "https" or proto == "https"

    def own_origins(self) -> set[str]:
        scheme = "https" if self.is_https else self.request.url.scheme
        origins = {f"{scheme}://{self.request.headers.get('host', '')}".lower()}
        public = urlsplit(self.settings.public_url)
        if public.scheme and public.netloc:
            origins.add(f"{public.scheme}://{public.netloc}".lower())
        return origins

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    async def read_form(self) -> None:
        """Parse a urlencoded POST and refuse it (403) unless it carries this session's CSRF
        token and, when the browser names its origin, comes from the panel's own."""
        origin = self.request.headers.get("origin")
        if origin is not None and origin.lower() not in self.own_origins():
            raise PanelError(403, self._("This form was sent from another site and was refused."))
        content_type = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = b""
        async for chunk in self.request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise PanelError(413, self._("The form is too large."))
        if content_type == "application/x-www-form-urlencoded":
            try:
                parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
            except (UnicodeDecodeError, ValueError):
                parsed = {}
            self.form = {k: v[0] for k, v in parsed.items()}
        if not self.session.csrf_matches(self.form.get("csrf")):
            raise PanelError(403, self._("The form has expired or was not sent from this panel. Please try again."))

    def value(self, name: str, default: str = "") -> str:
        return self.form.get(name, default).strip()

    # --- GraphQL --------------------------------------------------------------------------

    async def _refresh(self) -> None:
        try:
            data = await self.web.gateway.execute(
                REFRESH, {"i": {"refreshToken": self.session.refresh_token}}, token=None, client_ip=self.client_ip
            )
            session = (data.get("refreshSession") or {}).get("session")
        except GraphQLFailure as exc:
            if exc.code not in ("UNAUTHENTICATED", "BAD_USER_INPUT", "FORBIDDEN"):
                raise PanelError(502, self._("The service is not answering. Please try again shortly.")) from exc
            session = None
        if not session:
            self.sign_out()
            self.flash("error", self._("Your session has ended. Please log in again."))
            raise LoginRequired
        self.start_session(session)

    def start_session(self, session: dict[str, Any]) -> None:
        expires = parse_instant(session.get("accessTokenExpiresAt"))
        self.session.access_token = session["accessToken"]
        self.session.refresh_token = session["refreshToken"]
        self.session.expires_at = expires.timestamp() if expires else time.time() + 60
        member = session.get("member") or {}
        self.session.member_id = member.get("id", self.session.member_id)
        self.session.handle = member.get("handle", self.session.handle)
        self.dirty = True

    def sign_out(self) -> None:
        self.session.sign_out()
        self.caps = None
        self.dirty = True

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, anonymous: bool = False) -> Any:
        """Run an operation as the signed-in moderator (refreshing the access token when it is
        due). Refusals become pages; BAD_USER_INPUT is left to the caller as GraphQLFailure."""
        if anonymous:
            return await self._execute(query, variables, None)
        if not self.session.signed_in:
            raise LoginRequired
        if self.session.expires_at - REFRESH_MARGIN_SECONDS <= time.time():
            await self._refresh()
        try:
            return await self._execute(query, variables, self.session.access_token)
        except GraphQLFailure as exc:
            if exc.code != "UNAUTHENTICATED":
                raise
        # The token was refused before its time (a new signing key, say): refresh once.
        await self._refresh()
        return await self._execute(query, variables, self.session.access_token)

    async def _execute(self, query: str, variables: dict[str, Any] | None, token: str | None) -> Any:
        try:
            return await self.web.gateway.execute(query, variables, token=token, client_ip=self.client_ip)
        except GraphQLFailure as exc:
            if exc.code == "FORBIDDEN":
                raise PanelError(403, self._("You may not do this.")) from exc
            if exc.code == "NOT_FOUND":
                raise PanelError(404, self._("Not found.")) from exc
            if exc.code == "RATE_LIMITED":
                raise PanelError(429, self._("Too many requests. Please wait a moment.")) from exc
            if exc.code in ("UNAVAILABLE", "INTERNAL"):
                raise PanelError(502, self._("The service is not answering. Please try again shortly.")) from exc
            raise

    async def mutate(self, query: str, variables: dict[str, Any], name: str, fields: set[str]) -> dict[str, Any]:
        """Run a mutation; its userErrors, and a BAD_USER_INPUT refusal, raise FormErrors."""
        try:
            return mutation_payload(await self.gql(query, variables), name)
        except UserErrors as exc:
            raise FormErrors.from_api(exc.errors, fields) from exc
        except GraphQLFailure as exc:
            if exc.code != "BAD_USER_INPUT":
                raise
            raise FormErrors.from_api([{"field": exc.field, "message": exc.message, "code": exc.code}], fields) from exc

    async def load_capabilities(self) -> Capabilities:
        data = await self.gql(CAPABILITIES)
        caps = data["moderationCapabilities"]
        role = ((data.get("viewer") or {}).get("member") or {}).get("platformRole")
        hubs = list(caps.get("hubs") or [])
        self.caps = Capabilities(platform=bool(caps["platform"]), hubs=hubs, admin=role == "ADMIN")
        return self.caps

    # --- responses ------------------------------------------------------------------------

    def flash(self, kind: str, message: str) -> None:
        self.session.flashes.append((kind, message))
        self.dirty = True

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        flashes, self.session.flashes = self.session.flashes, []
        if flashes:
            self.dirty = True
        context.setdefault("active", "")  # the section to mark in the navigation; a page sets its own
        html = self.web.templates.get_template(template).render(
            p=self, lang=self.lang, caps=self.caps, session=self.session, flashes=flashes, **context
        )
        return self.finish(HTMLResponse(html, status_code=status))

    def redirect(self, path: str, **query: Any) -> RedirectResponse:
        return self.finish(RedirectResponse(self.url(path, **query), status_code=303))

    def finish(self, response: R) -> R:
        if self.dirty or COOKIE not in self.request.cookies:
            response.set_cookie(
                COOKIE,
                self.web.codec.dumps(self.session),
                path=COOKIE_PATH,
                httponly=True,
                samesite="lax",
                secure=self.is_https,
            )
        return response


def safe_next(value: str | None) -> str:
    """A panel path to return to after log-in; anything else (another site) becomes "/"."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):  # browsers drop tabs: "/\t/evil" is "//evil"
        return "/"
    return value


# --- FastAPI dependencies: who may see a page ------------------------------------------------


def panel_of(request: Request) -> Panel:
    """This request's Panel: made once, from the session cookie (or a new session)."""
    existing = getattr(request.state, "panel", None)
    if isinstance(existing, Panel):
        return existing
    web: WebState = request.app.state.web
    session = web.codec.loads(request.cookies.get(COOKIE))
    panel = Panel(request, web, session or SessionData(), dirty=session is None)
    request.state.panel = panel
    return panel


async def visitor(request: Request) -> Panel:
    """Anyone: the session from the cookie (or a new one); a POST must pass the CSRF check
    before anything else happens."""
    panel = panel_of(request)
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGUAGES and chosen != panel.session.lang:
        panel.session.lang = chosen
        panel.dirty = True
    if request.method == "POST":
        await panel.read_form()
    return panel


async def moderator(request: Request) -> Panel:
    """A signed-in platform or hub moderator; anyone else signed in gets 403."""
    panel = await visitor(request)
    if not panel.session.signed_in:
        raise LoginRequired
    await panel.load_capabilities()
    return panel


async def platform_moderator(request: Request) -> Panel:
    panel = await moderator(request)
    if not (panel.caps and panel.caps.platform):
        raise PanelError(403, panel._("Only platform moderators may use this page."))
    return panel


async def platform_admin(request: Request) -> Panel:
    panel = await platform_moderator(request)
    if not (panel.caps and panel.caps.admin):
        raise PanelError(403, panel._("Only platform administrators may use this page."))
    return panel


DECISION_FIELDS = {"action", "reason", "suspendUntil"}


def decision_form(p: Panel, actions: Any, reason_hint: str) -> tuple[dict[str, str], FormErrors, dict[str, Any]]:
    """A decision form as posted: its values (to show again), what is wrong with them, and
    the decision for the API (action and reason, and the end of a SUSPEND)."""
    values = {name: p.value(name) for name in DECISION_FIELDS}
    errors = FormErrors()
    if values["action"] not in actions:
        errors.by_field["action"] = p._("Choose a decision.")
    if not values["reason"]:
        errors.by_field["reason"] = reason_hint
    try:
        suspend_until = local_input(values["suspendUntil"])
    except ValueError:
        suspend_until = None
        errors.by_field["suspendUntil"] = p._("Give a date and time.")
    if values["action"] == "SUSPEND" and not suspend_until and "suspendUntil" not in errors.by_field:
        errors.by_field["suspendUntil"] = p._("A suspension needs an end.")
    decision: dict[str, Any] = {"action": values["action"], "reason": values["reason"]}
    if values["action"] == "SUSPEND":
        decision["suspendUntil"] = suspend_until
    return values, errors, decision
