"""Plain-HTTP documents beside GraphQL: iCalendar files and RSS/Atom feeds, at stable URLs."""

from __future__ import annotations

from typing import Literal

import httpx
from fastapi import APIRouter, Request, Response

from services.gateway.context import authenticate
from shared.auth import Principal
from shared.errors import NotFound
from shared.ids import InvalidGlobalId, expect_global_id

router = APIRouter()


async def _viewer(request: Request) -> Principal:
    state = request.app.state
    return await authenticate(request.headers.get("authorization"), state.codec, state.graph)


def _passthrough(upstream: httpx.Response, filename: str | None = None) -> Response:
    headers = {"cache-control": "public, max-age=300"}
    if filename:
        headers["content-disposition"] = f'inline; filename="{filename}"'
    return Response(upstream.content, media_type=upstream.headers["content-type"], headers=headers)


@router.get("/events/{event_id}.ics")
async def event_ics(event_id: str, request: Request) -> Response:
    try:
        raw = expect_global_id(event_id, "Event")
    except InvalidGlobalId as exc:
        raise NotFound("no such event") from exc
    upstream = await request.app.state.feed.event_ics(await _viewer(request), raw)
    return _passthrough(upstream, f"event-{raw}.ics")


@router.get("/hubs/{slug}/events.ics")
async def hub_ics(slug: str, request: Request) -> Response:
    viewer = await _viewer(request)
    hub = await request.app.state.graph.hub_by_slug(viewer, slug[:60])
    upstream = await request.app.state.feed.hub_ics(viewer, hub.id, hub.name)
    return _passthrough(upstream, f"{hub.slug}.ics")


@router.get("/{scope}/{slug}/feed.{fmt}")
async def syndication(
    scope: Literal["hubs", "organisations"], slug: str, fmt: Literal["rss", "atom"], request: Request
) -> Response:
    """Public feeds only: anonymous viewers, so nothing members-only ever reaches a feed reader."""
    from shared.auth import ANONYMOUS

    graph, settings = request.app.state.graph, request.app.state.settings
    if scope == "hubs":
        target = await graph.hub_by_slug(ANONYMOUS, slug[:60])
    else:
        target = await graph.organisation_by_slug(ANONYMOUS, slug[:60])
    link = f"{settings.public_url}/{scope}/{target.slug}"
    upstream = await request.app.state.feed.syndication(
        ANONYMOUS,
        scope.rstrip("s"),
        target.id,
        fmt,
        f"{target.name} – Hubben",
        link,
        f"{link}/feed.{fmt}",
        target.description,
    )
    return _passthrough(upstream)
