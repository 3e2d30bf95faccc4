"""Log-in, log-out and the language switch."""

from __future__ import annotations

import math
import re

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from services.web import i18n, operations
from services.web.gql import GraphQLFailure
from services.web.panel import COOKIE, FormErrors, FormState, LoginRequired, Panel, PanelError, safe_next, visitor
from services.web.session import COOKIE_PATH

router = APIRouter()
LOGIN_FIELDS = {"email", "password"}


def _login_page(p: Panel, form: FormState | None = None, status: int = 200, retry_after: int | None = None) -> Response:
    response = p.render(
        "login.html", status=status, form=form or FormState(), next=safe_next(p.request.query_params.get("next"))
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login")
async def login_form(p: Panel = Depends(visitor)) -> Response:
    if p.session.signed_in:
        return p.redirect(safe_next(p.request.query_params.get("next")))
    if p.request.query_params.get("signed_out"):
        p.session.flashes.append(("success", p._("You have logged out.")))
    return _login_page(p)


def _wait(p: Panel, failure: GraphQLFailure) -> tuple[str, int | None]:
    """How long to wait, from the refusal: extensions.retryAfter (seconds), else the message."""
    seconds: int | None = None
    raw = failure.extensions.get("retryAfter")
    if isinstance(raw, int | float) and raw >= 0:
        seconds = math.ceil(raw)
    else:
        found = re.search(r"(\d+)\s*(second|sekund|minute|minut)", failure.message)
        if found:
            seconds = int(found.group(1)) * (60 if found.group(2).startswith("minut") else 1)
    if seconds is None:
        return p._("a while"), None
    if seconds < 60:
        return p._("%(n)s seconds", n=seconds), seconds
    return p._("%(n)s minutes", n=math.ceil(seconds / 60)), seconds


@router.post("/login")
async def log_in(p: Panel = Depends(visitor)) -> Response:
    values = {"email": p.value("email"), "next": safe_next(p.form.get("next"))}
    credentials = {"email": values["email"], "password": p.form.get("password", "")}
    try:
        data = await p.gql(operations.LOG_IN, {"i": credentials}, anonymous=True)
    except GraphQLFailure as exc:
        if exc.code == "UNAUTHENTICATED":
            errors = FormErrors(general=[p._("Wrong email address or password.")])
            return _login_page(p, FormState(values, errors), status=401)
        if exc.code == "BAD_USER_INPUT":
            errors = FormErrors.from_api([{"field": exc.field, "message": exc.message}], LOGIN_FIELDS)
            return _login_page(p, FormState(values, errors), status=422)
        raise
    except PanelError as exc:
        if exc.status == 429:
            failure = exc.__cause__
            wait, seconds = _wait(p, failure) if isinstance(failure, GraphQLFailure) else (p._("a while"), None)
            errors = FormErrors(general=[p._("Too many attempts. Try again in %(wait)s.", wait=wait)])
            return _login_page(p, FormState(values, errors), status=429, retry_after=seconds)
        if exc.status == 403:  # a banned or otherwise refused account: graph says why
            cause = exc.__cause__
            message = cause.message if isinstance(cause, GraphQLFailure) else exc.message
            return _login_page(p, FormState(values, FormErrors(general=[message])), status=403)
        raise
    result = data.get("logIn") or {}
    if result.get("userErrors") or not result.get("session"):
        errors = FormErrors.from_api(result.get("userErrors") or [], LOGIN_FIELDS)
        return _login_page(p, FormState(values, errors), status=422)
    lang = p.session.lang
    p.session.sign_out()  # a new CSRF token for the signed-in session
    p.session.lang = lang
    p.start_session(result["session"])
    return p.redirect(values["next"])


@router.post("/logout")
async def log_out(p: Panel = Depends(visitor)) -> Response:
    if p.session.signed_in:
        try:
            await p.gql(operations.LOG_OUT, {"i": {"refreshToken": p.session.refresh_token}})
        except (GraphQLFailure, PanelError, LoginRequired):
            pass  # the cookie goes, whatever the gateway says
    response = RedirectResponse(p.url("/login", signed_out=1), status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=p.is_https, httponly=True, samesite="lax")
    return response


@router.post("/language")
async def language(p: Panel = Depends(visitor)) -> Response:
    chosen = p.value("lang")
    if chosen in i18n.LANGUAGES:
        p.session.lang = chosen
        p.dirty = True
    return p.redirect(safe_next(p.form.get("next")))
