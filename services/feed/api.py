"""The feed service's REST API. Every route needs an internal token (see shared.web)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed import timelines
from services.feed.jobs_api import router as failed_jobs_router
from services.feed.mail_api import router as mail_router
from services.feed.models import Event, Post
from services.feed.moderation_api import router as moderation_router
from services.feed.notifications_api import router as notifications_router
from services.feed.service import calendar, comments, events, feeds, initiatives, posts, search_source
from services.graph.client import GraphClient
from shared.errors import Forbidden, NotFound
from shared.pagination import PageRequest
from shared.search_documents import SEARCH_DOCUMENTS_PATH, DocumentPage, document_query
from shared.settings import Settings
from shared.web import Actor, Ids, Page, Session, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "feed"
router = APIRouter(prefix="/v1")


async def graph_of(request: Request) -> GraphClient:
    return request.app.state.graph  # type: ignore[no-any-return]


Graph = Annotated[GraphClient, Depends(graph_of)]


class PinIn(BaseModel):
    model_config = {"extra": "forbid"}
    pinned: bool


class ViewerReactionsIn(BaseModel):
    model_config = {"extra": "forbid"}
    target_type: c.TargetType
    ids: list[int]


# --- posts ----------------------------------------------------------------------------------


@router.post("/posts", response_model=c.PostOut)
async def create_post(data: c.PostIn, session: Session, actor: Actor, graph: Graph) -> c.PostOut:
    return posts.to_out(await posts.create_post(session, graph, actor, data))


@router.patch("/posts/{post_id}", response_model=c.PostOut)
async def update_post(post_id: int, data: c.PostUpdateIn, session: Session, actor: Actor, graph: Graph) -> c.PostOut:
    return posts.to_out(await posts.update_post(session, graph, actor, post_id, data))


@router.delete("/posts/{post_id}", response_model=c.PostOut)
async def delete_post(post_id: int, session: Session, actor: Actor, graph: Graph) -> c.PostOut:
    return posts.to_out(await posts.delete_post(session, graph, actor, post_id))


@router.put("/posts/{post_id}/pinned", response_model=c.PostOut)
async def pin_post(post_id: int, data: PinIn, session: Session, actor: Actor, graph: Graph) -> c.PostOut:
    return posts.to_out(await posts.set_pinned(session, graph, actor, post_id, data.pinned))


@router.get("/posts", response_model=list[c.PostOut])
async def posts_batch(ids: Ids, session: Session, actor: Actor) -> list[c.PostOut]:
    visible = await repo.readable_entry_ids(session, actor, ids)
    found = await repo.posts_by_ids(session, list(visible))
    return [posts.to_out(found[i]) for i in ids if i in found]


# --- events ---------------------------------------------------------------------------------


@router.post("/events", response_model=c.EventOut)
async def create_event(data: c.EventIn, session: Session, actor: Actor, graph: Graph) -> c.EventOut:
    return events.to_out(await events.create_event(session, graph, actor, data))


@router.patch("/events/{event_id}", response_model=c.EventOut)
async def update_event(
    event_id: int, data: c.EventUpdateIn, session: Session, actor: Actor, graph: Graph
) -> c.EventOut:
    return events.to_out(await events.update_event(session, graph, actor, event_id, data))


@router.post("/events/{event_id}/cancel", response_model=c.EventOut)
async def cancel_event(event_id: int, session: Session, actor: Actor, graph: Graph) -> c.EventOut:
    return events.to_out(await events.cancel_event(session, graph, actor, event_id))


@router.get("/events", response_model=list[c.EventOut])
async def events_batch(ids: Ids, session: Session, actor: Actor) -> list[c.EventOut]:
    visible = await repo.readable_entry_ids(session, actor, ids)
    found = await repo.events_by_ids(session, list(visible))
    return [events.to_out(found[i]) for i in ids if i in found]


@router.get("/events/upcoming", response_model=c.EventPage)
async def upcoming(
    session: Session, actor: Actor, page: Page, flt: Annotated[c.UpcomingFilter, Query()]
) -> c.EventPage:
    return await feeds.upcoming(session, actor, flt, page)


@router.post("/events/{event_id}/rsvp", response_model=c.RsvpOut)
async def rsvp(event_id: int, data: c.RsvpIn, session: Session, actor: Actor, graph: Graph) -> c.RsvpOut:
    return await events.rsvp_out(session, await events.rsvp(session, graph, actor, event_id, data.status))


@router.get("/events/{event_id}/rsvp", response_model=c.RsvpOut | None)
async def my_rsvp(event_id: int, session: Session, actor: Actor) -> c.RsvpOut | None:
    await events.visible_event(session, actor, event_id)
    if actor.member_id is None:
        return None
    row = await repo.rsvp_of(session, event_id, actor.member_id)
    return await events.rsvp_out(session, row) if row else None


@router.get("/events/{event_id}/rsvps", response_model=c.RsvpPage)
async def rsvps(
    event_id: int,
    session: Session,
    actor: Actor,
    graph: Graph,
    page: Page,
    status: Literal["going", "interested", "not_going", "waitlisted"] | None = None,
) -> c.RsvpPage:
    return await feeds.rsvps(session, graph, actor, event_id, status, page)


@router.get("/events/{event_id}/ics")
async def event_ics(event_id: int, session: Session, actor: Actor, request: Request) -> Response:
    event = await events.visible_event(session, actor, event_id)
    body = calendar.ics([event], request.app.state.settings.public_url, event.title)
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get("/hubs/{hub_id}/ics")
async def hub_ics(
    hub_id: int, session: Session, actor: Actor, request: Request, name: str = Query(max_length=200)
) -> Response:
    page = await feeds.upcoming(session, actor, c.UpcomingFilter(hub_id=hub_id), PageRequest(first=100))
    found = await repo.events_by_ids(session, [e.id for e in page.items])
    body = calendar.ics([found[e.id] for e in page.items], request.app.state.settings.public_url, name)
    return Response(body, media_type="text/calendar; charset=utf-8")


# --- feeds ------------------------------------------------------------------------------------


@router.get("/feeds/home", response_model=c.FeedPage)
async def home(request: Request, session: Session, actor: Actor, page: Page) -> c.FeedPage:
    return await feeds.home_feed(session, actor, page, request.app.state.timelines)


@router.get("/feeds/hub/{hub_id}", response_model=c.FeedPage)
async def hub_feed(hub_id: int, session: Session, actor: Actor, page: Page) -> c.FeedPage:
    return await feeds.hub_feed(session, actor, hub_id, page)


@router.get("/feeds/hub/{hub_id}/resources", response_model=c.FeedPage)
async def hub_resources(
    hub_id: int, session: Session, actor: Actor, page: Page, kind: Annotated[str | None, Query(max_length=10)] = None
) -> c.FeedPage:
    return await feeds.hub_resources(session, actor, hub_id, kind, page)


@router.get("/feeds/organisation/{org_id}", response_model=c.FeedPage)
async def organisation_feed(org_id: int, session: Session, actor: Actor, page: Page) -> c.FeedPage:
    return await feeds.organisation_feed(session, actor, org_id, page)


@router.get("/feeds/member/{member_id}", response_model=c.FeedPage)
async def member_activity(member_id: int, session: Session, actor: Actor, page: Page) -> c.FeedPage:
    return await feeds.member_activity(session, actor, member_id, page)


@router.get("/feeds/tag/{tag}", response_model=c.FeedPage)
async def tag_feed(tag: str, session: Session, actor: Actor, page: Page) -> c.FeedPage:
    return await feeds.tag_feed(session, actor, tag[:41], page)


@router.get("/feeds/{scope}/{scope_id}/syndication")
async def syndication(
    scope: Literal["hub", "organisation"],
    scope_id: int,
    session: Session,
    actor: Actor,
    graph: Graph,
    fmt: Literal["rss", "atom"],
    title: Annotated[str, Query(max_length=200)],
    link: Annotated[str, Query(max_length=500)],
    self_url: Annotated[str, Query(max_length=500)],
    description: Annotated[str, Query(max_length=5000)] = "",
) -> Response:
    page = PageRequest(first=50)
    items = (
        await (
            feeds.hub_feed(session, actor, scope_id, page)
            if scope == "hub"
            else feeds.organisation_feed(session, actor, scope_id, page)
        )
    ).items
    # Initiatives are the graph service's: their titles come from it, as the reader may see them.
    initiative_ids = list(
        dict.fromkeys(i.initiative_activity.initiative_id for i in items if i.initiative_activity is not None)
    )
    initiatives = {i.id: i for i in await graph.initiatives_by_ids(actor, initiative_ids)} if initiative_ids else {}
    body = calendar.syndication(
        items,
        title=title,
        link=link,
        self_url=self_url,
        description=description,
        fmt=fmt,
        initiatives=initiatives,
    )
    media = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    return Response(body, media_type=f"{media}; charset=utf-8")


@router.get("/initiative-activities", response_model=list[c.InitiativeActivityOut])
async def initiative_activities_batch(ids: Ids, session: Session, actor: Actor) -> list[c.InitiativeActivityOut]:
    """Initiatives' activity items among `ids` that the viewer's feeds may show, in the order asked."""
    visible = await repo.readable_entry_ids(session, actor, ids)
    found = await repo.activities_by_ids(session, list(visible))
    return [initiatives.to_out(found[i]) for i in ids if i in found]


# --- comments and reactions -------------------------------------------------------------------


@router.post("/comments", response_model=c.CommentOut)
async def create_comment(data: c.CommentIn, session: Session, actor: Actor, graph: Graph) -> c.CommentOut:
    return comments.to_out(await comments.create_comment(session, graph, actor, data))


@router.patch("/comments/{comment_id}", response_model=c.CommentOut)
async def update_comment(
    comment_id: int, data: c.CommentUpdateIn, session: Session, actor: Actor, graph: Graph
) -> c.CommentOut:
    return comments.to_out(await comments.update_comment(session, graph, actor, comment_id, data))


@router.delete("/comments/{comment_id}", response_model=c.CommentOut)
async def delete_comment(comment_id: int, session: Session, actor: Actor, graph: Graph) -> c.CommentOut:
    return comments.to_out(await comments.delete_comment(session, graph, actor, comment_id))


@router.get("/comments", response_model=c.CommentPage)
async def list_comments(
    session: Session,
    actor: Actor,
    page: Page,
    target_type: Literal["post", "event"],
    target_id: int,
    parent_id: int | None = None,
) -> c.CommentPage:
    return await feeds.comments(session, actor, target_type, target_id, parent_id, page)


@router.get("/comments/batch", response_model=list[c.CommentOut])
async def comments_batch(ids: Ids, session: Session, actor: Actor) -> list[c.CommentOut]:
    out = []
    for comment in await repo.comments_by_ids(session, ids):
        try:
            out.append(comments.to_out(await comments.visible_comment(session, actor, comment.id)))
        except NotFound:
            continue
    return out


@router.post("/reactions", response_model=c.ReactionSummary)
async def react(data: c.ReactionIn, session: Session, actor: Actor, graph: Graph) -> c.ReactionSummary:
    return await comments.react(session, graph, actor, data)


@router.post("/reactions/delete", response_model=c.ReactionSummary)
async def unreact(data: c.ReactionTargetIn, session: Session, actor: Actor, graph: Graph) -> c.ReactionSummary:
    return await comments.unreact(session, graph, actor, data)


@router.post("/reactions/viewer", response_model=dict[int, str])
async def viewer_reactions(data: ViewerReactionsIn, session: Session, actor: Actor) -> dict[int, str]:
    if actor.member_id is None:
        return {}
    return await repo.reactions_of_viewer(session, actor.member_id, data.target_type.value, data.ids[:500])


# --- internal: for other services only -----------------------------------------------------------


@router.get(SEARCH_DOCUMENTS_PATH.removeprefix("/v1"), response_model=DocumentPage)
async def search_documents(
    session: Session,
    actor: Actor,
    doc_type: Annotated[str, Query(alias="type", max_length=20)],
    ids: Annotated[str | None, Query(max_length=12000)] = None,
    after: int | None = None,
    limit: int | None = None,
    hub_id: int | None = None,
) -> DocumentPage:
    """Posts or events for the search index: by `ids` (deleted and hidden ones are `gone`), or
    the export page after the id `after`, optionally of one hub (see shared.search_documents)."""
    if actor.member_id is not None or actor.token_kind != "service":
        raise Forbidden("only services read search documents")
    query = document_query(search_source.SERVED, doc_type, ids, after, limit, hub_id)
    return await search_source.documents(session, query)


# --- the app ----------------------------------------------------------------------------------


def create_app(settings: Settings, graph: GraphClient | None = None) -> FastAPI:
    """`graph`: the gateway's client in one process; otherwise one is made for HUBBEN_GRAPH_URL."""

    async def clients(app: FastAPI, stack: AsyncExitStack) -> None:
        # Home timelines live in Redis when there is one (services.feed.timelines).
        app.state.redis = app.state.timelines = None
        if settings.redis_url:
            import redis.asyncio as aioredis

            # Short timeouts: a Redis that is away makes a home feed read fall back to the
            # database instead of waiting.
            app.state.redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=2)
            stack.push_async_callback(app.state.redis.aclose)
            app.state.timelines = timelines.for_settings(app.state.redis, settings)
        if graph is not None:
            app.state.graph = graph
            return
        app.state.graph = GraphClient.remote(settings.graph_url, app.state.codec, service="feed")
        stack.push_async_callback(app.state.graph.aclose)

    app = create_service_app(SERVICE, settings, router, MIGRATIONS, clients)
    app.include_router(failed_jobs_router)
    app.include_router(notifications_router)
    app.include_router(mail_router)
    app.include_router(moderation_router)
    return app


__all__ = ["Event", "Post", "create_app"]
