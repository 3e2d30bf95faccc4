"""The search service's jobs: every change to something searchable, as its owner's
outbox announces it, refreshes that document from the owner's current state (so events
that arrive twice, late or out of order leave the same index)."""

from __future__ import annotations

from typing import Any

import structlog

from services.search import service
from shared.jobs import Registry
from shared.search_documents import DocType, document_key

log = structlog.get_logger("hubben.search.jobs")

# topic → the document it changes, named by its type and the payload's id field.
DOCUMENT_TOPICS = {
    # An erased member's document is gone at its owner; what they wrote follows as deletions.
    **{
        f"member.{a}": DocType.member
        for a in ("created", "updated", "suspended", "unsuspended", "banned", "unbanned", "erased")
    },
    **{f"organisation.{a}": DocType.organisation for a in ("created", "updated", "verified", "unverified")},
    **{f"hub.{a}": DocType.hub for a in ("created", "updated")},
    # A non-public or deleted initiative is gone at its owner: the refresh removes it.
    **{f"initiative.{a}": DocType.initiative for a in ("created", "updated", "status_changed", "deleted")},
    **{f"post.{a}": DocType.post for a in ("created", "updated", "deleted", "hidden", "restored")},
    **{f"event.{a}": DocType.event for a in ("created", "updated", "cancelled", "deleted", "hidden", "restored")},
}
REFRESH = "search.refresh"


def _context(ctx: dict[str, Any]) -> tuple[Any, service.Sources, Any]:
    return ctx["search_index"], ctx["search_sources"], ctx["sessionmakers"]["search"]


def keys_of(event: dict[str, Any]) -> list[str]:
    doc_type = DOCUMENT_TOPICS[event["topic"]]
    return [document_key(doc_type, int(event["payload"][f"{doc_type.value}_id"]))]


async def refresh(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    engine, sources, maker = _context(ctx)
    await service.refresh(engine, sources, maker, keys_of(event))
    payload = event["payload"]
    if event["topic"] == "hub.updated" and "visibility" in payload.get("fields", []):
        await service.refresh_hub_items(engine, sources, maker, int(payload["hub_id"]))


def register(registry: Registry) -> None:
    registry.add(REFRESH, set(DOCUMENT_TOPICS), refresh)
