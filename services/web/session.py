"""The panel's session: one cookie, encrypted and authenticated with Fernet.

Before log-in it carries only a CSRF token and the language (the log-in form's double-submit
token lives there); after log-in also the member's tokens. The cookie is the only state the
panel keeps, so any number of panel processes can serve a moderator."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from shared.settings import Settings

COOKIE = "hubben_admin"
COOKIE_PATH = "/admin"


def load_session_key(settings: Settings) -> bytes:
    """The key from the settings, or (embedded default only) one generated once under var/."""
    if settings.web_session_key:
        key = settings.web_session_key.encode()
        Fernet(key)  # a malformed key fails here, at start-up, not on the first request
        return key
    if not settings.embedded or settings.gateway_url:
        # Panels behind a load balancer, or apart from the gateway, must share a key; one
        # generated here would not be shared: refuse to guess.
        raise RuntimeError("set HUBBEN_WEB_SESSION_KEY (Fernet.generate_key()) for the admin panel")
    path = Path(settings.var_dir) / "web_session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(Fernet.generate_key())
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_bytes().strip()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class SessionData:
    csrf: str = field(default_factory=new_csrf_token)
    lang: str | None = None
    access_token: str | None = None
    expires_at: float = 0.0  # the access token's expiry, seconds since the epoch
    refresh_token: str | None = None
    member_id: str | None = None
    handle: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message), shown once

    @property
    def signed_in(self) -> bool:
        return bool(self.access_token and self.refresh_token)

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())

    def sign_out(self) -> None:
        """Forget the member; a fresh CSRF token, so a token seen before log-out is worthless."""
        self.access_token = self.refresh_token = self.member_id = self.handle = None
        self.expires_at = 0.0
        self.csrf = new_csrf_token()


class SessionCodec:
    def __init__(self, key: bytes, max_age_seconds: int) -> None:
        self._fernet = Fernet(key)
        self._max_age = max_age_seconds

    def dumps(self, data: SessionData) -> str:
        payload = asdict(data)
        return self._fernet.encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def loads(self, value: str | None) -> SessionData | None:
        """The session in a cookie, or None when it is absent, forged, tampered with or too old."""
        if not value or len(value) > 8192:
            return None
        try:
            raw: Any = json.loads(self._fernet.decrypt(value.encode(), ttl=self._max_age))
            flashes = [(str(k), str(m)) for k, m in raw.pop("flashes", [])][:10]
            known = {f for f in SessionData.__dataclass_fields__}
            data = SessionData(**{k: v for k, v in raw.items() if k in known}, flashes=flashes)
        except (InvalidToken, ValueError, TypeError):
            return None
        return data if isinstance(data.csrf, str) and data.csrf else None
