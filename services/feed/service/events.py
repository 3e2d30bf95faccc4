"""Events: create, update, cancel; RSVPs with a waitlist that promotes in order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Entry, Event, Rsvp, start_key
from services.feed.service.common import effective_visibility, require_writer, resolve_place
from services.graph import contracts as gc
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import out_of, utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.geo import municipalities
from shared.ids import new_id
from shared.outbox import record_event
from shared.search_documents import Language
from shared.text import render_markdown


def to_out(event: Event) -> c.EventOut:
    return out_of(c.EventOut, event)


async def create_event(session: AsyncSession, graph: GraphClient, actor: Principal, data: c.EventIn) -> Event:
    me = await require_writer(graph, actor)
    place = await resolve_place(graph, actor, data.hub_id, data.organisation_id)
    county = municipalities()[data.municipality_code].county_code if data.municipality_code else None
    if county is None and place.organisation is not None:
        county = place.organisation.county_code
    visibility = effective_visibility(data.visibility.value if data.visibility else None, place)
    event_id = new_id()
    event = Event(
        id=event_id,
        start_key=start_key(data.starts_at, event_id),
        created_by=me.id,
        organiser_member_id=None if data.organisation_id else me.id,
        organiser_organisation_id=data.organisation_id,
        hub_id=data.hub_id,
        title=data.title,
        description=data.description,
        description_html=render_markdown(data.description),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        location=data.location,
        online_url=data.online_url,
        municipality_code=data.municipality_code,
        county_code=county,
        capacity=data.capacity,
        visibility=visibility,
        language=data.language.value,
    )
    session.add(event)
    await session.flush()
    session.add(
        Entry(
            id=event.id,
            item_type="event",
            author_id=me.id,
            organisation_id=event.organiser_organisation_id,
            hub_id=event.hub_id,
            visibility=visibility,
            kind="event",
            hub_rank=event.id,
        )
    )
    record_event(session, "event.created", event_payload(event))
    await session.flush()
    return event


def event_payload(event: Event) -> dict[str, object]:
    return {
        "event_id": event.id,
        "created_by": event.created_by,
        "organisation_id": event.organiser_organisation_id,
        "hub_id": event.hub_id,
        "visibility": event.visibility,
        "status": event.status,
        "sequence": event.sequence,
        "starts_at": event.starts_at.isoformat(),
    }


async def visible_event(session: AsyncSession, actor: Principal, event_id: int, *, lock: bool = False) -> Event:
    if not await repo.readable_entry(session, actor, event_id):
        raise NotFound("no such event", field="eventId")
    event = await (repo.event_for_update(session, event_id) if lock else session.get(Event, event_id))
    if event is None or event.deleted_at is not None:
        raise NotFound("no such event", field="eventId")
    return event


async def _require_organiser(graph: GraphClient, actor: Principal, me: gc.MemberOut, event: Event) -> None:
    if event.organiser_organisation_id is None:
        if event.organiser_member_id == me.id:
            return
    else:
        org_id = event.organiser_organisation_id
        relation = (await graph.relations(actor, gc.RelationsIn(organisation_ids=[org_id]))).organisations[org_id]
        if relation.role in ("owner", "admin", "editor"):
            return
    raise Forbidden("only the organiser changes an event")


async def update_event(
    session: AsyncSession, graph: GraphClient, actor: Principal, event_id: int, data: c.EventUpdateIn
) -> Event:
    me = await require_writer(graph, actor)
    event = await visible_event(session, actor, event_id, lock=True)
    await _require_organiser(graph, actor, me, event)
    if event.status == "cancelled":
        raise BadUserInput("a cancelled event cannot be changed", field="eventId")
    changes = data.model_dump(exclude_unset=True)
    for field in ("title", "starts_at", "ends_at", "timezone", "description", "language"):
        if field in changes and changes[field] is None:
            raise BadUserInput("this field cannot be cleared", field=field)
    starts = changes.get("starts_at", event.starts_at)
    ends = changes.get("ends_at", event.ends_at)
    if ends <= starts:
        raise BadUserInput("the end must come after the start", field="endsAt")
    location = changes["location"] if "location" in changes else event.location
    online = changes["online_url"] if "online_url" in changes else event.online_url
    if not location and not online:
        raise BadUserInput("give a location, an online URL, or both", field="location")
    if "capacity" in changes and changes["capacity"] is not None and changes["capacity"] < event.going_count:
        raise BadUserInput(f"{event.going_count} are already going; the capacity cannot be lower", field="capacity")
    if "language" in changes:
        changes["language"] = Language(changes["language"]).value
    for field, value in changes.items():
        setattr(event, field, value)
    if "description" in changes:
        event.description_html = render_markdown(event.description)
    if "municipality_code" in changes:
        event.county_code = municipalities()[event.municipality_code].county_code if event.municipality_code else None
    event.start_key = start_key(event.starts_at, event.id)
    event.sequence += 1
    event.updated_at = utcnow()
    await _promote(session, event)
    record_event(session, "event.updated", {**event_payload(event), "fields": sorted(changes)})
    await session.flush()
    return event


async def cancel_event(session: AsyncSession, graph: GraphClient, actor: Principal, event_id: int) -> Event:
    me = await require_writer(graph, actor)
    event = await visible_event(session, actor, event_id, lock=True)
    await _require_organiser(graph, actor, me, event)
    if event.status == "cancelled":
        return event
    event.status = "cancelled"
    event.sequence += 1
    event.updated_at = utcnow()
    record_event(session, "event.cancelled", event_payload(event))
    await session.flush()
    return event


def _bump(event: Event, status: str, delta: int) -> None:
    if status == "going":
        event.going_count += delta
    elif status == "interested":
        event.interested_count += delta
    elif status == "waitlisted":
        event.waitlist_count += delta


async def _promote(session: AsyncSession, event: Event) -> list[Rsvp]:
    """Fill free places from the waitlist, first come first served."""
    promoted: list[Rsvp] = []
    while event.capacity is None or event.going_count < event.capacity:
        waiting = await repo.first_waiting(session, event.id)
        if waiting is None:
            break
        waiting.status = "going"
        waiting.updated_at = utcnow()
        _bump(event, "waitlisted", -1)
        _bump(event, "going", 1)
        promoted.append(waiting)
        record_event(session, "event.waitlist_promoted", {"event_id": event.id, "member_id": waiting.member_id})
        await session.flush()
    return promoted


async def rsvp(
    session: AsyncSession, graph: GraphClient, actor: Principal, event_id: int, status: c.RsvpStatus
) -> Rsvp:
    """going on a full event joins the waitlist; leaving "going" promotes the first waiting member."""
    me = await require_writer(graph, actor)
    event = await visible_event(session, actor, event_id, lock=True)
    if event.status == "cancelled":
        raise BadUserInput("this event is cancelled", field="eventId")
    if event.ends_at <= utcnow():
        raise BadUserInput("this event is over", field="eventId")
    row = await repo.rsvp_of(session, event.id, me.id)
    wanted = status.value
    if wanted == "going" and event.capacity is not None and event.going_count >= event.capacity:
        wanted = "waitlisted"
    if row is not None:
        if row.status == wanted or (row.status == "waitlisted" and status.value == "going"):
            return row
        _bump(event, row.status, -1)
        was_going = row.status == "going"
        row.status = wanted
        row.updated_at = utcnow()
        if wanted == "waitlisted":
            row.queued_at = new_id()
    else:
        was_going = False
        row = Rsvp(event_id=event.id, member_id=me.id, status=wanted)
        session.add(row)
    _bump(event, wanted, 1)
    await session.flush()
    if was_going:
        await _promote(session, event)
    record_event(session, "event.rsvp", {"event_id": event.id, "member_id": me.id, "status": row.status})
    await session.flush()
    return row


async def rsvp_out(session: AsyncSession, row: Rsvp) -> c.RsvpOut:
    out = c.RsvpOut.model_validate(row)
    if row.status == "waitlisted":
        out.waitlist_position = await repo.waitlist_position(session, row)
    return out


async def require_organiser_view(session: AsyncSession, graph: GraphClient, actor: Principal, event_id: int) -> Event:
    """RSVP lists beyond "going" are the organiser's to see."""
    event = await visible_event(session, actor, event_id)
    if actor.member_id is None:
        raise Forbidden("only the organiser sees these RSVPs")
    me = (await graph.members(actor, [actor.member_id]))[0]
    await _require_organiser(graph, actor, me, event)
    return event


# --- removal: the organiser's account is erased (service/erasure.py), or moderators remove it ---


async def remove_event(session: AsyncSession, event: Event, *, by_moderation: bool = False) -> None:
    """Take an event away for good: cancelled (a calendar that holds it learns so by its
    sequence) and soft-deleted; its `event.deleted` takes it out of timelines.
    `by_moderation`: moderators removed it (said so in the event)."""
    event.status = "cancelled"
    event.sequence += 1
    event.updated_at = event.deleted_at = utcnow()
    await repo.set_entry(session, event.id, live=False)
    moderated: dict[str, object] = {"by_moderation": True} if by_moderation else {}
    record_event(session, "event.deleted", {**event_payload(event), **moderated})


async def withdraw_rsvp(session: AsyncSession, event: Event, row: Rsvp) -> None:
    """Remove one member's answer; a place it held goes to the first on the waitlist."""
    _bump(event, row.status, -1)
    was_going = row.status == "going"
    await session.delete(row)
    await session.flush()
    if was_going and event.status == "scheduled" and event.deleted_at is None:
        await _promote(session, event)
