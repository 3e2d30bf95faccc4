"""The embedded search engine: a Tantivy index in files under var/search/tantivy.

Layout: one directory per generation (`g<timestamp>`) and a `CURRENT` file naming the
live one. A reindex fills a new generation and replaces `CURRENT` atomically; every
process notices (a stat per search) and opens the new generation.

Writers: Tantivy allows one writer per index directory, across processes. A write takes
the writer, commits and lets it go, so `hubben serve` and any `hubben worker` may all
write; one that finds the lock busy polls until it is free. Searches and commits release
the GIL and run in threads.

Schema changes: an index stores its schema, and Tantivy will not open one written with
another. A live generation of an older schema (a new version added fields) is replaced by an
empty one of this schema, and a `REBUILD` file marks the index as needing a reindex until one
is swapped in; the search service starts that reindex (see `stale` and services/search/api.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
import tantivy
from tantivy import FieldType, Occur, Order, Query

from services.search.contracts import FacetValue, SearchSort
from services.search.engine import (
    AUTHORED_TYPES,
    FACET_FIELDS,
    FACET_SIZES,
    Answer,
    Filters,
    Found,
    Plan,
    Scope,
    fields_of,
    seconds,
    types_to_search,
    value_filters,
)
from services.search.text import analyzer, stem, typo_budget
from shared.search_documents import IndexDocument

log = structlog.get_logger("hubben.search")

CURRENT = "CURRENT"
REBUILD = "REBUILD"
SCHEMA_MISMATCH = "schema does not match"
LIVE_WRITER_HEAP = 15_000_000
BUILD_WRITER_HEAP = 200_000_000
LOCK_WAIT_SECONDS = 60.0
LOCK_POLL_SECONDS = 0.02
# Boosts, in Meilisearch's order of ranking rules (words, then typos, then attribute): a
# word without a typo anywhere outranks one with a typo, and a name or title outranks the
# text. Exact and stemmed words score by BM25 (about 0.5 and up); prefix and typo matches
# score their boost alone, so they are kept below that.
TITLE, TEXT, TITLE_STEM, TEXT_STEM, TITLE_PREFIX, TEXT_PREFIX, TITLE_TYPO, TEXT_TYPO = (
    6.0, 2.0, 4.0, 1.5, 0.4, 0.2, 0.1, 0.05,
)  # fmt: skip


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", stored=True, tokenizer_name="raw")
    sb.add_text_field("type", stored=True, tokenizer_name="raw", fast=True)
    sb.add_integer_field("id", stored=True)
    sb.add_text_field("lang", stored=True, tokenizer_name="raw")
    # The stored originals, split into plain words: exact words, typos and prefixes.
    sb.add_text_field("title", stored=True, tokenizer_name="words")
    sb.add_text_field("text", stored=True, tokenizer_name="words")
    # The same text stemmed in the document's language (the other language's fields stay empty).
    for lang in ("sv", "en"):
        sb.add_text_field(f"title_{lang}", tokenizer_name=lang)
        sb.add_text_field(f"text_{lang}", tokenizer_name=lang)
    sb.add_text_field("tag", tokenizer_name="raw", fast=True)
    sb.add_text_field("county", tokenizer_name="raw", fast=True)
    sb.add_text_field("municipality", tokenizer_name="raw")
    sb.add_text_field("org_kind", tokenizer_name="raw", fast=True)
    for name in ("area", "status", "technique"):  # initiatives
        sb.add_text_field(name, tokenizer_name="raw", fast=True)
    sb.add_text_field("audience", tokenizer_name="raw")
    for name in ("hub", "author", "org"):
        sb.add_integer_field(name, indexed=True)
    sb.add_integer_field("created", indexed=True, fast=True)  # microseconds since the epoch
    sb.add_integer_field("starts", indexed=True, fast=True)  # events: seconds since the epoch
    sb.add_integer_field("ends", indexed=True, fast=True)
    return sb.build()


SCHEMA = _schema()


def _document(doc: IndexDocument) -> tantivy.Document:
    fields = fields_of(doc)
    # The same words again, stemmed in the document's language (see the schema).
    lang = fields["lang"]
    fields[f"title_{lang}"], fields[f"text_{lang}"] = fields["title"], fields["text"]
    return tantivy.Document(**fields)


def _any(field: str, values: Sequence[Any]) -> Query:
    return Query.term_set_query(SCHEMA, field, list(values))


def _bool(clauses: list[tuple[Occur, Query]]) -> Query:
    return Query.boolean_query(clauses)


def _word_query(word: str, *, prefix: bool, titles_only: bool) -> Query:
    budget = typo_budget(word)
    fields = [("title", TITLE, TITLE_STEM, TITLE_TYPO, TITLE_PREFIX)]
    if not titles_only:
        fields.append(("text", TEXT, TEXT_STEM, TEXT_TYPO, TEXT_PREFIX))
    should: list[tuple[Occur, Query]] = []
    for field, exact, stemmed, typo, begins in fields:
        should.append((Occur.Should, Query.boost_query(Query.term_query(SCHEMA, field, word), exact)))
        for lang in ("sv", "en"):
            term = Query.term_query(SCHEMA, f"{field}_{lang}", stem(word, lang))
            should.append((Occur.Should, Query.boost_query(term, stemmed)))
        if budget:
            fuzzy = Query.fuzzy_term_query(SCHEMA, field, word, budget, True, False)
            should.append((Occur.Should, Query.boost_query(fuzzy, typo)))
        if prefix:
            fuzzy = Query.fuzzy_term_query(SCHEMA, field, word, budget, True, True)
            should.append((Occur.Should, Query.boost_query(fuzzy, begins)))
    return _bool(should)


def visibility(scope: Scope) -> list[tuple[Occur, Query]]:
    """Public documents for anyone; members-only for members; hub-members documents for
    the hub's members; never of or by a blocked member, nor items by a muted one."""
    public = Query.term_query(SCHEMA, "audience", "public")
    if scope.member_id is None:
        return [(Occur.Must, public)]
    may: list[tuple[Occur, Query]] = [
        (Occur.Should, public),
        (Occur.Should, Query.term_query(SCHEMA, "audience", "members")),
        (Occur.Should, Query.term_query(SCHEMA, "author", scope.member_id)),
    ]
    if scope.hub_ids:
        hub_members = Query.term_query(SCHEMA, "audience", "hub_members")
        may.append((Occur.Should, _bool([(Occur.Must, hub_members), (Occur.Must, _any("hub", scope.hub_ids))])))
    clauses = [(Occur.Must, _bool(may))]
    if scope.blocked_ids:
        clauses.append((Occur.MustNot, _any("author", scope.blocked_ids)))
    if scope.muted_ids:
        muted_items = _bool([(Occur.Must, _any("author", scope.muted_ids)), (Occur.Must, _any("type", AUTHORED_TYPES))])
        clauses.append((Occur.MustNot, muted_items))
    return clauses


def _filters(f: Filters, sort: SearchSort) -> list[tuple[Occur, Query]]:
    clauses: list[tuple[Occur, Query]] = []
    types = types_to_search(f, sort)
    if types is None:
        return [(Occur.Must, Query.empty_query())]
    for field, values in value_filters(f, types):
        if values:
            clauses.append((Occur.Must, _any(field, values)))
    if f.starts_from or f.starts_before:
        lower = seconds(f.starts_from) if f.starts_from else None
        upper = seconds(f.starts_before) if f.starts_before else None
        starts = Query.range_query(SCHEMA, "starts", FieldType.Integer, lower, upper, True, upper is None)
        clauses.append((Occur.Must, starts))
    if f.ends_after is not None:
        # Not an event, or an event that has not ended.
        ended = Query.range_query(SCHEMA, "ends", FieldType.Integer, None, seconds(f.ends_after), True, False)
        clauses.append((Occur.MustNot, ended))
    return clauses


def query_of(plan: Plan) -> Query:
    last = len(plan.words) - 1
    clauses = [
        (Occur.Must, _word_query(w, prefix=plan.titles_only or i == last, titles_only=plan.titles_only))
        for i, w in enumerate(plan.words)
    ]
    clauses += visibility(plan.scope) + _filters(plan.filters, plan.sort)
    if not any(occur == Occur.Must for occur, _ in clauses):
        clauses.append((Occur.Must, Query.all_query()))
    return _bool(clauses)


def _facets(searcher: tantivy.Searcher, query: Query) -> dict[str, list[FacetValue]]:
    spec = {name: {"terms": {"field": FACET_FIELDS[name], "size": size}} for name, size in FACET_SIZES.items()}
    result = searcher.aggregate(query, spec)
    return {
        name: [
            FacetValue(value=str(b["key"]), count=int(b["doc_count"])) for b in result.get(name, {}).get("buckets", [])
        ]
        for name in FACET_SIZES
    }


class SchemaChanged(Exception):
    """The directory holds an index written with another schema."""


class _Generation:
    """One generation's directory, opened with our analyzers."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        except ValueError as exc:
            if SCHEMA_MISMATCH in str(exc):
                raise SchemaChanged(str(path)) from exc
            raise
        for name in ("words", "sv", "en"):
            self.index.register_tokenizer(name, analyzer(name))

    def writer(self, heap: int = LIVE_WRITER_HEAP, threads: int = 1) -> tantivy.IndexWriter:
        """The index's one writer, waiting while another thread or process holds it."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return self.index.writer(heap, threads)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL_SECONDS)  # polling another process's lock: no event to wait on


class TantivyEngine:
    name = "tantivy"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._current_stamp: tuple[int, int] | None = None
        self._live: _Generation | None = None
        self._write_lock = asyncio.Lock()
        self._afresh_lock = threading.Lock()  # searches and writes open the live generation in threads

    # --- generations --------------------------------------------------------------------------

    def _pointer(self) -> Path:
        return self.root / CURRENT

    def _live_generation(self) -> _Generation:
        """The live generation, reopened when a reindex swapped `CURRENT`."""
        pointer = self._pointer()
        try:
            st = pointer.stat()
        except FileNotFoundError:
            self._point_to(f"g{time.time_ns()}")
            st = pointer.stat()
        stamp = (st.st_mtime_ns, st.st_ino)
        if self._live is None or stamp != self._current_stamp:
            name = pointer.read_text().strip()
            try:
                self._live = _Generation(self.root / name)
            except SchemaChanged:
                return self._start_afresh(name)
            self._current_stamp = stamp
        return self._live

    def _start_afresh(self, outdated: str) -> _Generation:
        """The live generation has an older schema: mark the index for a rebuild and make an
        empty generation of this schema live (searches answer nothing until the reindex)."""
        with self._afresh_lock:
            if self._pointer().read_text().strip() != outdated:
                # Another thread (or process) started afresh first: take its generation.
                return self._live_generation()
            (self.root / REBUILD).write_text(f"{outdated}\n")
            fresh = f"g{time.time_ns()}"
            live = _Generation(self.root / fresh)
            self._point_to(fresh)
            st = self._pointer().stat()
            self._live, self._current_stamp = live, (st.st_mtime_ns, st.st_ino)
        log.warning("search.schema_changed", outdated=outdated, fresh=fresh, action="reindex")
        return live

    def _point_to(self, generation: str) -> None:
        tmp = self.root / f"{CURRENT}.{os.getpid()}.tmp"
        tmp.write_text(generation)
        os.replace(tmp, self._pointer())

    def _drop_old_generations(self, keep: set[str]) -> None:
        for path in self.root.iterdir():
            if path.is_dir() and path.name.startswith("g") and path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # --- writes ---------------------------------------------------------------------------------

    def _write(self, docs: Sequence[IndexDocument], deletes: Sequence[Query]) -> None:
        generation = self._live_generation()
        writer = generation.writer()
        try:
            for query in deletes:
                writer.delete_documents_by_query(query)
            for doc in docs:
                writer.delete_documents_by_term("key", doc.key)
                writer.add_document(_document(doc))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        generation.index.reload()

    async def _apply(self, docs: Sequence[IndexDocument] = (), deletes: Sequence[Query] = ()) -> None:
        async with self._write_lock:
            await asyncio.to_thread(self._write, docs, deletes)

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        if docs:
            await self._apply(docs=docs)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self._apply(deletes=[_any("key", keys)])

    async def clear(self) -> None:
        await self._apply(deletes=[Query.all_query()])

    # --- reads ----------------------------------------------------------------------------------

    def _search(self, plan: Plan) -> Answer:
        searcher = self._live_generation().index.searcher()
        query = query_of(plan)
        if plan.sort == SearchSort.newest or (plan.sort == SearchSort.relevance and not plan.words):
            result = searcher.search(query, plan.limit, True, "created", plan.offset, Order.Desc)
        elif plan.sort == SearchSort.event_start:
            result = searcher.search(query, plan.limit, True, "starts", plan.offset, Order.Asc)
        else:
            result = searcher.search(query, plan.limit, True, None, plan.offset)
        found = []
        for _, address in result.hits:
            d = searcher.doc(address).to_dict()
            found.append(
                Found(
                    type=str(d["type"][0]),
                    id=int(d["id"][0]),
                    language=str(d["lang"][0]),
                    title=str(d.get("title", [""])[0]),
                    text=str(d.get("text", [""])[0]),
                )
            )
        facets = _facets(searcher, query) if plan.facets else None
        total = int(getattr(result, "count", 0) or 0)  # asked for (count=True) above
        return Answer(found=found, total=total, facets=facets)

    async def search(self, plan: Plan) -> Answer:
        return await asyncio.to_thread(self._search, plan)

    async def count(self) -> int:
        return int(self._live_generation().index.searcher().num_docs)

    async def stale(self) -> bool:
        """Whether the live index lacks documents because its schema changed (until a reindex)."""

        def check() -> bool:
            self._live_generation()
            return (self.root / REBUILD).exists()

        return await asyncio.to_thread(check)

    # --- reindex --------------------------------------------------------------------------------

    async def build(self, generation: str) -> TantivyBuild:
        return await asyncio.to_thread(TantivyBuild, self, generation)

    async def close(self) -> None:
        self._live = None


class TantivyBuild:
    """A new generation's directory with its own writer (a bigger heap, two threads)."""

    def __init__(self, engine: TantivyEngine, generation: str) -> None:
        self.engine = engine
        self.generation = generation
        path = engine.root / generation
        if path.exists():
            shutil.rmtree(path)
        self._gen = _Generation(path)
        self._writer: tantivy.IndexWriter | None = self._gen.writer(BUILD_WRITER_HEAP, 2)

    def _w(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("this index build is finished")
        return self._writer

    def _add(self, docs: Sequence[IndexDocument]) -> None:
        writer = self._w()
        for doc in docs:
            writer.delete_documents_by_term("key", doc.key)
            writer.add_document(_document(doc))

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        if docs:
            await asyncio.to_thread(self._add, docs)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await asyncio.to_thread(self._w().delete_documents_by_query, _any("key", keys))

    async def commit(self) -> None:
        await asyncio.to_thread(self._w().commit)

    def _finish(self) -> None:
        writer = self._w()
        writer.commit()
        writer.wait_merging_threads()
        self._writer = None

    async def swap(self) -> None:
        await asyncio.to_thread(self._finish)
        pointer = self.engine._pointer()
        previous = pointer.read_text().strip() if pointer.exists() else None
        self.engine._point_to(self.generation)
        (self.engine.root / REBUILD).unlink(missing_ok=True)
        # Keep the generation just replaced: a reader elsewhere may still be on it for a moment.
        self.engine._drop_old_generations({self.generation, *([previous] if previous else [])})
        log.info("search.swapped", generation=self.generation, previous=previous)

    async def abort(self) -> None:
        def _abort() -> None:
            if self._writer is not None:
                self._writer.rollback()
                self._writer.wait_merging_threads()
                self._writer = None
            shutil.rmtree(self._gen.path, ignore_errors=True)

        await asyncio.to_thread(_abort)
