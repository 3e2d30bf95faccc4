"""Events, RSVPs, comments and reactions through the GraphQL API: what createEvent refuses
and on which field, the waitlist and its order, who may change an event and see its RSVP
lists, one level of replies, soft-deleted comments, and one reaction per member per target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import Api, Session

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id slug }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
INVITE_ORG = """mutation($o: ID!, $m: ID!, $r: OrganisationRole!) {
  inviteToOrganisation(input: {organisationId: $o, memberId: $m, role: $r}) {
  invitation { id } userErrors { field message code } } }"""
ACCEPT_ORG = """mutation($id: ID!) { acceptOrganisationInvitation(input: {invitationId: $id}) {
  invitation { status } userErrors { field message code } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id bodyHtml tags mentions { handle } author { handle } hub { slug } visibility }
  userErrors { field message code } } }"""
EVENT_FIELDS = """id title status sequence updatedAt capacity goingCount interestedCount waitlistCount spotsLeft
  commentsCount organiserMember { handle } organiserOrganisation { slug }"""
EVENT = f"""mutation($i: CreateEventInput!) {{ createEvent(input: $i) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
UPDATE_EVENT = f"""mutation($i: UpdateEventInput!) {{ updateEvent(input: $i) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
CANCEL_EVENT = f"""mutation($id: ID!) {{ cancelEvent(input: {{id: $id}}) {{ event {{ {EVENT_FIELDS} }}
  userErrors {{ field message code }} }} }}"""
RSVP = """mutation($e: ID!, $s: RsvpStatus!) { rsvpToEvent(input: {eventId: $e, status: $s}) {
  rsvp { status waitlistPosition member { handle } }
  event { goingCount interestedCount waitlistCount spotsLeft } userErrors { field message code } } }"""
EVENT_NODE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Event {{ {EVENT_FIELDS}
  viewerRsvp {{ status waitlistPosition }} }} }} }}"""
RSVPS = """query($id: ID!, $status: RsvpState) { node(id: $id) { ... on Event {
  rsvps(status: $status, first: 50) { totalCount nodes { status waitlistPosition member { handle } } } } } }"""
UPCOMING = """{ upcomingEvents(first: 50) { nodes { id } } }"""

COMMENT = """mutation($t: ID!, $b: String!, $p: ID) { createComment(input: {targetId: $t, body: $b, parentId: $p}) {
  comment { id body author { handle } parent { id } } userErrors { field message code } } }"""
UPDATE_COMMENT = """mutation($id: ID!, $b: String!) { updateComment(input: {id: $id, body: $b}) {
  comment { id body bodyHtml editedAt } userErrors { field message code } } }"""
DELETE_COMMENT = """mutation($id: ID!) { deleteComment(input: {id: $id}) {
  comment { id isDeleted body bodyHtml author { handle } } userErrors { field message code } } }"""
COMMENT_FIELDS = "id body bodyHtml isDeleted repliesCount editedAt author { handle }"
THREAD = f"""query($id: ID!) {{ node(id: $id) {{
  ... on Post {{ commentsCount comments(first: 50) {{ totalCount nodes {{ {COMMENT_FIELDS}
    replies(first: 40) {{ totalCount nodes {{ {COMMENT_FIELDS} parent {{ id }} }} }} }} }} }}
  ... on Event {{ commentsCount comments(first: 50) {{ totalCount nodes {{ {COMMENT_FIELDS}
    replies(first: 40) {{ totalCount nodes {{ {COMMENT_FIELDS} parent {{ id }} }} }} }} }} }} }} }}"""

REACTIONS = "like insightful celebrate support total viewerReaction"
REACT = f"""mutation($t: ID!, $k: ReactionKind!) {{ react(input: {{targetId: $t, kind: $k}}) {{
  reactions {{ {REACTIONS} }} userErrors {{ field message code }} }} }}"""
UNREACT = f"""mutation($t: ID!) {{ removeReaction(input: {{targetId: $t}}) {{
  reactions {{ {REACTIONS} }} userErrors {{ field message code }} }} }}"""
TARGET_REACTIONS = f"""query($id: ID!) {{ node(id: $id) {{
  ... on Post {{ reactions {{ {REACTIONS} }} }} ... on Event {{ reactions {{ {REACTIONS} }} }}
  ... on Comment {{ reactions {{ {REACTIONS} }} }} }} }}"""


# --- helpers ---------------------------------------------------------------------------------


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_hub(api: Api) -> tuple[Session, str, str]:
    """A hub owner (admin of the hub, owner of its organisation), the hub and the organisation."""
    owner = await api.sign_up()
    org = await owner.ok(ORG, {"i": {"slug": slug(api, "org"), "name": "AI Sweden", "kind": "OTHER"}})
    org_id = org["createOrganisation"]["organisation"]["id"]
    hub = await owner.ok(HUB, {"i": {"slug": slug(api, "hub"), "name": "Kraftsamlingen", "organisationId": org_id}})
    return owner, hub["createHub"]["hub"]["id"], org_id


async def joined(api: Api, hub_id: str) -> Session:
    member = await api.sign_up()
    assert (await member.ok(JOIN, {"h": hub_id}))["joinHub"]["membership"]["state"] == "ACTIVE"
    return member


async def org_member(owner: Session, org_id: str, role: str) -> Session:
    member = await owner.api.sign_up()
    invitation = (await owner.ok(INVITE_ORG, {"o": org_id, "m": member.id, "r": role}))["inviteToOrganisation"]
    await member.ok(ACCEPT_ORG, {"id": invitation["invitation"]["id"]})
    return member


def times(days: float, hours: float = 2) -> dict[str, str]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {"startsAt": starts.isoformat(), "endsAt": (starts + timedelta(hours=hours)).isoformat()}


def event_input(**fields: Any) -> dict[str, Any]:
    return {"title": "AI-fika", **times(7), "location": "Lindholmen, Göteborg", **fields}


async def make_event(organiser: Session, **fields: Any) -> dict[str, Any]:
    return (await organiser.ok(EVENT, {"i": event_input(**fields)}))["createEvent"]["event"]  # type: ignore[no-any-return]


async def make_post(author: Session, **fields: Any) -> dict[str, Any]:
    data = await author.ok(POST, {"i": {"body": "Hej från Hubben", **fields}})
    return data["createPost"]["post"]  # type: ignore[no-any-return]


async def rsvp(member: Session, event_id: str, status: str) -> dict[str, Any]:
    return (await member.ok(RSVP, {"e": event_id, "s": status}))["rsvpToEvent"]  # type: ignore[no-any-return]


async def event_node(reader: Session | Api, event_id: str) -> dict[str, Any]:
    node = (await reader.ok(EVENT_NODE, {"id": event_id}))["node"]
    assert node is not None
    return node  # type: ignore[no-any-return]


async def comment(author: Session, target: str, body: str = "Tack!", parent: str | None = None) -> dict[str, Any]:
    return (await author.ok(COMMENT, {"t": target, "b": body, "p": parent}))["createComment"]["comment"]  # type: ignore[no-any-return]


async def thread(reader: Session | Api, target: str) -> dict[str, Any]:
    node = (await reader.ok(THREAD, {"id": target}))["node"]
    assert node is not None
    return node  # type: ignore[no-any-return]


def user_errors(body: dict[str, Any], name: str) -> list[tuple[str | None, str]]:
    assert "errors" not in body, body
    assert body["data"][name][next(k for k in body["data"][name] if k != "userErrors")] is None, body
    return [(e["field"], e["code"]) for e in body["data"][name]["userErrors"]]


def error_code(body: dict[str, Any]) -> str:
    """The code of the one top-level error (UNAUTHENTICATED, FORBIDDEN)."""
    assert body["_status"] < 500, body
    assert body.get("errors") and len(body["errors"]) == 1, body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def handles(conn: dict[str, Any]) -> list[str]:
    return [n["member"]["handle"] for n in conn["nodes"]]


# --- createEvent validation --------------------------------------------------------------------


def _naive(value: str) -> str:
    return datetime.fromisoformat(value).replace(tzinfo=None).isoformat()


START = times(7)["startsAt"]
END = times(7)["endsAt"]
BEFORE_START = (datetime.fromisoformat(START) - timedelta(hours=1)).isoformat()

INVALID_EVENTS: list[tuple[str, dict[str, Any], str]] = [
    ("end before start", {"endsAt": BEFORE_START}, "endsAt"),
    ("end equal to start", {"endsAt": START}, "endsAt"),
    ("no location nor onlineUrl", {"location": None}, "location"),
    ("blank location and no onlineUrl", {"location": "   "}, "location"),
    ("naive start", {"startsAt": _naive(START)}, "startsAt"),
    ("naive end", {"endsAt": _naive(END)}, "endsAt"),
    ("naive start and end", {"startsAt": _naive(START), "endsAt": _naive(END)}, "startsAt"),
    ("unknown time zone", {"timeZone": "Europe/Gotham"}, "timeZone"),
    ("offset is not a zone", {"timeZone": "+01:00"}, "timeZone"),
    ("unknown municipality", {"municipalityCode": "0000"}, "municipalityCode"),
    ("capacity zero", {"capacity": 0}, "capacity"),
    ("negative capacity", {"capacity": -5}, "capacity"),
    ("title over 200 characters", {"title": "a" * 201}, "title"),
    ("blank title", {"title": "   "}, "title"),
    ("javascript online url", {"location": None, "onlineUrl": "javascript:alert(1)"}, "onlineUrl"),
    ("hub members visibility without a hub", {"visibility": "HUB_MEMBERS"}, "visibility"),
]


@pytest.mark.parametrize(("what", "change", "field"), INVALID_EVENTS, ids=[c[0] for c in INVALID_EVENTS])
async def test_create_event_refuses_bad_input_on_the_right_field(
    api: Api, what: str, change: dict[str, Any], field: str
) -> None:
    owner, hub_id, _ = await make_hub(api)
    data = {k: v for k, v in {**event_input(hubId=hub_id), **change}.items() if v is not None}
    if "visibility" in change:
        data.pop("hubId")
    body = await owner.gql(EVENT, {"i": data})
    assert user_errors(body, "createEvent") == [(field, "BAD_USER_INPUT")], what
    assert body["data"]["createEvent"]["userErrors"][0]["message"]
    assert (await owner.ok(UPCOMING))["upcomingEvents"]["nodes"] == []


async def test_create_event_accepts_the_limits(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    ok = await make_event(
        owner, hubId=hub_id, title="a" * 200, capacity=1, timeZone="America/New_York", municipalityCode="1480"
    )
    assert ok["title"] == "a" * 200 and ok["capacity"] == 1 and ok["spotsLeft"] == 1
    online = await make_event(owner, location=None, onlineUrl="https://meet.example.se/ai")
    assert online["organiserMember"] == {"handle": owner.handle}
    # A start given in another offset is the same instant.
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    cet = starts.astimezone(timezone(timedelta(hours=1)))
    shifted = await owner.ok(
        """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { startsAt } userErrors { field } } }""",
        {"i": event_input(startsAt=cet.isoformat(), endsAt=(cet + timedelta(hours=1)).isoformat())},
    )
    assert datetime.fromisoformat(shifted["createEvent"]["event"]["startsAt"]) == starts


async def test_update_event_refuses_bad_changes(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await make_event(owner, hubId=hub_id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"endsAt": BEFORE_START, "startsAt": START}, "endsAt"),
        ({"startsAt": (datetime.fromisoformat(END) + timedelta(hours=1)).isoformat()}, "endsAt"),
        ({"startsAt": _naive(START)}, "startsAt"),
        ({"timeZone": "Europe/Gotham"}, "timeZone"),
        ({"municipalityCode": "0000"}, "municipalityCode"),
        ({"capacity": 0}, "capacity"),
        ({"title": "a" * 201}, "title"),
        ({"title": None}, "title"),
        ({"location": None}, "location"),
    ]
    for change, field in cases:
        body = await owner.gql(UPDATE_EVENT, {"i": {"id": event["id"], **change}})
        assert user_errors(body, "updateEvent") == [(field, "BAD_USER_INPUT")], change
    assert (await event_node(owner, event["id"]))["sequence"] == 0


# --- RSVPs and the waitlist ------------------------------------------------------------------------


async def test_waitlist_keeps_its_order_and_promotes(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await make_event(owner, hubId=hub_id, capacity=2)
    a, b, c, d = [await api.sign_up() for _ in range(4)]

    assert (await rsvp(a, event["id"], "GOING"))["rsvp"] == {
        "status": "GOING",
        "waitlistPosition": None,
        "member": {"handle": a.handle},
    }
    second = await rsvp(b, event["id"], "GOING")
    assert second["rsvp"]["status"] == "GOING"
    assert second["event"] == {"goingCount": 2, "interestedCount": 0, "waitlistCount": 0, "spotsLeft": 0}
    third = await rsvp(c, event["id"], "GOING")
    assert (third["rsvp"]["status"], third["rsvp"]["waitlistPosition"]) == ("WAITLISTED", 1)
    fourth = await rsvp(d, event["id"], "GOING")
    assert (fourth["rsvp"]["status"], fourth["rsvp"]["waitlistPosition"]) == ("WAITLISTED", 2)
    assert fourth["event"] == {"goingCount": 2, "interestedCount": 0, "waitlistCount": 2, "spotsLeft": 0}

    # Asking again keeps one's place in the queue.
    again = await rsvp(c, event["id"], "GOING")
    assert (again["rsvp"]["status"], again["rsvp"]["waitlistPosition"]) == ("WAITLISTED", 1)
    waiting = (await owner.ok(RSVPS, {"id": event["id"], "status": "WAITLISTED"}))["node"]["rsvps"]
    assert handles(waiting) == [c.handle, d.handle]
    assert [n["waitlistPosition"] for n in waiting["nodes"]] == [1, 2]

    # A going member drops out: the first in line is promoted, the rest move up.
    await rsvp(b, event["id"], "NOT_GOING")
    assert (await event_node(c, event["id"]))["viewerRsvp"] == {"status": "GOING", "waitlistPosition": None}
    node = await event_node(d, event["id"])
    assert node["viewerRsvp"] == {"status": "WAITLISTED", "waitlistPosition": 1}
    assert (node["goingCount"], node["waitlistCount"], node["spotsLeft"]) == (2, 1, 0)
    assert (await event_node(b, event["id"]))["viewerRsvp"]["status"] == "NOT_GOING"
    going = (await api.ok(RSVPS, {"id": event["id"], "status": "GOING"}))["node"]["rsvps"]
    assert sorted(handles(going)) == sorted([a.handle, c.handle]) and going["totalCount"] == 2

    # b wants back in: the back of the queue, behind d.
    back = await rsvp(b, event["id"], "GOING")
    assert (back["rsvp"]["status"], back["rsvp"]["waitlistPosition"]) == ("WAITLISTED", 2)

    # Lowering the capacity below those going is refused; nothing changes.
    body = await owner.gql(UPDATE_EVENT, {"i": {"id": event["id"], "capacity": 1}})
    assert user_errors(body, "updateEvent") == [("capacity", "BAD_USER_INPUT")]
    node = await event_node(owner, event["id"])
    assert (node["capacity"], node["goingCount"], node["waitlistCount"], node["sequence"]) == (2, 2, 2, 0)

    # Raising the capacity promotes from the waitlist in order.
    raised = (await owner.ok(UPDATE_EVENT, {"i": {"id": event["id"], "capacity": 3}}))["updateEvent"]["event"]
    assert (raised["capacity"], raised["goingCount"], raised["waitlistCount"], raised["spotsLeft"]) == (3, 3, 1, 0)
    assert (await event_node(d, event["id"]))["viewerRsvp"] == {"status": "GOING", "waitlistPosition": None}
    assert (await event_node(b, event["id"]))["viewerRsvp"] == {"status": "WAITLISTED", "waitlistPosition": 1}
    # Lifting the limit altogether takes in everyone still waiting.
    unlimited = (await owner.ok(UPDATE_EVENT, {"i": {"id": event["id"], "capacity": None}}))["updateEvent"]["event"]
    assert (unlimited["capacity"], unlimited["goingCount"], unlimited["waitlistCount"]) == (None, 4, 0)
    assert unlimited["spotsLeft"] is None
    # Exactly as many as are going is allowed.
    exact = (await owner.ok(UPDATE_EVENT, {"i": {"id": event["id"], "capacity": 4}}))["updateEvent"]["event"]
    assert (exact["capacity"], exact["spotsLeft"]) == (4, 0)


async def test_leaving_the_waitlist_moves_the_queue(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await make_event(owner, hubId=hub_id, capacity=1)
    a, b, c = [await api.sign_up() for _ in range(3)]
    for m in (a, b, c):
        await rsvp(m, event["id"], "GOING")
    assert (await event_node(c, event["id"]))["viewerRsvp"]["waitlistPosition"] == 2
    left = await rsvp(b, event["id"], "INTERESTED")
    assert left["rsvp"]["status"] == "INTERESTED"
    assert left["event"] == {"goingCount": 1, "interestedCount": 1, "waitlistCount": 1, "spotsLeft": 0}
    assert (await event_node(c, event["id"]))["viewerRsvp"] == {"status": "WAITLISTED", "waitlistPosition": 1}


async def test_interested_and_not_going_counts(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await make_event(owner, hubId=hub_id)
    anna, bo = await api.sign_up(), await api.sign_up()

    first = await rsvp(anna, event["id"], "INTERESTED")
    assert first["rsvp"]["status"] == "INTERESTED"
    assert first["event"] == {"goingCount": 0, "interestedCount": 1, "waitlistCount": 0, "spotsLeft": None}
    assert (await rsvp(bo, event["id"], "INTERESTED"))["event"]["interestedCount"] == 2
    # Interested twice counts once.
    assert (await rsvp(bo, event["id"], "INTERESTED"))["event"]["interestedCount"] == 2
    moved = await rsvp(anna, event["id"], "GOING")
    assert (moved["event"]["goingCount"], moved["event"]["interestedCount"]) == (1, 1)
    out = await rsvp(anna, event["id"], "NOT_GOING")
    assert out["rsvp"]["status"] == "NOT_GOING"
    assert (out["event"]["goingCount"], out["event"]["interestedCount"]) == (0, 1)
    out = await rsvp(bo, event["id"], "NOT_GOING")
    assert (out["event"]["goingCount"], out["event"]["interestedCount"]) == (0, 0)
    node = await event_node(anna, event["id"])
    assert node["viewerRsvp"] == {"status": "NOT_GOING", "waitlistPosition": None}
    # Answers of both kinds are listed for the organiser.
    everyone = (await owner.ok(RSVPS, {"id": event["id"], "status": None}))["node"]["rsvps"]
    assert everyone["totalCount"] == 2 and {n["status"] for n in everyone["nodes"]} == {"NOT_GOING"}


async def test_rsvps_to_cancelled_or_past_events_are_refused(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna = await api.sign_up()
    past = await make_event(owner, hubId=hub_id, **times(-2))
    body = await anna.gql(RSVP, {"e": past["id"], "s": "GOING"})
    assert user_errors(body, "rsvpToEvent") == [("eventId", "BAD_USER_INPUT")]
    # Still running is not over: RSVPs are taken.
    running = await make_event(owner, hubId=hub_id, **times(-1 / 24, hours=3))
    assert (await rsvp(anna, running["id"], "GOING"))["rsvp"]["status"] == "GOING"

    upcoming = await make_event(owner, hubId=hub_id)
    await rsvp(anna, upcoming["id"], "INTERESTED")
    cancelled = (await owner.ok(CANCEL_EVENT, {"id": upcoming["id"]}))["cancelEvent"]["event"]
    assert cancelled["status"] == "CANCELLED"
    for status in ("GOING", "INTERESTED", "NOT_GOING"):
        body = await anna.gql(RSVP, {"e": upcoming["id"], "s": status})
        assert user_errors(body, "rsvpToEvent") == [("eventId", "BAD_USER_INPUT")], status
    node = await event_node(anna, upcoming["id"])
    assert node["status"] == "CANCELLED" and node["viewerRsvp"]["status"] == "INTERESTED"
    assert node["interestedCount"] == 1
    # A cancelled event cannot be changed either.
    body = await owner.gql(UPDATE_EVENT, {"i": {"id": upcoming["id"], "title": "Ny titel"}})
    assert user_errors(body, "updateEvent")[0][1] == "BAD_USER_INPUT"
    # Unknown and wrong-typed event ids are refused on eventId.
    body = await anna.gql(RSVP, {"e": hub_id, "s": "GOING"})
    assert user_errors(body, "rsvpToEvent") == [("eventId", "BAD_USER_INPUT")]


# --- who may change an event ------------------------------------------------------------------


async def test_only_the_organiser_updates_and_cancels(api: Api) -> None:
    owner, hub_id, org_id = await make_hub(api)
    outsider = await api.sign_up()
    mine = await make_event(owner, hubId=hub_id)
    for attempt in (
        (UPDATE_EVENT, {"i": {"id": mine["id"], "title": "Kapat"}}),
        (CANCEL_EVENT, {"id": mine["id"]}),
    ):
        assert error_code(await outsider.gql(*attempt)) == "FORBIDDEN"
        assert error_code(await api.gql(*attempt)) == "UNAUTHENTICATED"
    node = await event_node(owner, mine["id"])
    assert (node["title"], node["status"], node["sequence"]) == ("AI-fika", "SCHEDULED", 0)

    # An event organised by the organisation: its editors (and admins, owners) change it, its members don't.
    editor = await org_member(owner, org_id, "EDITOR")
    plain = await org_member(owner, org_id, "MEMBER")
    ours = await make_event(editor, organisationId=org_id)
    assert ours["organiserOrganisation"] is not None and ours["organiserMember"] is None
    assert error_code(await plain.gql(UPDATE_EVENT, {"i": {"id": ours["id"], "title": "Nej"}})) == "FORBIDDEN"
    assert error_code(await plain.gql(CANCEL_EVENT, {"id": ours["id"]})) == "FORBIDDEN"
    assert error_code(await outsider.gql(UPDATE_EVENT, {"i": {"id": ours["id"], "title": "Nej"}})) == "FORBIDDEN"
    updated = (await editor.ok(UPDATE_EVENT, {"i": {"id": ours["id"], "title": "Ändrad"}}))["updateEvent"]["event"]
    assert updated["title"] == "Ändrad"
    # The owner, who did not create it, may change it too.
    by_owner = (await owner.ok(UPDATE_EVENT, {"i": {"id": ours["id"], "capacity": 10}}))["updateEvent"]["event"]
    assert by_owner["capacity"] == 10
    # A member event stays its organiser's alone, even for the organisation's owner.
    editors_own = await make_event(editor, hubId=None)
    assert error_code(await owner.gql(CANCEL_EVENT, {"id": editors_own["id"]})) == "FORBIDDEN"
    cancelled = (await editor.ok(CANCEL_EVENT, {"id": ours["id"]}))["cancelEvent"]["event"]
    assert cancelled["status"] == "CANCELLED"


async def test_rsvp_lists_going_is_public_the_rest_for_the_organiser(api: Api) -> None:
    owner, hub_id, org_id = await make_hub(api)
    going, keen, out = await api.sign_up(), await api.sign_up(), await api.sign_up()
    event = await make_event(owner, hubId=hub_id)
    await rsvp(going, event["id"], "GOING")
    await rsvp(keen, event["id"], "INTERESTED")
    await rsvp(out, event["id"], "NOT_GOING")

    for reader in (api, keen, going):
        conn = (await reader.ok(RSVPS, {"id": event["id"], "status": "GOING"}))["node"]["rsvps"]
        assert handles(conn) == [going.handle] and conn["totalCount"] == 1
    for reader in (keen, going):
        for status in (None, "INTERESTED", "NOT_GOING", "WAITLISTED"):
            body = await reader.gql(RSVPS, {"id": event["id"], "status": status})
            assert error_code(body) == "FORBIDDEN", (reader.handle, status)
    for status in (None, "INTERESTED"):
        assert error_code(await api.gql(RSVPS, {"id": event["id"], "status": status})) == "FORBIDDEN"

    everyone = (await owner.ok(RSVPS, {"id": event["id"], "status": None}))["node"]["rsvps"]
    assert handles(everyone) == [going.handle, keen.handle, out.handle] and everyone["totalCount"] == 3
    assert [n["status"] for n in everyone["nodes"]] == ["GOING", "INTERESTED", "NOT_GOING"]
    interested = (await owner.ok(RSVPS, {"id": event["id"], "status": "INTERESTED"}))["node"]["rsvps"]
    assert handles(interested) == [keen.handle]
    not_going = (await owner.ok(RSVPS, {"id": event["id"], "status": "NOT_GOING"}))["node"]["rsvps"]
    assert handles(not_going) == [out.handle]

    # For an organisation's event, its editors are the organiser.
    editor = await org_member(owner, org_id, "EDITOR")
    plain = await org_member(owner, org_id, "MEMBER")
    ours = await make_event(owner, organisationId=org_id)
    await rsvp(keen, ours["id"], "INTERESTED")
    assert handles((await editor.ok(RSVPS, {"id": ours["id"], "status": None}))["node"]["rsvps"]) == [keen.handle]
    assert error_code(await plain.gql(RSVPS, {"id": ours["id"], "status": None})) == "FORBIDDEN"


async def test_sequence_increments_on_every_update(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    event = await make_event(owner, hubId=hub_id)
    assert event["sequence"] == 0
    seen = [event["updatedAt"]]
    for n, change in enumerate(
        (
            {"title": "AI-fika 2"},
            {"capacity": 30},
            {**times(8)},
            {"location": "Kista", "municipalityCode": "0180"},
            {"description": "Ny **beskrivning**"},
        ),
        start=1,
    ):
        updated = (await owner.ok(UPDATE_EVENT, {"i": {"id": event["id"], **change}}))["updateEvent"]["event"]
        assert updated["sequence"] == n, change
        assert updated["updatedAt"] >= seen[-1]
        seen.append(updated["updatedAt"])
    cancelled = (await owner.ok(CANCEL_EVENT, {"id": event["id"]}))["cancelEvent"]["event"]
    assert cancelled["sequence"] == 6 and cancelled["status"] == "CANCELLED"
    # Cancelling again changes nothing.
    again = (await owner.ok(CANCEL_EVENT, {"id": event["id"]}))["cancelEvent"]["event"]
    assert again["sequence"] == 6
    node = await event_node(api, event["id"])
    assert (node["title"], node["capacity"], node["sequence"]) == ("AI-fika 2", 30, 6)


# --- comments -----------------------------------------------------------------------------------


async def test_comments_have_one_level_of_replies(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna, bo = await joined(api, hub_id), await api.sign_up()
    post = await make_post(owner, hubId=hub_id)
    other_post = await make_post(owner, hubId=hub_id)

    top = await comment(anna, post["id"], "Första")
    second = await comment(bo, post["id"], "Andra")
    reply = await comment(bo, post["id"], "Svar", parent=top["id"])
    assert reply["parent"] == {"id": top["id"]}
    reply2 = await comment(owner, post["id"], "Svar två", parent=top["id"])

    # A reply to a reply is refused: replies go one level deep.
    body = await anna.gql(COMMENT, {"t": post["id"], "b": "Djupare", "p": reply["id"]})
    assert user_errors(body, "createComment") == [("parentId", "BAD_USER_INPUT")]
    # The parent must be on the same item.
    body = await anna.gql(COMMENT, {"t": other_post["id"], "b": "Fel tråd", "p": top["id"]})
    assert user_errors(body, "createComment") == [("parentId", "BAD_USER_INPUT")]
    # And must be a comment.
    body = await anna.gql(COMMENT, {"t": post["id"], "b": "Fel typ", "p": post["id"]})
    assert user_errors(body, "createComment") == [("parentId", "BAD_USER_INPUT")]

    t = await thread(api, post["id"])
    assert t["commentsCount"] == 4
    assert t["comments"]["totalCount"] == 2
    assert [c["id"] for c in t["comments"]["nodes"]] == [top["id"], second["id"]]
    first = t["comments"]["nodes"][0]
    assert first["repliesCount"] == 2 and first["replies"]["totalCount"] == 2
    assert [r["id"] for r in first["replies"]["nodes"]] == [reply["id"], reply2["id"]]
    assert all(r["parent"] == {"id": top["id"]} and r["repliesCount"] == 0 for r in first["replies"]["nodes"])
    assert t["comments"]["nodes"][1]["replies"]["nodes"] == []
    assert (await thread(api, other_post["id"]))["commentsCount"] == 0

    # Events take comments and replies the same way.
    event = await make_event(owner, hubId=hub_id)
    on_event = await comment(anna, event["id"], "Kommer!")
    await comment(owner, event["id"], "Välkommen", parent=on_event["id"])
    et = await thread(anna, event["id"])
    assert et["commentsCount"] == 2 and [c["id"] for c in et["comments"]["nodes"]] == [on_event["id"]]
    assert [r["body"] for r in et["comments"]["nodes"][0]["replies"]["nodes"]] == ["Välkommen"]
    # A comment cannot be a target of a comment.
    body = await anna.gql(COMMENT, {"t": on_event["id"], "b": "Hm", "p": None})
    assert user_errors(body, "createComment") == [("targetId", "BAD_USER_INPUT")]


async def test_only_the_author_edits_a_comment(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna, bo = await api.sign_up(), await api.sign_up()
    post = await make_post(owner, hubId=hub_id)
    mine = await comment(anna, post["id"], "Orginal")
    for other in (bo, owner):
        assert error_code(await other.gql(UPDATE_COMMENT, {"id": mine["id"], "b": "Kapat"})) == "FORBIDDEN"
    assert error_code(await api.gql(UPDATE_COMMENT, {"id": mine["id"], "b": "Kapat"})) == "UNAUTHENTICATED"
    untouched = (await thread(api, post["id"]))["comments"]["nodes"][0]
    assert (untouched["body"], untouched["editedAt"]) == ("Orginal", None)

    edited = (await anna.ok(UPDATE_COMMENT, {"id": mine["id"], "b": "Original, **rättat**"}))["updateComment"]
    assert edited["comment"]["body"] == "Original, **rättat**"
    assert "<strong>rättat</strong>" in edited["comment"]["bodyHtml"]
    assert edited["comment"]["editedAt"] is not None
    body = await anna.gql(UPDATE_COMMENT, {"id": mine["id"], "b": "   "})
    assert user_errors(body, "updateComment") == [("body", "BAD_USER_INPUT")]
    assert (await thread(api, post["id"]))["comments"]["nodes"][0]["body"] == "Original, **rättat**"


async def test_deleting_a_comment_keeps_its_replies_readable(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna, bo = await api.sign_up(), await api.sign_up()
    post = await make_post(owner, hubId=hub_id)
    top = await comment(anna, post["id"], "Hemligt")
    reply = await comment(bo, post["id"], "Svar", parent=top["id"])
    assert (await thread(api, post["id"]))["commentsCount"] == 2

    assert error_code(await bo.gql(DELETE_COMMENT, {"id": top["id"]})) == "FORBIDDEN"
    assert error_code(await owner.gql(DELETE_COMMENT, {"id": top["id"]})) == "FORBIDDEN"
    gone = (await anna.ok(DELETE_COMMENT, {"id": top["id"]}))["deleteComment"]["comment"]
    assert gone == {"id": top["id"], "isDeleted": True, "body": "", "bodyHtml": "", "author": None}

    for reader in (api, bo, anna):
        t = await thread(reader, post["id"])
        assert t["commentsCount"] == 1
        [shown] = t["comments"]["nodes"]
        assert (shown["id"], shown["isDeleted"], shown["body"], shown["bodyHtml"], shown["author"]) == (
            top["id"],
            True,
            "",
            "",
            None,
        )
        assert shown["repliesCount"] == 1
        assert [(r["id"], r["body"], r["author"]) for r in shown["replies"]["nodes"]] == [
            (reply["id"], "Svar", {"handle": bo.handle})
        ]
    # Deleting twice changes nothing; a deleted comment is not edited nor replied to.
    again = (await anna.ok(DELETE_COMMENT, {"id": top["id"]}))["deleteComment"]["comment"]
    assert again["isDeleted"] is True
    assert (await thread(api, post["id"]))["commentsCount"] == 1
    body = await anna.gql(UPDATE_COMMENT, {"id": top["id"], "b": "Tillbaka"})
    assert user_errors(body, "updateComment")[0][1] == "NOT_FOUND"
    body = await bo.gql(COMMENT, {"t": post["id"], "b": "Till ingen", "p": top["id"]})
    assert user_errors(body, "createComment") == [("parentId", "BAD_USER_INPUT")]
    # The reply itself is deleted by its author.
    await bo.ok(DELETE_COMMENT, {"id": reply["id"]})
    t = await thread(api, post["id"])
    assert t["commentsCount"] == 0
    assert t["comments"]["nodes"][0]["replies"]["nodes"][0]["isDeleted"] is True


# --- reactions ------------------------------------------------------------------------------------


def counts(like: int = 0, insightful: int = 0, celebrate: int = 0, support: int = 0, mine: str | None = None) -> dict:
    total = like + insightful + celebrate + support
    return {
        "like": like,
        "insightful": insightful,
        "celebrate": celebrate,
        "support": support,
        "total": total,
        "viewerReaction": mine,
    }


async def reactions_of(reader: Session | Api, target: str) -> dict[str, Any]:
    node = (await reader.ok(TARGET_REACTIONS, {"id": target}))["node"]
    assert node is not None
    return node["reactions"]  # type: ignore[no-any-return]


async def test_one_reaction_per_member_per_target(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna, bo = await api.sign_up(), await api.sign_up()
    post = await make_post(owner, hubId=hub_id)

    r = (await anna.ok(REACT, {"t": post["id"], "k": "LIKE"}))["react"]["reactions"]
    assert r == counts(like=1, mine="LIKE")
    # The same reaction again counts once.
    r = (await anna.ok(REACT, {"t": post["id"], "k": "LIKE"}))["react"]["reactions"]
    assert r == counts(like=1, mine="LIKE")
    # Changing it moves the count.
    r = (await anna.ok(REACT, {"t": post["id"], "k": "CELEBRATE"}))["react"]["reactions"]
    assert r == counts(celebrate=1, mine="CELEBRATE")
    r = (await bo.ok(REACT, {"t": post["id"], "k": "SUPPORT"}))["react"]["reactions"]
    assert r == counts(celebrate=1, support=1, mine="SUPPORT")
    r = (await owner.ok(REACT, {"t": post["id"], "k": "CELEBRATE"}))["react"]["reactions"]
    assert r == counts(celebrate=2, support=1, mine="CELEBRATE")

    # Each reader sees their own reaction; anonymous readers none.
    assert await reactions_of(anna, post["id"]) == counts(celebrate=2, support=1, mine="CELEBRATE")
    assert await reactions_of(bo, post["id"]) == counts(celebrate=2, support=1, mine="SUPPORT")
    assert await reactions_of(api, post["id"]) == counts(celebrate=2, support=1)
    assert await reactions_of(await api.sign_up(), post["id"]) == counts(celebrate=2, support=1)

    r = (await anna.ok(UNREACT, {"t": post["id"]}))["removeReaction"]["reactions"]
    assert r == counts(celebrate=1, support=1)
    # Removing what is not there changes nothing.
    r = (await anna.ok(UNREACT, {"t": post["id"]}))["removeReaction"]["reactions"]
    assert r == counts(celebrate=1, support=1)
    assert await reactions_of(anna, post["id"]) == counts(celebrate=1, support=1)
    assert await reactions_of(bo, post["id"]) == counts(celebrate=1, support=1, mine="SUPPORT")
    # After removing, a new reaction counts again.
    r = (await anna.ok(REACT, {"t": post["id"], "k": "INSIGHTFUL"}))["react"]["reactions"]
    assert r == counts(insightful=1, celebrate=1, support=1, mine="INSIGHTFUL")

    assert error_code(await api.gql(REACT, {"t": post["id"], "k": "LIKE"})) == "UNAUTHENTICATED"
    body = await anna.gql(REACT, {"t": hub_id, "k": "LIKE"})
    assert user_errors(body, "react") == [("targetId", "BAD_USER_INPUT")]


async def test_reacting_to_comments_and_events(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna, bo = await api.sign_up(), await api.sign_up()
    post = await make_post(owner, hubId=hub_id)
    note = await comment(anna, post["id"], "Bra skrivet")
    event = await make_event(owner, hubId=hub_id)

    assert (await bo.ok(REACT, {"t": note["id"], "k": "INSIGHTFUL"}))["react"]["reactions"] == counts(
        insightful=1, mine="INSIGHTFUL"
    )
    assert (await owner.ok(REACT, {"t": note["id"], "k": "LIKE"}))["react"]["reactions"] == counts(
        like=1, insightful=1, mine="LIKE"
    )
    assert (await bo.ok(REACT, {"t": event["id"], "k": "CELEBRATE"}))["react"]["reactions"] == counts(
        celebrate=1, mine="CELEBRATE"
    )
    # Reactions stay on their own target.
    assert await reactions_of(bo, note["id"]) == counts(like=1, insightful=1, mine="INSIGHTFUL")
    assert await reactions_of(bo, event["id"]) == counts(celebrate=1, mine="CELEBRATE")
    assert await reactions_of(bo, post["id"]) == counts()
    t = await thread(anna, post["id"])
    assert t["comments"]["nodes"][0]["id"] == note["id"]
    with_reactions = THREAD.replace("repliesCount", "repliesCount reactions { like insightful }")
    reactions = await anna.ok(with_reactions, {"id": post["id"]})
    assert reactions["node"]["comments"]["nodes"][0]["reactions"] == {"like": 1, "insightful": 1}

    assert (await bo.ok(UNREACT, {"t": note["id"]}))["removeReaction"]["reactions"] == counts(like=1)
    assert (await bo.ok(UNREACT, {"t": event["id"]}))["removeReaction"]["reactions"] == counts()
