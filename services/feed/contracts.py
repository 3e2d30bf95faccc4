"""What goes into and comes out of the feed service's API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.graph.contracts import Input, MunicipalityCode, Output, PageOut, Url
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


class FeedItemOut(BaseModel):
    """A post or an event in a feed; exactly one of the two is set."""

    post: PostOut | None = None
    event: EventOut | None = None


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
