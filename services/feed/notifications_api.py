"""The feed service's notification routes: a member's list, unread count, marking read,
preferences and bells. Every route needs an internal token (see shared.web) and acts
for the member it names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.feed import contracts as c
from services.feed.service import notifications
from services.graph.client import GraphClient
from shared.web import Actor, Ids, Page, Session

router = APIRouter(prefix="/v1/notifications")


async def _graph(request: Request) -> GraphClient:
    return request.app.state.graph  # type: ignore[no-any-return]


Graph = Annotated[GraphClient, Depends(_graph)]


@router.get("", response_model=c.NotificationPage)
async def list_notifications(
    session: Session, actor: Actor, page: Page, unread_only: bool = False
) -> c.NotificationPage:
    return await notifications.list_notifications(session, actor, unread_only, page)


@router.get("/batch", response_model=list[c.NotificationOut])
async def notifications_batch(ids: Ids, session: Session, actor: Actor) -> list[c.NotificationOut]:
    return await notifications.by_ids(session, actor, ids[:100])


@router.get("/unread-count", response_model=c.UnreadCountOut)
async def unread_count(session: Session, actor: Actor) -> c.UnreadCountOut:
    return c.UnreadCountOut(count=await notifications.unread_count(session, actor))


@router.post("/read", response_model=c.MarkReadOut)
async def mark_read(data: c.MarkReadIn, session: Session, actor: Actor) -> c.MarkReadOut:
    return await notifications.mark_read(session, actor, data)


@router.get("/preferences", response_model=list[c.PreferenceOut])
async def preferences(session: Session, actor: Actor) -> list[c.PreferenceOut]:
    return await notifications.preferences(session, actor)


@router.put("/preferences", response_model=c.PreferenceOut)
async def set_preference(data: c.PreferenceIn, session: Session, actor: Actor) -> c.PreferenceOut:
    return await notifications.set_preference(session, actor, data)


@router.put("/bells", response_model=c.BellOut)
async def set_bell(data: c.BellIn, session: Session, actor: Actor, graph: Graph) -> c.BellOut:
    return await notifications.set_bell(session, graph, actor, data)


@router.get("/bells", response_model=list[c.BellOut])
async def bells(
    session: Session, actor: Actor, ids: Ids, target_type: Annotated[c.BellTarget, Query()]
) -> list[c.BellOut]:
    return await notifications.bells(session, actor, target_type, ids[:100])
