"""Mail: the graph service's account mails (email verification, password reset), a mail
per notification for kinds a member wants at once, the daily digest, and unsubscribing.

Each mail goes out once per cause: its key (`EmailDelivery`) is written after the SMTP
server accepted it, so a job that runs again skips what went out. A job that dies between
the two sends that one mail again (at least once, never lost). A mail that cannot be sent
(the SMTP server is down) fails the job, which is retried with backoff.

Who gets mail: only members whose account is active, and for notifications and digests
only at a verified address (account mails go to unverified ones too: the verification
mail, and a reset link, which proves the mailbox is theirs and verifies it when used); a
suspended or erased member gets nothing. A notification is mailed as the member would
see it in the app: nothing from members on either side of a block with them or muted by
them, even if blocked after it was made.

What: a notification kind set to "immediate" (contracts.NOTIFICATION_DEFAULTS, or the
member's NotificationPreference) mails once when made; a group that gains actors ("Anna
and 3 others") mails again at most every REMAIL_GROUP_AFTER, and not once read. Kinds set
to "digest" wait for the daily digest (HUBBEN_DIGEST_HOUR, Stockholm time): one mail per
member and day of what is unread and was not mailed, marked `digested_at`.

Links in mails point at the gateway (`HUBBEN_PUBLIC_URL`):
- `/email/verify?token=…`: a page with a confirm button (a GET never uses the token up,
  so link scanners in mail systems cannot); clients may instead pass the token to the
  GraphQL mutation `verifyEmail(input: {token})`.
- `/email/reset-password?token=…`: a page to choose the new password; or the GraphQL
  mutation `resetPassword(input: {token, newPassword})`.
- `/email/unsubscribe?token=…`: a signed token naming the member and the kind of mail
  (`digest` for the digest); GET shows a confirm button, POST (also RFC 8058 one-click
  from the List-Unsubscribe header) turns that kind's mail off."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed import repository as repo
from services.feed.contracts import NotificationKind, NotificationOut
from services.feed.models import EmailDelivery, Notification, NotificationPreference
from services.feed.service import notifications
from services.graph.contracts import ContactOut
from shared.auth import Principal
from shared.database import session_scope, utcnow
from shared.errors import BadUserInput
from shared.jobs import Registry, event_key
from shared.mail import LANGUAGES, Mail, send, templates

log = structlog.get_logger("hubben.feed.mail")

TEMPLATES = Path(__file__).parent / "templates" / "mail"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# How the feed's mail jobs call the graph service: as a service, never as a member.
SERVICE = Principal(member_id=None, roles=(), scopes=("read",), service="feed", token_kind="service")

ACCOUNT_MAIL = "feed.send_account_mail"
NOTIFICATION_MAIL = "feed.email_notifications"
DIGESTS = "feed.send_digests"
ACCOUNT_LINKS = {"verify_email": "/email/verify", "reset_password": "/email/reset-password"}
UNSUBSCRIBE_PATH = "/email/unsubscribe"
DIGEST = "digest"  # the unsubscribe "kind" of the digest as a whole

# A grouped notification ("Anna and 3 others reacted") that gains actors is mailed again
# at most this often.
REMAIL_GROUP_AFTER = timedelta(hours=1)
# A digest lists notifications updated in this window before it, at most this many.
DIGEST_WINDOW = timedelta(days=2)
DIGEST_MAX_ITEMS = 50
DIGEST_MEMBERS_PER_BATCH = 200
EXCERPT_CHARS = 280


# --- preferences ----------------------------------------------------------------------------


KINDS = frozenset(k.value for k in NotificationKind)


def _choice(kind: str, row: NotificationPreference | None) -> str:
    """A member's email choice for a kind: their row, else the kind's default."""
    if kind not in KINDS:
        return "off"
    return notifications.effective(kind, row.in_app if row else None, row.email if row else None)[1]


async def email_choices(session: AsyncSession, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The email choice ('off', 'immediate', 'digest') of each (member, kind), in one query."""
    wanted = set(pairs)
    rows: dict[tuple[int, str], NotificationPreference] = {}
    members = {m for m, _ in wanted}
    if members:
        stmt = select(NotificationPreference).where(col(NotificationPreference.member_id).in_(members))
        rows = {(r.member_id, r.kind): r for r in (await session.execute(stmt)).scalars()}
    return {pair: _choice(pair[1], rows.get(pair)) for pair in wanted}


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def turn_off(session: AsyncSession, member_id: int, kind: str) -> list[str]:
    """Stop mail of one kind, or with DIGEST of every kind the member gets in the digest.
    In-app notifications stay as they were. Returns the kinds turned off."""
    if kind == DIGEST:
        choices = await email_choices(session, [(member_id, k) for k in KINDS])
        kinds = sorted(k for (_, k), choice in choices.items() if choice == DIGEST)
    elif kind in KINDS:
        kinds = [kind]
    else:
        raise BadUserInput("unknown kind of notification", field="kind")
    for k in kinds:
        stmt = _insert(session, NotificationPreference).values(
            member_id=member_id, kind=k, in_app=notifications.effective(k, None, None)[0], email="off"
        )
        await session.execute(stmt.on_conflict_do_update(index_elements=["member_id", "kind"], set_={"email": "off"}))
    log.info("mail.unsubscribed", member_id=member_id, kind=kind, kinds=kinds)
    return kinds


def label(kind: str) -> dict[str, str]:
    """How the mails name a kind, per language (for the unsubscribe page)."""
    out = {}
    for lang in LANGUAGES:
        macros = templates(TEMPLATES).text.get_template(f"_kinds.{lang}.jinja").module
        out[lang] = str(macros.label(kind))  # type: ignore[attr-defined]
    return out


# --- shared pieces --------------------------------------------------------------------------


def _url(ctx: dict[str, Any], path: str, **params: str) -> str:
    return f"{ctx['settings'].public_url.rstrip('/')}{path}" + (f"?{urlencode(params)}" if params else "")


def _unsubscribe_url(ctx: dict[str, Any], member_id: int, kind: str) -> str:
    return _url(ctx, UNSUBSCRIBE_PATH, token=ctx["codec"].issue_unsubscribe_token(member_id, kind))


def _local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _short(value: Any, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def _already_sent(ctx: dict[str, Any], key: str) -> bool:
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        return await s.get(EmailDelivery, key) is not None


async def _record(session: AsyncSession, key: str, member_id: int, template: str) -> None:
    stmt = _insert(session, EmailDelivery).values(key=key, member_id=member_id, template=template, sent_at=utcnow())
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))


async def _contacts(ctx: dict[str, Any], member_ids: Iterable[int]) -> dict[int, ContactOut]:
    ids = sorted(set(member_ids))
    return {c.member_id: c for c in await ctx["graph"].contacts(SERVICE, ids)} if ids else {}


def _mailable(contact: ContactOut | None) -> bool:
    return contact is not None and contact.active and contact.verified


async def _names(ctx: dict[str, Any], member_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in member_ids if i is not None})
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for m in await ctx["graph"].members(SERVICE, ids[start : start + 500]):
            names[m.id] = m.display_name
    return names


def _place_ref(n: NotificationOut) -> tuple[str, int] | None:
    """The hub or organisation a notification names, if any."""
    data: dict[str, Any] = dict(n.data or {})
    if n.kind == "hub_post" and data.get("hub_id"):
        return "hub", int(data["hub_id"])
    if n.kind in ("organisation_post", "organisation_invitation") and data.get("organisation_id"):
        return "organisation", int(data["organisation_id"])
    return None


async def _places(ctx: dict[str, Any], notes: Iterable[NotificationOut]) -> dict[tuple[str, int], str]:
    """Names of the hubs and organisations notifications speak of. A hub only its members
    see is not named (the services' principal reads as nobody in particular)."""
    refs = {ref for n in notes if (ref := _place_ref(n)) is not None}
    hubs = sorted(i for kind, i in refs if kind == "hub")
    orgs = sorted(i for kind, i in refs if kind == "organisation")
    out: dict[tuple[str, int], str] = {}
    if hubs:
        out.update({("hub", h.id): h.name for h in await ctx["graph"].hubs_by_ids(SERVICE, hubs)})
    if orgs:
        out.update({("organisation", o.id): o.name for o in await ctx["graph"].organisations_by_ids(SERVICE, orgs)})
    return out


def _item(n: NotificationOut, names: dict[int, str], places: dict[tuple[str, int], str]) -> dict[str, Any]:
    """What the templates say about one notification (see _kinds.<lang>.jinja)."""
    data: dict[str, Any] = dict(n.data or {})
    ref = _place_ref(n)
    place = places.get(ref, "") if ref is not None else ""
    starts = data.get("starts_at")
    return {
        "kind": n.kind,
        "actor": names.get(n.actor_id, "") if n.actor_id is not None else "",
        "others": max(n.actors_count - 1, 0),
        "item_type": data.get("item_type") or n.subject_type or "",
        "title": _short(data.get("title"), 120),
        "excerpt": _short(data.get("excerpt") or data.get("message")),
        "place": _short(place, 120),
        "starts": _local(datetime.fromisoformat(starts)) if isinstance(starts, str) and starts else "",
        "window": data.get("window") or "",
        "outcome": data.get("outcome") or "",
        "when": _local(n.updated_at),
    }


# --- account mails (graph: email.requested) ----------------------------------------------------


async def send_account_mail(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    p = event["payload"]
    template = p.get("template")
    if template not in ACCOUNT_LINKS:
        log.warning("mail.unknown_template", template=template, event=event["id"])
        return
    key = event_key(event, ACCOUNT_MAIL)
    if await _already_sent(ctx, key):
        return
    member_id = int(p["member_id"])
    contact = (await _contacts(ctx, [member_id])).get(member_id)
    expires = datetime.fromisoformat(p["expires_at"])
    reason = None
    if contact is None or not contact.active:
        reason = "account not active"
    elif template == "verify_email" and contact.verified:
        reason = "already verified"
    elif expires <= utcnow():
        reason = "link expired"
    if reason is not None or contact is None:
        log.info("mail.skipped", template=template, member_id=member_id, reason=reason)
        return
    rendered = templates(TEMPLATES).render(
        template,
        p.get("language") or contact.language,
        name=contact.display_name,
        link=_url(ctx, ACCOUNT_LINKS[template], token=p["token"]),
        expires=_local(expires),
        public_url=ctx["settings"].public_url,
    )
    # To the address the token was issued for, which the link proves.
    await send(ctx["settings"], Mail.of(rendered, p["to"], to_name=contact.display_name))
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        await _record(s, key, member_id, template)


# --- immediate notification mails (feed: notification.created) -------------------------------------


def _due(n: Notification, now: datetime) -> bool:
    if n.read_at is not None:
        return False
    if n.emailed_at is None:
        return True
    return n.updated_at > n.emailed_at and now - n.emailed_at >= REMAIL_GROUP_AFTER


async def _as_seen(ctx: dict[str, Any], recipient_id: int, rows: list[Notification]) -> list[NotificationOut]:
    """The notifications as the member sees them in the app: actors on either side of a
    block with them, or muted by them, since the notification was made are left out (and
    with them a notification that has no other actor)."""
    viewer = Principal(member_id=recipient_id, scopes=("read",), token_kind="service")
    had_actor = {n.id for n in rows if n.actor_id is not None}
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        hidden = await repo.hidden_members(s, recipient_id)
        outs: list[NotificationOut] = []
        ids = [n.id for n in rows]
        for start in range(0, len(ids), 100):
            outs += await notifications.by_ids(s, viewer, ids[start : start + 100])
    return [o for o in outs if o.actor_id not in hidden and (o.actor_id is not None or o.id not in had_actor)]


async def email_notifications(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    ids = sorted({int(i) for i in event["payload"].get("ids") or []})
    if not ids:
        return
    now = utcnow()
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        rows = list((await s.execute(select(Notification).where(col(Notification.id).in_(ids)))).scalars())
        choices = await email_choices(s, [(n.recipient_id, n.kind) for n in rows])
    due: dict[int, list[Notification]] = defaultdict(list)
    for n in rows:
        if choices[(n.recipient_id, n.kind)] == "immediate" and _due(n, now):
            due[n.recipient_id].append(n)
    if not due:
        return
    contacts = await _contacts(ctx, due)
    counts = {n.id: n.actors_count for n in rows}
    outs: list[NotificationOut] = []
    for recipient_id, notes in due.items():
        if _mailable(contacts.get(recipient_id)):
            outs += await _as_seen(ctx, recipient_id, notes)
        else:
            log.info("mail.skipped", template="notification", member_id=recipient_id, reason="not mailable")
    names = await _names(ctx, [o.actor_id for o in outs])
    places = await _places(ctx, outs)
    for o in outs:
        contact = contacts[o.recipient_id]
        key = f"notification:{o.id}:{counts[o.id]}"
        if await _already_sent(ctx, key):
            continue
        unsubscribe = _unsubscribe_url(ctx, o.recipient_id, o.kind)
        rendered = templates(TEMPLATES).render(
            "notification",
            contact.language,
            name=contact.display_name,
            item=_item(o, names, places),
            kind=o.kind,
            link=_url(ctx, "/"),
            unsubscribe_url=unsubscribe,
            public_url=ctx["settings"].public_url,
        )
        await send(
            ctx["settings"], Mail.of(rendered, contact.email, to_name=contact.display_name, unsubscribe_url=unsubscribe)
        )
        async with session_scope(ctx["feed_sessionmaker"]) as s:
            await _record(s, key, o.recipient_id, "notification")
            await s.execute(update(Notification).where(col(Notification.id) == o.id).values(emailed_at=utcnow()))


# --- the daily digest (hourly; works at HUBBEN_DIGEST_HOUR, Europe/Stockholm) ---------------------


def _digest_day(ctx: dict[str, Any], at: datetime) -> date | None:
    local = at.astimezone(STOCKHOLM)
    return local.date() if local.hour == ctx["settings"].digest_hour else None


def _pending_digest(since: datetime) -> Any:
    """Notifications no mail has told of yet: unread, recent, neither mailed nor digested."""
    return (
        col(Notification.read_at).is_(None),
        col(Notification.emailed_at).is_(None),
        col(Notification.digested_at).is_(None),
        col(Notification.updated_at) >= since,
    )


async def send_digests(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
    """One digest per member and day, of notifications whose kind the member wants as a
    digest. `arg["at"]` (ISO time) is the run's moment; the job does nothing outside the
    digest hour, so an hourly schedule sends once a day."""
    at = datetime.fromisoformat(arg["at"]) if arg.get("at") else utcnow()
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    day = _digest_day(ctx, at)
    if day is None:
        return
    since = at - DIGEST_WINDOW
    after = -1
    sent = 0
    while True:
        async with session_scope(ctx["feed_sessionmaker"]) as s:
            stmt = (
                select(col(Notification.recipient_id))
                .where(*_pending_digest(since), col(Notification.recipient_id) > after)
                .group_by(col(Notification.recipient_id))
                .order_by(col(Notification.recipient_id))
                .limit(DIGEST_MEMBERS_PER_BATCH)
            )
            members = [int(m) for m in (await s.execute(stmt)).scalars()]
        if not members:
            break
        sent += await _digest_batch(ctx, members, day, since)
        after = members[-1]
    log.info("mail.digests_sent", day=day.isoformat(), count=sent)


async def _digest_batch(ctx: dict[str, Any], members: list[int], day: date, since: datetime) -> int:
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        stmt = (
            select(Notification)
            .where(*_pending_digest(since), col(Notification.recipient_id).in_(members))
            .order_by(col(Notification.sort_key).desc())
        )
        rows = list((await s.execute(stmt)).scalars())
        choices = await email_choices(s, [(n.recipient_id, n.kind) for n in rows])
    per_member: dict[int, list[Notification]] = defaultdict(list)
    for n in rows:
        if choices[(n.recipient_id, n.kind)] == DIGEST:
            per_member[n.recipient_id].append(n)
    if not per_member:
        return 0
    contacts = await _contacts(ctx, per_member)
    seen: dict[int, list[NotificationOut]] = {}
    for member_id, notes in per_member.items():
        contact = contacts.get(member_id)
        if contact is not None and _mailable(contact):
            seen[member_id] = await _as_seen(ctx, member_id, notes[: DIGEST_MAX_ITEMS * 2])
    shown_all = [o for outs in seen.values() for o in outs[:DIGEST_MAX_ITEMS]]
    names = await _names(ctx, [o.actor_id for o in shown_all])
    places = await _places(ctx, shown_all)
    sent = 0
    for member_id, outs in seen.items():
        contact = contacts[member_id]
        notes = per_member[member_id]
        key = f"digest:{member_id}:{day.isoformat()}"
        if not outs or await _already_sent(ctx, key):
            continue
        shown = outs[:DIGEST_MAX_ITEMS]
        # Of those looked at, the ones left out (blocked or muted actors) are not counted.
        total = len(notes) - (min(len(notes), DIGEST_MAX_ITEMS * 2) - len(outs))
        unsubscribe = _unsubscribe_url(ctx, member_id, DIGEST)
        kinds = sorted({n.kind for n in shown})
        rendered = templates(TEMPLATES).render(
            "digest",
            contact.language,
            name=contact.display_name,
            items=[_item(n, names, places) for n in shown],
            total=total,
            more=total - len(shown),
            kinds_in_mail=[{"kind": k, "url": _unsubscribe_url(ctx, member_id, k)} for k in kinds],
            link=_url(ctx, "/"),
            unsubscribe_url=unsubscribe,
            public_url=ctx["settings"].public_url,
        )
        await send(
            ctx["settings"], Mail.of(rendered, contact.email, to_name=contact.display_name, unsubscribe_url=unsubscribe)
        )
        async with session_scope(ctx["feed_sessionmaker"]) as s:
            await _record(s, key, member_id, DIGEST)
            ids = [n.id for n in notes]
            await s.execute(update(Notification).where(col(Notification.id).in_(ids)).values(digested_at=utcnow()))
        sent += 1
    return sent


def register(registry: Registry) -> None:
    registry.add(ACCOUNT_MAIL, {"email.requested"}, send_account_mail)
    registry.add(NOTIFICATION_MAIL, {"notification.created"}, email_notifications)
    registry.every(DIGESTS, send_digests, hourly=True)
