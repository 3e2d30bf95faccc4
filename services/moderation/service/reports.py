"""Members report content and people; reports about one target gather into its open case,
and enough distinct reporters hide content until a moderator has looked."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.moderation import contracts as c
from services.moderation import repository as repo
from services.moderation.models import Case, Decision, Report
from services.moderation.service.common import (
    PLATFORM,
    PLATFORM_LABEL,
    Sources,
    Told,
    announce,
    audit,
    case_out,
    require_member,
    state_of,
)
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound, RateLimited
from shared.outbox import record_event
from shared.settings import Settings


async def _target(sources: Sources, actor: Principal, kind: c.TargetType, target_id: int) -> dict[str, Any]:
    """What the reporter reports, as they can see it: NotFound when they cannot. Content
    comes back as the feed's moderation snapshot (what readers saw); members and
    organisations as their public profile."""
    missing = NotFound(f"no such {kind.value}", field="targetId")
    if kind in c.CONTENT_TYPES:
        readable = {
            c.TargetType.post: sources.feed.posts,
            c.TargetType.event: sources.feed.events,
            c.TargetType.comment: sources.feed.comments_by_ids,
        }[kind]
        if not await readable(actor, [target_id]):
            raise missing
        snapshot = await sources.feed.moderation_content(actor, kind.value, target_id)
        return dict(snapshot.model_dump(mode="json"))
    if kind == c.TargetType.member:
        members = await sources.graph.members(actor, [target_id])
        if not members:
            raise missing
        m = members[0]
        return {
            "target_type": "member",
            "id": m.id,
            "author_id": m.id,
            "title": m.display_name,
            "body": "\n\n".join(x for x in (m.headline, m.bio) if x),
            "handle": m.handle,
        }
    orgs = await sources.graph.organisations_by_ids(actor, [target_id])
    if not orgs:
        raise missing
    o = orgs[0]
    return {
        "target_type": "organisation",
        "id": o.id,
        "title": o.name,
        "body": o.description,
        "url": o.website,
        "slug": o.slug,
    }


def _subjects(kind: c.TargetType, snapshot: dict[str, Any]) -> tuple[int | None, int | None]:
    if kind == c.TargetType.organisation:
        return None, int(snapshot["id"])
    return int(snapshot["author_id"]), None


async def _open_case(session: AsyncSession, kind: c.TargetType, target_id: int, snapshot: dict[str, Any]) -> Case:
    """The target's open case, opened now if it has none (two first reports at once: one
    opens it, the other joins it)."""
    case = await repo.open_case(session, kind.value, target_id, lock=True)
    if case is not None:
        return case
    member_id, organisation_id = _subjects(kind, snapshot)
    case = Case(
        target_type=kind.value,
        target_id=target_id,
        open_key=repo.open_key(kind.value, target_id),
        hub_id=snapshot.get("hub_id"),
        subject_member_id=member_id,
        subject_organisation_id=organisation_id,
        snapshot=snapshot,
        content_state=state_of(snapshot).value,
    )
    try:
        async with session.begin_nested():
            session.add(case)
            await session.flush()
    except IntegrityError:
        found = await repo.open_case(session, kind.value, target_id)
        if found is None:
            raise
        return found
    return case


async def file_report(
    session: AsyncSession, sources: Sources, settings: Settings, actor: Principal, data: c.ReportIn
) -> c.FiledReportOut:
    me = require_member(actor)
    if "write" not in actor.scopes:
        raise Forbidden("reporting needs the write scope")
    now = utcnow()
    limit, hour = settings.moderation_reports_per_hour, timedelta(hours=1)
    filed, first = await repo.reports_since(session, me, now - hour)
    if filed >= limit and first is not None:
        wait = max(1, math.ceil((first + hour - now).total_seconds()))
        raise RateLimited(f"you can file {limit} reports an hour; try again in {wait} seconds", retry_after=wait)
    snapshot = await _target(sources, actor, data.target_type, data.target_id)
    member_id, _ = _subjects(data.target_type, snapshot)
    if member_id == me:
        raise BadUserInput(f"you cannot report your own {data.target_type.value}", field="targetId")
    case = await _open_case(session, data.target_type, data.target_id, snapshot)
    key = repo.open_key(data.target_type.value, data.target_id)
    already = Conflict("you have already reported this; moderators will look at it", field="targetId")
    if await repo.open_report(session, me, key) is not None:
        raise already
    report = Report(case_id=case.id, reporter_id=me, open_key=key, reason=data.reason.value, note=data.note)
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError as exc:
        raise already from exc
    case.report_count += 1
    case.reasons = {**case.reasons, data.reason.value: case.reasons.get(data.reason.value, 0) + 1}
    case.last_reported_at = now
    record_event(
        session,
        "moderation.report_filed",
        {
            "case_id": case.id,
            "report_id": report.id,
            "target_type": case.target_type,
            "target_id": case.target_id,
            "reporter_id": me,
        },
    )
    await _hide_when_reported_enough(session, sources, settings, case)
    await session.flush()
    decisions = await repo.decisions_of_cases(session, [case.id])
    return c.FiledReportOut(report=c.ReportOut.model_validate(report), case=case_out(case, decisions[case.id]))


async def _hide_when_reported_enough(session: AsyncSession, sources: Sources, settings: Settings, case: Case) -> None:
    """Content reported by `moderation_auto_hide_reporters` distinct members is hidden until
    a moderator decides (a dismissal brings it back)."""
    threshold = settings.moderation_auto_hide_reporters
    if (
        case.target_type not in c.CONTENT_TYPES
        or case.auto_hidden
        or case.content_state != c.ContentState.visible
        or await repo.distinct_reporters(session, case.id) < threshold
    ):
        return
    reason = f"Hidden pending review: reported by {threshold} or more members"
    await sources.feed.hide_content(PLATFORM, case.target_type, case.target_id, reason)
    case.auto_hidden = True
    case.content_state = c.ContentState.hidden.value
    decision = Decision(
        case_id=case.id,
        action=c.Action.auto_hide.value,
        reason=reason,
        moderator_id=None,
        target_type=case.target_type,
        target_id=case.target_id,
        subject_member_id=case.subject_member_id,
        hub_id=case.hub_id,
    )
    session.add(decision)
    await session.flush()
    audit(
        session,
        actor=PLATFORM,
        label=PLATFORM_LABEL,
        action="content.auto_hidden",
        target_type=case.target_type,
        target_id=case.target_id,
        case=case,
        reason=reason,
        before={"state": c.ContentState.visible.value},
        after={"state": c.ContentState.hidden.value},
    )
    told = []
    if case.subject_member_id is not None:
        about = f"your {case.target_type}"
        told.append(Told(case.subject_member_id, "hidden_pending_review", reason, about))
    announce(session, decision, told)
