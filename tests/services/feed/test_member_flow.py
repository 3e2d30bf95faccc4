"""A member's day: join a hub, post with a mention and a tag, comment, react, RSVP to a
full event, get promoted from the waitlist, export the event as iCalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from tests.conftest import Api, poll

ORG = """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id }
  userErrors { field message } } }"""
HUB = """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id slug } userErrors { field message } } }"""
JOIN = """mutation($h: ID!) { joinHub(input: {hubId: $h}) { membership { state } userErrors { message } } }"""
POST = """mutation($i: CreatePostInput!) { createPost(input: $i) {
  post { id bodyHtml tags mentions { handle } author { handle } hub { slug } visibility }
  userErrors { field message code } } }"""
EVENT = """mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id capacity goingCount spotsLeft }
  userErrors { field message code } } }"""
RSVP = """mutation($e: ID!, $s: RsvpStatus!) { rsvpToEvent(input: {eventId: $e, status: $s}) {
  rsvp { status waitlistPosition } event { goingCount waitlistCount spotsLeft } userErrors { field message code } } }"""


async def make_hub(api: Api) -> tuple[object, str, str]:
    owner = await api.sign_up("hubowner")
    org = await owner.ok(ORG, {"i": {"slug": "ai-sweden", "name": "AI Sweden", "kind": "OTHER"}})
    org_id = org["createOrganisation"]["organisation"]["id"]
    hub = await owner.ok(HUB, {"i": {"slug": "kraftsamlingen", "name": "Kraftsamlingen", "organisationId": org_id}})
    return owner, hub["createHub"]["hub"]["id"], org_id


async def test_member_flow(api: Api) -> None:
    owner, hub_id, _ = await make_hub(api)
    anna = await api.sign_up("anna")
    bo = await api.sign_up("bosse")
    for m in (anna, bo):
        assert (await m.ok(JOIN, {"h": hub_id}))["joinHub"]["membership"]["state"] == "ACTIVE"

    post = (await anna.ok(POST, {"i": {"hubId": hub_id, "body": "Hej @bosse, se **#AI-etik** och https://ai.se"}}))[
        "createPost"
    ]["post"]
    assert post["tags"] == ["ai-etik"]
    assert post["mentions"] == [{"handle": "bosse"}]
    assert 'href="/members/bosse"' in post["bodyHtml"] and 'href="/tags/ai-etik"' in post["bodyHtml"]
    assert 'rel="nofollow ugc' in post["bodyHtml"]

    comment = await bo.ok(
        """mutation($t: ID!) { createComment(input: {targetId: $t, body: "Tack!"}) {
        comment { id body author { handle } } userErrors { message } } }""",
        {"t": post["id"]},
    )
    comment_id = comment["createComment"]["comment"]["id"]
    reply = await anna.ok(
        """mutation($t: ID!, $p: ID!) { createComment(input: {targetId: $t, parentId: $p, body: "Varsågod"}) {
        comment { id parent { id } } userErrors { message } } }""",
        {"t": post["id"], "p": comment_id},
    )
    assert reply["createComment"]["comment"]["parent"]["id"] == comment_id

    reacted = await bo.ok(
        """mutation($t: ID!) { react(input: {targetId: $t, kind: INSIGHTFUL}) {
        reactions { insightful total viewerReaction } userErrors { message } } }""",
        {"t": post["id"]},
    )
    assert reacted["react"]["reactions"] == {"insightful": 1, "total": 1, "viewerReaction": "INSIGHTFUL"}
    changed = await bo.ok(
        """mutation($t: ID!) { react(input: {targetId: $t, kind: LIKE}) {
        reactions { like insightful total viewerReaction } } }""",
        {"t": post["id"]},
    )
    assert changed["react"]["reactions"] == {"like": 1, "insightful": 0, "total": 1, "viewerReaction": "LIKE"}

    feed = await anna.ok(
        """query($slug: String!) { hub(slug: $slug) { feed(first: 10) { edges { node {
        ... on Post { id commentsCount reactions { like viewerReaction } comments(first: 5) { totalCount
          nodes { body repliesCount replies(first: 5) { nodes { body } } } } } } } } } }""",
        {"slug": "kraftsamlingen"},
    )
    node = feed["hub"]["feed"]["edges"][0]["node"]
    assert node["id"] == post["id"] and node["commentsCount"] == 2
    assert node["reactions"] == {"like": 1, "viewerReaction": None}
    top = node["comments"]["nodes"]
    assert [c["body"] for c in top] == ["Tack!"] and top[0]["replies"]["nodes"][0]["body"] == "Varsågod"

    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    event = (
        await owner.ok(
            EVENT,
            {
                "i": {
                    "hubId": hub_id,
                    "title": "AI-fika",
                    "startsAt": starts.isoformat(),
                    "endsAt": (starts + timedelta(hours=2)).isoformat(),
                    "location": "Lindholmen, Göteborg",
                    "capacity": 1,
                    "municipalityCode": "1480",
                }
            },
        )
    )["createEvent"]["event"]
    first = (await anna.ok(RSVP, {"e": event["id"], "s": "GOING"}))["rsvpToEvent"]
    assert first["rsvp"]["status"] == "GOING" and first["event"]["spotsLeft"] == 0
    waiting = (await bo.ok(RSVP, {"e": event["id"], "s": "GOING"}))["rsvpToEvent"]
    assert waiting["rsvp"] == {"status": "WAITLISTED", "waitlistPosition": 1}
    await anna.ok(RSVP, {"e": event["id"], "s": "NOT_GOING"})
    promoted = await bo.ok(
        """query($id: ID!) { node(id: $id) { ... on Event { goingCount waitlistCount
        viewerRsvp { status waitlistPosition } } } }""",
        {"id": event["id"]},
    )
    assert promoted["node"] == {
        "goingCount": 1,
        "waitlistCount": 0,
        "viewerRsvp": {"status": "GOING", "waitlistPosition": None},
    }

    r = await api.http.get(f"/events/{event['id']}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    vevent = next(iter(cal.walk("VEVENT")))
    assert vevent.decoded("dtstart") == starts and str(vevent.get("summary")) == "AI-fika"
    assert str(vevent.get("location")) == "Lindholmen, Göteborg"

    # Following the hub puts its items in the home feed (feed learns follows from graph events).
    await bo.ok("""mutation($t: ID!) { follow(input: {targetId: $t}) { following } }""", {"t": hub_id})

    async def home_has_both() -> bool:
        data = await bo.ok("{ homeFeed(first: 10) { nodes { ... on Post { id } ... on Event { id } } } }")
        return {n["id"] for n in data["homeFeed"]["nodes"]} >= {post["id"], event["id"]}

    await poll(home_has_both)
