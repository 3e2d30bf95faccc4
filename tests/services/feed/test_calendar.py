"""iCalendar and RSS/Atom documents at their public URLs, read back with real parsers
(icalendar, feedparser): stable UIDs, instants that survive the round trip, time zones,
SEQUENCE and STATUS, and who may read what."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest

from tests.conftest import Api, Session, poll

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id slug }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id title body bodyHtml visibility createdAt organisation { slug } }
  userErrors { field message code } } }"""
EVENT_FIELDS = "id title startsAt endsAt timeZone status sequence icsUrl"
EVENT = f"""mutation($i: CreateEventInput!) {{ createEvent(input: $i) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
INVITE_TO_HUB = """mutation($h: ID!, $m: ID!) { inviteToHub(input: {hubId: $h, memberId: $m}) {
  membership { state } userErrors { message } } }"""
UPDATE_HUB = """mutation($i: UpdateHubInput!) { updateHub(input: $i) { hub { visibility } userErrors { message } } }"""
DELETE_POST = """mutation($id: ID!) { deletePost(input: {id: $id}) { post { id } userErrors { message } } }"""
UPDATE_EVENT = f"""mutation($i: UpdateEventInput!) {{ updateEvent(input: $i) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
CANCEL_EVENT = f"""mutation($id: ID!) {{ cancelEvent(input: {{id: $id}}) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
INVITE = """mutation($o: ID!, $m: ID!) { inviteToOrganisation(input: {organisationId: $o, memberId: $m, role: EDITOR}) {
  invitation { id } userErrors { field message } } }"""
ACCEPT = """mutation($i: ID!) { acceptOrganisationInvitation(input: {invitationId: $i}) {
  invitation { status } userErrors { message } } }"""

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CET = timezone(timedelta(hours=1))


async def make_hub(api: Api, slug: str = "kraftsamlingen", visibility: str = "PUBLIC") -> tuple[Session, str, str]:
    owner = await api.sign_up(api.unique("owner"))
    org = await owner.ok(ORG, {"i": {"slug": f"org-{slug}", "name": f"Org {slug}", "kind": "OTHER"}})
    org_id = org["createOrganisation"]["organisation"]["id"]
    hub_input = {"slug": slug, "name": slug.title(), "organisationId": org_id, "visibility": visibility}
    hub = await owner.ok(HUB, {"i": {**hub_input, "joinPolicy": "OPEN"}})
    return owner, hub["createHub"]["hub"]["id"], org_id


async def create_event(session: Session, hub_id: str | None, starts: datetime, **extra: Any) -> dict[str, Any]:
    data = {
        "hubId": hub_id,
        "title": extra.pop("title", "AI-fika"),
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "location": "Lindholmen, Göteborg",
        **extra,
    }
    return (await session.ok(EVENT, {"i": data}))["createEvent"]["event"]  # type: ignore[no-any-return]


async def post(session: Session, **fields: Any) -> dict[str, Any]:
    return (await session.ok(POST, {"i": fields}))["createPost"]["post"]  # type: ignore[no-any-return]


def soon(days: int, hour: int = 18, tz: Any = CET) -> datetime:
    """A whole minute some days ahead, written with a non-UTC offset."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=tz)


async def get_ics(api: Api, path: str, token: str | None = None) -> icalendar.Calendar:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = await api.http.get(path, headers=headers)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(r.content)


def vevents(cal: icalendar.Calendar) -> list[Any]:
    return list(cal.walk("VEVENT"))


def only_vevent(cal: icalendar.Calendar) -> Any:
    events = vevents(cal)
    assert len(events) == 1, events
    return events[0]


def raw_id(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().partition(":")[2]


# --- iCalendar -----------------------------------------------------------------------------------


async def test_event_ics_round_trips_instants_and_zone(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    starts = soon(20)
    event = await create_event(owner, hub_id, starts, timeZone="Europe/Stockholm", description="Kom *alla*!")
    assert event["icsUrl"].endswith(f"/events/{event['id']}.ics")

    cal = await get_ics(api, f"/events/{event['id']}.ics")
    assert str(cal["version"]) == "2.0" and str(cal["prodid"])
    v = only_vevent(cal)
    dtstart, dtend = v.decoded("dtstart"), v.decoded("dtend")
    assert dtstart == starts and dtend == starts + timedelta(hours=2)
    # Shown in the organiser's zone, with its wall-clock time.
    assert v["dtstart"].params["TZID"] == "Europe/Stockholm" and v["dtend"].params["TZID"] == "Europe/Stockholm"
    assert dtstart.replace(tzinfo=None) == starts.astimezone(STOCKHOLM).replace(tzinfo=None)
    assert str(v["summary"]) == "AI-fika" and str(v["description"]) == "Kom *alla*!"
    assert str(v["status"]) == "CONFIRMED" and int(v["sequence"]) == 0
    zones = [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")]
    assert zones == ["Europe/Stockholm"]
    stockholm = cal.walk("VTIMEZONE")[0]
    assert {c.name for c in stockholm.subcomponents} >= {"STANDARD", "DAYLIGHT"}

    # The UID is stable: the same on every fetch and in the hub's calendar.
    again = only_vevent(await get_ics(api, f"/events/{event['id']}.ics"))
    assert str(again["uid"]) == str(v["uid"]) and str(v["uid"]).endswith("@hubben")
    hub_cal = await get_ics(api, "/hubs/kraftsamlingen/events.ics")
    assert [str(e["uid"]) for e in vevents(hub_cal)] == [str(v["uid"])]


async def test_instants_survive_other_offsets_and_zones(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    # Written in India's offset, shown in Stockholm; written in Stockholm's summer offset; shown in New York.
    ist = timezone(timedelta(hours=5, minutes=30))
    cases = [
        (soon(10, 21, ist), "Europe/Stockholm"),
        (soon(11, 9, timezone(timedelta(hours=2))), "Europe/Stockholm"),
        (soon(12, 15, CET), "America/New_York"),
        (soon(13, 12, UTC), "Europe/Stockholm"),
    ]
    created = [await create_event(owner, hub_id, s, timeZone=zone, title=f"E{i}") for i, (s, zone) in enumerate(cases)]
    for event, (starts, zone) in zip(created, cases, strict=True):
        assert event["timeZone"] == zone
        assert datetime.fromisoformat(event["startsAt"]) == starts
        v = only_vevent(await get_ics(api, f"/events/{event['id']}.ics"))
        assert v.decoded("dtstart") == starts and v.decoded("dtend") == starts + timedelta(hours=2)
        assert v["dtstart"].params["TZID"] == zone

    hub_cal = await get_ics(api, "/hubs/kraftsamlingen/events.ics")
    by_title = {str(v["summary"]): v for v in vevents(hub_cal)}
    assert sorted(by_title) == ["E0", "E1", "E2", "E3"]
    for i, (starts, _) in enumerate(cases):
        assert by_title[f"E{i}"].decoded("dtstart") == starts
    assert sorted(str(tz["tzid"]) for tz in hub_cal.walk("VTIMEZONE")) == ["America/New_York", "Europe/Stockholm"]
    assert str(hub_cal["x-wr-calname"]) == "Kraftsamlingen"


async def test_sequence_and_cancellation(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    starts = soon(15)
    event = await create_event(owner, hub_id, starts)
    path = f"/events/{event['id']}.ics"
    first = only_vevent(await get_ics(api, path))
    assert int(first["sequence"]) == 0 == event["sequence"]

    moved = starts + timedelta(days=1, hours=1)
    updated = (
        await owner.ok(
            UPDATE_EVENT,
            {
                "i": {
                    "id": event["id"],
                    "startsAt": moved.isoformat(),
                    "endsAt": (moved + timedelta(hours=3)).isoformat(),
                }
            },
        )
    )["updateEvent"]["event"]
    assert updated["sequence"] == 1
    second = only_vevent(await get_ics(api, path))
    assert int(second["sequence"]) == 1 and str(second["uid"]) == str(first["uid"])
    assert second.decoded("dtstart") == moved and second.decoded("dtend") == moved + timedelta(hours=3)

    await owner.ok(UPDATE_EVENT, {"i": {"id": event["id"], "title": "AI-fika, flyttad"}})
    third = only_vevent(await get_ics(api, path))
    assert int(third["sequence"]) == 2 and str(third["summary"]) == "AI-fika, flyttad"

    cancelled = (await owner.ok(CANCEL_EVENT, {"id": event["id"]}))["cancelEvent"]["event"]
    assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 3
    gone = only_vevent(await get_ics(api, path))
    assert str(gone["status"]) == "CANCELLED" and int(gone["sequence"]) == 3
    assert str(gone["uid"]) == str(first["uid"])
    # DTSTAMP and LAST-MODIFIED move forward with each change.
    assert gone.decoded("last-modified") >= third.decoded("last-modified") >= first.decoded("last-modified")

    # A cancelled event can't be changed; the calendar stays as it was.
    refused = await owner.gql(UPDATE_EVENT, {"i": {"id": event["id"], "title": "Igen"}})
    assert refused["data"]["updateEvent"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert int(only_vevent(await get_ics(api, path))["sequence"]) == 3


async def test_members_only_hub_events_are_not_served_to_outsiders(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api, "slutet", visibility="MEMBERS_ONLY")
    event = await create_event(owner, hub_id, soon(5))
    path = f"/events/{event['id']}.ics"

    anonymous = await api.http.get(path)
    assert anonymous.status_code == 404
    assert "BEGIN:VCALENDAR" not in anonymous.text
    assert (await api.http.get("/hubs/slutet/events.ics")).status_code == 404
    outsider = await api.sign_up()
    headers = {"authorization": f"Bearer {outsider.token}"}
    assert (await api.http.get(path, headers=headers)).status_code == 404
    assert (await api.http.get("/hubs/slutet/events.ics", headers=headers)).status_code == 404

    # The hub's own members get it, with their token.
    v = only_vevent(await get_ics(api, path, owner.token))
    assert str(v["summary"]) == "AI-fika"
    assert len(vevents(await get_ics(api, "/hubs/slutet/events.ics", owner.token))) == 1
    member = await api.sign_up()
    await owner.ok(INVITE_TO_HUB, {"h": hub_id, "m": member.id})
    assert (await member.ok(JOIN, {"h": hub_id}))["joinHub"]["membership"]["state"] == "ACTIVE"

    async def member_gets_it() -> bool:
        r = await api.http.get(path, headers={"authorization": f"Bearer {member.token}"})
        return r.status_code == 200

    await poll(member_gets_it)
    assert (await api.http.get(path)).status_code == 404


async def test_members_visibility_event_needs_a_signed_in_caller(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await create_event(owner, hub_id, soon(6), visibility="MEMBERS", title="Inloggade")
    await create_event(owner, hub_id, soon(7), title="Alla")
    assert (await api.http.get(f"/events/{event['id']}.ics")).status_code == 404
    someone = await api.sign_up()
    assert str(only_vevent(await get_ics(api, f"/events/{event['id']}.ics", someone.token))["summary"]) == "Inloggade"
    anonymous = await get_ics(api, "/hubs/kraftsamlingen/events.ics")
    assert [str(v["summary"]) for v in vevents(anonymous)] == ["Alla"]
    signed_in = await get_ics(api, "/hubs/kraftsamlingen/events.ics", someone.token)
    assert [str(v["summary"]) for v in vevents(signed_in)] == ["Inloggade", "Alla"]


async def test_hub_that_closes_takes_its_calendar_and_feeds_with_it(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await create_event(owner, hub_id, soon(8))
    await post(owner, hubId=hub_id, body="Öppet inlägg")
    path = f"/events/{event['id']}.ics"
    assert (await api.http.get(path)).status_code == 200
    assert (await api.http.get("/hubs/kraftsamlingen/feed.rss")).status_code == 200

    await owner.ok(UPDATE_HUB, {"i": {"id": hub_id, "visibility": "MEMBERS_ONLY"}})

    async def closed() -> bool:
        return (await api.http.get(path)).status_code == 404

    await poll(closed)
    assert (await api.http.get("/hubs/kraftsamlingen/events.ics")).status_code == 404
    assert (await api.http.get("/hubs/kraftsamlingen/feed.rss")).status_code == 404
    assert (await api.http.get("/hubs/kraftsamlingen/feed.atom")).status_code == 404
    assert str(only_vevent(await get_ics(api, path, owner.token))["summary"]) == "AI-fika"


async def test_ics_text_cannot_inject_properties_or_components(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    title = "Fika\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@x\r\nSUMMARY:Falsk"
    description = "Rad ett\nATTACH:http://evil.example/x; med, komman; och \\ snedstreck"
    location = "Plats; med\nORGANIZER:mailto:evil@example.se"
    event = await create_event(owner, hub_id, soon(9), title=title, description=description, location=location)
    cal = await get_ics(api, f"/events/{event['id']}.ics")
    v = only_vevent(cal)
    # iCalendar has one escaped line break (\n): CRLF comes back as LF, the text otherwise intact.
    assert str(v["summary"]) == event["title"].replace("\r\n", "\n")
    # The calendar's name (the event title) is escaped too: no content line but the expected ones.
    raw = (await api.http.get(f"/events/{event['id']}.ics")).content
    lines = raw.replace(b"\r\n ", b"").split(b"\r\n")  # unfolded
    assert lines.count(b"BEGIN:VEVENT") == 1 and lines.count(b"END:VEVENT") == 1
    assert not any(line.startswith((b"UID:evil", b"SUMMARY:Falsk", b"ATTACH", b"ORGANIZER")) for line in lines)
    calname = next(line for line in lines if line.startswith(b"X-WR-CALNAME:"))
    assert calname.startswith(b"X-WR-CALNAME:Fika\\nEND:VEVENT\\nBEGIN:VEVENT\\nUID:evil@x")
    assert str(v["description"]) == description and str(v["location"]) == location
    assert str(v["uid"]) != "evil@x" and "attach" not in v and "organizer" not in v
    assert len(vevents(await get_ics(api, "/hubs/kraftsamlingen/events.ics"))) == 1


@pytest.mark.parametrize(
    "event_id",
    [
        "not-an-id",
        "%00",
        "RXZlbnQ6",  # "Event:"
        "RXZlbnQ6YWJj",  # "Event:abc"
        "RXZlbnQ6LTE",  # "Event:-1"
        base64.urlsafe_b64encode(b"Event:99999999999999999999999").decode().rstrip("="),
        base64.urlsafe_b64encode(b"Event:123").decode().rstrip("="),  # well-formed, no such event
        base64.urlsafe_b64encode(b"Post:123").decode().rstrip("="),
        "x" * 500,
        "////",
        "Event%3A1",
    ],
)
async def test_malformed_event_ids_are_404(api: Api, event_id: str) -> None:
    r = await api.http.get(f"/events/{event_id}.ics")
    assert r.status_code == 404, (event_id, r.status_code, r.text)


async def test_post_id_is_not_an_event_id(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    p = await post(owner, hubId=hub_id, body="Hej")
    assert (await api.http.get(f"/events/{p['id']}.ics")).status_code == 404
    # Nor is an Event id made from a post's number.
    fake = base64.urlsafe_b64encode(f"Event:{raw_id(p['id'])}".encode()).decode().rstrip("=")
    assert (await api.http.get(f"/events/{fake}.ics")).status_code == 404


async def test_hub_calendar_lists_only_upcoming_scheduled_events(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    later = await create_event(owner, hub_id, soon(30), title="Senare")
    sooner = await create_event(owner, hub_id, soon(3), title="Snart")
    dropped = await create_event(owner, hub_id, soon(9), title="Inställd")
    await owner.ok(CANCEL_EVENT, {"id": dropped["id"]})
    await create_event(owner, None, soon(4), title="Utanför hubben")

    cal = await get_ics(api, "/hubs/kraftsamlingen/events.ics")
    assert [str(v["summary"]) for v in vevents(cal)] == ["Snart", "Senare"]
    uids = {str(v["uid"]) for v in vevents(cal)}
    for e in (sooner, later):
        assert str(only_vevent(await get_ics(api, f"/events/{e['id']}.ics"))["uid"]) in uids
    assert (await api.http.get("/hubs/no-such-hub/events.ics")).status_code == 404


# --- RSS and Atom --------------------------------------------------------------------------------


async def fetch_feed(api: Api, path: str) -> Any:
    r = await api.http.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text)
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


async def test_hub_feeds_list_public_posts_newest_first(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    member = await api.sign_up()
    await member.ok(JOIN, {"h": hub_id})
    first = await post(owner, hubId=hub_id, body="Första inlägget")
    second = await post(member, hubId=hub_id, body="Andra med [länk](https://ai.se) och <script>x</script>")
    hidden = await post(member, hubId=hub_id, body="Bara för inloggade", visibility="MEMBERS")
    hub_only = await post(member, hubId=hub_id, body="Bara för hubben", visibility="HUB_MEMBERS")
    deleted = await post(owner, hubId=hub_id, body="Borttaget inlägg")
    await owner.ok(DELETE_POST, {"id": deleted["id"]})
    third = await post(owner, hubId=hub_id, body="Resurs", kind="RESOURCE", title="Rapporten", url="https://ai.se/r")
    await post(owner, body="På min profil")
    public = [third, second, first]

    rss = await fetch_feed(api, "/hubs/kraftsamlingen/feed.rss")
    atom = await fetch_feed(api, "/hubs/kraftsamlingen/feed.atom")
    assert rss.version.startswith("rss") and atom.version.startswith("atom")
    for parsed in (rss, atom):
        assert parsed.feed.title == "Kraftsamlingen – Hubben"
        assert parsed.feed.link.endswith("/hubs/kraftsamlingen")
        entries = parsed.entries
        assert len(entries) == len(public)
        raw_ids = [raw_id(p["id"]) for p in public]
        assert [e.id.rsplit("#post-", 1)[1] for e in entries] == raw_ids
        published = [datetime(*e.published_parsed[:6], tzinfo=UTC) for e in entries]
        assert published == sorted(published, reverse=True)
        for entry, p in zip(entries, public, strict=True):
            content = entry.content[0].value if "content" in entry else entry.summary
            assert p["body"].split()[0] in content
            assert "<script" not in content
            created = datetime.fromisoformat(p["createdAt"])
            assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == created.replace(microsecond=0)
        texts = " ".join((e.get("summary") or "") + e.title for e in entries)
        assert hidden["body"] not in texts and hub_only["body"] not in texts and "På min profil" not in texts
        assert deleted["body"] not in texts
        assert entries[0].title == "Rapporten" and entries[0].link == "https://ai.se/r"
        assert 'rel="nofollow ugc' in (entries[1].content[0].value if "content" in entries[1] else entries[1].summary)

    # IDs are stable across fetches.
    again = await fetch_feed(api, "/hubs/kraftsamlingen/feed.atom")
    assert [e.id for e in again.entries] == [e.id for e in atom.entries]


async def test_feed_content_types(api: Api) -> None:
    await make_hub(api)
    rss = await api.http.get("/hubs/kraftsamlingen/feed.rss")
    atom = await api.http.get("/hubs/kraftsamlingen/feed.atom")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert feedparser.parse(rss.content).entries == []


async def test_members_only_and_unknown_feeds_are_404(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api, "slutet", visibility="MEMBERS_ONLY")
    await post(owner, hubId=hub_id, body="Hemligt")
    for fmt in ("rss", "atom"):
        assert (await api.http.get(f"/hubs/slutet/feed.{fmt}")).status_code == 404
        # Not even to a member: feed readers are anonymous.
        r = await api.http.get(f"/hubs/slutet/feed.{fmt}", headers={"authorization": f"Bearer {owner.token}"})
        assert r.status_code == 404 and "Hemligt" not in r.text
        assert (await api.http.get(f"/hubs/no-such-hub/feed.{fmt}")).status_code == 404
        assert (await api.http.get(f"/organisations/no-such-org/feed.{fmt}")).status_code == 404
    for path in ("/hubs/slutet/feed.json", "/people/slutet/feed.rss", "/hubs/" + "x" * 500 + "/feed.rss"):
        assert (await api.http.get(path)).status_code in (404, 422), path


async def test_organisation_feed_lists_posts_made_as_it(api: Api) -> None:
    owner = await api.sign_up()
    org = (await owner.ok(ORG, {"i": {"slug": "goteborg", "name": "Göteborgs Stad", "kind": "MUNICIPALITY"}}))[
        "createOrganisation"
    ]["organisation"]
    editor = await api.sign_up()
    invitation = (await owner.ok(INVITE, {"o": org["id"], "m": editor.id}))["inviteToOrganisation"]["invitation"]
    await editor.ok(ACCEPT, {"i": invitation["id"]})

    by_owner = await post(owner, organisationId=org["id"], body="Nyheter från staden", kind="NEWS")
    await post(owner, body="Privat inlägg")
    by_editor = await post(editor, organisationId=org["id"], body="Redaktören skriver")
    assert by_owner["organisation"] == {"slug": "goteborg"} and by_editor["organisation"] == {"slug": "goteborg"}
    outsider = await api.sign_up()
    refused = await outsider.gql(POST, {"i": {"organisationId": org["id"], "body": "Jag är inte redaktör"}})
    assert refused["data"] is None or refused["data"]["createPost"]["post"] is None

    atom = await fetch_feed(api, "/organisations/goteborg/feed.atom")
    rss = await fetch_feed(api, "/organisations/goteborg/feed.rss")
    for parsed in (atom, rss):
        assert parsed.feed.title == "Göteborgs Stad – Hubben"
        assert parsed.feed.link.endswith("/organisations/goteborg")
        assert [e.id.rsplit("#post-", 1)[1] for e in parsed.entries] == [
            raw_id(by_editor["id"]),
            raw_id(by_owner["id"]),
        ]
        assert "Redaktören skriver" in parsed.entries[0].title


async def test_hub_feed_carries_events_beside_posts(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    before = await post(owner, hubId=hub_id, body="Före eventet")
    event = await create_event(owner, hub_id, soon(12), title="Hackathon", description="Ta med *dator*")
    after = await post(owner, hubId=hub_id, body="Efter eventet")
    await owner.ok(CANCEL_EVENT, {"id": event["id"]})
    for fmt in ("rss", "atom"):
        parsed = await fetch_feed(api, f"/hubs/kraftsamlingen/feed.{fmt}")
        ids = [e.id.rsplit("#", 1)[1] for e in parsed.entries]
        assert ids == [
            f"post-{raw_id(after['id'])}",
            f"event-{raw_id(event['id'])}",
            f"post-{raw_id(before['id'])}",
        ]
        assert parsed.entries[1].title == "Hackathon (inställt)"
        content = parsed.entries[1].content[0].value if "content" in parsed.entries[1] else parsed.entries[1].summary
        assert "<em>dator</em>" in content
