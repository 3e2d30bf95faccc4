"""The job that removes what an erased member left in the feed (services/feed/service/erasure.py),
on the graph's `member.erased`. It commits step by step and every step touches only what is
still there, so it may run twice, or again after dying half way, and changes nothing twice.
Their own home timeline is dropped from Redis."""

from __future__ import annotations

from typing import Any

import structlog

from services.feed.fanout import timelines_of
from services.feed.service import erasure
from shared.database import session_scope
from shared.jobs import Registry

log = structlog.get_logger("hubben.feed.erasure")

ERASE = "feed.erase_member"
TOPICS = {"member.erased"}


async def erase_member(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    member_id = int(event["payload"]["member_id"])
    steps = 0
    more = True
    while more:
        async with session_scope(ctx["feed_sessionmaker"]) as s:
            more = await erasure.erase_step(s, member_id)
        steps += 1
    timelines = timelines_of(ctx)
    if timelines is not None:
        await timelines.drop(member_id)
    log.info("feed.member_erased", member_id=member_id, steps=steps)


def register(registry: Registry) -> None:
    registry.add(ERASE, TOPICS, erase_member)
