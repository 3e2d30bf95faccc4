"""Notifications: how they are made (once, to whom, grouped), read, and chosen; what each
event causes is in notification_events.py.

- **Once.** Every notification has a group key, unique per recipient ("follower:<id>",
  "mention:post:<id>", "reaction:post:<id>"): a redelivered or replayed event inserts
  nothing (bulk INSERT … ON CONFLICT DO NOTHING), so the jobs that call this module may
  run twice and out of order.
- **To whom.** Never to the actor themself; never between members on either side of a
  block, nor from someone the recipient muted; only to members who may read the subject
  (its visibility and hub membership). `repository.audience` holds these rules for one
  recipient or ten thousand; blocks and mutes made later hide what was made before
  (`repository.shown_notifications`).
- **Grouping.** Reactions to one item gather in one row per recipient: NotificationActor
  lists who reacted, `actors_count` counts them, `actor_id` is the latest ("Anna and 3
  others"). A new actor moves the row up (`sort_key`) and makes it unread again.
- **Preferences** per member and kind: `in_app` (bool) and `email` (off, immediate,
  digest); no row means the kind's default (contracts.NOTIFICATION_DEFAULTS). With both
  off nothing is made. With `in_app` off and mail on, the row is made with `in_app =
  false`: the mailer finds it, the member's list and unread count leave it out. A change
  applies to notifications made after it. moderation_outcome always shows in the app.
- **Events.** Every insert or regroup records `notification.created` {"ids": [...],
  "recipients": [...]} in the same transaction; the lists are parallel (recipients[i]
  received ids[i]). The mailer and the live push subscribe to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Entry, Notification, NotificationPreference
from services.feed.service.common import require_member_id
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.ids import new_id
from shared.outbox import record_event
from shared.pagination import PageRequest, paginate

Kind = c.NotificationKind
CREATED_TOPIC = "notification.created"
UNREAD_CAP = c.UNREAD_CAP
FANOUT_PAGE = 1000


@dataclass(frozen=True)
class Notice:
    """What to tell: one kind, about one subject, by one actor (None: the platform)."""

    kind: c.NotificationKind
    group_key: str
    actor_id: int | None
    subject_type: str | None
    subject_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


# --- preferences ---------------------------------------------------------------------------------


def effective(kind: str, in_app: bool | None, email: str | None) -> tuple[bool, str]:
    """A member's (in_app, email) for a kind from their choice, None where they made none."""
    default = c.NOTIFICATION_DEFAULTS[c.NotificationKind(kind)]
    shown = default.in_app if in_app is None or default.required else in_app
    return shown, email if email is not None else default.email.value


async def preference_for(session: AsyncSession, member_id: int, kind: str) -> tuple[bool, str]:
    """(in_app, email) of one member for one kind: what the mailer asks before sending."""
    row = (await repo.preference_rows(session, [member_id], kind)).get(member_id)
    return effective(kind, row.in_app if row else None, row.email if row else None)


async def preferences(session: AsyncSession, actor: Principal) -> list[c.PreferenceOut]:
    me = require_member_id(actor)
    chosen = {p.kind: p for p in await repo.preferences_of(session, me)}
    out = []
    for kind, default in c.NOTIFICATION_DEFAULTS.items():
        row = chosen.get(kind.value)
        in_app, email = effective(kind.value, row.in_app if row else None, row.email if row else None)
        out.append(c.PreferenceOut(kind=kind.value, in_app=in_app, email=email, required=default.required))
    return out


def _require_writer(actor: Principal) -> int:
    me = require_member_id(actor)
    if "write" not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope")
    return me


async def set_preference(session: AsyncSession, actor: Principal, data: c.PreferenceIn) -> c.PreferenceOut:
    me = _require_writer(actor)
    default = c.NOTIFICATION_DEFAULTS[data.kind]
    if default.required and data.in_app is False:
        raise BadUserInput(f"{data.kind.value} notifications always show in the app", field="inApp")
    row = await session.get(NotificationPreference, (me, data.kind.value))
    in_app, email = effective(data.kind.value, row.in_app if row else None, row.email if row else None)
    in_app = in_app if data.in_app is None else data.in_app
    email = email if data.email is None else data.email.value
    if row is None:
        session.add(NotificationPreference(member_id=me, kind=data.kind.value, in_app=in_app, email=email))
    else:
        row.in_app, row.email = in_app, email
    await session.flush()
    return c.PreferenceOut(kind=data.kind.value, in_app=in_app, email=email, required=default.required)


# --- making notifications --------------------------------------------------------------------------


def _common(notice: Notice, now: datetime) -> dict[str, Any]:
    """The columns every recipient's row of a notice shares."""
    return {
        "kind": notice.kind.value,
        "group_key": notice.group_key,
        "subject_type": notice.subject_type,
        "subject_id": notice.subject_id,
        "actor_id": notice.actor_id,
        "actors_count": 0 if notice.actor_id is None else 1,
        "data": notice.data,
        "created_at": now,
        "updated_at": now,
    }


def _record(session: AsyncSession, made: list[tuple[int, int]]) -> None:
    if made:
        record_event(session, CREATED_TOPIC, {"ids": [i for i, _ in made], "recipients": [r for _, r in made]})


async def _deliver(
    session: AsyncSession, notice: Notice, members: Sequence[tuple[int, bool | None, str | None]]
) -> list[tuple[int, int]]:
    """Insert for members already admitted, by their preferences; (id, recipient) of the new rows."""
    rows = []
    for member_id, in_app, email in members:
        shown, mail = effective(notice.kind.value, in_app, email)
        if shown or mail != c.EmailChoice.off:
            rows.append((new_id(), member_id, shown))
    made = await repo.insert_notifications(session, _common(notice, utcnow()), rows)
    _record(session, made)
    return made


async def notify(
    session: AsyncSession, notice: Notice, recipients: Sequence[int], entry: Entry | None
) -> list[tuple[int, int]]:
    """Tell a few members (an author, the mentioned) whom the audience rules admit."""
    members = await repo.eligible_members(session, recipients, notice.actor_id, entry)
    chosen = await repo.preference_rows(session, members, notice.kind.value)
    return await _deliver(
        session,
        notice,
        [(m, chosen[m].in_app if m in chosen else None, chosen[m].email if m in chosen else None) for m in members],
    )


async def notify_page(
    session: AsyncSession,
    notice: Notice,
    source: tuple[Any, Any, list[Any]],
    entry: Entry | None,
    after: int,
    limit: int = FANOUT_PAGE,
) -> int | None:
    """One page of a fan-out to a source's members (bells, RSVPs), keyset by member id:
    returns the id to continue after, or None when this was the last page. Each page is
    one bulk insert and one `notification.created` in the caller's transaction."""
    page = await repo.audience_page(session, source, notice.kind.value, notice.actor_id, entry, after, limit)
    await _deliver(session, notice, page)
    return page[-1][0] if len(page) == limit else None


async def notify_grouped(session: AsyncSession, notice: Notice, recipient_id: int, entry: Entry | None) -> int | None:
    """Gather the notice's actor into the recipient's group (made on first use). A new
    actor moves the group up and makes it unread; one counted before changes nothing.
    Returns the id of the row made or regrouped."""
    actor_id = notice.actor_id
    assert actor_id is not None, "a group gathers actors"
    if not await repo.eligible_members(session, [recipient_id], actor_id, entry):
        return None
    in_app, email = await preference_for(session, recipient_id, notice.kind.value)
    if not in_app and email == c.EmailChoice.off:
        return None
    now = utcnow()
    made = await repo.insert_notifications(session, _common(notice, now), [(new_id(), recipient_id, in_app)])
    if made:
        await repo.add_notification_actor(session, made[0][0], actor_id, now)
        _record(session, made)
        return made[0][0]
    # The group exists (perhaps just made by a concurrent job, whose commit we waited for).
    row = await repo.notification_for_update(session, recipient_id, notice.group_key)
    if row is None or not await repo.add_notification_actor(session, row.id, actor_id, now):
        return None
    row.actor_id = actor_id
    row.actors_count += 1
    row.sort_key = new_id()
    row.updated_at = now
    row.read_at = None
    row.in_app = in_app
    row.data = {**row.data, **notice.data}
    await session.flush()
    _record(session, [(row.id, recipient_id)])
    return row.id


async def notify_moderation_outcome(
    session: AsyncSession,
    *,
    member_id: int,
    key: str,
    outcome: str,
    message: str = "",
    about: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> int | None:
    """Tell a member what moderators decided about their report or their content. The
    moderation service calls this once per decision and member; `key` names the
    decision, so a second call adds nothing. Returns the new notification's id."""
    if not key or len(key) > 100:
        raise BadUserInput("a decision key of 1–100 characters is needed", field="key")
    data = {"outcome": outcome[:40], "message": message[:1000], "about": about[:200] if about else None}
    notice = Notice(Kind.moderation_outcome, f"moderation:{key}", None, subject_type, subject_id, data)
    made = await notify(session, notice, [member_id], None)
    return made[0][0] if made else None


# --- reading -----------------------------------------------------------------------------------------------


async def _outs(session: AsyncSession, me: int, rows: list[Notification]) -> list[c.NotificationOut]:
    """As the member sees them: a group counts, and names as latest, only actors they may hear from."""
    hidden = await repo.hidden_members(session, me) if rows else set()
    hidden_counts = await repo.hidden_actor_counts(session, [n.id for n in rows if n.actors_count > 1], hidden)
    out = []
    for n in rows:
        actor_id, count = n.actor_id, n.actors_count
        if hidden_counts.get(n.id):
            count -= hidden_counts[n.id]
            if actor_id in hidden:
                actor_id = await repo.latest_actor(session, n.id, hidden)
        out.append(
            c.NotificationOut(
                id=n.id,
                recipient_id=n.recipient_id,
                kind=n.kind,
                subject_type=n.subject_type,
                subject_id=n.subject_id,
                actor_id=actor_id,
                actors_count=max(count, 0),
                data=n.data,
                sort_key=n.sort_key,
                created_at=n.created_at,
                updated_at=n.updated_at,
                read_at=n.read_at,
            )
        )
    return out


async def list_notifications(
    session: AsyncSession, actor: Principal, unread_only: bool, req: PageRequest
) -> c.NotificationPage:
    """Newest first by sort key (a regrouped notification moves up)."""
    me = require_member_id(actor)
    key = col(Notification.sort_key)
    page = await paginate(
        session, repo.notifications_of(me, unread_only), key, lambda r: r[0].sort_key, req, count=False
    )
    return c.NotificationPage(
        items=await _outs(session, me, [r[0] for r in page.rows]),
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=None,
    )


async def by_ids(
    session: AsyncSession, actor: Principal, ids: Sequence[int], *, in_app_only: bool = True
) -> list[c.NotificationOut]:
    """The member's own notifications among these ids as they see them, newest first
    (others are left out). The mailer passes `in_app_only=False`: a kind kept for mail
    only is made with in_app false, and is mailed though never listed."""
    me = require_member_id(actor)
    rows = sorted(await repo.notifications_by_ids(session, me, ids[:100], in_app_only), key=lambda n: -n.sort_key)
    return await _outs(session, me, rows)


async def unread_count(session: AsyncSession, actor: Principal) -> int:
    return await repo.count_unread(session, require_member_id(actor), UNREAD_CAP)


async def mark_read(session: AsyncSession, actor: Principal, data: c.MarkReadIn) -> c.MarkReadOut:
    """Mark some (all of them the member's, or nothing is marked) or all notifications read."""
    me = _require_writer(actor)
    now = utcnow()
    ids: list[int] = []
    if data.all:
        marked = await repo.mark_read(session, me, None, now)
    else:
        ids = list(dict.fromkeys(data.ids))
        if len(await repo.own_notification_ids(session, me, ids)) != len(ids):
            raise NotFound("no such notification", field="ids")
        marked = await repo.mark_read(session, me, ids, now)
    return c.MarkReadOut(ids=ids, marked=marked, unread_count=await repo.count_unread(session, me, UNREAD_CAP))


# --- bells --------------------------------------------------------------------------------------------------


async def set_bell(session: AsyncSession, graph: GraphClient, actor: Principal, data: c.BellIn) -> c.BellOut:
    """Hear of every new post and event of a hub or organisation the member may see."""
    me = _require_writer(actor)
    if data.on:
        if data.target_type == c.BellTarget.hub:
            found: list[Any] = await graph.hubs_by_ids(actor, [data.target_id])
        else:
            found = await graph.organisations_by_ids(actor, [data.target_id])
        if not found:
            raise NotFound(f"no such {data.target_type.value}", field="targetId")
    await repo.set_bell(session, me, data.target_type.value, data.target_id, data.on, utcnow())
    return c.BellOut(target_type=data.target_type.value, target_id=data.target_id, on=data.on)


async def bells(session: AsyncSession, actor: Principal, target_type: c.BellTarget, ids: list[int]) -> list[c.BellOut]:
    me = require_member_id(actor)
    on = await repo.bells_on(session, me, target_type.value, ids)
    return [c.BellOut(target_type=target_type.value, target_id=i, on=i in on) for i in ids]
