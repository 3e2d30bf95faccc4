"""What an erased member leaves in the feed goes (services/feed/erasure.py, on the graph's
`member.erased`): their posts, events and comments leave hub feeds, home feeds (their Redis
timelines too), comment lists and counts; their reactions and RSVPs leave the counts, a
place they held goes to the waitlist; their notifications, preferences and bells are
deleted. What they published as an organisation stays, under a placeholder author. The
job may run again and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.feed.models import Bell, Notification, NotificationPreference, Reaction, Rsvp
from services.feed.service import erasure
from shared.ids import from_global_id
from shared.outbox import OutboxEvent
from tests.conftest import Api, Session, poll
from tests.services.feed.test_events import (
    ACCEPT_ORG,
    COMMENT,
    EVENT_NODE,
    INVITE_ORG,
    REACT,
    RSVP,
    TARGET_REACTIONS,
    thread,
)
from tests.services.feed.test_feeds import (
    FOLLOW,
    HUB_FEED,
    ORG_FEED,
    UPCOMING,
    Feed,
    joined,
    make_event,
    make_hub,
    make_org,
    make_post,
)
from tests.services.feed.test_notifications import SET_BELL, SET_PREFERENCE
from tests.services.feed.test_timelines import home, open_timelines, shows, timeline, timelines

DELETE_ACCOUNT = """mutation($p: String!) { deleteAccount(input: {password: $p}) {
  erased userErrors { field message code } } }"""
NODE = """query($id: ID!) { node(id: $id) { id } }"""
POST_AUTHOR = """query($id: ID!) { node(id: $id) { ... on Post { body author { displayName isDeleted }
  organisation { slug } } } }"""


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


async def feed_outbox(api: Api, topic: str) -> list[dict[str, Any]]:
    async with api.app.state.feed_app.state.sessionmaker() as db:
        stmt = select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        return [row.payload for row in (await db.execute(stmt)).scalars()]


async def left_behind(api: Api, member: Session) -> dict[str, int]:
    """How many rows of what is the member's own the feed still keeps."""
    member_id = raw(member.id)
    owned = {
        "notifications": Notification.recipient_id,
        "preferences": NotificationPreference.member_id,
        "bells": Bell.member_id,
        "reactions": Reaction.member_id,
        "rsvps": Rsvp.member_id,
    }
    async with api.app.state.feed_app.state.sessionmaker() as db:
        return {
            name: (await db.execute(select(func.count()).where(column == member_id))).scalar_one()
            for name, column in owned.items()
        }


async def reactions(reader: Session | Api, target: str) -> dict[str, Any]:
    return (await reader.ok(TARGET_REACTIONS, {"id": target}))["node"]["reactions"]  # type: ignore[no-any-return]


async def test_what_an_erased_member_left_in_the_feed_goes(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    anna, bo, cleo = [await joined(api, hub) for _ in range(3)]
    reader = await api.sign_up()
    for target in (hub["id"], anna.id):
        await reader.ok(FOLLOW, {"t": target})
    await bo.ok(FOLLOW, {"t": anna.id})
    invitation = await owner.ok(INVITE_ORG, {"o": org["id"], "m": anna.id, "r": "EDITOR"})
    await anna.ok(ACCEPT_ORG, {"id": invitation["inviteToOrganisation"]["invitation"]["id"]})
    await api.settle()
    await open_timelines(anna, reader, bo)

    # What anna publishes, under her name and as the organisation.
    in_hub = (await make_post(anna, hubId=hub["id"], body="Anna i hubben"))["id"]
    on_profile = (await make_post(anna, body="Anna på sin profil"))["id"]
    as_org = (await make_post(anna, organisationId=org["id"], body="Organisationen berättar"))["id"]
    bo_post = (await make_post(bo, hubId=hub["id"], body="Bo i hubben"))["id"]
    anna_event = (await make_event(anna, hubId=hub["id"], title="Annas fika"))["id"]
    bo_event = (await make_event(bo, hubId=hub["id"], title="Bos fika", capacity=1))["id"]
    # Her RSVPs: she holds bo's only place, cleo waits; cleo goes to anna's event.
    await anna.ok(RSVP, {"e": bo_event, "s": "GOING"})
    waiting = (await cleo.ok(RSVP, {"e": bo_event, "s": "GOING"}))["rsvpToEvent"]["rsvp"]
    assert waiting["status"] == "WAITLISTED"
    await cleo.ok(RSVP, {"e": anna_event, "s": "GOING"})
    # Her comments and reactions, and others' on what she wrote.
    annas_comment = (await anna.ok(COMMENT, {"t": bo_post, "b": "Bra skrivet!", "p": None}))["createComment"]
    annas_comment_id = annas_comment["comment"]["id"]
    cleos_reply = (await cleo.ok(COMMENT, {"t": bo_post, "b": "Håller med", "p": annas_comment_id}))["createComment"][
        "comment"
    ]["id"]
    await bo.ok(COMMENT, {"t": in_hub, "b": "Tack Anna", "p": None})
    await anna.ok(REACT, {"t": bo_post, "k": "LIKE"})
    await cleo.ok(REACT, {"t": bo_post, "k": "INSIGHTFUL"})
    await anna.ok(REACT, {"t": cleos_reply, "k": "CELEBRATE"})
    await bo.ok(REACT, {"t": in_hub, "k": "LIKE"})
    # Her bell and her notification choices.
    await anna.ok(SET_BELL, {"t": hub["id"], "on": True})
    await anna.ok(SET_PREFERENCE, {"i": {"kind": "REACTION", "inApp": False}})
    await api.settle()

    hub_feed = Feed(reader, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]})
    assert await hub_feed.all() == [bo_event, anna_event, bo_post, in_hub]
    await shows(reader, [bo_event, anna_event, bo_post, on_profile, in_hub])
    assert (await thread(bo, bo_post))["commentsCount"] == 2
    before = await left_behind(api, anna)
    assert before["notifications"] >= 2 and before["reactions"] == 2 and before["rsvps"] == 1
    assert before["bells"] == 1 and before["preferences"] == 1

    erased = (await anna.ok(DELETE_ACCOUNT, {"p": anna.password}))["deleteAccount"]
    assert erased == {"erased": True, "userErrors": []}
    await api.settle()

    # Her posts and events leave the hub's feed, home feeds (and their timelines) and lookups.
    assert await hub_feed.all() == [bo_event, bo_post]
    await shows(reader, [bo_event, bo_post])
    await shows(bo, [bo_event, bo_post])
    for gone in (in_hub, on_profile, anna_event):
        assert (await reader.ok(NODE, {"id": gone}))["node"] is None
    upcoming = (await reader.ok(UPCOMING, {}))["upcomingEvents"]["nodes"]
    assert [e["id"] for e in upcoming] == [bo_event]
    if api.backend == "postgres":
        for member in (reader, bo):
            await poll(lambda member=member: _holds(api, member, [bo_event, bo_post]))
        store = timelines(api)
        assert store is not None and not await store.exists(raw(anna.id))
    deleted_posts = sorted(p["post_id"] for p in await feed_outbox(api, "post.deleted"))
    assert deleted_posts == sorted([raw(in_hub), raw(on_profile)])
    assert [p["event_id"] for p in await feed_outbox(api, "event.deleted")] == [raw(anna_event)]

    # What she published as the organisation stays, its author a placeholder.
    org_feed = Feed(reader, ORG_FEED, ("organisation", "feed"), {"slug": org["slug"]})
    assert await org_feed.all() == [as_org]
    kept = (await reader.ok(POST_AUTHOR, {"id": as_org}))["node"]
    assert kept == {
        "body": "Organisationen berättar",
        "author": {"displayName": "Deleted member", "isDeleted": True},
        "organisation": {"slug": org["slug"]},
    }

    # Her comment is blanked and counted off; the reply to it stays readable.
    t = await thread(reader, bo_post)
    assert t["commentsCount"] == 1
    [top] = t["comments"]["nodes"]
    assert (top["id"], top["isDeleted"], top["body"], top["bodyHtml"], top["author"]) == (
        annas_comment_id,
        True,
        "",
        "",
        None,
    )
    assert [(r["id"], r["body"], r["author"]) for r in top["replies"]["nodes"]] == [
        (cleos_reply, "Håller med", {"handle": cleo.handle})
    ]
    assert [p["comment_id"] for p in await feed_outbox(api, "comment.deleted")] == [raw(annas_comment_id)]

    # Her reactions leave the counts; her place goes to the first on the waitlist.
    assert await reactions(reader, bo_post) == {
        "like": 0,
        "insightful": 1,
        "celebrate": 0,
        "support": 0,
        "total": 1,
        "viewerReaction": None,
    }
    assert (await reactions(reader, cleos_reply))["total"] == 0
    event = (await cleo.ok(EVENT_NODE, {"id": bo_event}))["node"]
    assert (event["goingCount"], event["waitlistCount"], event["viewerRsvp"]["status"]) == (1, 0, "GOING")

    # Nothing of hers is kept: notifications, choices, bells, reactions, RSVPs.
    nothing = {"notifications": 0, "preferences": 0, "bells": 0, "reactions": 0, "rsvps": 0}
    assert await left_behind(api, anna) == nothing

    # Running the erasure again (a redelivered member.erased) changes nothing.
    counts = {
        topic: len(await feed_outbox(api, topic)) for topic in ("post.deleted", "event.deleted", "comment.deleted")
    }
    async with api.app.state.feed_app.state.sessionmaker() as db:
        assert await erasure.erase_step(db, raw(anna.id)) is False
        await db.commit()
    assert {topic: len(await feed_outbox(api, topic)) for topic in counts} == counts
    assert (await thread(reader, bo_post))["commentsCount"] == 1
    assert (await reactions(reader, bo_post))["total"] == 1
    assert await hub_feed.all() == [bo_event, bo_post]


async def _holds(api: Api, member: Session, wanted: list[str]) -> bool:
    return await timeline(api, member) == [raw(i) for i in wanted]


async def test_home_feed_of_a_follower_loses_what_the_erased_member_posted(api: Api) -> None:
    """Fan-out delivered her post to a follower's timeline; erasure takes it out, whether the
    follow's end or the post's deletion reaches the timeline first."""
    anna, reader = await api.sign_up(), await api.sign_up()
    await reader.ok(FOLLOW, {"t": anna.id})
    await api.settle()
    await open_timelines(reader)
    post = (await make_post(anna, body="Snart borta"))["id"]
    await shows(reader, [post])
    if api.backend == "postgres":
        await poll(lambda: _holds(api, reader, [post]))

    assert (await anna.ok(DELETE_ACCOUNT, {"p": anna.password}))["deleteAccount"]["erased"] is True
    await api.settle()
    await shows(reader, [])
    assert await home(reader).all() == []
    if api.backend == "postgres":
        await poll(lambda: _holds(api, reader, []))
