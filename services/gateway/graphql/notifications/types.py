"""Notifications, preferences and bells as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from services.feed import contracts as fc
from services.gateway.context import Info
from services.gateway.graphql.base import Node, gid, graphql_enum
from services.gateway.graphql.feed.types import Comment, Event, Post
from services.gateway.graphql.hubs.types import Hub
from services.gateway.graphql.members.types import Member
from services.gateway.graphql.organisations.types import Organisation

NotificationKind = graphql_enum(
    fc.NotificationKind,
    "NotificationKind",
    "FOLLOWER, MENTION, COMMENT (on your post or event), REPLY (to your comment), REACTION (grouped per item), "
    "HUB_POST and ORGANISATION_POST (new posts and events where your bell is on), EVENT_UPDATED, "
    "EVENT_CANCELLED, WAITLIST_PROMOTED, EVENT_REMINDER (24 hours and 1 hour before, when going), "
    "ORGANISATION_INVITATION, MODERATION_OUTCOME.",
)
NotificationEmail = graphql_enum(
    fc.EmailChoice, "NotificationEmail", "OFF, IMMEDIATE (a mail for each) or DIGEST (gathered in the daily mail)."
)

NotificationSubject = Annotated[
    Post | Event | Comment | Member | Organisation | Hub,
    strawberry.union("NotificationSubject", description="What a notification is about."),
]


@strawberry.type(description="Something that happened that concerns the viewer.")
class Notification(Node):
    id: strawberry.ID
    kind: NotificationKind  # type: ignore[valid-type]
    actors_count: int = strawberry.field(
        description="Members who did it (a reaction group gathers them); 0 when the platform tells you."
    )
    read: bool
    read_at: datetime | None
    created_at: datetime
    updated_at: datetime = strawberry.field(description="When it was made, or last gained an actor.")
    raw_kind: strawberry.Private[str]
    actor_id: strawberry.Private[int | None]
    subject_type: strawberry.Private[str | None]
    subject_id: strawberry.Private[int | None]
    data: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_out(cls, n: fc.NotificationOut) -> Notification:
        return cls(
            id=gid("Notification", n.id),
            kind=NotificationKind(n.kind),
            actors_count=n.actors_count,
            read=n.read_at is not None,
            read_at=n.read_at,
            created_at=n.created_at,
            updated_at=n.updated_at,
            raw_kind=n.kind,
            actor_id=n.actor_id,
            subject_type=n.subject_type,
            subject_id=n.subject_id,
            data=dict(n.data),
        )

    @strawberry.field(description="Actors besides `actor`: the 3 in 'Anna and 3 others'.")
    def others_count(self) -> int:
        return max(0, self.actors_count - 1)

    @strawberry.field(description="The latest member who did it; null when the platform tells you.")
    async def actor(self, info: Info) -> Member | None:
        if self.actor_id is None:
            return None
        m = await info.context.loaders.member.load(self.actor_id)
        return Member.from_out(m) if m else None

    @strawberry.field(description="What it is about, if it still exists and you may see it.")
    async def subject(self, info: Info) -> NotificationSubject | None:  # type: ignore[valid-type]
        loaders, raw = info.context.loaders, self.subject_id
        if raw is None:
            return None
        if self.subject_type == "post":
            p = await loaders.post.load(raw)
            return Post.from_out(p) if p else None
        if self.subject_type == "event":
            e = await loaders.event.load(raw)
            return Event.from_out(e) if e else None
        if self.subject_type == "comment":
            c = await loaders.comment.load(raw)
            return Comment.from_out(c) if c else None
        if self.subject_type == "member":
            m = await loaders.member.load(raw)
            return Member.from_out(m) if m else None
        if self.subject_type == "organisation":
            o = await loaders.organisation.load(raw)
            return Organisation.from_out(o) if o else None
        if self.subject_type == "hub":
            h = await loaders.hub.load(raw)
            return Hub.from_out(h) if h else None
        return None

    @strawberry.field(description="A one-line summary in English, e.g. 'Anna and 3 others reacted to your post'.")
    async def text(self, info: Info) -> str:
        loaders = info.context.loaders
        actor = await loaders.member.load(self.actor_id) if self.actor_id is not None else None
        place: str | None = None
        hub_id, org_id = self.data.get("hub_id"), self.data.get("organisation_id")
        if self.raw_kind == fc.NotificationKind.hub_post and hub_id:
            hub = await loaders.hub.load(int(hub_id))
            place = hub.name if hub else None
        elif self.raw_kind in (fc.NotificationKind.organisation_post, fc.NotificationKind.organisation_invitation):
            org = await loaders.organisation.load(int(org_id)) if org_id else None
            place = org.name if org else None
        name = actor.display_name if actor else None
        return fc.notification_text(self.raw_kind, name, max(0, self.actors_count - 1), self.data, place)


@strawberry.type(description="How the viewer hears of one kind of notification.")
class NotificationPreference:
    kind: NotificationKind  # type: ignore[valid-type]
    in_app: bool = strawberry.field(description="Listed in the app (and counted as unread).")
    email: NotificationEmail  # type: ignore[valid-type]
    required: bool = strawberry.field(description="Always listed in the app; only its email can be changed.")

    @classmethod
    def from_out(cls, p: fc.PreferenceOut) -> NotificationPreference:
        return cls(
            kind=NotificationKind(p.kind),
            in_app=p.in_app,
            email=NotificationEmail(p.email),
            required=p.required,
        )


BellTarget = Annotated[Hub | Organisation, strawberry.union("BellTarget", description="A hub or an organisation.")]


@strawberry.type(description="Whether the viewer hears of every new post and event of a hub or organisation.")
class NotificationBell:
    target_id: strawberry.ID
    on: bool
    raw_type: strawberry.Private[str]
    raw_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, b: fc.BellOut) -> NotificationBell:
        type_name = "Hub" if b.target_type == "hub" else "Organisation"
        return cls(target_id=gid(type_name, b.target_id), on=b.on, raw_type=b.target_type, raw_id=b.target_id)

    @strawberry.field
    async def target(self, info: Info) -> BellTarget | None:  # type: ignore[valid-type]
        if self.raw_type == "hub":
            h = await info.context.loaders.hub.load(self.raw_id)
            return Hub.from_out(h) if h else None
        o = await info.context.loaders.organisation.load(self.raw_id)
        return Organisation.from_out(o) if o else None
