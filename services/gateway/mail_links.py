"""The pages links in mails open: unsubscribe (with RFC 8058 one-click), email
verification and password reset. Small HTML pages in Swedish and English.

A GET only shows a page with a button; the POST does the work. Mail systems open links
to scan them, and a GET that acted would unsubscribe or use up a one-time token."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.context import SERVICE_PRINCIPAL
from shared.auth import ANONYMOUS
from shared.errors import DomainError, Unauthenticated

log = structlog.get_logger("hubben.gateway.mail_links")

router = APIRouter(prefix="/email")

HEADERS = {
    # The URL carries a token: keep it out of caches and other sites' referrer logs.
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}
STYLE = (
    "body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;background:#f3f4f6;color:#1f2933;"
    "margin:0;padding:40px 12px;line-height:1.5}main{max-width:520px;margin:0 auto;background:#fff;border-radius:8px;"
    "padding:24px 28px}h1{font-size:22px;margin:0 0 12px}p.en{color:#52606d;font-size:14px}"
    "button{background:#0b5cad;color:#fff;border:0;border-radius:6px;padding:10px 18px;font-size:16px;cursor:pointer}"
    "label{display:block;margin:12px 0 4px}input{font-size:16px;padding:8px;width:100%;box-sizing:border-box}"
    ".error{color:#ab091e}"
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – Hubben</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _both(sv: str, en: str) -> str:
    """A paragraph in Swedish, then the same in English (both already escaped)."""
    return f'<p>{sv}</p><p class="en" lang="en">{en}</p>'


def _button(action: str, sv: str, en: str, fields: str = "") -> str:
    return (
        f'<form method="post" action="{escape(action)}">{fields}'
        f'<button type="submit">{escape(sv)} / {escape(en)}</button></form>'
    )


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the gateway's body limit applies)."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, max_num_fields=20).items()}


def _token_param(request: Request) -> str:
    return request.query_params.get("token", "")[:4000]


# --- unsubscribe --------------------------------------------------------------------------------

BAD_UNSUBSCRIBE = _both(
    "Länken för att avsluta mejl är ogiltig. Inget har ändrats. Kopiera hela länken från mejlet, "
    "eller ändra dina inställningar för aviseringar när du är inloggad.",
    "This unsubscribe link is not valid. Nothing was changed. Copy the whole link from the mail, "
    "or change your notification settings while signed in.",
)


def _check_unsubscribe(request: Request) -> tuple[int, str] | None:
    try:
        return request.app.state.codec.verify_unsubscribe_token(_token_param(request))  # type: ignore[no-any-return]
    except Unauthenticated:
        return None


@router.get("/unsubscribe")
async def unsubscribe_page(request: Request) -> HTMLResponse:
    if _check_unsubscribe(request) is None:
        return page("Ogiltig länk", BAD_UNSUBSCRIBE, 400)
    action = f"/email/unsubscribe?{urlencode({'token': _token_param(request)})}"
    return page(
        "Avsluta mejl",
        _both(
            "Vill du sluta få den här sortens mejl från Hubben? Aviseringarna i appen påverkas inte.",
            "Do you want to stop getting this kind of mail from Hubben? Notifications in the app stay as they are.",
        )
        + _button(action, "Avsluta", "Unsubscribe"),
    )


@router.post("/unsubscribe")
async def unsubscribe(request: Request) -> HTMLResponse:
    """The page's button, and RFC 8058 one-click (a POST with `List-Unsubscribe=One-Click`)
    from a mail program: the token in the URL says who and what."""
    checked = _check_unsubscribe(request)
    if checked is None:
        return page("Ogiltig länk", BAD_UNSUBSCRIBE, 400)
    member_id, kind = checked
    try:
        done = await request.app.state.feed.unsubscribe(SERVICE_PRINCIPAL, member_id, kind)
    except DomainError as exc:
        if exc.status >= 500:
            raise
        log.warning("unsubscribe.refused", member_id=member_id, kind=kind, error=exc.message)
        return page("Ogiltig länk", BAD_UNSUBSCRIBE, 400)
    return page(
        "Klart",
        _both(
            f"Du får inte längre mejl om {escape(done.label.get('sv', kind))}.",
            f"You will no longer get mail about {escape(done.label.get('en', kind))}.",
        ),
    )


# --- email verification -----------------------------------------------------------------------------

BAD_LINK = _both(
    "Länken är ogiltig, har redan använts eller har gått ut. Be om en ny länk i Hubben.",
    "The link is not valid, has been used already or has expired. Ask for a new one in Hubben.",
)


@router.get("/verify")
async def verify_page(request: Request) -> HTMLResponse:
    token = _token_param(request)
    if not token:
        return page("Ogiltig länk", BAD_LINK, 400)
    return page(
        "Bekräfta e-postadressen",
        _both("Bekräfta att den här adressen är din.", "Confirm that this address is yours.")
        + _button("/email/verify", "Bekräfta", "Confirm", _hidden("token", token)),
    )


@router.post("/verify")
async def verify(request: Request) -> HTMLResponse:
    token = (await _form(request)).get("token", "")
    try:
        await request.app.state.graph.verify_email(ANONYMOUS, {"token": token})
    except DomainError as exc:
        if exc.status >= 500:
            raise
        return page("Ogiltig länk", BAD_LINK, 400)
    return page(
        "Adressen är bekräftad", _both("Tack! Din e-postadress är bekräftad.", "Thank you! Your address is confirmed.")
    )


# --- password reset -------------------------------------------------------------------------------


def _reset_form(token: str, error: str = "") -> str:
    return (
        (f'<p class="error">{escape(error)}</p>' if error else "")
        + _both("Välj ett nytt lösenord (minst 10 tecken).", "Choose a new password (at least 10 characters).")
        + '<form method="post" action="/email/reset-password">'
        + _hidden("token", token)
        + '<label for="p">Nytt lösenord / New password</label>'
        + '<input id="p" name="new_password" type="password" autocomplete="new-password" required minlength="10">'
        + '<p><button type="submit">Spara / Save</button></p></form>'
    )


@router.get("/reset-password")
async def reset_page(request: Request) -> HTMLResponse:
    token = _token_param(request)
    if not token:
        return page("Ogiltig länk", BAD_LINK, 400)
    return page("Nytt lösenord", _reset_form(token))


@router.post("/reset-password")
async def reset(request: Request) -> HTMLResponse:
    form = await _form(request)
    token = form.get("token", "")
    try:
        await request.app.state.graph.reset_password(
            ANONYMOUS, {"token": token, "new_password": form.get("new_password", "")}
        )
    except DomainError as exc:
        if exc.status >= 500:
            raise
        if exc.field in ("new_password", "newPassword"):
            return page("Nytt lösenord", _reset_form(token, exc.message), 400)
        return page("Ogiltig länk", BAD_LINK, 400)
    return page(
        "Lösenordet är bytt",
        _both(
            "Ditt lösenord är bytt. Logga in med det nya; andra inloggningar har avslutats.",
            "Your password is changed. Sign in with the new one; other sessions were ended.",
        ),
    )
