"""JWTs (RS256 with a pinned algorithm), internal service tokens and secret hashing.

Access tokens are signed by the graph service (which owns identity); the gateway
signs short-lived internal tokens for the calls it makes on a member's behalf.
Every service verifies with the public key only.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from jose.exceptions import JOSEError

from shared.errors import Unauthenticated
from shared.settings import Settings

ALGORITHM = "RS256"
INTERNAL_AUDIENCE = "hubben-internal"
# Internal tokens remembered as verified, per process (a few minutes of distinct callers).
SEEN_MAX = 10_000  # verified tokens remembered (access and internal); then forgotten at once
LEEWAY_SECONDS = 30
UNSUBSCRIBE_AUDIENCE = "hubben-unsubscribe"
SCOPES = ("read", "write", "moderate")
PAT_PREFIX = "hbp_"
REFRESH_PREFIX = "hbr_"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str | None
    public_pem: str


def _generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_from_private(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_key_pair(settings: Settings) -> KeyPair:
    """Keys from the environment, or (embedded default only) a pair generated once under var/."""
    if settings.jwt_private_key:
        private = settings.jwt_private_key.replace("\\n", "\n")
        return KeyPair(private, _public_from_private(private))
    if settings.jwt_public_key:
        return KeyPair(None, settings.jwt_public_key.replace("\\n", "\n"))
    if settings.graph_url:
        # A key generated here would differ from the graph service's: refuse to guess.
        raise RuntimeError("set HUBBEN_JWT_PRIVATE_KEY: processes that share a database or call each other share a key")
    path = Path(settings.var_dir) / "jwt-private.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(_generate_private_pem())
        tmp.chmod(0o600)
        tmp.replace(path)
    private = path.read_text()
    return KeyPair(private, _public_from_private(private))


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, as carried by an internal token."""

    member_id: int | None
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = SCOPES
    service: str | None = None
    token_kind: str = "anonymous"

    @property
    def is_member(self) -> bool:
        return self.member_id is not None

    @property
    def is_moderator(self) -> bool:
        return "moderator" in self.roles or "admin" in self.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


ANONYMOUS = Principal(member_id=None, scopes=("read",))


@dataclass
class TokenCodec:
    settings: Settings
    keys: KeyPair
    _now: Any = field(default=time.time)
    _seen: dict[str, tuple[float, Principal]] = field(default_factory=dict, repr=False)

    @cached_property
    def _signer(self) -> Any:
        """The private key, parsed once: python-jose parses a PEM on every signature (~34 ms
        for RSA), which every internal token of every request would pay."""
        if not self.keys.private_pem:
            raise RuntimeError("this process holds no signing key")
        return jwk.construct(self.keys.private_pem, ALGORITHM)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._signer, algorithm=ALGORITHM)

    @cached_property
    def _verifier(self) -> Any:
        """The public key, parsed once (python-jose would parse the PEM on every decode)."""
        return jwk.construct(self.keys.public_pem, ALGORITHM)

    def _decode(self, token: str, audience: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._verifier,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.settings.jwt_issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_aud": True,
                    "require_iss": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": LEEWAY_SECONDS,
                },
            )
        except (JOSEError, ValueError, TypeError) as exc:
            raise Unauthenticated("invalid or expired token") from exc
        return claims

    def issue_access_token(self, member_id: int, roles: list[str]) -> tuple[str, int]:
        now = int(self._now())
        exp = now + self.settings.access_token_ttl_seconds
        token = self._sign(
            {
                "iss": self.settings.jwt_issuer,
                "aud": self.settings.jwt_audience,
                "sub": str(member_id),
                "iat": now,
                "exp": exp,
                "jti": uuid.uuid4().hex,
                "roles": roles,
                "typ": "access",
            }
        )
        return token, exp

    def verify_access_token(self, token: str) -> Principal:
        """The member an access token signs in. A client sends the same token with every
        request until it expires, so a verified one is remembered (see _remembered)."""
        known = self._remembered(token)
        if known is not None:
            return known
        claims = self._decode(token, self.settings.jwt_audience)
        if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
            raise Unauthenticated("invalid or expired token")
        principal = Principal(
            member_id=int(claims["sub"]),
            roles=tuple(claims.get("roles") or ()),
            scopes=SCOPES,
            token_kind="jwt",
        )
        return self._remember(token, claims, principal)

    def _remembered(self, token: str) -> Principal | None:
        """A token verified before, while its expiry (with the same leeway) has not passed:
        the same bytes verify the same way, so only the clock needs checking again."""
        known = self._seen.get(token)
        if known is not None and self._now() < known[0]:
            return known[1]
        return None

    def _remember(self, token: str, claims: dict[str, Any], principal: Principal) -> Principal:
        if len(self._seen) >= SEEN_MAX:
            self._seen.clear()
        self._seen[token] = (float(claims["exp"]) + LEEWAY_SECONDS, principal)
        return principal

    def issue_internal_token(self, principal: Principal, service: str = "gateway") -> str:
        now = int(self._now())
        return self._sign(
            {
                "iss": self.settings.jwt_issuer,
                "aud": INTERNAL_AUDIENCE,
                "sub": str(principal.member_id) if principal.member_id else f"service:{service}",
                "iat": now,
                "exp": now + self.settings.internal_token_ttl_seconds,
                "jti": uuid.uuid4().hex,
                "roles": list(principal.roles),
                "scopes": list(principal.scopes),
                "svc": service,
                "kind": principal.token_kind,
            }
        )

    def verify_internal_token(self, token: str) -> Principal:
        """The principal an internal token carries. A client reuses one token for half its
        life (shared.client), so a verified one is remembered (see _remembered)."""
        known = self._remembered(token)
        if known is not None:
            return known
        claims = self._decode(token, INTERNAL_AUDIENCE)
        sub = str(claims["sub"])
        principal = Principal(
            member_id=int(sub) if sub.isdigit() else None,
            roles=tuple(claims.get("roles") or ()),
            scopes=tuple(claims.get("scopes") or ()),
            service=str(claims.get("svc") or ""),
            token_kind=str(claims.get("kind") or "anonymous"),
        )
        return self._remember(token, claims, principal)

    def issue_unsubscribe_token(self, member_id: int, kind: str) -> str:
        """The token of a mail's unsubscribe link: names the member and the kind of mail.
        It does not expire (a link in an old mail must still work) and says nothing secret;
        the signature is what keeps anyone from unsubscribing somebody else."""
        return self._sign(
            {
                "iss": self.settings.jwt_issuer,
                "aud": UNSUBSCRIBE_AUDIENCE,
                "sub": str(member_id),
                "kind": kind,
            }
        )

    def verify_unsubscribe_token(self, token: str) -> tuple[int, str]:
        """(member id, kind) of a genuine unsubscribe token; Unauthenticated otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.keys.public_pem,
                algorithms=[ALGORITHM],
                audience=UNSUBSCRIBE_AUDIENCE,
                issuer=self.settings.jwt_issuer,
                options={"require_aud": True, "require_iss": True, "require_sub": True},
            )
        except (JOSEError, ValueError, TypeError) as exc:
            raise Unauthenticated("invalid unsubscribe link") from exc
        sub, kind = str(claims.get("sub", "")), claims.get("kind")
        if not sub.isdigit() or not isinstance(kind, str) or not kind:
            raise Unauthenticated("invalid unsubscribe link")
        return int(sub), kind


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Secrets we generate carry 256 bits of entropy, so a fast hash is the right tool."""
    return hashlib.sha256(secret.encode()).hexdigest()
