"""Outgoing mail: messages rendered from Jinja2 templates (plain text with an HTML
alternative, in the member's language) and sent over SMTP with aiosmtplib.

With `HUBBEN_SMTP_HOST` empty (the development default) nothing is sent: each mail is
written to the log (`mail.not_sent`, with its text, so a developer can follow a
verification link from the console).

Templates live in one folder, two files per template and language:
`<name>.<lang>.txt` and `<name>.<lang>.html`. The text template sets the subject with
`{% set subject %}...{% endset %}`. HTML templates are autoescaped; text templates are
not (they are never shown as HTML). Languages are `sv` (the default) and `en`."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosmtplib
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from shared.database import utcnow
from shared.settings import Settings

log = structlog.get_logger("hubben.mail")

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Templates:
    """The mail templates of one folder."""

    def __init__(self, folder: Path) -> None:
        loader = FileSystemLoader(str(folder))
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        # Two environments over the same files, so a macro shared by both templates is
        # escaped when an HTML template calls it and left alone in plain text.
        self.text = Environment(autoescape=False, **common)
        self.html = Environment(autoescape=True, **common)

    def render(self, template: str, language: str | None, /, **context: Any) -> Rendered:
        lang = language_of(language)
        context = {"lang": lang, **context}
        module = self.text.get_template(f"{template}.{lang}.txt").make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"mail template {template}.{lang}.txt sets no subject")
        text = str(module).strip() + "\n"
        html = self.html.get_template(f"{template}.{lang}.html").render(subject=subject, **context)
        return Rendered(subject=subject, text=text, html=html)


@lru_cache(maxsize=8)
def templates(folder: Path) -> Templates:
    return Templates(folder)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    to_name: str = ""
    # An https URL that unsubscribes with one POST (RFC 8058), also shown in the mail.
    unsubscribe_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, rendered: Rendered, to: str, **kwargs: Any) -> Mail:
        return cls(to=to, subject=rendered.subject, text=rendered.text, html=rendered.html, **kwargs)


def _domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "hubben.local"


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    """A multipart/alternative message: plain text first, then HTML (the part a mail
    program prefers when it can show it)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    if mail.to_name:
        local, _, domain = mail.to.rpartition("@")
        message["To"] = Address(display_name=mail.to_name, username=local, domain=domain)
    else:
        message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_domain(settings))
    # RFC 3834: automatic mail, so vacation responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


async def send(settings: Settings, mail: Mail) -> None:
    """Send one mail, or log it when no SMTP server is configured. Errors propagate (the
    job that sends is retried)."""
    message = build_message(settings, mail)
    if not settings.smtp_host:
        log.info("mail.not_sent", reason="HUBBEN_SMTP_HOST is empty", to=mail.to, subject=mail.subject, text=mail.text)
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        use_tls=settings.smtp_tls,
        # Only when asked: an opportunistic upgrade could fail on a relay's self-signed certificate.
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )
    log.info("mail.sent", to=mail.to, subject=mail.subject)
