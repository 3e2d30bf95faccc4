"""Sign-up, sessions, email verification, passwords and personal access tokens."""

from __future__ import annotations

import ipaddress

import strawberry
from starlette.requests import HTTPConnection

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, decode_id, input_dict
from services.gateway.graphql.members.types import AuthSession, Language, PersonalAccessToken
from services.graph import contracts as gc


@strawberry.input
class SignUpInput:
    email: str
    password: str
    handle: str
    display_name: str
    language: Language | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class TokenInput:
    token: str


@strawberry.input
class EmailInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class CreatePersonalAccessTokenInput:
    name: str
    scopes: list[str]
    expires_in_days: int | None = strawberry.UNSET


@strawberry.input
class RevokePersonalAccessTokenInput:
    id: strawberry.ID


@strawberry.type
class AuthPayload:
    session: AuthSession | None
    user_errors: list[UserError]


@strawberry.type
class OkPayload:
    ok: bool
    user_errors: list[UserError]


@strawberry.type
class CreatePersonalAccessTokenPayload:
    token: str | None = strawberry.field(description="The secret, shown this once; store it now.")
    personal_access_token: PersonalAccessToken | None
    user_errors: list[UserError]


@strawberry.type
class RevokePersonalAccessTokenPayload:
    personal_access_token: PersonalAccessToken | None
    user_errors: list[UserError]


# Callers in this host: the admin panel in this process (or a proxy beside it) says whom it
# forwards in X-Forwarded-For. From anywhere else that header is the client's to invent.
LOCAL_CALLERS = {"127.0.0.1", "::1", "testclient"}


def client_ip(request: HTTPConnection) -> str | None:
    """The address a log-in comes from, for the per-address throttle: the socket's peer, or
    for a local caller the first address of X-Forwarded-For (when it is an address)."""
    peer = request.client.host if request.client else None
    if peer is None or peer in LOCAL_CALLERS:
        first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass
    if peer is None:
        return None
    try:
        # One address, one budget: IPv6 has many spellings of it (leading zeros, ::).
        return str(ipaddress.ip_address(peer))
    except ValueError:
        return peer[:64]


def _none_to_unset(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if v is not None}


async def _ok(work: object) -> OkPayload:
    _, errors = await attempt(work)  # type: ignore[arg-type]
    return OkPayload(ok=not errors, user_errors=errors)


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Create an account; a verification mail goes to the address.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        ctx = info.context
        session, errors = await attempt(lambda: ctx.graph.sign_up(ctx.viewer, _none_to_unset(input_dict(input))))  # type: ignore[arg-type]
        return AuthPayload(session=AuthSession.from_out(session) if session else None, user_errors=errors)

    @strawberry.mutation
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        ctx = info.context
        # A refusal for too many failures is a GraphQL error (code RATE_LIMITED), as a wrong
        # password is one (UNAUTHENTICATED): neither is the user's input to fix.
        data = {**input_dict(input), "client_ip": client_ip(ctx.request)}
        session, errors = await attempt(lambda: ctx.graph.log_in(ctx.viewer, data))  # type: ignore[arg-type]
        return AuthPayload(session=AuthSession.from_out(session) if session else None, user_errors=errors)

    @strawberry.mutation(description="Trade a refresh token for a new session; the old refresh token stops working.")
    async def refresh_session(self, info: Info, input: RefreshTokenInput) -> AuthPayload:
        ctx = info.context
        session, errors = await attempt(lambda: ctx.graph.refresh(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]
        return AuthPayload(session=AuthSession.from_out(session) if session else None, user_errors=errors)

    @strawberry.mutation(description="End the session the refresh token belongs to.")
    async def log_out(self, info: Info, input: RefreshTokenInput) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.log_out(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]

    @strawberry.mutation
    async def request_email_verification(self, info: Info) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.request_email_verification(ctx.viewer))

    @strawberry.mutation
    async def verify_email(self, info: Info, input: TokenInput) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.verify_email(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]

    @strawberry.mutation(description="Mail a reset link if the address has an account; answers the same either way.")
    async def request_password_reset(self, info: Info, input: EmailInput) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.request_password_reset(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]

    @strawberry.mutation
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.reset_password(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]

    @strawberry.mutation(description="Change the password. Every refresh token is revoked: all sessions sign in again.")
    async def change_password(self, info: Info, input: ChangePasswordInput) -> OkPayload:
        ctx = info.context
        return await _ok(lambda: ctx.graph.change_password(ctx.viewer, input_dict(input)))  # type: ignore[arg-type]

    @strawberry.mutation(description="Scopes: read, write, moderate. The token is shown only in this response.")
    async def create_personal_access_token(
        self, info: Info, input: CreatePersonalAccessTokenInput
    ) -> CreatePersonalAccessTokenPayload:
        ctx = info.context
        created, errors = await attempt(
            lambda: ctx.graph.create_token(ctx.viewer, _none_to_unset(input_dict(input)))  # type: ignore[arg-type]
        )
        return CreatePersonalAccessTokenPayload(
            token=created.token if created else None,
            personal_access_token=PersonalAccessToken.from_out(created.personal_access_token) if created else None,
            user_errors=errors,
        )

    @strawberry.mutation
    async def revoke_personal_access_token(
        self, info: Info, input: RevokePersonalAccessTokenInput
    ) -> RevokePersonalAccessTokenPayload:
        ctx = info.context

        async def work() -> gc.PersonalAccessTokenOut:
            return await ctx.graph.revoke_token(ctx.viewer, decode_id(input.id, "PersonalAccessToken", "id"))

        token, errors = await attempt(work)
        return RevokePersonalAccessTokenPayload(
            personal_access_token=PersonalAccessToken.from_out(token) if token else None, user_errors=errors
        )
