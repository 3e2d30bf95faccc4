"""The feed's mail routes, for the gateway's unsubscribe links (services only)."""

from __future__ import annotations

from fastapi import APIRouter

from services.feed import contracts as c
from services.feed import mail
from shared.errors import Forbidden
from shared.web import Actor, Session

router = APIRouter(prefix="/v1/mail")


@router.post("/unsubscribe", response_model=c.UnsubscribedOut)
async def unsubscribe(data: c.UnsubscribeIn, session: Session, actor: Actor) -> c.UnsubscribedOut:
    """Turn one kind's mail off for a member, who proved it with a signed link the gateway checked."""
    if actor.member_id is not None or actor.token_kind != "service":
        raise Forbidden("only services change preferences from unsubscribe links")
    kinds = await mail.turn_off(session, data.member_id, data.kind)
    return c.UnsubscribedOut(kinds=kinds, label=mail.label(data.kind))
