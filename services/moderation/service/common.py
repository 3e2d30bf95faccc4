"""What every moderation operation shares: the other services it acts through, who may
moderate what, the audit log and the outcome events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.moderation import contracts as c
from services.moderation import repository as repo
from services.moderation.models import AuditEntry, Case, Decision
from shared.auth import Principal
from shared.errors import Forbidden, NotFound, Unauthenticated
from shared.outbox import record_event

# The platform acting on its own (auto-hide): no member behind it.
PLATFORM = Principal(member_id=None, roles=(), scopes=("read", "write", "moderate"), token_kind="service")
PLATFORM_LABEL = "Hubben"


@dataclass(frozen=True)
class Sources:
    """The graph and feed clients, calling as the moderation service: those services let
    it act for the moderators it has authorised (hub moderators included)."""

    graph: Any  # services.graph.client.GraphClient
    feed: Any  # services.feed.client.FeedClient


def require_member(actor: Principal) -> int:
    if actor.member_id is None:
        raise Unauthenticated("sign in first")
    return actor.member_id


async def capabilities(sources: Sources, actor: Principal) -> c.CapabilitiesOut:
    """Platform moderators (role moderator or admin) moderate everything; hub moderators
    and hub admins the content of their hubs. Either needs the `moderate` scope."""
    if actor.member_id is None or "moderate" not in actor.scopes:
        return c.CapabilitiesOut(platform=False, hub_ids=[])
    if actor.is_moderator:
        return c.CapabilitiesOut(platform=True, hub_ids=[])
    hubs = await sources.graph.staffed_hubs(actor, actor.member_id)
    return c.CapabilitiesOut(platform=False, hub_ids=sorted(hubs))


async def require_access(sources: Sources, actor: Principal) -> c.CapabilitiesOut:
    require_member(actor)
    caps = await capabilities(sources, actor)
    if not caps.platform and not caps.hub_ids:
        if "moderate" not in actor.scopes:
            raise Forbidden("this needs the moderate scope")
        raise Forbidden("only moderators may do this")
    return caps


async def require_platform(sources: Sources, actor: Principal) -> c.CapabilitiesOut:
    caps = await require_access(sources, actor)
    if not caps.platform:
        raise Forbidden("only platform moderators may do this")
    return caps


async def case_in_scope(session: AsyncSession, caps: c.CapabilitiesOut, case_id: int, *, lock: bool = False) -> Case:
    case = await repo.case_in_scope(session, caps, case_id, lock=lock)
    if case is None:
        raise NotFound("no such case", field="caseId")
    return case


async def actor_label(sources: Sources, actor: Principal) -> str:
    if actor.member_id is None:
        return PLATFORM_LABEL
    found = await sources.graph.members(actor, [actor.member_id])
    return f"@{found[0].handle}" if found else f"member {actor.member_id}"


def audit(
    session: AsyncSession,
    *,
    actor: Principal,
    label: str,
    action: str,
    target_type: str,
    target_id: int | str,
    case: Case | None = None,
    hub_id: int | None = None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.member_id,
        actor_label=label[:60],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        case_id=case.id if case is not None else None,
        hub_id=case.hub_id if case is not None else hub_id,
        reason=reason,
        before=before or {},
        after=after or {},
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Told:
    """One member told of a decision: `outcome` is a short code, `message` the reason."""

    member_id: int
    outcome: str
    message: str
    about: str

    def as_dict(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "outcome": self.outcome, "message": self.message, "about": self.about}


def announce(session: AsyncSession, decision: Decision, told: list[Told]) -> None:
    """The decision as an event: the feed tells each member in `notify` (once per decision
    and member), and anything else that cares may follow it."""
    seen: set[int] = set()
    notify = []
    for t in told:
        if t.member_id not in seen:
            seen.add(t.member_id)
            notify.append(t.as_dict())
    record_event(
        session,
        "moderation.decided",
        {
            "decision_id": decision.id,
            "case_id": decision.case_id,
            "action": decision.action,
            "reason": decision.reason,
            "target_type": decision.target_type,
            "target_id": decision.target_id,
            "author_id": decision.subject_member_id,
            "hub_id": decision.hub_id,
            "notify": notify,
        },
    )


def state_of(snapshot: dict[str, Any]) -> c.ContentState:
    if snapshot.get("deleted_at"):
        return c.ContentState.removed
    if snapshot.get("hidden_at"):
        return c.ContentState.hidden
    return c.ContentState.visible


def case_out(case: Case, decisions: list[Decision]) -> c.CaseOut:
    out = c.CaseOut.model_validate(case)
    out.decisions = [c.DecisionOut.model_validate(d) for d in decisions]
    return out
