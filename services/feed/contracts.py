"""What goes into and comes out of the feed service's API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.graph.contracts import Input, MunicipalityCode, Output, PageOut, Url
from shared.search_documents import Language
from shared.text import clean_text

MAX_BODY = 10_000


class PostKind(StrEnum):
    update = "update"
    news = "news"
    article = "article"
    question = "question"
    resource = "resource"


class Visibility(StrEnum):
    public = "public"
    members = "members"  # any signed-in member
    hub_members = "hub_members"


class RsvpStatus(StrEnum):
    going = "going"
    interested = "interested"
    not_going = "not_going"


class RsvpState(StrEnum):
    going = "going"
    interested = "interested"
    not_going = "not_going"
    waitlisted = "waitlisted"


class EventStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class ReactionKind(StrEnum):
    like = "like"
    insightful = "insightful"
    celebrate = "celebrate"
    support = "support"


class TargetType(StrEnum):
    post = "post"
    event = "event"
    comment = "comment"


class FieldValueError(ValueError):
    """A refusal by a check across fields that still names the field at fault (see shared.web)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _body(value: str) -> str:
    value = clean_text(value)
    if not value:
        raise ValueError("must not be empty")
    return value


def _title(value: str) -> str:
    value = clean_text(value)
    if not value:
        raise ValueError("must not be empty")
    return value


def _zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError("unknown time zone; use an IANA name such as Europe/Stockholm")
    return value


Body = Annotated[str, StringConstraints(max_length=MAX_BODY), AfterValidator(_body)]
Description = Annotated[str, StringConstraints(max_length=MAX_BODY), AfterValidator(clean_text)]
Title = Annotated[str, StringConstraints(max_length=200), AfterValidator(_title)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)]
Location = Annotated[str, StringConstraints(max_length=300), AfterValidator(clean_text)]


class PostIn(Input):
    body: Body
    kind: PostKind = PostKind.update
    title: Title | None = None
    url: Url | None = None
    hub_id: int | None = None
    organisation_id: int | None = Field(default=None, description="Post as this organisation (editors only).")
    visibility: Visibility | None = None
    language: Language = Field(default=Language.sv, description="What the post is written in: sv or en.")

    @model_validator(mode="after")
    def _resource_needs_title_and_link(self) -> PostIn:
        if self.kind == PostKind.resource and (not self.title or not self.url):
            raise FieldValueError("a resource needs a title and a url", "url" if self.title else "title")
        if self.visibility == Visibility.hub_members and self.hub_id is None:
            raise FieldValueError("hub_members visibility needs a hub", "visibility")
        return self


class PostUpdateIn(Input):
    body: Body | None = None
    title: Title | None = None
    url: Url | None = None
    kind: PostKind | None = None
    language: Language | None = None


class PostOut(Output):
    id: int
    author_id: int
    organisation_id: int | None
    hub_id: int | None
    kind: str
    title: str | None
    url: str | None
    body: str
    body_html: str
    visibility: str
    tags: list[str]
    mentions: list[int]
    language: str
    comments_count: int
    reaction_counts: dict[str, int]
    pinned_at: datetime | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool = False


class EventIn(Input):
    title: Title
    description: Description = ""
    starts_at: datetime
    ends_at: datetime
    timezone: TimeZone = "Europe/Stockholm"
    location: Location | None = None
    online_url: Url | None = None
    municipality_code: MunicipalityCode | None = None
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    hub_id: int | None = None
    organisation_id: int | None = Field(default=None, description="Organise as this organisation (editors only).")
    visibility: Visibility | None = None
    language: Language = Field(default=Language.sv, description="What the event is described in: sv or en.")

    @model_validator(mode="after")
    def _check(self) -> EventIn:
        _check_times(self.starts_at, self.ends_at)
        if not self.location and not self.online_url:
            raise FieldValueError("give a location, an online URL, or both", "location")
        if self.visibility == Visibility.hub_members and self.hub_id is None:
            raise FieldValueError("hub_members visibility needs a hub", "visibility")
        return self


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and value.tzinfo is None:
            raise FieldValueError("times need a time zone offset, e.g. 2026-12-01T18:00:00+01:00", name)
    if starts_at and ends_at and ends_at <= starts_at:
        raise FieldValueError("the end must come after the start", "ends_at")


class EventUpdateIn(Input):
    title: Title | None = None
    description: Description | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: TimeZone | None = None
    location: Location | None = None
    online_url: Url | None = None
    municipality_code: MunicipalityCode | None = None
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    language: Language | None = None

    @model_validator(mode="after")
    def _check(self) -> EventUpdateIn:
        _check_times(self.starts_at, self.ends_at)
        return self


class EventOut(Output):
    id: int
    created_by: int
    organiser_member_id: int | None
    organiser_organisation_id: int | None
    hub_id: int | None
    title: str
    description: str
    description_html: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None
    online_url: str | None
    municipality_code: str | None
    county_code: str | None
    capacity: int | None
    visibility: str
    language: str
    status: str
    sequence: int
    going_count: int
    interested_count: int
    waitlist_count: int
    comments_count: int
    reaction_counts: dict[str, int]
    created_at: datetime
    updated_at: datetime


class RsvpIn(Input):
    status: RsvpStatus


class RsvpOut(Output):
    id: int
    event_id: int
    member_id: int
    status: str
    waitlist_position: int | None = None
    updated_at: datetime


class CommentIn(Input):
    target_type: Annotated[str, StringConstraints(pattern="^(post|event)$")]
    target_id: int
    parent_id: int | None = None
    body: Body


class CommentUpdateIn(Input):
    body: Body


class CommentOut(Output):
    id: int
    target_type: str
    target_id: int
    parent_id: int | None
    author_id: int
    body: str
    body_html: str
    replies_count: int
    reaction_counts: dict[str, int]
    created_at: datetime
    edited_at: datetime | None
    deleted: bool = False


class ReactionIn(Input):
    target_type: TargetType
    target_id: int
    kind: ReactionKind


class ReactionTargetIn(Input):
    target_type: TargetType
    target_id: int


class ReactionSummary(BaseModel):
    target_type: str
    target_id: int
    counts: dict[str, int]
    viewer_reaction: str | None


class InitiativeActivityKind(StrEnum):
    created = "created"  # created public, or first made public (published)
    status_changed = "status_changed"


class InitiativeActivityOut(Output):
    """Something that happened to a public initiative of an organisation (the graph service
    owns initiatives: read the initiative itself from it, which applies its visibility)."""

    id: int
    initiative_id: int
    organisation_id: int
    actor_id: int  # the member who made the change
    kind: InitiativeActivityKind
    from_status: str | None  # status_changed: before; created: None
    to_status: str | None  # status_changed: after; created: the status it was created with, if known
    created_at: datetime


class FeedItemOut(BaseModel):
    """A post, an event or an initiative's activity in a feed; exactly one is set."""

    post: PostOut | None = None
    event: EventOut | None = None
    initiative_activity: InitiativeActivityOut | None = None


class FeedPage(PageOut):
    items: list[FeedItemOut]


class PostPage(PageOut):
    items: list[PostOut]


class EventPage(PageOut):
    items: list[EventOut]


class CommentPage(PageOut):
    items: list[CommentOut]


class RsvpPage(PageOut):
    items: list[RsvpOut]


class UpcomingFilter(Input):
    # Read from the query string beside the paging parameters.
    model_config = ConfigDict(extra="ignore")

    hub_id: int | None = None
    organisation_id: int | None = None
    county_code: Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# --- moderation (the moderation service and platform moderators only) ---------------------------


class ContentSnapshot(Output):
    """A post, event or comment as its author and readers saw it, whatever its state now."""

    target_type: str  # post | event | comment
    id: int
    author_id: int
    organisation_id: int | None
    hub_id: int | None  # a comment: its post's/event's hub
    parent_type: str | None  # a comment: "post" | "event"
    parent_id: int | None
    title: str | None  # post title, event title; None for comments
    body: str  # Markdown source (event: description)
    body_html: str  # sanitised HTML as readers saw it
    url: str | None
    visibility: str
    created_at: datetime
    edited_at: datetime | None
    hidden_at: datetime | None
    deleted_at: datetime | None


class ModerationActionIn(Input):
    reason: str = Field(min_length=1, max_length=1000)


# --- mail (unsubscribe links; services only) ---------------------------------------------------


class UnsubscribeIn(Input):
    member_id: int
    # A notification kind, or "digest": every kind the member gets in the daily digest.
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class UnsubscribedOut(BaseModel):
    kinds: list[str]  # the kinds whose mail is now off
    # What was turned off, worded for a page: {"sv": "...", "en": "..."}.
    label: dict[str, str]


# --- notifications -----------------------------------------------------------------------------


class NotificationKind(StrEnum):
    """What a notification reports (services/feed/service/notifications.py makes them):

    - follower: a member started following you.
    - mention: you were @mentioned in a post or comment (and may read it).
    - comment: someone commented on your post or event (replies included).
    - reply: someone replied to your comment.
    - reaction: reactions to your post, event or comment, one row per item that gathers
      its reactors ("Anna and 3 others reacted to your post").
    - hub_post / organisation_post: a new post or event in a hub, or by an organisation,
      whose bell you turned on.
    - event_updated / event_cancelled: an event you are going to, interested in or
      waitlisted for changed its time, place or description, or was cancelled.
    - waitlist_promoted: a place opened and you moved from the waitlist to going.
    - event_reminder: an event you are going to starts in 24 hours, or in 1 hour.
    - organisation_invitation: you were invited to join an organisation.
    - moderation_outcome: what the moderators decided about your report or your content.
    """

    follower = "follower"
    mention = "mention"
    comment = "comment"
    reply = "reply"
    reaction = "reaction"
    hub_post = "hub_post"
    organisation_post = "organisation_post"
    event_updated = "event_updated"
    event_cancelled = "event_cancelled"
    waitlist_promoted = "waitlist_promoted"
    event_reminder = "event_reminder"
    organisation_invitation = "organisation_invitation"
    moderation_outcome = "moderation_outcome"


class EmailChoice(StrEnum):
    off = "off"
    immediate = "immediate"  # a mail per notification, soon after it is made
    digest = "digest"  # gathered into the daily digest


class KindDefault(BaseModel):
    """A kind's preference for members who never chose one."""

    model_config = ConfigDict(frozen=True)

    in_app: bool
    email: EmailChoice
    # Always shown in the app; only its mail can be chosen.
    required: bool = False


# Things addressed to you personally, or that change your plans, mail at once; what
# merely happened near you waits for the digest; reactions never mail by default.
NOTIFICATION_DEFAULTS: dict[NotificationKind, KindDefault] = {
    NotificationKind.follower: KindDefault(in_app=True, email=EmailChoice.digest),
    NotificationKind.mention: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.comment: KindDefault(in_app=True, email=EmailChoice.digest),
    NotificationKind.reply: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.reaction: KindDefault(in_app=True, email=EmailChoice.off),
    NotificationKind.hub_post: KindDefault(in_app=True, email=EmailChoice.digest),
    NotificationKind.organisation_post: KindDefault(in_app=True, email=EmailChoice.digest),
    NotificationKind.event_updated: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.event_cancelled: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.waitlist_promoted: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.event_reminder: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.organisation_invitation: KindDefault(in_app=True, email=EmailChoice.immediate),
    NotificationKind.moderation_outcome: KindDefault(in_app=True, email=EmailChoice.immediate, required=True),
}


class NotificationOut(Output):
    id: int
    recipient_id: int
    kind: str
    subject_type: str | None  # post, event, comment, member, organisation, hub, or none
    subject_id: int | None
    actor_id: int | None  # the latest actor the recipient may see
    actors_count: int  # actors the recipient may see (blocked and muted ones left out)
    data: dict[str, object]
    sort_key: int
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None


class NotificationPage(PageOut):
    items: list[NotificationOut]


# Unread counts stop here (a badge shows "999+"), so counting costs the same for everyone.
UNREAD_CAP = 1000


class UnreadCountOut(BaseModel):
    count: int  # at most UNREAD_CAP


class MarkReadIn(Input):
    ids: list[int] = Field(default_factory=list, max_length=100)
    all: bool = False

    @model_validator(mode="after")
    def _ids_or_all(self) -> MarkReadIn:
        if self.all and self.ids:
            raise FieldValueError("pass ids or all, not both", "ids")
        if not self.all and not self.ids:
            raise FieldValueError("pass the ids to mark read, or all", "ids")
        return self


class MarkReadOut(BaseModel):
    ids: list[int]  # marked read now (all: left empty)
    marked: int
    unread_count: int


class PreferenceIn(Input):
    kind: NotificationKind
    in_app: bool | None = None
    email: EmailChoice | None = None


class PreferenceOut(BaseModel):
    kind: str
    in_app: bool
    email: str
    required: bool


class BellTarget(StrEnum):
    hub = "hub"
    organisation = "organisation"


class BellIn(Input):
    target_type: BellTarget
    target_id: int
    on: bool


class BellOut(BaseModel):
    target_type: str
    target_id: int
    on: bool


def _actors(actor_name: str | None, others: int) -> str:
    name = actor_name or "Someone"
    if others <= 0:
        return name
    return f"{name} and {others} other{'s' if others > 1 else ''}"


def notification_text(
    kind: str, actor_name: str | None, others: int, data: dict[str, object], place_name: str | None = None
) -> str:
    """A one-line English summary ("Anna and 3 others reacted to your post"). `place_name`
    names the hub or organisation of hub_post, organisation_post and invitations."""
    who = _actors(actor_name, others)
    title = str(data.get("title") or "")
    quoted = f": “{title}”" if title else ""
    item = str(data.get("item_type") or data.get("target_type") or "post")
    match kind:
        case NotificationKind.follower:
            return f"{who} started following you"
        case NotificationKind.mention:
            return f"{who} mentioned you in a {data.get('in') or 'post'}{quoted}"
        case NotificationKind.comment:
            return f"{who} commented on your {item}{quoted}"
        case NotificationKind.reply:
            return f"{who} replied to your comment{quoted}"
        case NotificationKind.reaction:
            return f"{who} reacted to your {item}{quoted}"
        case NotificationKind.hub_post | NotificationKind.organisation_post:
            where = f" in {place_name}" if kind == NotificationKind.hub_post and place_name else ""
            if kind == NotificationKind.organisation_post and place_name:
                where = f" for {place_name}"
            added = "added an event" if item == "event" else "posted"
            return f"{who} {added}{where}{quoted}"
        case NotificationKind.event_updated:
            return f"{f'“{title}”' if title else 'An event you answered'} was updated"
        case NotificationKind.event_cancelled:
            return f"{f'“{title}”' if title else 'An event you answered'} was cancelled"
        case NotificationKind.waitlist_promoted:
            return f"A place opened up: you are now going to {f'“{title}”' if title else 'the event'}"
        case NotificationKind.event_reminder:
            when = "in 1 hour" if data.get("window") == "1h" else "in 24 hours"
            return f"{f'“{title}”' if title else 'Your event'} starts {when}"
        case NotificationKind.organisation_invitation:
            return f"{who} invited you to join {place_name or 'an organisation'}"
        case NotificationKind.moderation_outcome:
            message = str(data.get("message") or "")
            return f"Moderators reviewed {data.get('about') or 'your content'}: {message or data.get('outcome')}"
    return who
