"""Publishing: posts, events and RSVPs, comments and reactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from services.feed import contracts as fc
from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, decode_id, input_dict
from services.gateway.graphql.feed.types import (
    Comment,
    Event,
    Post,
    PostKind,
    ReactionKind,
    Reactions,
    Rsvp,
    RsvpStatus,
    Visibility,
)
from services.gateway.graphql.members.types import Language
from shared.errors import BadUserInput
from shared.ids import InvalidGlobalId, from_global_id


@strawberry.input(
    description="Where the post goes: a hub, or with organisationId an organisation's page, else your profile."
)
class CreatePostInput:
    body: str = strawberry.field(description="Markdown, at most 10,000 characters; @handles and #tags are linked.")
    kind: PostKind | None = strawberry.UNSET  # type: ignore[valid-type]
    title: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    hub_id: strawberry.ID | None = strawberry.UNSET
    organisation_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Post as this organisation (its editors only)."
    )
    visibility: Visibility | None = strawberry.UNSET  # type: ignore[valid-type]
    language: Language | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="What it is written in; SV unless given."
    )


@strawberry.input
class UpdatePostInput:
    id: strawberry.ID
    body: str | None = strawberry.UNSET
    kind: PostKind | None = strawberry.UNSET  # type: ignore[valid-type]
    title: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    language: Language | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class PostIdInput:
    id: strawberry.ID


@strawberry.input(description="Times are instants with an offset; timeZone says how to show them (Europe/Stockholm).")
class CreateEventInput:
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    online_url: str | None = strawberry.UNSET
    municipality_code: str | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET
    hub_id: strawberry.ID | None = strawberry.UNSET
    organisation_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Organise as this organisation (its editors only)."
    )
    visibility: Visibility | None = strawberry.UNSET  # type: ignore[valid-type]
    language: Language | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="What it is written in; SV unless given."
    )


@strawberry.input
class UpdateEventInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    online_url: str | None = strawberry.UNSET
    municipality_code: str | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET
    language: Language | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class EventIdInput:
    id: strawberry.ID


@strawberry.input
class RsvpInput:
    event_id: strawberry.ID
    status: RsvpStatus  # type: ignore[valid-type]


@strawberry.input
class CreateCommentInput:
    target_id: strawberry.ID = strawberry.field(description="The Post or Event commented on.")
    body: str
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Reply to this top-level comment.")


@strawberry.input
class UpdateCommentInput:
    id: strawberry.ID
    body: str


@strawberry.input
class CommentIdInput:
    id: strawberry.ID


@strawberry.input
class ReactInput:
    target_id: strawberry.ID = strawberry.field(description="A Post, Event or Comment.")
    kind: ReactionKind  # type: ignore[valid-type]


@strawberry.input
class RemoveReactionInput:
    target_id: strawberry.ID


@strawberry.type
class PostPayload:
    post: Post | None
    user_errors: list[UserError]


@strawberry.type
class EventPayload:
    event: Event | None
    user_errors: list[UserError]


@strawberry.type
class RsvpPayload:
    rsvp: Rsvp | None
    event: Event | None
    user_errors: list[UserError]


@strawberry.type
class CommentPayload:
    comment: Comment | None
    user_errors: list[UserError]


@strawberry.type
class ReactionPayload:
    reactions: Reactions | None
    user_errors: list[UserError]


_RENAMES = {"time_zone": "timezone"}
_IDS = {"hub_id": "Hub", "organisation_id": "Organisation"}


def _body(value: Any, ids: dict[str, str] | None = None) -> dict[str, Any]:
    data = input_dict(value, ids if ids is not None else _IDS)
    return {_RENAMES.get(k, k): v for k, v in data.items()}


def _target(global_id: str, allowed: dict[str, str]) -> tuple[str, int]:
    try:
        kind, raw = from_global_id(str(global_id))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field="targetId") from exc
    if kind not in allowed:
        raise BadUserInput(f"expected the id of a {' or '.join(allowed)}", field="targetId")
    return allowed[kind], raw


def _by_id(errors: list[UserError], service_field: str) -> list[UserError]:
    """Mutations on an existing item take it as `id`; the service names it e.g. postId."""
    for error in errors:
        if error.field == service_field:
            error.field = "id"
    return errors


async def _post(work: Any) -> PostPayload:
    post, errors = await attempt(work)
    _by_id(errors, "postId")
    return PostPayload(post=Post.from_out(post) if post else None, user_errors=errors)


async def _event(work: Any) -> EventPayload:
    event, errors = await attempt(work)
    _by_id(errors, "eventId")
    for error in errors:
        if error.field == "timezone":  # the service's name for timeZone
            error.field = "timeZone"
    return EventPayload(event=Event.from_out(event) if event else None, user_errors=errors)


async def _comment(work: Any) -> CommentPayload:
    comment, errors = await attempt(work)
    _by_id(errors, "commentId")
    return CommentPayload(comment=Comment.from_out(comment) if comment else None, user_errors=errors)


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@strawberry.type
class FeedMutation:
    @strawberry.mutation(description="Publish a post in a hub you belong to, on an organisation's page, or your own.")
    async def create_post(self, info: Info, input: CreatePostInput) -> PostPayload:
        ctx = info.context
        return await _post(lambda: ctx.feed.create_post(ctx.viewer, _without_nulls(_body(input))))

    @strawberry.mutation(description="Authors edit their posts; editedAt records when.")
    async def update_post(self, info: Info, input: UpdatePostInput) -> PostPayload:
        ctx = info.context

        async def work() -> fc.PostOut:
            data = _body(input, {"id": "Post"})
            return await ctx.feed.update_post(ctx.viewer, data.pop("id"), data)

        return await _post(work)

    @strawberry.mutation(description="Authors (and the hub's staff) delete a post; it leaves every feed.")
    async def delete_post(self, info: Info, input: PostIdInput) -> PostPayload:
        ctx = info.context
        return await _post(lambda: ctx.feed.delete_post(ctx.viewer, decode_id(input.id, "Post", "id")))

    @strawberry.mutation(description="Hub admins pin up to three posts to the top of the hub feed.")
    async def pin_post(self, info: Info, input: PostIdInput) -> PostPayload:
        ctx = info.context
        return await _post(lambda: ctx.feed.pin_post(ctx.viewer, decode_id(input.id, "Post", "id"), True))

    @strawberry.mutation
    async def unpin_post(self, info: Info, input: PostIdInput) -> PostPayload:
        ctx = info.context
        return await _post(lambda: ctx.feed.pin_post(ctx.viewer, decode_id(input.id, "Post", "id"), False))

    @strawberry.mutation(description="Create an event, by you or (editors) by an organisation, optionally in a hub.")
    async def create_event(self, info: Info, input: CreateEventInput) -> EventPayload:
        ctx = info.context
        return await _event(lambda: ctx.feed.create_event(ctx.viewer, _without_nulls(_body(input))))

    @strawberry.mutation(description="Organisers update an event; RSVPs stay, and the waitlist moves up if room opens.")
    async def update_event(self, info: Info, input: UpdateEventInput) -> EventPayload:
        ctx = info.context

        async def work() -> fc.EventOut:
            data = _body(input, {"id": "Event"})
            return await ctx.feed.update_event(ctx.viewer, data.pop("id"), data)

        return await _event(work)

    @strawberry.mutation(description="Organisers cancel an event; it stays visible, marked cancelled.")
    async def cancel_event(self, info: Info, input: EventIdInput) -> EventPayload:
        ctx = info.context
        return await _event(lambda: ctx.feed.cancel_event(ctx.viewer, decode_id(input.id, "Event", "id")))

    @strawberry.mutation(
        description="GOING on a full event joins the waitlist; leaving GOING promotes the next in line."
    )
    async def rsvp_to_event(self, info: Info, input: RsvpInput) -> RsvpPayload:
        ctx = info.context

        async def work() -> tuple[fc.RsvpOut, fc.EventOut | None]:
            event_id = decode_id(input.event_id, "Event", "eventId")
            row = await ctx.feed.rsvp(ctx.viewer, event_id, input.status.value)
            found = await ctx.feed.events(ctx.viewer, [event_id])
            return row, found[0] if found else None

        result, errors = await attempt(work)
        if result is None:
            return RsvpPayload(rsvp=None, event=None, user_errors=errors)
        row, event = result
        return RsvpPayload(rsvp=Rsvp.from_out(row), event=Event.from_out(event) if event else None, user_errors=[])

    @strawberry.mutation(description="Comment on a post or event, or reply to a top-level comment.")
    async def create_comment(self, info: Info, input: CreateCommentInput) -> CommentPayload:
        ctx = info.context

        async def work() -> fc.CommentOut:
            target_type, target_id = _target(input.target_id, {"Post": "post", "Event": "event"})
            parent = decode_id(input.parent_id, "Comment", "parentId") if input.parent_id is not None else None
            body = {"target_type": target_type, "target_id": target_id, "parent_id": parent, "body": input.body}
            return await ctx.feed.create_comment(ctx.viewer, body)

        return await _comment(work)

    @strawberry.mutation
    async def update_comment(self, info: Info, input: UpdateCommentInput) -> CommentPayload:
        ctx = info.context
        return await _comment(
            lambda: ctx.feed.update_comment(ctx.viewer, decode_id(input.id, "Comment", "id"), {"body": input.body})
        )

    @strawberry.mutation
    async def delete_comment(self, info: Info, input: CommentIdInput) -> CommentPayload:
        ctx = info.context
        return await _comment(lambda: ctx.feed.delete_comment(ctx.viewer, decode_id(input.id, "Comment", "id")))

    @strawberry.mutation(description="React to a post, event or comment; one reaction each, changeable.")
    async def react(self, info: Info, input: ReactInput) -> ReactionPayload:
        ctx = info.context

        async def work() -> fc.ReactionSummary:
            target_type, target_id = _target(input.target_id, {"Post": "post", "Event": "event", "Comment": "comment"})
            body = {"target_type": target_type, "target_id": target_id, "kind": input.kind.value}
            return await ctx.feed.react(ctx.viewer, body)

        return await _reactions(info, work)

    @strawberry.mutation
    async def remove_reaction(self, info: Info, input: RemoveReactionInput) -> ReactionPayload:
        ctx = info.context

        async def work() -> fc.ReactionSummary:
            target_type, target_id = _target(input.target_id, {"Post": "post", "Event": "event", "Comment": "comment"})
            return await ctx.feed.unreact(ctx.viewer, {"target_type": target_type, "target_id": target_id})

        return await _reactions(info, work)


async def _reactions(info: Info, work: Any) -> ReactionPayload:
    summary, errors = await attempt(work)
    if summary is None:
        return ReactionPayload(reactions=None, user_errors=errors)
    reactions = Reactions.of(summary.target_type, summary.target_id, summary.counts)
    info.context.loaders.my_reaction.prime((summary.target_type, summary.target_id), summary.viewer_reaction)
    return ReactionPayload(reactions=reactions, user_errors=[])
