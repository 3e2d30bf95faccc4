"""Posts, events, initiatives' updates, comments, RSVPs and reactions as GraphQL types."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from services.feed import contracts as fc
from services.gateway.context import Info, loaded
from services.gateway.graphql.base import Connection, Node, connection, gid, graphql_enum, page_request
from services.gateway.graphql.initiatives.types import Initiative, InitiativeStatus
from services.gateway.graphql.members.types import County, Language, Member, Municipality

if TYPE_CHECKING:
    from services.gateway.graphql.hubs.types import Hub
    from services.gateway.graphql.organisations.types import Organisation

HubRef = Annotated["Hub", strawberry.lazy("services.gateway.graphql.hubs.types")]
OrganisationRef = Annotated["Organisation", strawberry.lazy("services.gateway.graphql.organisations.types")]

PostKind = graphql_enum(
    fc.PostKind, "PostKind", "update (default), news, article, question, or resource (a titled link)."
)
Visibility = graphql_enum(fc.Visibility, "Visibility", "PUBLIC, MEMBERS (signed-in members) or HUB_MEMBERS.")
ReactionKind = graphql_enum(fc.ReactionKind, "ReactionKind")
RsvpStatus = graphql_enum(fc.RsvpStatus, "RsvpStatus")
RsvpState = graphql_enum(fc.RsvpState, "RsvpState", "What an RSVP came to: WAITLISTED when GOING met a full event.")
EventStatus = graphql_enum(fc.EventStatus, "EventStatus")
InitiativeUpdateKind = graphql_enum(
    fc.InitiativeActivityKind,
    "InitiativeUpdateKind",
    "CREATED: a public initiative was created, or one kept to its organisation was first made public. "
    "STATUS_CHANGED: a public initiative's status changed.",
)


@strawberry.type(description="Reaction counts on a post, event or comment, and the viewer's own reaction.")
class Reactions:
    like: int
    insightful: int
    celebrate: int
    support: int
    total: int
    target_type: strawberry.Private[str]
    target_id: strawberry.Private[int]

    @classmethod
    def of(cls, target_type: str, target_id: int, counts: dict[str, int]) -> Reactions:
        return cls(
            like=counts.get("like", 0),
            insightful=counts.get("insightful", 0),
            celebrate=counts.get("celebrate", 0),
            support=counts.get("support", 0),
            total=sum(counts.values()),
            target_type=target_type,
            target_id=target_id,
        )

    @strawberry.field
    async def viewer_reaction(self, info: Info) -> ReactionKind | None:  # type: ignore[valid-type]
        if info.context.viewer.member_id is None:
            return None
        kind = await info.context.loaders.my_reaction.load((self.target_type, self.target_id))
        return ReactionKind(kind) if kind else None


async def _member(info: Info, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    m = await info.context.loaders.member.load(member_id)
    return Member.from_out(m) if m else None


def _member_now(info: Info, member_id: int | None) -> Member | None | Awaitable[Member | None]:
    """The member at once when this request's loader already holds them (a feed page loads its
    authors before its items resolve, see prime_authors), else through the loader. Answering
    without a coroutine keeps graphql-core on its synchronous path for the whole item."""
    if member_id is None:
        return None
    ready, m = loaded(info.context.loaders.member, member_id)
    if not ready:
        return _member(info, member_id)
    return Member.from_out(m) if m else None


async def _organisation(info: Info, org_id: int | None) -> OrganisationRef | None:
    if org_id is None:
        return None
    from services.gateway.graphql.organisations.types import Organisation

    o = await info.context.loaders.organisation.load(org_id)
    return Organisation.from_out(o) if o else None


async def _hub(info: Info, hub_id: int | None) -> HubRef | None:
    if hub_id is None:
        return None
    from services.gateway.graphql.hubs.types import Hub

    h = await info.context.loaders.hub.load(hub_id)
    return Hub.from_out(h) if h else None


async def _comments(
    info: Info,
    target_type: str,
    target_id: int,
    parent_id: int | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Comment]:
    page = await info.context.feed.comments(
        info.context.viewer, target_type, target_id, parent_id, page_request(first, after, last, before)
    )
    return connection(page, [Comment.from_out(c) for c in page.items])


@strawberry.type(description="A post: an update, news, article, question or resource.")
class Post(Node):
    id: strawberry.ID
    kind: PostKind  # type: ignore[valid-type]
    title: str | None
    url: str | None = strawberry.field(description="The link of a resource.")
    body: str
    body_html: str = strawberry.field(description="The body rendered from Markdown to sanitised HTML.")
    visibility: Visibility  # type: ignore[valid-type]
    language: Language = strawberry.field(description="What the post is written in.")  # type: ignore[valid-type]
    tags: list[str]
    comments_count: int
    is_pinned: bool
    is_deleted: bool
    created_at: datetime
    edited_at: datetime | None
    reactions: Reactions
    raw_id: strawberry.Private[int]
    author_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int | None]
    hub_id: strawberry.Private[int | None]
    mention_ids: strawberry.Private[list[int]]

    @classmethod
    def from_out(cls, p: fc.PostOut) -> Post:
        return cls(
            id=gid("Post", p.id),
            kind=PostKind(p.kind),
            title=p.title,
            url=p.url,
            body=p.body,
            body_html=p.body_html,
            visibility=Visibility(p.visibility),
            language=Language(p.language),
            tags=p.tags,
            comments_count=p.comments_count,
            is_pinned=p.pinned_at is not None,
            is_deleted=p.deleted,
            created_at=p.created_at,
            edited_at=p.edited_at,
            reactions=Reactions.of("post", p.id, p.reaction_counts),
            raw_id=p.id,
            author_id=p.author_id,
            organisation_id=p.organisation_id,
            hub_id=p.hub_id,
            mention_ids=p.mentions,
        )

    @strawberry.field
    def author(self, info: Info) -> Member | None:
        return _member_now(info, self.author_id)  # type: ignore[return-value]  # or its awaitable

    @strawberry.field(description="The organisation the author posted as, if any.")
    async def organisation(self, info: Info) -> OrganisationRef | None:
        return await _organisation(info, self.organisation_id)

    @strawberry.field
    async def hub(self, info: Info) -> HubRef | None:
        return await _hub(info, self.hub_id)

    @strawberry.field
    async def mentions(self, info: Info) -> list[Member]:
        found = await info.context.loaders.member.load_many(self.mention_ids)
        return [Member.from_out(m) for m in found if m]

    @strawberry.field(description="Top-level comments, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:
        return await _comments(info, "post", self.raw_id, None, first, after, last, before)


@strawberry.type(description="What a member answered to an event.")
class Rsvp:
    status: RsvpState  # type: ignore[valid-type]
    waitlist_position: int | None
    updated_at: datetime
    member_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, r: fc.RsvpOut) -> Rsvp:
        return cls(
            status=RsvpState(r.status),
            waitlist_position=r.waitlist_position,
            updated_at=r.updated_at,
            member_id=r.member_id,
        )

    @strawberry.field
    async def member(self, info: Info) -> Member | None:
        return await _member(info, self.member_id)


@strawberry.type(description="An event with a time, a place or a link, RSVPs and a waitlist when full.")
class Event(Node):
    id: strawberry.ID
    title: str
    description: str
    description_html: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str = strawberry.field(description="IANA zone the organiser gave; times are instants either way.")
    location: str | None
    online_url: str | None
    capacity: int | None
    visibility: Visibility  # type: ignore[valid-type]
    language: Language = strawberry.field(description="What the event is described in.")  # type: ignore[valid-type]
    status: EventStatus  # type: ignore[valid-type]
    sequence: int = strawberry.field(description="Bumped by every update, as in the iCalendar SEQUENCE.")
    going_count: int
    interested_count: int
    waitlist_count: int
    comments_count: int
    created_at: datetime
    updated_at: datetime
    reactions: Reactions
    raw_id: strawberry.Private[int]
    created_by: strawberry.Private[int]
    organiser_member_id: strawberry.Private[int | None]
    organiser_organisation_id: strawberry.Private[int | None]
    hub_id: strawberry.Private[int | None]
    municipality_code: strawberry.Private[str | None]
    county_code: strawberry.Private[str | None]

    @classmethod
    def from_out(cls, e: fc.EventOut) -> Event:
        return cls(
            id=gid("Event", e.id),
            title=e.title,
            description=e.description,
            description_html=e.description_html,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            time_zone=e.timezone,
            location=e.location,
            online_url=e.online_url,
            capacity=e.capacity,
            visibility=Visibility(e.visibility),
            language=Language(e.language),
            status=EventStatus(e.status),
            sequence=e.sequence,
            going_count=e.going_count,
            interested_count=e.interested_count,
            waitlist_count=e.waitlist_count,
            comments_count=e.comments_count,
            created_at=e.created_at,
            updated_at=e.updated_at,
            reactions=Reactions.of("event", e.id, e.reaction_counts),
            raw_id=e.id,
            created_by=e.created_by,
            organiser_member_id=e.organiser_member_id,
            organiser_organisation_id=e.organiser_organisation_id,
            hub_id=e.hub_id,
            municipality_code=e.municipality_code,
            county_code=e.county_code,
        )

    @strawberry.field
    def spots_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.going_count)

    @strawberry.field
    def municipality(self) -> Municipality | None:
        return Municipality.of(self.municipality_code)

    @strawberry.field
    def county(self) -> County | None:
        return County.of(self.county_code)

    @strawberry.field(description="The organising member, when a member (not an organisation) organises it.")
    async def organiser_member(self, info: Info) -> Member | None:
        return await _member(info, self.organiser_member_id)

    @strawberry.field
    async def organiser_organisation(self, info: Info) -> OrganisationRef | None:
        return await _organisation(info, self.organiser_organisation_id)

    @strawberry.field
    async def hub(self, info: Info) -> HubRef | None:
        return await _hub(info, self.hub_id)

    @strawberry.field(description="The viewer's RSVP, if any.")
    async def viewer_rsvp(self, info: Info) -> Rsvp | None:
        if info.context.viewer.member_id is None:
            return None
        r = await info.context.loaders.my_rsvp.load(self.raw_id)
        return Rsvp.from_out(r) if r else None

    @strawberry.field(description="GOING is public; other lists (and all by default) are for the organiser.")
    async def rsvps(
        self,
        info: Info,
        status: RsvpState | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Rsvp]:
        page = await info.context.feed.rsvps(
            info.context.viewer,
            self.raw_id,
            status.value if status else None,  # type: ignore[attr-defined]
            page_request(first, after, last, before),
        )
        return connection(page, [Rsvp.from_out(r) for r in page.items])

    @strawberry.field(description="This event as an iCalendar file.")
    def ics_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/events/{self.id}.ics"

    @strawberry.field(description="Top-level comments, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:
        return await _comments(info, "event", self.raw_id, None, first, after, last, before)


@strawberry.type(description="A comment on a post or event; replies go one level deep.")
class Comment(Node):
    id: strawberry.ID
    body: str
    body_html: str
    replies_count: int
    is_deleted: bool
    created_at: datetime
    edited_at: datetime | None
    reactions: Reactions
    raw_id: strawberry.Private[int]
    author_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    target_type: strawberry.Private[str]
    target_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, c: fc.CommentOut) -> Comment:
        return cls(
            id=gid("Comment", c.id),
            body=c.body,
            body_html=c.body_html,
            replies_count=c.replies_count,
            is_deleted=c.deleted,
            created_at=c.created_at,
            edited_at=c.edited_at,
            reactions=Reactions.of("comment", c.id, c.reaction_counts),
            raw_id=c.id,
            author_id=c.author_id,
            parent_id=c.parent_id,
            target_type=c.target_type,
            target_id=c.target_id,
        )

    @strawberry.field
    async def author(self, info: Info) -> Member | None:
        return None if self.is_deleted else await _member(info, self.author_id)

    @strawberry.field(description="The post or event commented on.")
    async def target(self, info: Info) -> FeedItem | None:  # type: ignore[valid-type]
        if self.target_type == "post":
            p = await info.context.loaders.post.load(self.target_id)
            return Post.from_out(p) if p else None
        e = await info.context.loaders.event.load(self.target_id)
        return Event.from_out(e) if e else None

    @strawberry.field
    async def parent(self, info: Info) -> Comment | None:
        if self.parent_id is None:
            return None
        c = await info.context.loaders.comment.load(self.parent_id)
        return Comment.from_out(c) if c else None

    @strawberry.field(description="Replies, oldest first.")
    async def replies(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:
        return await _comments(info, self.target_type, self.target_id, self.raw_id, first, after, last, before)


@strawberry.type(
    description="An organisation's public initiative was created (or first made public), or changed status: "
    "an item of the organisation's feed and of its followers' home feeds."
)
class InitiativeUpdate(Node):
    id: strawberry.ID
    kind: InitiativeUpdateKind  # type: ignore[valid-type]
    from_status: InitiativeStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="STATUS_CHANGED: the status before; CREATED: null."
    )
    to_status: InitiativeStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="STATUS_CHANGED: the status after; CREATED: its status then (null when it was published later)."
    )
    created_at: datetime
    raw_id: strawberry.Private[int]
    initiative_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int]
    actor_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, a: fc.InitiativeActivityOut) -> InitiativeUpdate:
        return cls(
            id=gid("InitiativeUpdate", a.id),
            kind=InitiativeUpdateKind(a.kind.value),
            from_status=InitiativeStatus(a.from_status) if a.from_status else None,
            to_status=InitiativeStatus(a.to_status) if a.to_status else None,
            created_at=a.created_at,
            raw_id=a.id,
            initiative_id=a.initiative_id,
            organisation_id=a.organisation_id,
            actor_id=a.actor_id,
        )

    @strawberry.field(description="The initiative; null once the viewer may no longer see it.")
    async def initiative(self, info: Info) -> Initiative | None:
        i = await info.context.loaders.initiative.load(self.initiative_id)
        return Initiative.from_out(i) if i else None

    @strawberry.field(description="The organisation whose initiative it is.")
    async def organisation(self, info: Info) -> OrganisationRef | None:
        return await _organisation(info, self.organisation_id)

    @strawberry.field(description="The member who created it or changed its status.")
    async def actor(self, info: Info) -> Member | None:
        return await _member(info, self.actor_id)


async def initiative_update(info: Info, raw_id: int) -> InitiativeUpdate | None:
    """An initiative's update by id, if the viewer's feeds may show it (for `node`)."""
    found = await info.context.feed.initiative_activities(info.context.viewer, [raw_id])
    return InitiativeUpdate.from_out(found[0]) if found else None


FeedItem = Annotated[
    Post | Event | InitiativeUpdate,
    strawberry.union("FeedItem", description="A post, an event, or an update on an organisation's initiative."),
]


@strawberry.type(description="A page of posts, events and initiatives' updates.")
class FeedItemConnection(Connection[FeedItem]):  # type: ignore[valid-type]
    pass


def feed_item(item: fc.FeedItemOut) -> Post | Event | InitiativeUpdate | None:
    if item.post is not None:
        return Post.from_out(item.post)
    if item.event is not None:
        return Event.from_out(item.event)
    if item.initiative_activity is not None:
        return InitiativeUpdate.from_out(item.initiative_activity)
    return None


def asks_for(info: Info, name: str) -> bool:
    """Whether a field called `name` appears anywhere below this field in the document (through
    fragments too). Errs towards yes: it only decides what to load ahead. It walks the parsed
    document: strawberry's `selected_fields` converts the whole selection first, which cost
    several times more on a feed page."""
    raw = info._raw_info
    stack = [node.selection_set for node in raw.field_nodes if node.selection_set is not None]
    spread: set[str] = set()
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    return True
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                fragment = raw.fragments.get(selection.name.value)
                if fragment is not None:
                    stack.append(fragment.selection_set)
    return False


async def prime_authors(info: Info, page: fc.FeedPage) -> None:
    """Load the page's posts' authors in one batch before the items resolve, when the query
    asks for authors: each Post.author then answers at once (see _member_now)."""
    ids = list(dict.fromkeys(i.post.author_id for i in page.items if i.post is not None))
    if ids and asks_for(info, "author"):
        await info.context.loaders.member.load_many(ids)


async def feed_page(info: Info, page: fc.FeedPage) -> FeedItemConnection:
    """A feed's page as a connection, its authors loaded ahead (prime_authors)."""
    await prime_authors(info, page)
    return feed_connection(page)


def feed_connection(page: fc.FeedPage) -> FeedItemConnection:
    nodes = [feed_item(i) for i in page.items]
    plain = connection(page, nodes)
    return FeedItemConnection(edges=plain.edges, page_info=plain.page_info, total_count=plain.total_count)
