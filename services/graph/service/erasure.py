"""Erasing an account (the GDPR right to erasure), as a member asks for it with their password.

The member row stays, so what others wrote can still point at it ("Deleted member"), but
everything personal goes: the profile is blanked, the credential (email and password) is
deleted, sessions and access tokens are revoked, and every relation ends: follows both
ways (with the counts on the other side kept right), blocks and mutes both ways,
organisation roles, hub memberships and pending invitations. Each relation that ends
records the event its own service path records, so the feed's copies follow; and one
`member.erased` {"member_id"} tells every service to remove what the member left there.

Like GitHub, erasure is refused while the member is the only owner of an organisation or
the only admin of a hub: they hand it over first, so nothing is left without a keeper."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Credential, Member, Organisation
from services.graph.service.common import require_member_id
from services.graph.service.hubs import _remove as remove_hub_membership
from services.graph.service.identity import RESET_PASSWORD, VERIFY_EMAIL
from services.graph.service.identity import _password_matches as password_matches
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.outbox import record_event

ERASED_NAME = "Deleted member"
ERASED_TOPIC = "member.erased"


def erased_handle(member_id: int) -> str:
    """Never a handle anyone can choose (sign-up handles have no hyphen), and unique."""
    return f"deleted-{member_id}"


async def erase_account(session: AsyncSession, actor: Principal, data: c.AccountErasureIn) -> Member:
    member_id = require_member_id(actor)
    if actor.token_kind != "jwt":
        raise Forbidden("delete your account from a signed-in session, not with an access token")
    member = await repo.member_for_update(session, member_id)
    if member is None or member.erased_at is not None:
        raise NotFound("this account is already deleted")
    credential = await session.get(Credential, member.id)
    if credential is None or not await password_matches(credential.password_hash, data.password):
        raise BadUserInput("the password is wrong", field="password")
    await _refuse_if_sole_keeper(session, member.id)

    now = utcnow()
    await _end_relations(session, member.id)
    await repo.revoke_invitations_to(session, member.id, now)
    await repo.revoke_member_refresh_tokens(session, member.id, now)
    await repo.revoke_member_pats(session, member.id, now)
    for purpose in (VERIFY_EMAIL, RESET_PASSWORD):
        await repo.expire_one_time_tokens(session, member.id, purpose, now)
    await session.delete(credential)

    member.handle = erased_handle(member.id)
    member.display_name = ERASED_NAME
    member.headline = ""
    member.bio = ""
    member.skills = []
    member.links = []
    member.avatar_url = None
    member.municipality_code = None
    member.organisation_id = None
    member.platform_role = "member"
    member.suspended_until = None
    member.followers_count = 0
    member.following_count = 0
    member.erased_at = now
    member.updated_at = now
    record_event(session, ERASED_TOPIC, {"member_id": member.id})
    await session.flush()
    return member


async def _refuse_if_sole_keeper(session: AsyncSession, member_id: int) -> None:
    orgs = await repo.organisations_solely_owned_by(session, member_id)
    hubs = await repo.hubs_solely_administered_by(session, member_id)
    if not orgs and not hubs:
        return
    kept = [f"the only owner of the organisation {o.name!r}" for o in orgs]
    kept += [f"the only admin of the hub {h.name!r}" for h in hubs]
    handover = "make someone else an owner or admin there first, then delete your account"
    raise Conflict(f"you are {_listing(kept)}: {handover}")


def _listing(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


async def _end_relations(session: AsyncSession, member_id: int) -> None:
    """End every relation of the member with the events its own path records (social.py's
    _drop_follow and unblock/unmute, organisations.remove_member, hubs._remove)."""
    for follow_id, follower_id, target_type, target_id in await repo.drop_follows_touching(session, member_id):
        record_event(
            session,
            "follow.deleted",
            {"follow_id": follow_id, "follower_id": follower_id, "target_type": target_type, "target_id": target_id},
        )
    for blocker_id, blocked_id in await repo.drop_blocks_touching(session, member_id):
        record_event(session, "block.deleted", {"blocker_id": blocker_id, "blocked_id": blocked_id})
    for muter_id, muted_id in await repo.drop_mutes_touching(session, member_id):
        record_event(session, "mute.deleted", {"muter_id": muter_id, "muted_id": muted_id})
    for role in await repo.organisation_roles_of_member(session, member_id):
        await session.delete(role)
        await repo.bump(session, Organisation, role.organisation_id, "members_count", -1)
        record_event(
            session, "organisation.member_removed", {"organisation_id": role.organisation_id, "member_id": member_id}
        )
    for membership in await repo.hub_memberships_of_member(session, member_id):
        await remove_hub_membership(session, membership)
