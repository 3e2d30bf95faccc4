"""iCalendar (RFC 5545) for one event and for a hub's upcoming events, and RSS 2.0 / Atom
for public hub and organisation feeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from html import escape

from feedgen.feed import FeedGenerator
from icalendar import Calendar, vText
from icalendar import Event as VEvent

from services.feed.contracts import FeedItemOut, InitiativeActivityKind, InitiativeActivityOut, zone
from services.feed.models import Event
from services.graph.contracts import STATUSES, InitiativeOut, label

PRODID = "-//Hubben//Hubben events//SV"


def _vevent(event: Event, base_url: str) -> VEvent:
    tz = zone(event.timezone)
    v = VEvent()
    v.add("uid", f"event-{event.id}@hubben")
    v.add("sequence", event.sequence)
    v.add("dtstamp", event.updated_at.astimezone(UTC))
    v.add("created", event.created_at.astimezone(UTC))
    v.add("last-modified", event.updated_at.astimezone(UTC))
    # Local times with their zone, so clients show the organiser's wall-clock time.
    v.add("dtstart", event.starts_at.astimezone(tz))
    v.add("dtend", event.ends_at.astimezone(tz))
    v.add("summary", event.title)
    if event.description:
        v.add("description", event.description)
    if event.location:
        v.add("location", event.location)
    v.add("url", event.online_url or f"{base_url}/events/{event.id}")
    v.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    return v


def ics(events: Iterable[Event], base_url: str, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # An X- property is written as given unless typed: escape it as text (a title may hold a newline).
    cal.add("x-wr-calname", vText(name))
    for event in events:
        cal.add_component(_vevent(event, base_url))
    cal.add_missing_timezones()
    return cal.to_ical()


def _initiative_title(activity: InitiativeActivityOut, initiative: InitiativeOut) -> str:
    if activity.kind == InitiativeActivityKind.created:
        return f"Nytt initiativ: {initiative.title}"
    before = label(STATUSES, activity.from_status or "")
    after = label(STATUSES, activity.to_status or "")
    return f"Ny status för {initiative.title}: {after} (tidigare {before})"


def syndication(
    items: Iterable[FeedItemOut],
    *,
    title: str,
    link: str,
    self_url: str,
    description: str,
    fmt: str,
    initiatives: Mapping[int, InitiativeOut] | None = None,
) -> bytes:
    """`initiatives`: the initiatives of the items' initiative activities, as the reader may
    see them; an activity whose initiative is not among them is left out."""
    initiatives = initiatives or {}
    fg = FeedGenerator()
    fg.id(link)
    fg.title(title)
    # RSS's channel <link> takes the last link set: the page, not the feed itself.
    fg.link(href=self_url, rel="self")
    fg.link(href=link, rel="alternate")
    fg.description(description or title)
    fg.language("sv")
    for item in reversed(list(items)):  # feedgen prepends: add oldest first
        activity = item.initiative_activity
        if activity is not None and activity.initiative_id not in initiatives:
            continue
        entry = fg.add_entry()
        if item.post is not None:
            post = item.post
            url = f"{link}#post-{post.id}"
            entry.id(url)
            entry.title(post.title or (post.body[:80] + ("…" if len(post.body) > 80 else "")))
            entry.link(href=post.url or url)
            entry.content(post.body_html, type="html")
            entry.published(post.created_at)
            entry.updated(post.edited_at or post.created_at)
        elif item.event is not None:
            event = item.event
            url = f"{link}#event-{event.id}"
            entry.id(url)
            entry.title(event.title + (" (inställt)" if event.status == "cancelled" else ""))
            entry.link(href=url)
            entry.content(event.description_html, type="html")
            entry.published(event.created_at)
            entry.updated(event.updated_at)
        elif activity is not None:
            initiative = initiatives[activity.initiative_id]
            entry.id(f"{link}#initiative-update-{activity.id}")
            entry.title(_initiative_title(activity, initiative))
            entry.link(href=f"{link}#initiative-{initiative.id}")
            entry.content(f"<p>{escape(initiative.summary)}</p>" if initiative.summary else "", type="html")
            entry.published(activity.created_at)
            entry.updated(activity.created_at)
    return fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
