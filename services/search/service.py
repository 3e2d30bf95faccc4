"""The search service's domain logic: answering searches and suggestions for a viewer,
keeping the index in step with its owners (graph and feed), and rebuilding it."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.search.contracts import (
    MAX_DEPTH,
    Facets,
    ReindexOut,
    SearchHit,
    SearchIn,
    SearchOut,
    SuggestIn,
    Suggestion,
    SuggestOut,
)
from services.search.engine import Filters, Plan, Scope, SearchEngine, Writable
from services.search.models import PendingChange, ReindexRun
from services.search.text import highlight, marks, query_words, wanted
from shared.auth import Principal
from shared.database import session_scope, utcnow
from shared.errors import BadUserInput, Conflict
from shared.search_documents import MAX_DOCUMENTS_PER_CALL, OWNER, DocType, DocumentPage, IndexDocument, document_key

log = structlog.get_logger("hubben.search")

SERVICE = Principal(member_id=None, roles=(), scopes=("read",), service="search", token_kind="service")
# A reindex whose process stopped answering for this long may be taken over.
REINDEX_STALE = timedelta(minutes=10)
BUILDING, DONE, FAILED = "building", "done", "failed"
# Write-and-check rounds of one refresh before it leaves the rest to the next change's job.
SETTLE_ROUNDS = 4


# --- where documents come from -------------------------------------------------------------------


@dataclass
class Sources:
    """The owners' document routes, through their clients (graph: members, organisations,
    hubs, initiatives; feed: posts, events)."""

    graph: Any  # services.graph.client.GraphClient
    feed: Any  # services.feed.client.FeedClient

    def _client(self, doc_type: DocType) -> Any:
        return self.graph if OWNER[doc_type] == "graph" else self.feed

    async def by_ids(self, doc_type: DocType, ids: Sequence[int]) -> DocumentPage:
        client = self._client(doc_type)
        documents: list[IndexDocument] = []
        gone: list[int] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), MAX_DOCUMENTS_PER_CALL):
            page = await client.search_documents(SERVICE, doc_type, ids=unique[start : start + MAX_DOCUMENTS_PER_CALL])
            documents += page.documents
            gone += page.gone
        return DocumentPage(documents=documents, gone=gone)

    async def export(self, doc_type: DocType, after: int | None) -> DocumentPage:
        page: DocumentPage = await self._client(doc_type).search_documents(SERVICE, doc_type, after=after or 0)
        return page

    async def scope(self, member_id: int) -> Scope:
        s = await self.graph.search_scope(SERVICE, member_id)
        return Scope(
            member_id=member_id,
            hub_ids=tuple(s.hub_ids),
            blocked_ids=tuple(s.blocked_ids),
            muted_ids=tuple(s.muted_ids),
        )


# --- searching ----------------------------------------------------------------------------------


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput("not a cursor of this search", field="after") from None
    if kind != "o" or not 0 <= offset <= MAX_DEPTH:
        raise BadUserInput("not a cursor of this search", field="after")
    return offset


async def scope_of(sources: Sources, viewer: Principal) -> Scope:
    """What the viewer may find: anonymous, or a member's hubs, blocks and mutes (from the graph)."""
    return Scope() if viewer.member_id is None else await sources.scope(viewer.member_id)


async def search(engine: SearchEngine, scope: Scope, data: SearchIn) -> SearchOut:
    offset = _offset(data.after)
    f = data.filters
    ranged = f.starts_from is not None or f.starts_before is not None
    filters = Filters(
        types=tuple(t.value for t in f.types),
        county_codes=tuple(f.county_codes),
        municipality_codes=tuple(f.municipality_codes),
        organisation_kinds=tuple(f.organisation_kinds),
        hub_ids=tuple(f.hub_ids),
        tags=tuple(f.tags),
        areas=tuple(a.value for a in f.areas),
        statuses=tuple(s.value for s in f.statuses),
        techniques=tuple(f.techniques),
        starts_from=f.starts_from,
        starts_before=f.starts_before,
        ends_after=None if f.include_past or ranged else utcnow(),
    )
    words = query_words(data.query)
    limit = max(0, min(data.first, MAX_DEPTH - offset))
    plan = Plan(
        words=words,
        filters=filters,
        scope=scope,
        sort=data.sort,
        offset=offset,
        limit=limit,
        facets=data.facets,
    )
    answer = await engine.search(plan)
    want = wanted(words) if data.highlight else []
    marked = marks([(d.title, d.text, d.language) for d in answer.found], want)
    hits = [
        SearchHit(type=DocType(d.type), id=d.id, cursor=_cursor(offset + i + 1), title=title, text=text)
        for i, (d, (title, text)) in enumerate(zip(answer.found, marked, strict=True))
    ]
    end = offset + len(hits)
    more = end < min(answer.total, MAX_DEPTH) and bool(hits)
    facets = Facets(**answer.facets) if answer.facets is not None else None
    return SearchOut(
        hits=hits, total=answer.total, offset=offset, end_cursor=_cursor(end) if more else None, facets=facets
    )


async def suggest(engine: SearchEngine, scope: Scope, data: SuggestIn) -> SuggestOut:
    """Names and titles that begin with what was typed (each word a prefix, with typos
    forgiven as in searches), for search-as-you-type menus."""
    words = query_words(data.prefix)
    if not words:
        return SuggestOut(suggestions=[])
    plan = Plan(
        words=words,
        filters=Filters(types=tuple(t.value for t in data.types), ends_after=utcnow()),
        scope=scope,
        limit=data.first,
        titles_only=True,
    )
    answer = await engine.search(plan)
    want = wanted(words, all_prefix=True)
    return SuggestOut(
        suggestions=[
            Suggestion(type=DocType(d.type), id=d.id, title=highlight(d.title, want, d.language))
            for d in answer.found
            if d.title
        ]
    )


# --- keeping the index in step ---------------------------------------------------------------------


def _split(keys: Iterable[str]) -> dict[DocType, list[int]]:
    out: dict[DocType, list[int]] = {}
    for key in keys:
        kind, _, value = key.partition(":")
        out.setdefault(DocType(kind), []).append(int(value))
    return out


async def _building(maker: async_sessionmaker[AsyncSession]) -> int | None:
    async with session_scope(maker) as s:
        return (await s.execute(select(col(ReindexRun.id)).where(col(ReindexRun.state) == BUILDING))).scalar()


async def _journal(maker: async_sessionmaker[AsyncSession], reindex_id: int, keys: Iterable[str]) -> None:
    async with session_scope(maker) as s:
        known = set(
            (
                await s.execute(
                    select(col(PendingChange.key)).where(
                        col(PendingChange.reindex_id) == reindex_id, col(PendingChange.key).in_(list(keys))
                    )
                )
            ).scalars()
        )
        for key in dict.fromkeys(keys):
            if key not in known:
                s.add(PendingChange(reindex_id=reindex_id, key=key))


async def refresh(
    engine: SearchEngine, sources: Sources, maker: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> None:
    """Bring these documents in line with their owners' current state: upsert what may be
    found, delete what is gone. Running it twice, or late, gives the same index."""
    building = await _building(maker)
    if building is not None:
        # Recorded before the live write, so the new index gets it too (see reindex).
        await _journal(maker, building, keys)
    await _refresh(engine, sources, keys)


async def _current(sources: Sources, keys: Sequence[str]) -> tuple[list[IndexDocument], list[str]]:
    """These documents as their owners have them now, and the keys of those that are gone."""
    documents: list[IndexDocument] = []
    gone: list[str] = []
    for doc_type, ids in _split(keys).items():
        page = await sources.by_ids(doc_type, ids)
        documents += page.documents
        gone += [document_key(doc_type, i) for i in page.gone]
    return documents, gone


async def _refresh(target: Writable, sources: Sources, keys: Sequence[str], *, settle: bool = True) -> None:
    """Write the owners' current state. Two refreshes of one document may overlap (a
    create and an edit in quick succession, several workers): the one that fetched first
    can write last. So, after writing, the state is fetched again and written again until
    what was written is what the owner has; the last writer is then always right."""
    documents, gone = await _current(sources, keys)
    for _ in range(SETTLE_ROUNDS):
        await target.delete(gone)
        await target.upsert(documents)
        if not settle:
            return
        now = await _current(sources, keys)
        if now == (documents, gone):
            return
        documents, gone = now
    log.warning("search.refresh_unsettled", keys=list(keys)[:20])


async def refresh_hub_items(
    engine: SearchEngine, sources: Sources, maker: async_sessionmaker[AsyncSession], hub_id: int
) -> None:
    """A hub's visibility changed: its posts and events are refreshed with it."""
    for doc_type in (DocType.post, DocType.event):
        after: int | None = 0
        while after is not None:
            page: DocumentPage = await sources.feed.search_documents(SERVICE, doc_type, after=after, hub_id=hub_id)
            if page.documents:
                await refresh(engine, sources, maker, [d.key for d in page.documents])
            after = page.next_after


# --- rebuilding ------------------------------------------------------------------------------------

Progress = Callable[[DocType, int], Awaitable[None] | None]


async def _start(maker: async_sessionmaker[AsyncSession], generation: str) -> int:
    async with session_scope(maker) as s:
        now = utcnow()
        running = (await s.execute(select(ReindexRun).where(col(ReindexRun.state) == BUILDING))).scalars().all()
        for run in running:
            if now - run.heartbeat_at < REINDEX_STALE:
                raise Conflict(f"a reindex has been building since {run.started_at:%Y-%m-%d %H:%M} UTC")
            run.state, run.finished_at = FAILED, now
        run = ReindexRun(state=BUILDING, generation=generation)
        s.add(run)
        await s.flush()
        return run.id


async def _beat(maker: async_sessionmaker[AsyncSession], run_id: int, documents: int) -> None:
    async with session_scope(maker) as s:
        await s.execute(
            update(ReindexRun).where(col(ReindexRun.id) == run_id).values(heartbeat_at=utcnow(), documents=documents)
        )


async def _take_pending(maker: async_sessionmaker[AsyncSession], run_id: int) -> list[str]:
    async with session_scope(maker) as s:
        keys = list(
            (await s.execute(select(col(PendingChange.key)).where(col(PendingChange.reindex_id) == run_id))).scalars()
        )
        if keys:
            await s.execute(
                delete(PendingChange).where(col(PendingChange.reindex_id) == run_id, col(PendingChange.key).in_(keys))
            )
        return keys


async def reindex(
    engine: SearchEngine,
    sources: Sources,
    maker: async_sessionmaker[AsyncSession],
    progress: Progress | None = None,
) -> ReindexOut:
    """Build a new index from the owners' exports while the live one keeps answering,
    then swap it in. Changes made meanwhile are journalled by `refresh` and applied to the
    new index before the swap, and once more after it (a change whose live write went to
    the old index just before the swap)."""
    generation = f"g{utcnow():%Y%m%d%H%M%S}{uuid.uuid4().hex[:6]}"
    run_id = await _start(maker, generation)
    build = await engine.build(generation)
    documents = 0
    try:
        for doc_type in DocType:
            after: int | None = 0
            while after is not None:
                page = await sources.export(doc_type, after)
                await build.upsert(page.documents)
                documents += len(page.documents)
                after = page.next_after
                await _beat(maker, run_id, documents)
                if progress is not None:
                    maybe = progress(doc_type, len(page.documents))
                    if maybe is not None:
                        await maybe
        await build.commit()
        applied = 0
        # Before the swap: everything journalled so far, into the new index.
        while keys := await _take_pending(maker, run_id):
            applied += len(keys)
            await _refresh(build, sources, keys, settle=False)
            await build.commit()
        await build.swap()
        # After it: whatever was journalled between the last drain and the swap.
        keys = await _take_pending(maker, run_id)
        applied += len(keys)
        await _refresh(engine, sources, keys)
    except BaseException:
        await build.abort()
        async with session_scope(maker) as s:
            await s.execute(
                update(ReindexRun).where(col(ReindexRun.id) == run_id).values(state=FAILED, finished_at=utcnow())
            )
        raise
    async with session_scope(maker) as s:
        await s.execute(
            update(ReindexRun)
            .where(col(ReindexRun.id) == run_id)
            .values(state=DONE, finished_at=utcnow(), documents=documents)
        )
        await s.execute(delete(PendingChange).where(col(PendingChange.reindex_id) == run_id))
    log.info("search.reindexed", generation=generation, documents=documents, pending_applied=applied)
    return ReindexOut(generation=generation, documents=documents, pending_applied=applied)
