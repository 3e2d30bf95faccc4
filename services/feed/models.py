"""The feed service's tables: what people publish (posts, events, comments, reactions,
RSVPs), the stream index feeds page through, and its own copies of the graph facts that
reading needs (follows, blocks, mutes, hubs and their members), fed by graph events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.database import UTCDateTime, utcnow
from shared.ids import new_id
from shared.outbox import FailedJob, OutboxEvent


def _id() -> Any:
    return Field(default_factory=new_id, sa_type=BigInteger, primary_key=True)


def _ref(*, index: bool = True, nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_type=BigInteger, index=index, nullable=nullable)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when(index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def _language() -> Any:
    # What it is written in (shared.search_documents.Language): picks the search stemmer.
    return Field(default="sv", max_length=2, sa_column_kwargs={"server_default": "sv"})


class Post(SQLModel, table=True):
    __tablename__ = "post"

    id: int = _id()
    author_id: int = _ref()
    organisation_id: int | None = _ref(nullable=True)  # acting as this organisation
    hub_id: int | None = _ref(nullable=True)
    kind: str = Field(default="update", max_length=10)
    title: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=1000)
    body: str = Field(max_length=10000)
    body_html: str = Field(sa_column=Column(String, nullable=False))
    visibility: str = Field(default="public", max_length=12)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mentions: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = _language()
    comments_count: int = 0
    reaction_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pinned_at: datetime | None = _when()
    created_at: datetime = _created()
    edited_at: datetime | None = _when()
    deleted_at: datetime | None = _when()
    hidden_at: datetime | None = _when()


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: int = _id()
    created_by: int = _ref()
    organiser_member_id: int | None = _ref(nullable=True)
    organiser_organisation_id: int | None = _ref(nullable=True)
    hub_id: int | None = _ref(nullable=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    description_html: str = Field(default="", sa_column=Column(String, nullable=False))
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Unique sort key by start time (seconds, then id bits): upcoming lists page by it.
    start_key: int = Field(sa_type=BigInteger, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    timezone: str = Field(default="Europe/Stockholm", max_length=64)
    location: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(default=None, max_length=1000)
    municipality_code: str | None = Field(default=None, max_length=4)
    county_code: str | None = Field(default=None, max_length=2, index=True)
    capacity: int | None = None
    visibility: str = Field(default="public", max_length=12)
    language: str = _language()
    status: str = Field(default="scheduled", max_length=10)
    sequence: int = 0
    going_count: int = 0
    interested_count: int = 0
    waitlist_count: int = 0
    comments_count: int = 0
    reaction_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()
    deleted_at: datetime | None = _when()
    hidden_at: datetime | None = _when()


def start_key(starts_at: datetime, event_id: int) -> int:
    return (int(starts_at.timestamp()) << 28) | (event_id & ((1 << 28) - 1))


class Rsvp(SQLModel, table=True):
    """status: going, interested, not_going, or waitlisted (ordered by `queued_at`)."""

    __tablename__ = "rsvp"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_rsvp_queue", "event_id", "status", "queued_at"),
    )

    id: int = _id()
    event_id: int = _ref(index=False)
    member_id: int = _ref()
    status: str = Field(max_length=12)
    queued_at: int = Field(default_factory=new_id, sa_type=BigInteger)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Comment(SQLModel, table=True):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_target", "target_type", "target_id", "id"),)

    id: int = _id()
    target_type: str = Field(max_length=6)
    target_id: int = _ref(index=False)
    parent_id: int | None = _ref(nullable=True)
    author_id: int = _ref()
    body: str = Field(max_length=10000)
    body_html: str = Field(sa_column=Column(String, nullable=False))
    mentions: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    replies_count: int = 0
    reaction_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()
    edited_at: datetime | None = _when()
    deleted_at: datetime | None = _when()
    hidden_at: datetime | None = _when()


class Reaction(SQLModel, table=True):
    __tablename__ = "reaction"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "member_id"),)

    id: int = _id()
    target_type: str = Field(max_length=8)
    target_id: int = _ref()
    member_id: int = _ref()
    kind: str = Field(max_length=12)
    created_at: datetime = _created()


class Entry(SQLModel, table=True):
    """One row per feed item (a post, an event, or an initiative's activity), carrying what
    feeds filter on; `id` is the item's id, so paging by id pages by creation time. `live`
    is false once deleted or hidden (an initiative's activity: while the initiative is not
    public, and for good once it is deleted)."""

    __tablename__ = "entry"
    __table_args__ = (
        Index("ix_entry_hub", "hub_id", "hub_rank"),
        Index("ix_entry_org", "organisation_id", "id"),
        Index("ix_entry_author", "author_id", "id"),
    )

    id: int = Field(sa_type=BigInteger, primary_key=True)
    item_type: str = Field(max_length=12)  # post, event, initiative (ItemType)
    author_id: int = Field(sa_type=BigInteger)
    organisation_id: int | None = Field(default=None, sa_type=BigInteger)
    hub_id: int | None = Field(default=None, sa_type=BigInteger)
    visibility: str = Field(max_length=12)
    kind: str = Field(default="update", max_length=10)
    # Order within a hub feed: the id, lifted above every id while pinned (pinned first).
    hub_rank: int = Field(sa_type=BigInteger)
    live: bool = True


PIN_LIFT = 1 << 62


class Tagging(SQLModel, table=True):
    __tablename__ = "tagging"

    tag: str = Field(sa_column=Column(String(40), primary_key=True))
    entry_id: int = Field(sa_type=BigInteger, primary_key=True)


class FollowCopy(SQLModel, table=True):
    __tablename__ = "follow_copy"
    # Fan-out pages a source's followers by id along this index.
    __table_args__ = (Index("ix_follow_copy_target_follower", "target_type", "target_id", "follower_id"),)

    follower_id: int = Field(sa_type=BigInteger, primary_key=True)
    target_type: str = Field(sa_column=Column(String(12), primary_key=True))
    target_id: int = Field(sa_type=BigInteger, primary_key=True)
    follow_id: int = Field(sa_type=BigInteger)


class BlockCopy(SQLModel, table=True):
    __tablename__ = "block_copy"

    blocker_id: int = Field(sa_type=BigInteger, primary_key=True)
    blocked_id: int = Field(sa_type=BigInteger, primary_key=True, index=True)


class MuteCopy(SQLModel, table=True):
    __tablename__ = "mute_copy"

    muter_id: int = Field(sa_type=BigInteger, primary_key=True)
    # Fan-out looks up who muted an author.
    muted_id: int = Field(sa_type=BigInteger, primary_key=True, index=True)


class HubCopy(SQLModel, table=True):
    __tablename__ = "hub_copy"

    id: int = Field(sa_type=BigInteger, primary_key=True)
    organisation_id: int = Field(sa_type=BigInteger)
    visibility: str = Field(max_length=20)


class HubMemberCopy(SQLModel, table=True):
    __tablename__ = "hub_member_copy"

    hub_id: int = Field(sa_type=BigInteger, primary_key=True)
    member_id: int = Field(sa_type=BigInteger, primary_key=True, index=True)
    role: str = Field(max_length=10)


class InitiativeActivity(SQLModel, table=True):
    """Something that happened to a public initiative of the graph service, shown in feeds
    as the organisation's: its creation (or its publishing, when it was first kept to the
    organisation) and each change of status. `id` is its Entry's id. `key` names the effect
    ("created:<initiative>", "status:<event>"), so a redelivered event adds nothing."""

    __tablename__ = "initiative_activity"
    __table_args__ = (Index("ix_initiative_activity_initiative", "initiative_id", "id"),)

    id: int = _id()
    key: str = Field(sa_column=Column(String(60), nullable=False, unique=True))
    initiative_id: int = _ref(index=False)
    organisation_id: int = _ref(index=False)
    actor_id: int = _ref(index=False)  # the member who made the change
    kind: str = Field(max_length=16)  # created | status_changed
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    created_at: datetime = _created()


class InitiativeCopy(SQLModel, table=True):
    """What the feed knows of an initiative: whether it may be shown (public, not deleted),
    as of the newest graph event applied to it (its CopyVersion, "initiative:<id>")."""

    __tablename__ = "initiative_copy"

    id: int = Field(sa_type=BigInteger, primary_key=True)
    organisation_id: int = Field(sa_type=BigInteger)
    visibility: str = Field(max_length=12)
    deleted: bool = False


class HandledEvent(SQLModel, table=True):
    """Events from other services already applied here: a redelivery changes nothing."""

    __tablename__ = "handled_event"

    key: str = Field(sa_column=Column(String(120), primary_key=True))
    handled_at: datetime = _created()


class CopyVersion(SQLModel, table=True):
    """The newest graph event applied to one copied fact (a follow, block, mute or hub
    membership), so events that arrive out of order never undo a newer one."""

    __tablename__ = "copy_version"

    key: str = Field(sa_column=Column(String(120), primary_key=True))
    version: int = Field(sa_type=BigInteger)


class SourceStats(SQLModel, table=True):
    """Followers per followed source (hub, organisation, member): tells fan-out which
    sources are too widely followed to fan out and are merged into timelines on read."""

    __tablename__ = "source_stats"
    # Which of a member's follows are merged in on read (repository.followed_large_sources).
    __table_args__ = (
        Index("ix_source_stats_followers", "followers"),
        Index(
            "ix_source_stats_unfanned",
            "unfanned_through",
            postgresql_where=text("unfanned_through IS NOT NULL"),
            sqlite_where=text("unfanned_through IS NOT NULL"),
        ),
    )

    target_type: str = Field(sa_column=Column(String(12), primary_key=True))
    target_id: int = Field(sa_type=BigInteger, primary_key=True)
    followers: int = Field(default=0)
    # The newest entry of the source that fan-out left to be merged in on read: readers
    # keep merging its entries up to this one after it has fewer followers again.
    unfanned_through: int | None = Field(default=None, sa_type=BigInteger, nullable=True)


class Notification(SQLModel, table=True):
    """One notice to one member. `group_key` names the effect it reports ("follow:<id>",
    "mention:post:<id>"), or the group it gathers ("reaction:post:<id>": Anna and 3
    others), and is unique per recipient, so a redelivered event adds nothing."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("recipient_id", "group_key"),
        Index("ix_notification_recipient_sort", "recipient_id", "sort_key"),
        Index("ix_notification_recipient_unread", "recipient_id", "read_at"),
    )

    id: int = _id()
    recipient_id: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=32)
    group_key: str = Field(max_length=120)
    subject_type: str | None = Field(default=None, max_length=12)
    subject_id: int | None = Field(default=None, sa_type=BigInteger)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)  # the latest actor
    actors_count: int = Field(default=1)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # False when the member turned this kind off in the app but still wants it by email:
    # the row is kept for the mailer and left out of their list and unread count.
    in_app: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # Moves up when a group gains an actor; pages are ordered by it.
    sort_key: int = Field(default_factory=new_id, sa_type=BigInteger)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    read_at: datetime | None = _when()
    # Immediate mail sent; included in a digest.
    emailed_at: datetime | None = _when()
    digested_at: datetime | None = _when()


class NotificationActor(SQLModel, table=True):
    __tablename__ = "notification_actor"

    notification_id: int = Field(sa_type=BigInteger, primary_key=True)
    actor_id: int = Field(sa_type=BigInteger, primary_key=True)
    created_at: datetime = _created()


class NotificationPreference(SQLModel, table=True):
    """A member's choice for one kind of notification; no row means the kind's default."""

    __tablename__ = "notification_preference"

    member_id: int = Field(sa_type=BigInteger, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), primary_key=True))
    in_app: bool = Field(sa_column=Column(Boolean, nullable=False))
    email: str = Field(max_length=10)  # off, immediate, digest


class Bell(SQLModel, table=True):
    """A member asked to hear of every new post or event from a hub or organisation."""

    __tablename__ = "bell"
    __table_args__ = (Index("ix_bell_target", "target_type", "target_id", "member_id"),)

    member_id: int = Field(sa_type=BigInteger, primary_key=True)
    target_type: str = Field(sa_column=Column(String(12), primary_key=True))
    target_id: int = Field(sa_type=BigInteger, primary_key=True)
    created_at: datetime = _created()


class EmailDelivery(SQLModel, table=True):
    """A mail that went out, under the key of what caused it, so it goes out once."""

    __tablename__ = "email_delivery"

    key: str = Field(sa_column=Column(String(160), primary_key=True))
    member_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    template: str = Field(max_length=40)
    sent_at: datetime = _created()


TABLES = [
    OutboxEvent,
    Post,
    Event,
    Rsvp,
    Comment,
    Reaction,
    Entry,
    InitiativeActivity,
    InitiativeCopy,
    Tagging,
    FollowCopy,
    BlockCopy,
    MuteCopy,
    HubCopy,
    HubMemberCopy,
    HandledEvent,
    FailedJob,
    CopyVersion,
    SourceStats,
    Notification,
    NotificationActor,
    NotificationPreference,
    Bell,
    EmailDelivery,
]
