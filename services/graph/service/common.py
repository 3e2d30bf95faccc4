from __future__ import annotations

from services.graph import repository as repo
from services.graph.models import Member
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import Forbidden, NotFound, Unauthenticated


def require_member_id(actor: Principal) -> int:
    if actor.member_id is None:
        raise Unauthenticated("sign in first")
    return actor.member_id


def require_scope(actor: Principal, scope: str) -> None:
    if scope not in actor.scopes:
        raise Forbidden(f"this token lacks the '{scope}' scope")


async def require_account(session: object, actor: Principal) -> Member:
    """The acting member's own account, which must still exist: an access token outlives
    the erasure of its account by up to its lifetime."""
    member = await repo.member_by_id(session, require_member_id(actor))  # type: ignore[arg-type]
    if member is None or member.erased_at is not None:
        raise Unauthenticated("this account no longer exists")
    return member


async def require_writer(session: object, actor: Principal) -> Member:
    """The acting member, if they may write: signed in, with the write scope, not suspended
    or banned."""
    require_member_id(actor)
    require_scope(actor, "write")
    member = await require_account(session, actor)
    if member.banned:
        raise Forbidden("banned members cannot write")
    if is_suspended(member):
        raise Forbidden("suspended members can read but not write")
    return member


def is_suspended(member: Member) -> bool:
    return member.suspended_until is not None and member.suspended_until > utcnow()


def require_moderator(actor: Principal) -> None:
    require_member_id(actor)
    if not actor.is_moderator:
        raise Forbidden("only platform moderators may do this")
    require_scope(actor, "moderate")


MODERATION_SERVICE = "moderation"


def is_moderation_service(actor: Principal) -> bool:
    """The moderation service, acting for the moderator in `actor.member_id`: it has already
    decided that this moderator may take the action (platform or hub moderator)."""
    return actor.service == MODERATION_SERVICE


def is_platform_moderator(actor: Principal) -> bool:
    return actor.member_id is not None and actor.is_moderator and "moderate" in actor.scopes


def require_moderation(actor: Principal) -> None:
    """A platform moderator holding the moderate scope, or the moderation service."""
    if not is_moderation_service(actor):
        require_moderator(actor)


async def get_member(session: object, member_id: int, *, erased: bool = False) -> Member:
    """A member to act on or look at. An erased member can no longer be followed, blocked,
    invited or moderated: only lists (`erased=True`) still find their placeholder."""
    member = await repo.member_by_id(session, member_id)  # type: ignore[arg-type]
    if member is None or (member.erased_at is not None and not erased):
        raise NotFound("no such member", field="memberId")
    return member
