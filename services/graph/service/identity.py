"""Sign-up, log-in (throttled), sessions (rotating refresh tokens), email verification,
password reset and change, personal access tokens."""

from __future__ import annotations

import asyncio
import hashlib
import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import (
    Credential,
    LoginFailure,
    Member,
    OneTimeToken,
    PersonalAccessToken,
    RefreshToken,
)
from services.graph.service.common import get_member, require_account, require_member_id, require_scope
from shared.auth import PAT_PREFIX, REFRESH_PREFIX, Principal, TokenCodec, hash_secret, new_secret
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound, RateLimited, Unauthenticated
from shared.ids import new_id
from shared.outbox import record_event
from shared.settings import Settings, get_settings


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    # Verifying against this keeps log-in time the same whether or not the email exists.
    return hasher, hasher.hash("not a real password, only for timing")


def _hasher() -> tuple[PasswordHasher, str]:
    s = get_settings()
    return _hasher_for(s.password_hash_time_cost, s.password_hash_memory_kib, s.password_hash_parallelism)


VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher()[0].hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher()[0].verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def roles_of(member: Member) -> list[str]:
    return ["member"] if member.platform_role == "member" else ["member", member.platform_role]


async def create_member(
    session: AsyncSession,
    data: c.SignUpIn,
    *,
    platform_role: str = "member",
    verified: bool = False,
) -> Member:
    if await repo.email_taken(session, data.email):
        raise Conflict("an account with this email exists", field="email")
    if await repo.handle_taken(session, data.handle):
        raise Conflict("this handle is taken", field="handle")
    member = Member(
        handle=data.handle,
        display_name=data.display_name,
        language=data.language.value,
        platform_role=platform_role,
    )
    session.add(member)
    await session.flush()
    session.add(
        Credential(
            member_id=member.id,
            email=data.email,
            password_hash=await hash_password(data.password),
            email_verified_at=utcnow() if verified else None,
        )
    )
    record_event(session, "member.created", {"member_id": member.id, "handle": member.handle})
    await session.flush()
    return member


async def _issue_one_time_token(
    session: AsyncSession, settings: Settings, member: Member, email: str, purpose: str
) -> None:
    now = utcnow()
    await repo.expire_one_time_tokens(session, member.id, purpose, now)
    token = new_secret()
    ttl = (
        timedelta(hours=settings.email_token_ttl_hours)
        if purpose == VERIFY_EMAIL
        else timedelta(minutes=settings.password_reset_ttl_minutes)
    )
    session.add(
        OneTimeToken(
            member_id=member.id,
            purpose=purpose,
            token_hash=hash_secret(token),
            expires_at=now + ttl,
        )
    )
    # The mail carries the token; the outbox row is the mail's only copy of it.
    record_event(
        session,
        "email.requested",
        {
            "template": purpose,
            "member_id": member.id,
            "to": email,
            "language": member.language,
            "token": token,
            "expires_at": (now + ttl).isoformat(),
        },
    )


async def _start_session(
    session: AsyncSession,
    codec: TokenCodec,
    settings: Settings,
    member: Member,
    family_id: int | None = None,
) -> c.SessionOut:
    refresh = new_secret(REFRESH_PREFIX)
    now = utcnow()
    session.add(
        RefreshToken(
            member_id=member.id,
            family_id=family_id or new_id(),
            token_hash=hash_secret(refresh),
            expires_at=now + timedelta(days=settings.refresh_token_ttl_days),
        )
    )
    await session.flush()
    access, exp = codec.issue_access_token(member.id, roles_of(member))
    return c.SessionOut(
        access_token=access,
        access_token_expires_at=datetime.fromtimestamp(exp, UTC),
        refresh_token=refresh,
        member=c.MemberOut.model_validate(member),
    )


async def sign_up(session: AsyncSession, codec: TokenCodec, settings: Settings, data: c.SignUpIn) -> c.SessionOut:
    member = await create_member(session, data)
    await _issue_one_time_token(session, settings, member, data.email, VERIFY_EMAIL)
    return await _start_session(session, codec, settings, member)


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def _refuse_if_throttled(session: AsyncSession, settings: Settings, email_key: str, ip: str | None) -> None:
    """Too many recent failures for this account, or from this address: refused without
    looking at the password, until enough of them have aged out of the window. Unknown
    emails are throttled alike, so a refusal says nothing about whether an account exists."""
    now = utcnow()
    window = timedelta(seconds=settings.login_throttle_window_seconds)
    limits: list[tuple[Literal["email_key", "ip"], str, int]] = [
        ("email_key", email_key, settings.login_max_failures_per_account)
    ]
    if ip:
        limits.append(("ip", ip, settings.login_max_failures_per_ip))
    # Each limit reached lifts when its oldest counted failure leaves the window.
    lifts: list[datetime] = []
    for by, value, limit in limits:
        reached_at = await repo.nth_newest_login_failure(session, by, value, since=now - window, n=limit)
        if reached_at is not None:
            lifts.append(reached_at + window)
    if lifts:
        seconds = max(1, math.ceil((max(lifts) - now).total_seconds()))
        # keep_changes: a refusal must never undo what this unit of work recorded.
        raise RateLimited(
            f"too many failed log-ins; try again in {seconds} seconds", retry_after=seconds, keep_changes=True
        )


async def _record_failure(session: AsyncSession, settings: Settings, email_key: str, ip: str | None) -> None:
    now = utcnow()
    await repo.prune_login_failures(session, now - timedelta(seconds=settings.login_throttle_window_seconds))
    session.add(LoginFailure(email_key=email_key, ip=ip, created_at=now))
    await session.flush()


async def log_in(session: AsyncSession, codec: TokenCodec, settings: Settings, data: c.LogInIn) -> c.SessionOut:
    email = data.email.strip().lower()
    email_key = _email_key(email)
    await _refuse_if_throttled(session, settings, email_key, data.client_ip)
    credential = await repo.credential_by_email(session, email)
    # An unknown email is checked against a dummy hash: the answer takes as long either way.
    matches = await _password_matches(credential.password_hash if credential else _hasher()[1], data.password)
    if credential is None or not matches:
        await _record_failure(session, settings, email_key, data.client_ip)
        # keep_changes: the refusal is answered with an error, and the failure must outlive it.
        raise Unauthenticated("wrong email or password", keep_changes=True)
    member = await get_member(session, credential.member_id)
    # Only after the password: a stranger guessing cannot learn that an account is banned.
    if member.banned:
        raise Forbidden("this account is banned")
    # The account's failures are forgiven; the address's stay (it may be guessing at others).
    await repo.forgive_login_failures(session, email_key)
    if _hasher()[0].check_needs_rehash(credential.password_hash):
        credential.password_hash = await hash_password(data.password)
    return await _start_session(session, codec, settings, member)


async def refresh(session: AsyncSession, codec: TokenCodec, settings: Settings, data: c.RefreshIn) -> c.SessionOut:
    row = await repo.refresh_token_by_hash(session, hash_secret(data.refresh_token))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("invalid refresh token")
    if row.used_at is not None:
        # A rotated token came back: someone holds a copy. End the whole session family.
        await repo.revoke_refresh_family(session, row.family_id, now)
        record_event(
            session,
            "session.reuse_detected",
            {"member_id": row.member_id, "family_id": row.family_id},
        )
        raise Unauthenticated("refresh token reuse detected; the session was ended", keep_changes=True)
    member = await get_member(session, row.member_id)
    if member.banned:  # a ban revokes every refresh token; this guards any issued since
        raise Unauthenticated("this account is banned")
    row.used_at = now
    return await _start_session(session, codec, settings, member, family_id=row.family_id)


async def log_out(session: AsyncSession, data: c.RefreshIn) -> None:
    row = await repo.refresh_token_by_hash(session, hash_secret(data.refresh_token))
    if row is None:
        raise Unauthenticated("invalid refresh token")
    await repo.revoke_refresh_family(session, row.family_id, utcnow())


async def request_email_verification(session: AsyncSession, settings: Settings, actor: Principal) -> None:
    member = await require_account(session, actor)
    credential = await session.get(Credential, member.id)
    assert credential is not None
    if credential.email_verified_at is not None:
        raise BadUserInput("this email is already verified")
    await _issue_one_time_token(session, settings, member, credential.email, VERIFY_EMAIL)


async def _consume(session: AsyncSession, token: str, purpose: str) -> OneTimeToken:
    row = await repo.one_time_token_by_hash(session, hash_secret(token), purpose)
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise BadUserInput("this link is invalid or has expired", field="token")
    row.used_at = utcnow()
    return row


async def verify_email(session: AsyncSession, data: c.TokenIn) -> None:
    row = await _consume(session, data.token, VERIFY_EMAIL)
    credential = await session.get(Credential, row.member_id)
    assert credential is not None
    credential.email_verified_at = utcnow()
    record_event(session, "member.email_verified", {"member_id": row.member_id})


async def request_password_reset(session: AsyncSession, settings: Settings, data: c.EmailIn) -> None:
    """Says nothing about whether the email exists; a mail goes out only if it does."""
    credential = await repo.credential_by_email(session, data.email.strip().lower())
    if credential is None:
        return
    member = await get_member(session, credential.member_id)
    await _issue_one_time_token(session, settings, member, credential.email, RESET_PASSWORD)


async def reset_password(session: AsyncSession, data: c.PasswordResetIn) -> None:
    row = await _consume(session, data.token, RESET_PASSWORD)
    credential = await session.get(Credential, row.member_id)
    assert credential is not None
    credential.password_hash = await hash_password(data.new_password)
    credential.password_changed_at = utcnow()
    # Reset proves control of the mailbox, which also verifies it.
    credential.email_verified_at = credential.email_verified_at or utcnow()
    await repo.revoke_member_refresh_tokens(session, row.member_id, utcnow())


async def change_password(session: AsyncSession, actor: Principal, data: c.PasswordChangeIn) -> None:
    member_id = require_member_id(actor)
    if actor.token_kind != "jwt":
        raise Forbidden("change the password from a signed-in session, not with an access token")
    credential = await session.get(Credential, member_id)
    if credential is None or not await _password_matches(credential.password_hash, data.current_password):
        raise BadUserInput("the current password is wrong", field="currentPassword")
    credential.password_hash = await hash_password(data.new_password)
    credential.password_changed_at = utcnow()
    await repo.revoke_member_refresh_tokens(session, member_id, utcnow())


async def viewer(session: AsyncSession, actor: Principal) -> c.ViewerOut:
    member = await require_account(session, actor)
    credential = await session.get(Credential, member.id)
    assert credential is not None
    return c.ViewerOut(
        member=c.MemberOut.model_validate(member),
        email=credential.email,
        email_verified=credential.email_verified_at is not None,
    )


# --- personal access tokens -----------------------------------------------------------


async def create_personal_access_token(
    session: AsyncSession, actor: Principal, data: c.PersonalAccessTokenIn
) -> c.PersonalAccessTokenCreated:
    member_id = require_member_id(actor)
    if actor.token_kind != "jwt":
        raise Forbidden("create access tokens from a signed-in session")
    member = await require_account(session, actor)
    if member.banned:  # an access token outlives the ban by up to its lifetime
        raise Forbidden("this account is banned")
    if "moderate" in data.scopes and member.platform_role == "member":
        raise BadUserInput("only moderators and admins may hold the moderate scope", field="scopes")
    token = new_secret(PAT_PREFIX)
    row = PersonalAccessToken(
        member_id=member_id,
        name=data.name,
        token_hash=hash_secret(token),
        token_hint=token[:10],
        scopes=list(data.scopes),
        expires_at=utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(row)
    await session.flush()
    return c.PersonalAccessTokenCreated(token=token, personal_access_token=c.PersonalAccessTokenOut.model_validate(row))


async def revoke_personal_access_token(
    session: AsyncSession, actor: Principal, token_id: int
) -> c.PersonalAccessTokenOut:
    member_id = require_member_id(actor)
    require_scope(actor, "write")
    row = await session.get(PersonalAccessToken, token_id)
    if row is None or row.member_id != member_id:
        raise NotFound("no such access token", field="id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return c.PersonalAccessTokenOut.model_validate(row)


async def resolve_personal_access_token(session: AsyncSession, data: c.TokenIn) -> c.PrincipalOut:
    row = await repo.pat_by_hash(session, hash_secret(data.token))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        raise Unauthenticated("invalid or revoked access token")
    member = await get_member(session, row.member_id)
    if member.banned:
        raise Unauthenticated("this account is banned")
    # Write the last use at most once a minute: this runs on every API request.
    if row.last_used_at is None or (now - row.last_used_at) > timedelta(minutes=1):
        row.last_used_at = now
    return c.PrincipalOut(member_id=member.id, roles=roles_of(member), scopes=list(row.scopes))
