"""The feed service's moderation routes: content as published whatever its state, hiding,
restoring and removing it, and a member's latest content. For the moderation service and
platform moderators (services/feed/service/moderation.py decides who may)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.feed import contracts as c
from services.feed.service import moderation
from shared.web import Actor, Session

router = APIRouter(prefix="/v1/moderation")


@router.get("/authors/{member_id}/content", response_model=list[c.ContentSnapshot])
async def author_content(
    member_id: int, session: Session, actor: Actor, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[c.ContentSnapshot]:
    return await moderation.author_content(session, actor, member_id, limit)


@router.get("/{target_type}/{target_id}", response_model=c.ContentSnapshot)
async def content(target_type: str, target_id: int, session: Session, actor: Actor) -> c.ContentSnapshot:
    return await moderation.content(session, actor, target_type, target_id)


@router.post("/{target_type}/{target_id}/hide", response_model=c.ContentSnapshot)
async def hide(
    target_type: str, target_id: int, data: c.ModerationActionIn, session: Session, actor: Actor
) -> c.ContentSnapshot:
    return await moderation.hide(session, actor, target_type, target_id, data.reason)


@router.post("/{target_type}/{target_id}/restore", response_model=c.ContentSnapshot)
async def restore(
    target_type: str, target_id: int, data: c.ModerationActionIn, session: Session, actor: Actor
) -> c.ContentSnapshot:
    return await moderation.restore(session, actor, target_type, target_id, data.reason)


@router.post("/{target_type}/{target_id}/remove", response_model=c.ContentSnapshot)
async def remove(
    target_type: str, target_id: int, data: c.ModerationActionIn, session: Session, actor: Actor
) -> c.ContentSnapshot:
    return await moderation.remove(session, actor, target_type, target_id, data.reason)
