"""What moderators do to content through the feed service (services/feed/service/moderation.py):
hiding a post or event takes it out of every feed, home timeline, permalink and search for
everyone (its author too) and restoring brings it all back; hidden comments leave their
threads; removal is the author's delete and for good; every action is idempotent; only the
moderation service and platform moderators with the `moderate` scope may act; and a
moderation decision tells each member it names once, however often it is delivered.

The moderation service calls the feed as `service="moderation"` with its moderator's id;
here it is the FeedClient it would use, in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select

from services.feed.client import FeedClient
from services.feed.notify import MODERATION_OUTCOME
from shared.auth import Principal
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.outbox import FailedJob, OutboxEvent, record_event
from tests.conftest import Api, Session, poll
from tests.services.feed.test_events import THREAD
from tests.services.feed.test_feeds import (
    ACTIVITY,
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
from tests.services.feed.test_timelines import open_timelines, raw, shows, timeline
from tests.services.search.test_search_api import eventually, found

COMMENT = """mutation($t: ID!, $b: String!, $p: ID) { createComment(input: {targetId: $t, body: $b, parentId: $p}) {
  comment { id } userErrors { field message code } } }"""
NODE = (
    """query($id: ID!) { node(id: $id) { __typename ... on Post { id } ... on Event { id } ... on Comment { id } } }"""
)
NOTIFICATIONS = """{ notifications(first: 50) { nodes { kind text actor { id }
  subject { __typename ... on Post { id } ... on Member { id } ... on Organisation { id } } } } }"""


# --- helpers --------------------------------------------------------------------------------------


def moderation_service(moderator: Session | None = None) -> Principal:
    """How the moderation service calls the feed: as itself, for the moderator who decided."""
    return Principal(
        member_id=raw(moderator.id) if moderator else None,
        roles=(),
        scopes=("read", "write", "moderate"),
        service="moderation",
        token_kind="service",
    )


@asynccontextmanager
async def moderation_client(api: Api) -> AsyncIterator[FeedClient]:
    client = FeedClient.in_process(api.app.state.feed_app, api.app.state.codec, "moderation")
    try:
        yield client
    finally:
        await client.aclose()


def gateway_feed(api: Api) -> FeedClient:
    """The gateway's own client (it calls as `service="gateway"`)."""
    return api.app.state.feed  # type: ignore[no-any-return]


async def feed_outbox(api: Api, topic: str) -> list[dict[str, Any]]:
    async with api.app.state.feed_app.state.sessionmaker() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        return [r.payload for r in (await s.execute(stmt)).scalars()]


async def no_dead_jobs(api: Api) -> None:
    await api.settle()
    async with api.app.state.feed_app.state.sessionmaker() as s:
        dead = list((await s.execute(select(FailedJob))).scalars())
    assert not dead, [(d.job, d.error) for d in dead]


async def node(viewer: Session | Api, global_id: str) -> Any:
    return (await viewer.ok(NODE, {"id": global_id}))["node"]


async def timeline_holds(api: Api, member: Session, wanted: list[str]) -> None:
    """On PostgreSQL, wait until the member's Redis timeline holds exactly these entries."""
    if api.backend != "postgres":
        return

    async def holds() -> bool:
        return await timeline(api, member) == [raw(i) for i in wanted]

    await poll(holds, within=20)


async def comment(author: Session, target: str, body: str, parent: str | None = None) -> str:
    data = await author.ok(COMMENT, {"t": target, "b": body, "p": parent})
    return data["createComment"]["comment"]["id"]  # type: ignore[no-any-return]


async def thread(viewer: Session, item: str) -> dict[str, Any]:
    return (await viewer.ok(THREAD, {"id": item}))["node"]  # type: ignore[no-any-return]


# --- hiding and restoring -------------------------------------------------------------------------


async def test_a_hidden_post_leaves_every_feed_timeline_permalink_and_search_until_restored(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    author = await joined(api, hub)
    hub_fan, author_fan = await api.sign_up(), await api.sign_up()
    await hub_fan.ok(FOLLOW, {"t": hub["id"]})
    await author_fan.ok(FOLLOW, {"t": author.id})
    moderator = await api.make_admin("moderator")
    await api.settle()
    await open_timelines(author, hub_fan, author_fan)

    kept = (await make_post(author, hubId=hub["id"], body="Kvar i hubben"))["id"]
    post = (await make_post(author, hubId=hub["id"], body="Kvantkryptografi för kommunen"))["id"]
    hub_feed = Feed(api, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]})
    activity = Feed(api, ACTIVITY, ("member", "activity"), {"h": author.handle})
    for reader in (author, hub_fan, author_fan):
        await shows(reader, [post, kept])
        await timeline_holds(api, reader, [post, kept])
    assert await hub_feed.all() == [post, kept] and await activity.all() == [post, kept]
    await eventually(api, "kvantkryptografi", [post])

    async with moderation_client(api) as client:
        hidden = await client.hide_content(moderation_service(moderator), "post", raw(post), "spam")
    assert hidden.hidden_at is not None and hidden.deleted_at is None
    assert (hidden.target_type, hidden.id, hidden.author_id, hidden.hub_id) == (
        "post",
        raw(post),
        raw(author.id),
        raw(hub["id"]),
    )
    assert hidden.body == "Kvantkryptografi för kommunen" and "Kvantkryptografi" in hidden.body_html

    # Gone for everyone, its author included: feeds, timelines, the permalink, search.
    for reader in (author, hub_fan, author_fan):
        await shows(reader, [kept])
        await timeline_holds(api, reader, [kept])
    assert await hub_feed.all() == [kept] and await activity.all() == [kept]
    for viewer in (author, hub_fan, owner, moderator, api):
        assert await node(viewer, post) is None
    assert await Feed(author, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]}).all() == [kept]
    await eventually(api, "kvantkryptografi", [])
    assert await found(author, "kvantkryptografi") == []

    async with moderation_client(api) as client:
        restored = await client.restore_content(moderation_service(moderator), "post", raw(post), "a mistake")
    assert restored.hidden_at is None and restored.deleted_at is None
    for reader in (author, hub_fan, author_fan):
        await shows(reader, [post, kept])
        await timeline_holds(api, reader, [post, kept])
    assert await hub_feed.all() == [post, kept] and await activity.all() == [post, kept]
    assert await node(hub_fan, post) == {"__typename": "Post", "id": post}
    await eventually(api, "kvantkryptografi", [post])
    await no_dead_jobs(api)


async def test_a_hidden_event_leaves_the_calendar_and_the_organisations_feed(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    follower = await api.sign_up()
    await follower.ok(FOLLOW, {"t": org["id"]})
    await api.settle()
    await open_timelines(owner, follower)
    event = (await make_event(owner, hubId=hub["id"], organisationId=org["id"], title="Hackathon om språkteknologi"))[
        "id"
    ]
    org_feed = Feed(api, ORG_FEED, ("organisation", "feed"), {"slug": org["slug"]})
    hub_feed = Feed(api, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]})

    async def upcoming() -> list[str]:
        return [n["id"] for n in (await api.ok(UPCOMING, {}))["upcomingEvents"]["nodes"]]

    await shows(follower, [event])
    assert await org_feed.all() == [event] and await hub_feed.all() == [event] and await upcoming() == [event]
    await eventually(api, "språkteknologi", [event])

    async with moderation_client(api) as client:
        snapshot = await client.hide_content(moderation_service(), "event", raw(event), "misleading")
        assert (snapshot.target_type, snapshot.title, snapshot.organisation_id) == (
            "event",
            "Hackathon om språkteknologi",
            raw(org["id"]),
        )
        await shows(follower, [])
        await shows(owner, [])
        await timeline_holds(api, follower, [])
        assert await org_feed.all() == [] and await hub_feed.all() == [] and await upcoming() == []
        assert await node(owner, event) is None
        await eventually(api, "språkteknologi", [])

        await client.restore_content(moderation_service(), "event", raw(event), "reviewed again")
    await shows(follower, [event])
    await timeline_holds(api, follower, [event])
    assert await org_feed.all() == [event] and await upcoming() == [event]
    await eventually(api, "språkteknologi", [event])
    hidden, restored = await feed_outbox(api, "event.hidden"), await feed_outbox(api, "event.restored")
    created = await feed_outbox(api, "event.created")
    assert hidden == restored == created  # the shape of the item's other events
    await no_dead_jobs(api)


async def test_hidden_comments_leave_their_thread_and_its_counts_until_restored(api: Api) -> None:
    author, anna, bo = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = (await make_post(author, body="Vad tycker ni?"))["id"]
    top = await comment(anna, post, "Bra fråga")
    reply = await comment(bo, post, "Olämpligt svar", parent=top)
    other = await comment(bo, post, "En till")
    before = await thread(author, post)
    assert before["commentsCount"] == 3 and before["comments"]["totalCount"] == 2
    assert before["comments"]["nodes"][0]["repliesCount"] == 1

    async with moderation_client(api) as client:
        snap = await client.hide_content(moderation_service(), "comment", raw(reply), "harassment")
        assert (snap.target_type, snap.parent_type, snap.parent_id, snap.title) == ("comment", "post", raw(post), None)
        assert snap.body == "Olämpligt svar" and snap.hidden_at is not None
        await client.hide_content(moderation_service(), "comment", raw(other), "spam")

        for viewer in (author, bo):
            now = await thread(viewer, post)
            assert [c["id"] for c in now["comments"]["nodes"]] == [top]
            assert now["comments"]["nodes"][0]["replies"]["nodes"] == []
            assert (now["commentsCount"], now["comments"]["nodes"][0]["repliesCount"]) == (1, 0)
            assert await node(viewer, reply) is None

        await client.restore_content(moderation_service(), "comment", raw(reply), "fine after all")
        await client.restore_content(moderation_service(), "comment", raw(other), "fine after all")
    after = await thread(author, post)
    assert [c["id"] for c in after["comments"]["nodes"]] == [top, other]
    assert [r["id"] for r in after["comments"]["nodes"][0]["replies"]["nodes"]] == [reply]
    assert (after["commentsCount"], after["comments"]["nodes"][0]["repliesCount"]) == (3, 1)
    assert await node(bo, reply) == {"__typename": "Comment", "id": reply}
    hidden = await feed_outbox(api, "comment.hidden")
    assert [h["comment_id"] for h in hidden] == [raw(reply), raw(other)]
    assert hidden[0] == {
        "comment_id": raw(reply),
        "target_type": "post",
        "target_id": raw(post),
        "parent_id": raw(top),
        "author_id": raw(bo.id),
    }
    assert [r["comment_id"] for r in await feed_outbox(api, "comment.restored")] == [raw(reply), raw(other)]


# --- removing ---------------------------------------------------------------------------------------


async def test_removal_is_the_authors_delete_and_cannot_be_undone(api: Api) -> None:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    author = await joined(api, hub)
    post = (await make_post(author, hubId=hub["id"], body="Olaglig reklam"))["id"]
    event = (await make_event(author, title="Bluffträff"))["id"]
    on_post = await comment(owner, post, "Ta bort detta")
    hidden_first = await comment(owner, post, "Dold, sedan borttagen")
    hub_feed = Feed(api, HUB_FEED, ("hub", "feed"), {"slug": hub["slug"]})
    assert await hub_feed.all() == [post]

    async with moderation_client(api) as client:
        me = moderation_service()
        removed = await client.remove_content(me, "post", raw(post), "illegal content")
        assert removed.deleted_at is not None and removed.body == "Olaglig reklam"  # moderators still see it
        assert await hub_feed.all() == [] and await node(author, post) is None
        # Irreversible; and a second removal changes and records nothing.
        with pytest.raises(BadUserInput) as refused:
            await client.restore_content(me, "post", raw(post), "undo")
        assert refused.value.message == "removed content cannot be restored"
        again = await client.remove_content(me, "post", raw(post), "twice")
        assert again.deleted_at == removed.deleted_at
        assert (await client.moderation_content(me, "post", raw(post))).deleted_at == removed.deleted_at

        gone = await client.remove_content(me, "event", raw(event), "fraud")
        assert gone.deleted_at is not None and await node(author, event) is None

        # A comment: blanked in its thread as the author's delete does; a hidden one stays out.
        await client.hide_content(me, "comment", raw(hidden_first), "first hidden")
        await client.remove_content(me, "comment", raw(on_post), "rude")
        await client.remove_content(me, "comment", raw(hidden_first), "then removed")
        with pytest.raises(BadUserInput):
            await client.restore_content(me, "comment", raw(hidden_first), "undo")
        snap = await client.moderation_content(me, "comment", raw(hidden_first))
        assert snap.hidden_at is not None and snap.deleted_at is not None and snap.hub_id == raw(hub["id"])

    deleted = await feed_outbox(api, "post.deleted")
    assert len(deleted) == 1 and deleted[0]["by_moderation"] is True and deleted[0]["post_id"] == raw(post)
    [event_deleted] = await feed_outbox(api, "event.deleted")
    assert event_deleted["by_moderation"] is True and event_deleted["status"] == "cancelled"
    comments_deleted = await feed_outbox(api, "comment.deleted")
    assert comments_deleted == [
        {"comment_id": raw(on_post), "by_moderation": True},
        {"comment_id": raw(hidden_first), "by_moderation": True},
    ]
    # The author's own delete says nothing of moderation.
    own = (await make_post(author, body="Mitt eget"))["id"]
    await author.ok("mutation($id: ID!) { deletePost(input: {id: $id}) { userErrors { message } } }", {"id": own})
    assert "by_moderation" not in (await feed_outbox(api, "post.deleted"))[-1]


async def test_a_removed_comment_is_a_blank_in_its_thread_and_counted_off(api: Api) -> None:
    author, anna = await api.sign_up(), await api.sign_up()
    post = (await make_post(author, body="Tråd"))["id"]
    rude = await comment(anna, post, "Otrevligt")
    kept = await comment(anna, post, "Trevligt")
    async with moderation_client(api) as client:
        await client.remove_content(moderation_service(), "comment", raw(rude), "rude")
    now = await thread(author, post)
    assert now["commentsCount"] == 1
    assert [(c["id"], c["isDeleted"], c["body"]) for c in now["comments"]["nodes"]] == [
        (rude, True, ""),
        (kept, False, "Trevligt"),
    ]


# --- idempotent -------------------------------------------------------------------------------------


async def test_repeating_an_action_changes_and_records_nothing(api: Api) -> None:
    author = await api.sign_up()
    post = (await make_post(author, body="Två gånger"))["id"]
    async with moderation_client(api) as client:
        me = moderation_service()
        # Restoring what is visible does nothing.
        visible = await client.restore_content(me, "post", raw(post), "nothing to restore")
        assert visible.hidden_at is None
        first = await client.hide_content(me, "post", raw(post), "spam")
        second = await client.hide_content(me, "post", raw(post), "spam again")
        assert second.hidden_at == first.hidden_at is not None
        assert len(await feed_outbox(api, "post.hidden")) == 1
        await client.restore_content(me, "post", raw(post), "ok")
        await client.restore_content(me, "post", raw(post), "ok again")
        assert len(await feed_outbox(api, "post.restored")) == 1
        assert (await client.moderation_content(me, "post", raw(post))).hidden_at is None
    assert await node(author, post) == {"__typename": "Post", "id": post}
    await no_dead_jobs(api)


# --- who may ------------------------------------------------------------------------------------------


async def _every_route(client: FeedClient, who: Principal, target_type: str, target_id: int) -> list[Any]:
    """Call every moderation route; what each raised, or returned."""
    outcomes: list[Any] = []
    calls = [
        lambda: client.moderation_content(who, target_type, target_id),
        lambda: client.hide_content(who, target_type, target_id, "r"),
        lambda: client.restore_content(who, target_type, target_id, "r"),
        lambda: client.remove_content(who, target_type, target_id, "r"),
        lambda: client.author_content(who, target_id),
    ]
    for call in calls:
        try:
            outcomes.append(await call())
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


async def test_only_the_moderation_service_and_platform_moderators_with_the_moderate_scope_may(api: Api) -> None:
    author = await api.sign_up()
    moderator = await api.make_admin("moderator")
    post = raw((await make_post(author, body="Anmält"))["id"])
    feed = gateway_feed(api)
    plain = Principal(member_id=raw(author.id), roles=("member",), token_kind="jwt")
    without_scope = Principal(member_id=raw(moderator.id), roles=("moderator",), scopes=("read", "write"))
    as_admin_service = Principal(member_id=None, roles=(), scopes=("read", "write", "moderate"), token_kind="service")
    for who in (plain, without_scope, as_admin_service):
        outcomes = await _every_route(feed, who, "post", post)
        assert all(isinstance(o, Forbidden) for o in outcomes), (who, outcomes)
    async with moderation_client(api) as client:
        # The moderation service's own calls for a member without the role (it decided already).
        outcomes = await _every_route(client, moderation_service(author), "post", post)
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes

    post = raw((await make_post(author, body="Igen"))["id"])
    platform = Principal(member_id=raw(moderator.id), roles=("moderator",), scopes=("read", "write", "moderate"))
    hidden = await feed.hide_content(platform, "post", post, "spam")
    assert hidden.hidden_at is not None
    admin = Principal(member_id=raw(moderator.id), roles=("admin",), scopes=("read", "write", "moderate"))
    assert (await feed.restore_content(admin, "post", post, "ok")).hidden_at is None


async def test_bad_targets_and_bad_input_are_refused_clearly(api: Api) -> None:
    author = await api.sign_up()
    post = raw((await make_post(author))["id"])
    async with moderation_client(api) as client:
        me = moderation_service()
        for target_type in ("member", "hub", "Post", "reaction"):
            with pytest.raises(BadUserInput) as refused:
                await client.hide_content(me, target_type, post, "spam")
            assert refused.value.field == "targetType"
        with pytest.raises(BadUserInput) as refused:
            await client.moderation_content(me, "organisation", post)
        assert refused.value.field == "targetType"
        for target_type in ("post", "event", "comment"):
            with pytest.raises(NotFound):
                await client.moderation_content(me, target_type, 4242)
            with pytest.raises(NotFound):
                await client.remove_content(me, target_type, 4242, "spam")
        # A post's id is not an event's.
        with pytest.raises(NotFound):
            await client.hide_content(me, "event", post, "spam")
        for reason in ("", "x" * 1001):
            with pytest.raises(BadUserInput) as refused:
                await client.hide_content(me, "post", post, reason)
            assert refused.value.field == "reason"
        for limit in (0, 51):
            with pytest.raises(BadUserInput) as refused:
                await client.author_content(me, raw(author.id), limit)
            assert refused.value.field == "limit"
        assert (await client.moderation_content(me, "post", post)).hidden_at is None
    assert await feed_outbox(api, "post.hidden") == []


# --- a member's content ------------------------------------------------------------------------------------


async def test_a_members_latest_content_newest_first_hidden_and_removed_included(api: Api) -> None:
    owner = await api.sign_up()
    hub = await make_hub(owner, (await make_org(owner))["id"])
    author = await joined(api, hub)
    other = await api.sign_up()
    first = (await make_post(author, body="Först", hubId=hub["id"]))["id"]
    event = (await make_event(author, title="Träff", hubId=hub["id"], onlineUrl="https://meet.example.se/x"))["id"]
    on_event = await comment(author, event, "Välkomna")
    await make_post(other, body="Någon annans")
    last = (await make_post(author, body="Sist", title="Rubrik"))["id"]
    async with moderation_client(api) as client:
        me = moderation_service()
        await client.hide_content(me, "post", raw(first), "spam")
        await client.remove_content(me, "post", raw(last), "spam")
        content = await client.author_content(me, raw(author.id))
        assert [(s.target_type, s.id) for s in content] == [
            ("post", raw(last)),
            ("comment", raw(on_event)),
            ("event", raw(event)),
            ("post", raw(first)),
        ]
        newest, note, meeting, oldest = content
        assert (newest.title, newest.body, newest.deleted_at is not None, newest.hub_id) == (
            "Rubrik",
            "Sist",
            True,
            None,
        )
        assert (note.parent_type, note.parent_id, note.hub_id, note.body) == (
            "event",
            raw(event),
            raw(hub["id"]),
            "Välkomna",
        )
        assert (meeting.title, meeting.url, meeting.hub_id, meeting.edited_at) == (
            "Träff",
            "https://meet.example.se/x",
            raw(hub["id"]),
            None,
        )
        assert oldest.hidden_at is not None and oldest.deleted_at is None
        assert [s.id for s in await client.author_content(me, raw(author.id), limit=2)] == [raw(last), raw(on_event)]
        assert await client.author_content(me, 4242) == []


# --- telling members what was decided ----------------------------------------------------------------------


def decided(decision_id: int, target_type: str, target_id: int, *notify: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": 7,
        "decision_id": decision_id,
        "action": "remove",
        "reason": "spam",
        "target_type": target_type,
        "target_id": target_id,
        "author_id": None,
        "hub_id": None,
        "notify": list(notify),
    }


async def notifications(member: Session) -> list[dict[str, Any]]:
    return (await member.ok(NOTIFICATIONS))["notifications"]["nodes"]  # type: ignore[no-any-return]


async def test_a_decision_tells_each_member_it_names_once_however_often_it_arrives(api: Api) -> None:
    author, reporter = await api.sign_up(), await api.sign_up()
    post = (await make_post(author, body="Anmält inlägg"))["id"]
    org = await make_org(author)
    about_post = decided(
        9001,
        "post",
        raw(post),
        {
            "member_id": raw(reporter.id),
            "outcome": "upheld",
            "message": "Tack, vi tog bort det.",
            "about": "your report",
        },
        {"member_id": raw(author.id), "outcome": "removed", "message": "", "about": "your post"},
    )
    about_member = decided(9002, "member", raw(author.id), {"member_id": raw(author.id), "outcome": "warned"})
    about_org = decided(9003, "organisation", raw(org["id"]), {"member_id": raw(author.id), "outcome": "verified"})
    # Delivered twice through the outbox (two rows, one decision), and once more by hand.
    maker = api.app.state.feed_app.state.sessionmaker
    for _ in range(2):
        async with maker() as s:
            for payload in (about_post, about_member, about_org):
                record_event(s, "moderation.decided", payload)
            await s.commit()
    await no_dead_jobs(api)
    job = api.app.state.jobs.registry.job(MODERATION_OUTCOME)
    await job(
        api.app.state.jobs.ctx, {"id": 1, "source": "moderation", "topic": "moderation.decided", "payload": about_post}
    )
    await no_dead_jobs(api)

    told = await notifications(reporter)
    assert told == [
        {
            "kind": "MODERATION_OUTCOME",
            "text": "Moderators reviewed your report: Tack, vi tog bort det.",
            "actor": None,
            "subject": {"__typename": "Post", "id": post},
        }
    ]
    by_subject = {n["subject"]["__typename"]: n for n in await notifications(author)}
    assert sorted(by_subject) == ["Member", "Organisation", "Post"]
    assert by_subject["Post"]["text"] == "Moderators reviewed your post: removed"
    assert by_subject["Member"]["subject"] == {"__typename": "Member", "id": author.id}
    assert by_subject["Member"]["text"] == "Moderators reviewed your content: warned"
    assert by_subject["Organisation"]["subject"] == {"__typename": "Organisation", "id": org["id"]}
