"""Initiatives' activity in feeds: the graph service owns initiatives; the feed shows, as the
owning organisation's items, a public initiative's creation and each change of its status.
They reach the organisation's feed, and its followers' home feeds by the same fan-out as
the organisation's posts (`initiative_activity.created`, then `entry.hidden` and
`entry.restored` as the initiative's visibility changes).

Only what happened in public is shown:
- created public: a "created" item. Created for the organisation only: nothing; once an
  update first makes it public, a "created" item then (it is published). One per initiative.
- status changed while public: a "status_changed" item; while not public: nothing.
- made non-public: its items leave every feed (their entries stop being live); made public
  again: they are back. Deleted: they leave for good.

Every graph event about an initiative carries its visibility then. Events may arrive out of
order (retries, several workers), so the feed keeps the initiative's state as of the newest
event applied (InitiativeCopy, versioned like the other copies): an older event still adds
its item, shown or not as that state says, and never undoes a newer state."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Entry, InitiativeActivity, InitiativeCopy
from shared.outbox import record_event

log = structlog.get_logger("hubben.feed.initiatives")

TOPICS = {"initiative.created", "initiative.updated", "initiative.status_changed", "initiative.deleted"}
ITEM_TYPE = "initiative"
APPEARED = "initiative_activity.created"
# The fan-out's topics for an entry that stopped or started being live (services.feed.fanout).
HIDDEN = "entry.hidden"
RESTORED = "entry.restored"
CREATED = c.InitiativeActivityKind.created.value
STATUS_CHANGED = c.InitiativeActivityKind.status_changed.value
# Entry.kind (ten characters) of each kind of activity.
_ENTRY_KINDS = {CREATED: "created", STATUS_CHANGED: "status"}


def to_out(activity: InitiativeActivity) -> c.InitiativeActivityOut:
    return c.InitiativeActivityOut.model_validate(activity)


async def _state(session: AsyncSession, topic: str, p: dict[str, Any], version: int) -> InitiativeCopy:
    """The initiative as of the newest event applied to it, this one included."""
    initiative_id = int(p["initiative_id"])
    newest = await repo.newer(session, f"initiative:{initiative_id}", version)  # locks: one event at a time
    copy = await session.get(InitiativeCopy, initiative_id)
    if copy is None:
        # Only missing when no event was applied yet, so this one is the newest.
        copy = InitiativeCopy(id=initiative_id, organisation_id=int(p["organisation_id"]), visibility=p["visibility"])
        session.add(copy)
    elif newest:
        copy.visibility = p["visibility"]
    if topic == "initiative.deleted":
        copy.deleted = True  # for good, whatever arrives after
    return copy


def _activity(topic: str, event_id: int, p: dict[str, Any]) -> InitiativeActivity | None:
    """The item this event brings, if any: only for what happened while it was public."""
    if p["visibility"] != "public":
        return None
    initiative_id = int(p["initiative_id"])
    if topic == "initiative.created":
        key, kind, before, after = f"created:{initiative_id}", CREATED, None, p.get("status")
    elif topic == "initiative.updated" and "visibility" in p.get("fields", ()):
        key, kind, before, after = f"created:{initiative_id}", CREATED, None, None  # published
    elif topic == "initiative.status_changed":
        key, kind, before, after = f"status:{event_id}", STATUS_CHANGED, p["from"], p["to"]
    else:
        return None
    return InitiativeActivity(
        key=key,
        initiative_id=initiative_id,
        organisation_id=int(p["organisation_id"]),
        actor_id=int(p["by"]),
        kind=kind,
        from_status=before,
        to_status=after,
    )


async def apply_initiative_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Apply one graph event about an initiative (the caller makes it happen once: HandledEvent)."""
    topic, p, version = event["topic"], event["payload"], int(event["id"])
    copy = await _state(session, topic, p, version)
    shown = copy.visibility == "public" and not copy.deleted
    for entry_id in await repo.set_initiative_entries_live(session, copy.id, shown):
        record_event(session, RESTORED if shown else HIDDEN, {"entry_id": entry_id, "initiative_id": copy.id})
    activity = _activity(topic, version, p)
    if activity is None or copy.deleted or await repo.activity_keyed(session, activity.key):
        return
    session.add(activity)
    await session.flush()
    session.add(
        Entry(
            id=activity.id,
            item_type=ITEM_TYPE,
            author_id=activity.actor_id,
            organisation_id=activity.organisation_id,
            visibility="public",
            kind=_ENTRY_KINDS[activity.kind],
            hub_rank=activity.id,
            live=shown,
        )
    )
    if shown:
        record_event(
            session,
            APPEARED,
            {
                "entry_id": activity.id,
                "initiative_id": activity.initiative_id,
                "organisation_id": activity.organisation_id,
                "kind": activity.kind,
            },
        )
    log.info("feed.initiative_activity", initiative_id=copy.id, kind=activity.kind, shown=shown)
