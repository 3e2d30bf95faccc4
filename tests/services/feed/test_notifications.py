"""Notifications through the GraphQL API, on both backends (SQLite: jobs in-process;
PostgreSQL: jobs on arq with Redis): every kind reaches whom it should and nobody else
(never the actor, never across a block or from a muted member, never someone who may not
see the subject), reactions group ("Anna and 3 others"), preferences decide what is made
and shown, read/unread and counts, bells, bad input, and jobs that run twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.feed.models import Bell, Notification, NotificationActor
from shared.ids import from_global_id
from shared.outbox import FailedJob, OutboxEvent
from tests.conftest import Api, Session, poll

ERRORS = "userErrors { field message code }"
SUBJECT = """subject { __typename ... on Post { id } ... on Event { id } ... on Comment { id }
  ... on Member { id handle } ... on Organisation { id } ... on Hub { id } }"""
NODE = f"id kind read readAt actorsCount othersCount text createdAt updatedAt actor {{ handle }} {SUBJECT}"
NOTIFICATIONS = f"""query($unread: Boolean, $first: Int, $after: String) {{
  notifications(unreadOnly: $unread, first: $first, after: $after) {{
    nodes {{ {NODE} }} pageInfo {{ hasNextPage endCursor }} }}
  unreadNotificationsCount }}"""
MARK_READ = f"""mutation($i: MarkNotificationsReadInput!) {{ markNotificationsRead(input: $i) {{
  notifications {{ id read }} unreadCount {ERRORS} }} }}"""
SET_PREFERENCE = f"""mutation($i: SetNotificationPreferenceInput!) {{ setNotificationPreference(input: $i) {{
  preference {{ kind inApp email required }} {ERRORS} }} }}"""
PREFERENCES = "{ notificationPreferences { kind inApp email required } }"
SET_BELL = f"""mutation($t: ID!, $on: Boolean!) {{ setBell(input: {{targetId: $t, on: $on}}) {{
  bell {{ targetId on target {{ __typename ... on Hub {{ id }} ... on Organisation {{ id }} }} }} {ERRORS} }} }}"""
BELLS = "query($ids: [ID!]!) { notificationBells(targetIds: $ids) { targetId on } }"

ORG = f"""mutation($i: CreateOrganisationInput!) {{ createOrganisation(input: $i) {{
  organisation {{ id slug }} {ERRORS} }} }}"""
HUB = f"""mutation($i: CreateHubInput!) {{ createHub(input: $i) {{ hub {{ id slug }} {ERRORS} }} }}"""
JOIN = f"""mutation($h: ID!) {{ joinHub(input: {{hubId: $h}}) {{ membership {{ state }} {ERRORS} }} }}"""
FOLLOW = f"""mutation($t: ID!) {{ follow(input: {{targetId: $t}}) {{ following {ERRORS} }} }}"""
UNFOLLOW = f"""mutation($t: ID!) {{ unfollow(input: {{targetId: $t}}) {{ following {ERRORS} }} }}"""
BLOCK = f"""mutation($m: ID!) {{ blockMember(input: {{memberId: $m}}) {{ member {{ id }} {ERRORS} }} }}"""
MUTE = f"""mutation($m: ID!) {{ muteMember(input: {{memberId: $m}}) {{ member {{ id }} {ERRORS} }} }}"""
POST = f"""mutation($i: CreatePostInput!) {{ createPost(input: $i) {{ post {{ id }} {ERRORS} }} }}"""
UPDATE_POST = f"""mutation($i: UpdatePostInput!) {{ updatePost(input: $i) {{ post {{ id }} {ERRORS} }} }}"""
COMMENT = f"""mutation($i: CreateCommentInput!) {{ createComment(input: $i) {{ comment {{ id }} {ERRORS} }} }}"""
REACT = f"""mutation($t: ID!, $k: ReactionKind!) {{ react(input: {{targetId: $t, kind: $k}}) {{
  reactions {{ total }} {ERRORS} }} }}"""
EVENT = f"""mutation($i: CreateEventInput!) {{ createEvent(input: $i) {{ event {{ id }} {ERRORS} }} }}"""
UPDATE_EVENT = f"""mutation($i: UpdateEventInput!) {{ updateEvent(input: $i) {{ event {{ id }} {ERRORS} }} }}"""
CANCEL_EVENT = f"""mutation($id: ID!) {{ cancelEvent(input: {{id: $id}}) {{ event {{ status }} {ERRORS} }} }}"""
RSVP = f"""mutation($e: ID!, $s: RsvpStatus!) {{ rsvpToEvent(input: {{eventId: $e, status: $s}}) {{
  rsvp {{ status }} {ERRORS} }} }}"""
INVITE = f"""mutation($i: InviteToOrganisationInput!) {{ inviteToOrganisation(input: $i) {{
  invitation {{ id }} {ERRORS} }} }}"""


# --- helpers -------------------------------------------------------------------------------------


def raw(global_id: str) -> int:
    return from_global_id(global_id)[1]


def slug(api: Api, prefix: str) -> str:
    return api.unique(prefix).replace("_", "-").lower()


async def make_org(owner: Session, name: str = "Region Skåne") -> dict[str, Any]:
    data = {"slug": slug(owner.api, "org"), "name": name, "kind": "REGION"}
    return (await owner.ok(ORG, {"i": data}))["createOrganisation"]["organisation"]  # type: ignore[no-any-return]


async def make_hub(owner: Session, org_id: str, name: str = "AI i skolan", **fields: Any) -> dict[str, Any]:
    data = {"slug": slug(owner.api, "hub"), "name": name, "organisationId": org_id, **fields}
    return (await owner.ok(HUB, {"i": data}))["createHub"]["hub"]  # type: ignore[no-any-return]


async def post(author: Session, body: str = "Hej från Hubben", **fields: Any) -> str:
    data = await author.ok(POST, {"i": {"body": body, **fields}})
    return data["createPost"]["post"]["id"]  # type: ignore[no-any-return]


async def comment(author: Session, target: str, body: str = "Bra skrivet!", parent: str | None = None) -> str:
    data = await author.ok(COMMENT, {"i": {"targetId": target, "body": body, "parentId": parent}})
    return data["createComment"]["comment"]["id"]  # type: ignore[no-any-return]


async def event(organiser: Session, starts_in: timedelta = timedelta(days=7), **fields: Any) -> str:
    starts = datetime.now(UTC).replace(microsecond=0) + starts_in
    data = {
        "title": "AI-fika",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "location": "Lindholmen",
        **fields,
    }
    return (await organiser.ok(EVENT, {"i": data}))["createEvent"]["event"]["id"]  # type: ignore[no-any-return]


async def notifications(who: Session, **args: Any) -> list[dict[str, Any]]:
    data = await who.ok(NOTIFICATIONS, {"first": 100, **args})
    return data["notifications"]["nodes"]  # type: ignore[no-any-return]


async def unread(who: Session) -> int:
    return (await who.ok("{ unreadNotificationsCount }"))["unreadNotificationsCount"]  # type: ignore[no-any-return]


async def wait_for(who: Session, condition: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        found = await notifications(who)
        return found if condition(found) else None

    return await poll(check, within=20)  # type: ignore[no-any-return]


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [n["kind"] for n in found]


async def settle(api: Api) -> None:
    """Wait until every job caused so far has run, and check none ended dead."""
    await api.settle()
    async with api.app.state.feed_app.state.sessionmaker() as s:
        dead = list((await s.execute(select(FailedJob))).scalars())
    assert not dead, [(d.job, d.error) for d in dead]


async def stored(api: Api, *conditions: Any) -> list[Notification]:
    """Notification rows as stored, whatever the list shows."""
    async with api.app.state.feed_app.state.sessionmaker() as s:
        return list((await s.execute(select(Notification).where(*conditions))).scalars())


async def created_events(api: Api) -> list[dict[str, Any]]:
    async with api.app.state.feed_app.state.sessionmaker() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.topic == "notification.created").order_by(OutboxEvent.id)
        return [r.payload for r in (await s.execute(stmt)).scalars()]


async def feed_event(api: Api, topic: str, **match: Any) -> dict[str, Any]:
    """A feed outbox row as a job receives it."""
    async with api.app.state.feed_app.state.sessionmaker() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        for row in (await s.execute(stmt)).scalars():
            if all(row.payload.get(k) == v for k, v in match.items()):
                return {"id": row.id, "source": "feed", "topic": row.topic, "payload": row.payload}
    raise AssertionError(f"no {topic} event with {match}")


def ctx(api: Api) -> dict[str, Any]:
    return api.app.state.jobs.ctx  # type: ignore[no-any-return]


# --- each kind ----------------------------------------------------------------------------------


async def test_a_new_follower_is_told_once_with_who_and_a_summary(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    await bo.ok(FOLLOW, {"t": anna.id})
    found = await wait_for(anna, lambda ns: len(ns) == 1)
    n = found[0]
    assert n["kind"] == "FOLLOWER" and n["read"] is False and n["readAt"] is None
    assert n["actor"]["handle"] == bo.handle and (n["actorsCount"], n["othersCount"]) == (1, 0)
    assert n["subject"] == {"__typename": "Member", "id": bo.id, "handle": bo.handle}
    assert n["text"] == f"{bo.handle.title()} started following you"
    assert from_global_id(n["id"])[0] == "Notification"
    assert await unread(anna) == 1
    node = "query($id: ID!) { node(id: $id) { __typename ... on Notification { id kind } } }"
    assert (await anna.ok(node, {"id": n["id"]}))["node"] == {
        "__typename": "Notification",
        "id": n["id"],
        "kind": "FOLLOWER",
    }
    assert (await bo.ok(node, {"id": n["id"]}))["node"] is None  # someone else's notification
    assert (await api.ok(node, {"id": n["id"]}))["node"] is None

    # Following again after an unfollow tells nothing new; following a hub tells nobody.
    await bo.ok(UNFOLLOW, {"t": anna.id})
    await bo.ok(FOLLOW, {"t": anna.id})
    hub = await make_hub(anna, (await make_org(anna))["id"])
    await bo.ok(FOLLOW, {"t": hub["id"]})
    await settle(api)
    assert [x["id"] for x in await notifications(anna)] == [n["id"]]
    assert await notifications(bo) == []


async def test_mentions_in_posts_and_comments_reach_the_mentioned_once(api: Api) -> None:
    anna, bo, carl = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post_id = await post(anna, f"Vad tycker @{bo.handle} och @{anna.handle} om detta?")
    found = await wait_for(bo, lambda ns: len(ns) == 1)
    assert found[0]["kind"] == "MENTION" and found[0]["subject"]["id"] == post_id
    assert found[0]["text"].startswith(f"{anna.handle.title()} mentioned you in a post: “Vad tycker")

    # An edit that adds a mention tells the newly mentioned, not again the one told before.
    await anna.ok(UPDATE_POST, {"i": {"id": post_id, "body": f"@{bo.handle} @{carl.handle} vad tycker ni?"}})
    carl_found = await wait_for(carl, lambda ns: len(ns) == 1)
    assert carl_found[0]["kind"] == "MENTION" and carl_found[0]["subject"]["id"] == post_id

    comment_id = await comment(carl, post_id, f"Jag håller med @{bo.handle}")
    found = await wait_for(bo, lambda ns: len(ns) == 2)
    assert found[0]["kind"] == "MENTION" and found[0]["subject"] == {"__typename": "Comment", "id": comment_id}
    assert "mentioned you in a comment" in found[0]["text"]
    await settle(api)
    # Anna mentioned herself: nothing. She hears of Carl's comment on her post, as a comment.
    anna_found = await notifications(anna)
    assert kinds(anna_found) == ["COMMENT"] and anna_found[0]["subject"]["id"] == comment_id


async def test_comments_and_replies_go_to_the_author_and_the_parent_author(api: Api) -> None:
    anna, bo, carl = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post_id = await post(anna, "# Rapport\n\nVi har testat en chattbot i kundtjänsten.")
    top = await comment(bo, post_id, "Spännande!")
    found = await wait_for(anna, lambda ns: len(ns) == 1)
    assert found[0]["kind"] == "COMMENT" and found[0]["actor"]["handle"] == bo.handle
    assert (
        found[0]["text"]
        == f"{bo.handle.title()} commented on your post: “# Rapport Vi har testat en chattbot i kundtjänsten.”"
    )

    reply = await comment(carl, post_id, "Håller med", parent=top)
    bo_found = await wait_for(bo, lambda ns: len(ns) == 1)
    assert bo_found[0]["kind"] == "REPLY" and bo_found[0]["subject"]["id"] == reply
    assert bo_found[0]["text"].startswith(f"{carl.handle.title()} replied to your comment")
    anna_found = await wait_for(anna, lambda ns: len(ns) == 2)
    assert kinds(anna_found) == ["COMMENT", "COMMENT"] and anna_found[0]["actor"]["handle"] == carl.handle

    # The author replying on her own post tells Bo (a reply) and not herself.
    await comment(anna, post_id, "Tack!", parent=top)
    await wait_for(bo, lambda ns: len(ns) == 2)
    await settle(api)
    assert len(await notifications(anna)) == 2

    # Comments on an event go to its organiser.
    event_id = await event(anna)
    on_event = await comment(bo, event_id, "Kommer!")
    anna_found = await wait_for(anna, lambda ns: len(ns) == 3)
    assert anna_found[0]["subject"]["id"] == on_event and "commented on your event: “AI-fika”" in anna_found[0]["text"]


async def test_reactions_gather_in_one_notification_that_comes_back_when_someone_new_reacts(api: Api) -> None:
    anna, bo, carl, dave, eve = [await api.sign_up() for _ in range(5)]
    post_id = await post(anna, "Vi lanserar en AI-tjänst för bygglov")
    await anna.ok(REACT, {"t": post_id, "k": "LIKE"})  # her own: nothing
    for count, who in enumerate((bo, carl, dave), start=1):
        await who.ok(REACT, {"t": post_id, "k": "LIKE"})
        found = await wait_for(anna, lambda ns, n=count: len(ns) == 1 and ns[0]["actorsCount"] == n)
    group = found[0]
    assert group["kind"] == "REACTION" and group["actor"]["handle"] == dave.handle and group["othersCount"] == 2
    assert group["subject"] == {"__typename": "Post", "id": post_id}
    assert (
        group["text"]
        == f"{dave.handle.title()} and 2 others reacted to your post: “Vi lanserar en AI-tjänst för bygglov”"
    )

    # Changing one's reaction is no news.
    await bo.ok(REACT, {"t": post_id, "k": "INSIGHTFUL"})
    await settle(api)
    again = await notifications(anna)
    assert [(n["id"], n["actorsCount"], n["actor"]["handle"]) for n in again] == [(group["id"], 3, dave.handle)]

    # Read, then something else arrives, then someone new reacts: the group is unread again, on top.
    await anna.ok(MARK_READ, {"i": {"all": True}})
    await carl.ok(FOLLOW, {"t": anna.id})
    await wait_for(anna, lambda ns: kinds(ns) == ["FOLLOWER", "REACTION"])
    await eve.ok(REACT, {"t": post_id, "k": "CELEBRATE"})
    found = await wait_for(anna, lambda ns: kinds(ns) == ["REACTION", "FOLLOWER"])
    assert (found[0]["id"], found[0]["read"], found[0]["actorsCount"]) == (group["id"], False, 4)
    assert found[0]["actor"]["handle"] == eve.handle and found[0]["updatedAt"] > group["updatedAt"]
    assert found[0]["createdAt"] == group["createdAt"]
    assert found[0]["text"].startswith(f"{eve.handle.title()} and 3 others reacted")
    assert await unread(anna) == 2
    rows = await stored(api, Notification.recipient_id == raw(anna.id), Notification.kind == "reaction")
    assert len(rows) == 1
    async with api.app.state.feed_app.state.sessionmaker() as s:
        actors = (
            await s.execute(select(NotificationActor.actor_id).where(NotificationActor.notification_id == rows[0].id))
        ).scalars()
        assert set(actors) == {raw(m.id) for m in (bo, carl, dave, eve)}

    # A reaction to a comment goes to the comment's author, in a group of its own.
    comment_id = await comment(bo, post_id, "Äntligen ett bygglov som går fort")
    await carl.ok(REACT, {"t": comment_id, "k": "SUPPORT"})
    bo_found = await wait_for(bo, lambda ns: kinds(ns) == ["REACTION"])
    assert bo_found[0]["subject"] == {"__typename": "Comment", "id": comment_id}
    assert bo_found[0]["text"] == f"{carl.handle.title()} reacted to your comment: “Äntligen ett bygglov som går fort”"


async def test_blocked_and_muted_members_never_notify_and_later_blocks_hide_what_was_made(api: Api) -> None:
    from services.feed.notify import notify

    anna, bo, carl, dave, eve = [await api.sign_up() for _ in range(5)]
    await anna.ok(MUTE, {"m": carl.id})
    await anna.ok(BLOCK, {"m": eve.id})
    await settle(api)  # the feed has its copies of the block and the mute

    # Carl (muted) mentions Anna and Dave in one post: Dave hears of it, Anna does not.
    await post(carl, f"Hej @{anna.handle} och @{dave.handle}")
    await wait_for(dave, lambda ns: kinds(ns) == ["MENTION"])
    post_id = await post(anna, "Min första rapport")
    await carl.ok(REACT, {"t": post_id, "k": "LIKE"})
    await carl.ok(FOLLOW, {"t": anna.id})
    await comment(carl, post_id, "Bra!")
    await settle(api)
    assert await stored(api, Notification.recipient_id == raw(anna.id)) == []

    # Eve (blocked) cannot follow Anna; were the event to come anyway, it makes nothing.
    follow = {"follow_id": 1, "follower_id": raw(eve.id), "target_type": "member", "target_id": raw(anna.id)}
    await notify(ctx(api), {"id": 1, "source": "graph", "topic": "follow.created", "payload": follow})
    # ...nor does a member Anna blocked hear of what she does.
    await notify(
        ctx(api),
        {
            "id": 2,
            "source": "graph",
            "topic": "follow.created",
            "payload": {**follow, "follower_id": raw(anna.id), "target_id": raw(eve.id)},
        },
    )
    assert await stored(api, Notification.recipient_id.in_([raw(anna.id), raw(eve.id)])) == []  # type: ignore[attr-defined]

    # Made before a block or mute, hidden after it: Dave's follow goes; Bo's reaction group
    # shows Bo alone once Anna mutes Dave, who reacted last.
    await dave.ok(FOLLOW, {"t": anna.id})
    await bo.ok(REACT, {"t": post_id, "k": "LIKE"})
    await wait_for(anna, lambda ns: sorted(kinds(ns)) == ["FOLLOWER", "REACTION"])
    await dave.ok(REACT, {"t": post_id, "k": "LIKE"})
    await wait_for(anna, lambda ns: any(n["actorsCount"] == 2 for n in ns))
    assert await unread(anna) == 2
    await anna.ok(MUTE, {"m": dave.id})

    async def dave_hidden() -> list[dict[str, Any]] | None:
        shown = await notifications(anna)
        return shown if kinds(shown) == ["REACTION"] and shown[0]["actorsCount"] == 1 else None

    shown = await poll(dave_hidden, within=20)
    assert shown[0]["actor"]["handle"] == bo.handle and shown[0]["othersCount"] == 0
    assert shown[0]["text"].startswith(f"{bo.handle.title()} reacted to your post")
    assert await unread(anna) == 1
    assert len(await stored(api, Notification.recipient_id == raw(anna.id))) == 2  # kept, not shown


async def test_only_members_who_may_see_a_post_hear_of_it(api: Api) -> None:
    owner, member, outsider = [await api.sign_up() for _ in range(3)]
    hub = await make_hub(owner, (await make_org(owner))["id"])
    assert (await member.ok(JOIN, {"h": hub["id"]}))["joinHub"]["membership"]["state"] == "ACTIVE"
    await settle(api)  # the feed knows the member is in the hub
    body = f"Internt: @{outsider.handle} och @{member.handle}"
    post_id = await post(owner, body, hubId=hub["id"], visibility="HUB_MEMBERS")
    found = await wait_for(member, lambda ns: kinds(ns) == ["MENTION"])
    assert found[0]["subject"]["id"] == post_id
    await settle(api)
    assert await notifications(outsider) == []
    assert await stored(api, Notification.recipient_id == raw(outsider.id)) == []


async def test_bells_tell_of_every_new_post_and_event_of_a_hub_or_organisation(api: Api) -> None:
    anna, bo, carl, dave, muter = [await api.sign_up() for _ in range(5)]
    org = await make_org(anna, "Region Skåne")
    hub = await make_hub(anna, org["id"], "AI i skolan")
    await muter.ok(MUTE, {"m": anna.id})
    await settle(api)
    for who, target in ((bo, hub["id"]), (carl, org["id"]), (dave, hub["id"]), (dave, org["id"]), (muter, hub["id"])):
        data = await who.ok(SET_BELL, {"t": target, "on": True})
        assert data["setBell"]["bell"]["on"] is True and data["setBell"]["bell"]["target"]["id"] == target
    bells = (await dave.ok(BELLS, {"ids": [hub["id"], org["id"]]}))["notificationBells"]
    assert bells == [{"targetId": hub["id"], "on": True}, {"targetId": org["id"], "on": True}]
    assert (await bo.ok(BELLS, {"ids": [org["id"]]}))["notificationBells"] == [{"targetId": org["id"], "on": False}]

    in_hub = await post(anna, "Nytt i hubben", hubId=hub["id"])
    found = await wait_for(bo, lambda ns: len(ns) == 1)
    assert found[0]["kind"] == "HUB_POST" and found[0]["subject"]["id"] == in_hub
    assert found[0]["text"] == f"{anna.handle.title()} posted in AI i skolan: “Nytt i hubben”"
    as_org = await event(anna, organisationId=org["id"], title="Frukostmöte")
    carl_found = await wait_for(carl, lambda ns: len(ns) == 1)
    assert carl_found[0]["kind"] == "ORGANISATION_POST" and carl_found[0]["subject"]["id"] == as_org
    assert carl_found[0]["text"] == f"{anna.handle.title()} added an event for Region Skåne: “Frukostmöte”"
    both = await post(anna, "I hubben, för regionen", hubId=hub["id"], organisationId=org["id"])
    dave_found = await wait_for(dave, lambda ns: len(ns) == 3)
    assert [n["subject"]["id"] for n in dave_found] == [both, as_org, in_hub]  # one each, even with two bells
    await settle(api)
    assert await notifications(muter) == [] and await notifications(anna) == []

    # Off: nothing more.
    await bo.ok(SET_BELL, {"t": hub["id"], "on": False})
    await post(anna, "Ännu ett", hubId=hub["id"])
    await wait_for(dave, lambda ns: len(ns) == 4)
    await settle(api)
    assert len(await notifications(bo)) == 2  # the first hub post and the one for hub and region

    # Bad input comes back as userErrors.
    wrong = (await bo.gql(SET_BELL, {"t": carl.id, "on": True}))["data"]
    assert wrong["setBell"]["bell"] is None
    assert wrong["setBell"]["userErrors"] == [
        {"field": "targetId", "message": "bells ring for hubs and organisations only", "code": "BAD_USER_INPUT"}
    ]
    from shared.ids import to_global_id

    missing = (await bo.gql(SET_BELL, {"t": to_global_id("Hub", 12345), "on": True}))["data"]
    assert missing["setBell"]["userErrors"][0]["code"] == "NOT_FOUND"
    malformed = (await bo.gql(SET_BELL, {"t": "nonsense", "on": True}))["data"]
    assert malformed["setBell"]["userErrors"][0] == {
        "field": "targetId",
        "message": "malformed id",
        "code": "BAD_USER_INPUT",
    }


async def test_event_changes_reach_everyone_who_answered_and_promotions_their_member(api: Api) -> None:
    organiser, going, waiting, interested, declined = [await api.sign_up() for _ in range(5)]
    event_id = await event(organiser, capacity=1, title="AI-fika")
    for who, status in ((going, "GOING"), (waiting, "GOING"), (interested, "INTERESTED"), (declined, "NOT_GOING")):
        await who.ok(RSVP, {"e": event_id, "s": status})
    await organiser.ok(UPDATE_EVENT, {"i": {"id": event_id, "title": "AI-fika i Malmö", "location": "Malmö"}})
    for who in (going, waiting, interested):
        found = await wait_for(who, lambda ns: kinds(ns) == ["EVENT_UPDATED"])
        assert found[0]["subject"] == {"__typename": "Event", "id": event_id}
        assert found[0]["text"] == "“AI-fika i Malmö” was updated" and found[0]["actor"]["handle"] == organiser.handle
    # A second update is news again; a new capacity alone is not (the waitlist hears of promotions).
    await organiser.ok(UPDATE_EVENT, {"i": {"id": event_id, "description": "Med fika"}})
    await wait_for(going, lambda ns: kinds(ns) == ["EVENT_UPDATED", "EVENT_UPDATED"])
    await organiser.ok(UPDATE_EVENT, {"i": {"id": event_id, "capacity": 2}})
    found = await wait_for(waiting, lambda ns: kinds(ns)[0] == "WAITLIST_PROMOTED")
    assert found[0]["text"] == "A place opened up: you are now going to “AI-fika i Malmö”" and found[0]["actor"] is None
    assert kinds(found) == ["WAITLIST_PROMOTED", "EVENT_UPDATED", "EVENT_UPDATED"]

    await organiser.ok(CANCEL_EVENT, {"id": event_id})
    for who in (going, waiting, interested):
        found = await wait_for(who, lambda ns: kinds(ns)[0] == "EVENT_CANCELLED")
        assert found[0]["text"] == "“AI-fika i Malmö” was cancelled"
    await settle(api)
    assert kinds(await notifications(going)) == ["EVENT_CANCELLED", "EVENT_UPDATED", "EVENT_UPDATED"]
    assert await notifications(declined) == [] and await notifications(organiser) == []


async def test_a_member_leaving_promotes_the_next_in_line_who_is_told(api: Api) -> None:
    organiser, first, second = [await api.sign_up() for _ in range(3)]
    event_id = await event(organiser, capacity=1)
    await first.ok(RSVP, {"e": event_id, "s": "GOING"})
    await second.ok(RSVP, {"e": event_id, "s": "GOING"})
    await first.ok(RSVP, {"e": event_id, "s": "NOT_GOING"})
    found = await wait_for(second, lambda ns: kinds(ns) == ["WAITLIST_PROMOTED"])
    assert found[0]["subject"]["id"] == event_id
    await settle(api)
    assert await notifications(first) == []


async def test_reminders_go_to_going_members_once_a_day_and_an_hour_before(api: Api) -> None:
    from services.feed.notify import event_reminders

    organiser, going, interested = [await api.sign_up() for _ in range(3)]
    starts = {
        "Hackathon": timedelta(hours=23, minutes=50),
        "Lunchföredrag": timedelta(minutes=50),
        "Senare": timedelta(hours=30),
    }
    made = {title: await event(organiser, timedelta(days=10), title=title) for title in starts}
    for event_id in made.values():
        await going.ok(RSVP, {"e": event_id, "s": "GOING"})
        await interested.ok(RSVP, {"e": event_id, "s": "INTERESTED"})
    # Moved close only now that everyone answered (the minute's own run may come at any time).
    for title, delta in starts.items():
        at_start = datetime.now(UTC).replace(microsecond=0) + delta
        times = {"startsAt": at_start.isoformat(), "endsAt": (at_start + timedelta(hours=1)).isoformat()}
        await organiser.ok(UPDATE_EVENT, {"i": {"id": made[title], **times}})
    tomorrow, soon = made["Hackathon"], made["Lunchföredrag"]
    now = datetime.now(UTC)
    for at in (now, now, now + timedelta(minutes=3)):  # late and repeated runs change nothing
        await event_reminders(ctx(api), {"at": at.isoformat()})

    async def reminders(who: Session) -> list[dict[str, Any]]:
        return [n for n in await notifications(who) if n["kind"] == "EVENT_REMINDER"]

    found = await reminders(going)
    assert sorted((n["kind"], n["subject"]["id"], n["text"]) for n in found) == sorted(
        [
            ("EVENT_REMINDER", tomorrow, "“Hackathon” starts in 24 hours"),
            ("EVENT_REMINDER", soon, "“Lunchföredrag” starts in 1 hour"),
        ]
    )
    assert all(n["actor"] is None for n in found)
    # An hour from now, the event of tomorrow is not yet due; its 1-hour reminder comes later.
    await event_reminders(ctx(api), {"at": (now + timedelta(hours=1)).isoformat()})
    await event_reminders(ctx(api), {"at": (now + timedelta(hours=22, minutes=55)).isoformat()})
    found = await reminders(going)
    assert len(found) == 3 and found[0]["text"] == "“Hackathon” starts in 1 hour"
    assert await reminders(interested) == [] and await notifications(organiser) == []


async def test_an_invitation_to_an_organisation_tells_the_invitee(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    org = await make_org(anna, "Umeå kommun")
    await anna.ok(INVITE, {"i": {"organisationId": org["id"], "memberId": bo.id, "role": "EDITOR"}})
    found = await wait_for(bo, lambda ns: len(ns) == 1)
    assert found[0]["kind"] == "ORGANISATION_INVITATION" and found[0]["actor"]["handle"] == anna.handle
    assert found[0]["subject"] == {"__typename": "Organisation", "id": org["id"]}
    assert found[0]["text"] == f"{anna.handle.title()} invited you to join Umeå kommun"


async def test_moderation_outcomes_are_told_once_and_cannot_be_turned_off(api: Api) -> None:
    from services.feed.service.notifications import notify_moderation_outcome

    anna = await api.sign_up()
    post_id = await post(anna, "Något som anmäldes")
    for _ in range(2):  # the same decision twice: one notification
        async with api.app.state.feed_app.state.sessionmaker() as s:
            await notify_moderation_outcome(
                s,
                member_id=raw(anna.id),
                key="report:42",
                outcome="removed",
                message="Inlägget bröt mot reglerna och togs bort.",
                about="your post",
                subject_type="post",
                subject_id=raw(post_id),
            )
            await s.commit()
    found = await wait_for(anna, lambda ns: len(ns) == 1)
    assert found[0]["kind"] == "MODERATION_OUTCOME" and found[0]["actor"] is None and found[0]["actorsCount"] == 0
    assert found[0]["text"] == "Moderators reviewed your post: Inlägget bröt mot reglerna och togs bort."
    assert found[0]["subject"] == {"__typename": "Post", "id": post_id}

    refused = (await anna.gql(SET_PREFERENCE, {"i": {"kind": "MODERATION_OUTCOME", "inApp": False}}))["data"]
    assert refused["setNotificationPreference"]["userErrors"] == [
        {
            "field": "inApp",
            "message": "moderation_outcome notifications always show in the app",
            "code": "BAD_USER_INPUT",
        }
    ]
    changed = await anna.ok(SET_PREFERENCE, {"i": {"kind": "MODERATION_OUTCOME", "email": "DIGEST"}})
    assert changed["setNotificationPreference"]["preference"] == {
        "kind": "MODERATION_OUTCOME",
        "inApp": True,
        "email": "DIGEST",
        "required": True,
    }


# --- preferences, reading, bad input ------------------------------------------------------------


async def test_preferences_have_defaults_and_decide_what_is_made_and_shown(api: Api) -> None:
    anna, bo, carl = [await api.sign_up() for _ in range(3)]
    defaults = {
        p["kind"]: (p["inApp"], p["email"], p["required"])
        for p in (await anna.ok(PREFERENCES))["notificationPreferences"]
    }
    assert defaults == {
        "FOLLOWER": (True, "DIGEST", False),
        "MENTION": (True, "IMMEDIATE", False),
        "COMMENT": (True, "DIGEST", False),
        "REPLY": (True, "IMMEDIATE", False),
        "REACTION": (True, "OFF", False),
        "HUB_POST": (True, "DIGEST", False),
        "ORGANISATION_POST": (True, "DIGEST", False),
        "EVENT_UPDATED": (True, "IMMEDIATE", False),
        "EVENT_CANCELLED": (True, "IMMEDIATE", False),
        "WAITLIST_PROMOTED": (True, "IMMEDIATE", False),
        "EVENT_REMINDER": (True, "IMMEDIATE", False),
        "ORGANISATION_INVITATION": (True, "IMMEDIATE", False),
        "MODERATION_OUTCOME": (True, "IMMEDIATE", True),
    }
    # Reactions off everywhere: nothing is made. Followers kept for mail only: made, not shown.
    off = await anna.ok(SET_PREFERENCE, {"i": {"kind": "REACTION", "inApp": False}})
    assert off["setNotificationPreference"]["preference"] == {
        "kind": "REACTION",
        "inApp": False,
        "email": "OFF",
        "required": False,
    }
    await anna.ok(SET_PREFERENCE, {"i": {"kind": "FOLLOWER", "inApp": False, "email": "IMMEDIATE"}})
    prefs = {p["kind"]: p for p in (await anna.ok(PREFERENCES))["notificationPreferences"]}
    assert (prefs["FOLLOWER"]["inApp"], prefs["FOLLOWER"]["email"]) == (False, "IMMEDIATE")
    assert prefs["MENTION"]["email"] == "IMMEDIATE"  # untouched kinds keep their defaults

    post_id = await post(anna, "Rapporten är klar")
    await bo.ok(REACT, {"t": post_id, "k": "LIKE"})
    await bo.ok(FOLLOW, {"t": anna.id})
    await comment(bo, post_id, f"Snyggt @{anna.handle}")  # a comment (and not also a mention)
    await wait_for(anna, lambda ns: kinds(ns) == ["COMMENT"])
    await settle(api)
    assert await unread(anna) == 1
    rows = {r.kind: r for r in await stored(api, Notification.recipient_id == raw(anna.id))}
    assert set(rows) == {"follower", "comment"} and rows["follower"].in_app is False and rows["comment"].in_app
    # The mailer still finds it (as Anna would see it), the app does not.
    from services.feed.service.notifications import by_ids
    from shared.auth import Principal

    viewer = Principal(member_id=raw(anna.id), scopes=("read",))
    async with api.app.state.feed_app.state.sessionmaker() as s:
        assert [o.kind for o in await by_ids(s, viewer, [r.id for r in rows.values()])] == ["comment"]
        mailable = await by_ids(s, viewer, [r.id for r in rows.values()], in_app_only=False)
        assert sorted(o.kind for o in mailable) == ["comment", "follower"]

    # Shown again from the next one on.
    await anna.ok(SET_PREFERENCE, {"i": {"kind": "FOLLOWER", "inApp": True}})
    await carl.ok(FOLLOW, {"t": anna.id})
    found = await wait_for(anna, lambda ns: kinds(ns) == ["FOLLOWER", "COMMENT"])
    assert found[0]["actor"]["handle"] == carl.handle

    # An unknown kind is refused by the schema; anonymous callers are told to sign in.
    bad = await anna.gql(SET_PREFERENCE, {"i": {"kind": "GOSSIP", "inApp": False}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and bad["data"] is None
    for query, variables in ((PREFERENCES, {}), ("{ unreadNotificationsCount }", {}), (NOTIFICATIONS, {"first": 10})):
        anonymous = await api.gql(query, variables)
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", anonymous
    anonymous = await api.gql(SET_PREFERENCE, {"i": {"kind": "REACTION", "inApp": False}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_read_unread_and_counts(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    followers = [await api.sign_up() for _ in range(5)]
    for f in followers:
        await f.ok(FOLLOW, {"t": anna.id})
    found = await wait_for(anna, lambda ns: len(ns) == 5)
    assert await unread(anna) == 5
    ids = [n["id"] for n in found]

    # Pages, newest first.
    first = (await anna.ok(NOTIFICATIONS, {"first": 2}))["notifications"]
    assert [n["id"] for n in first["nodes"]] == ids[:2] and first["pageInfo"]["hasNextPage"]
    rest = (await anna.ok(NOTIFICATIONS, {"first": 10, "after": first["pageInfo"]["endCursor"]}))["notifications"]
    assert [n["id"] for n in rest["nodes"]] == ids[2:] and not rest["pageInfo"]["hasNextPage"]

    marked = (await anna.ok(MARK_READ, {"i": {"ids": ids[1:3]}}))["markNotificationsRead"]
    assert sorted(n["id"] for n in marked["notifications"]) == sorted(ids[1:3])
    assert all(n["read"] for n in marked["notifications"]) and marked["unreadCount"] == 3
    assert [n["id"] for n in await notifications(anna, unread=True)] == [ids[0], ids[3], ids[4]]
    assert [n["read"] for n in await notifications(anna)] == [False, True, True, False, False]
    again = (await anna.ok(MARK_READ, {"i": {"ids": ids[1:2]}}))["markNotificationsRead"]  # already read: fine
    assert again["unreadCount"] == 3

    # Bad input and someone else's notification: userErrors, and nothing marked.
    bo_follower = (await anna.ok(FOLLOW, {"t": bo.id}))["follow"]
    assert bo_follower["following"]
    bos = (await wait_for(bo, lambda ns: len(ns) == 1))[0]["id"]
    cases = [
        ({"ids": [bos, ids[0]]}, {"field": "ids", "message": "no such notification", "code": "NOT_FOUND"}),
        ({"ids": ["nonsense"]}, {"field": "ids", "code": "BAD_USER_INPUT"}),
        ({"ids": [anna.id]}, {"field": "ids", "code": "BAD_USER_INPUT"}),
        ({}, {"field": "ids", "message": "pass the ids to mark read, or all: true", "code": "BAD_USER_INPUT"}),
        (
            {"ids": [ids[0]], "all": True},
            {"field": "ids", "message": "pass ids or all, not both", "code": "BAD_USER_INPUT"},
        ),
        ({"ids": [ids[0]] * 101}, {"field": "ids", "code": "BAD_USER_INPUT"}),
    ]
    for given, expected in cases:
        payload = (await anna.gql(MARK_READ, {"i": given}))["data"]["markNotificationsRead"]
        assert payload["unreadCount"] is None and payload["notifications"] == []
        error = payload["userErrors"][0]
        assert {k: error[k] for k in expected} == expected, (given, error)
    assert await unread(anna) == 3 and await unread(bo) == 1

    cleared = (await anna.ok(MARK_READ, {"i": {"all": True}}))["markNotificationsRead"]
    assert cleared["unreadCount"] == 0 and await notifications(anna, unread=True) == []
    assert await unread(bo) == 1


# --- jobs: idempotent, bulk, and telling the rest of the system -----------------------------------


async def snapshot(api: Api) -> tuple[list[tuple[Any, ...]], int, int]:
    rows = sorted(
        (n.id, n.recipient_id, n.kind, n.group_key, n.actor_id, n.actors_count, n.sort_key, n.read_at)
        for n in await stored(api)
    )
    async with api.app.state.feed_app.state.sessionmaker() as s:
        actors = (await s.execute(select(func.count()).select_from(NotificationActor))).scalar_one()
    return rows, actors, len(await created_events(api))


async def test_jobs_run_twice_or_out_of_order_change_nothing(api: Api) -> None:
    from services.feed.notify import notify, notify_bells, notify_event_change

    anna, bo, carl, dave, eve = [await api.sign_up() for _ in range(5)]
    hub = await make_hub(anna, (await make_org(anna))["id"])
    await eve.ok(SET_BELL, {"t": hub["id"], "on": True})
    post_id = await post(anna, "Ett inlägg i hubben", hubId=hub["id"])
    await bo.ok(REACT, {"t": post_id, "k": "LIKE"})
    await carl.ok(REACT, {"t": post_id, "k": "LIKE"})
    await comment(bo, post_id, f"Hej @{dave.handle}")
    event_id = await event(anna)
    await dave.ok(RSVP, {"e": event_id, "s": "GOING"})
    await anna.ok(UPDATE_EVENT, {"i": {"id": event_id, "title": "Ny titel"}})
    # In either order: Carl's reaction may be grouped in after Bo's comment (jobs run concurrently).
    await wait_for(
        anna,
        lambda ns: (
            sorted(kinds(ns)) == ["COMMENT", "REACTION"]
            and all(n["actorsCount"] == 2 for n in ns if n["kind"] == "REACTION")
        ),
    )
    await wait_for(dave, lambda ns: sorted(kinds(ns)) == ["EVENT_UPDATED", "MENTION"])
    await wait_for(eve, lambda ns: kinds(ns) == ["HUB_POST"])
    await settle(api)
    before = await snapshot(api)
    assert before[0] and before[1] == 2

    reactions = [
        await feed_event(api, "reaction.set", member_id=raw(who.id), target_id=raw(post_id)) for who in (bo, carl)
    ]
    again = [
        *reversed(reactions),
        *reactions,
        await feed_event(api, "comment.created", author_id=raw(bo.id)),
        await feed_event(api, "post.created", post_id=raw(post_id)),
    ]
    for e in again:
        await notify(ctx(api), e)
    await notify_bells(ctx(api), await feed_event(api, "post.created", post_id=raw(post_id)))
    await notify_event_change(ctx(api), await feed_event(api, "event.updated", event_id=raw(event_id)))
    await settle(api)
    assert await snapshot(api) == before


async def test_every_new_or_regrouped_notification_is_announced_with_its_recipient(api: Api) -> None:
    anna, bo, carl = [await api.sign_up() for _ in range(3)]
    post_id = await post(anna, "Hej")
    await bo.ok(REACT, {"t": post_id, "k": "LIKE"})
    await wait_for(anna, lambda ns: len(ns) == 1)
    await carl.ok(REACT, {"t": post_id, "k": "LIKE"})
    await carl.ok(FOLLOW, {"t": bo.id})
    await wait_for(anna, lambda ns: ns[0]["actorsCount"] == 2)
    await wait_for(bo, lambda ns: len(ns) == 1)
    events = await created_events(api)
    assert all(len(e["ids"]) == len(e["recipients"]) for e in events)
    told = sorted((r, i) for e in events for i, r in zip(e["ids"], e["recipients"], strict=True))
    group = (await stored(api, Notification.recipient_id == raw(anna.id)))[0]
    follower = (await stored(api, Notification.recipient_id == raw(bo.id)))[0]
    # Made, then regrouped: announced twice, each time to its recipient.
    assert told == sorted([(raw(anna.id), group.id), (raw(anna.id), group.id), (raw(bo.id), follower.id)])


async def test_a_bell_fan_out_pages_in_bulk_and_leaves_out_who_must_not_hear(api: Api) -> None:
    from services.feed.models import BlockCopy, MuteCopy
    from services.feed.notify import notify_bells

    anna = await api.sign_up()
    hub = await make_hub(anna, (await make_org(anna))["id"])
    members = list(range(10_000_001, 10_002_501))  # 2,500 bells: three pages
    blocked, muting = members[:7], members[7:12]
    async with api.app.state.feed_app.state.sessionmaker() as s:
        s.add_all(Bell(member_id=m, target_type="hub", target_id=raw(hub["id"])) for m in members)
        s.add_all(BlockCopy(blocker_id=m, blocked_id=raw(anna.id)) for m in blocked[:4])
        s.add_all(BlockCopy(blocker_id=raw(anna.id), blocked_id=m) for m in blocked[4:])
        s.add_all(MuteCopy(muter_id=m, muted_id=raw(anna.id)) for m in muting)
        await s.commit()

    started = time.perf_counter()
    post_id = await post(anna, "Till alla med klockan på", hubId=hub["id"])

    async def all_told() -> bool:
        return len(await stored(api, Notification.subject_id == raw(post_id))) == len(members) - 12

    await poll(all_told, within=60, interval=0.1)
    elapsed = time.perf_counter() - started
    rows = await stored(api, Notification.subject_id == raw(post_id))
    assert {r.recipient_id for r in rows} == set(members[12:])
    assert {(r.kind, r.group_key, r.actor_id) for r in rows} == {("hub_post", f"new:post:{raw(post_id)}", raw(anna.id))}
    announced = [e for e in await created_events(api) if set(e["ids"]) <= {r.id for r in rows}]
    assert sorted(len(e["ids"]) for e in announced) == [488, 1000, 1000]  # one event per page
    print(f"bell fan-out to {len(rows)} members on {api.backend}: {elapsed:.2f} s")

    before = await snapshot(api)
    await notify_bells(ctx(api), await feed_event(api, "post.created", post_id=raw(post_id)))
    await settle(api)
    assert await snapshot(api) == before
