"""The production search engine: a Meilisearch index (Meilisearch 1.11 or later, through
the official synchronous client, called in threads).

One Meilisearch document per `IndexDocument`; its primary key `uid` is the key with ":"
replaced by "-" (Meilisearch ids allow only a-z, A-Z, 0-9, "_" and "-"). Every write
waits for its task, so it is visible to searches when it returns, and a failed task
raises `MeiliTaskError`.

Words. Meilisearch has no stemming, and a query word can't say "this word OR its stem".
A document carries `title_stems` and `text_stems`: its words stemmed in its own language
by `text.stems`, as in Tantivy's `title_sv`/`text_en` fields. A search is a union of
queries; for each word and each language, the forms that can find it are

- the word as typed, with Meilisearch's typos and (last word) prefix; and
- its stem as a one-word phrase (`"kommun"`): a phrase allows no typo and no prefix, so it
  matches exactly that stem (or that word), like Tantivy's exact term on the stem field.

A short word (no typo allowed) that is not a prefix needs only its stem: any document
holding the exact word also holds its stem. The queries are every combination of forms,
per language (a query whose forms differ between Swedish and English is filtered to
documents of that language), each with `matchingStrategy: "all"`, so every word of the
query must match in one of its forms, never dropped. They run as one federated
multi-search over the same index: Meilisearch merges them by ranking score, returns each
document once, and counts the total and the facets over the union of what they found. At
most `MAX_COMBINATIONS` queries per language: beyond that the earliest branching words
keep only their stem. "kommunen" finds "kommunerna" through `"kommun"`, "runs" finds
"running" through `"run"`, and a typo in one word combines with an inflection in another.
(`matchingStrategy: "all"` with stems added as extra words would have required them too;
two queries, words and stems, would miss a typo in one word next to an inflection in
another.)

Suggestions (`Plan.titles_only`) search `title`, `title_stems` and `title_prefixes`, the
beginnings of every title word: Meilisearch makes only the last word of a query a prefix,
and a suggestion takes every word as one ("kris kra" finds "Krister Kraft").

Known differences from Tantivy: Meilisearch also joins and splits adjacent query words
("data base" finds "database"), and in suggestions a word's stem may match the beginning of
a title word; both only add hits. Ranking follows Meilisearch's rules (searchable attribute
order title, title_stems, text, text_stems), not Tantivy's boosts."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import product
from typing import Any, TypeVar, cast

import meilisearch
import structlog
from meilisearch.index import Index
from meilisearch.models.task import Task, TaskInfo

from services.search.contracts import MAX_DEPTH, FacetValue, SearchSort
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
    typo_budget,
    value_filters,
)
from services.search.text import STEMMERS, stem, stems, words
from shared.search_documents import IndexDocument

log = structlog.get_logger("hubben.search")

T = TypeVar("T")

PRIMARY_KEY = "uid"
LANGUAGES = tuple(STEMMERS)  # sv, en
SEARCH_ON = ["title", "title_stems", "text", "text_stems"]
SUGGEST_ON = ["title", "title_stems", "title_prefixes"]
RETRIEVE = ["type", "id", "lang", "title", "text"]
LOCALES = ["swe"]  # å, ä and ö stay letters of their own
MAX_COMBINATIONS = 8  # queries per language for one search
MAX_VALUES_PER_FACET = 500  # counted per facet before we keep the top FACET_SIZES
TASK_TIMEOUT_MS = 300_000
TASK_POLL_MS = 25
HTTP_TIMEOUT_SECONDS = 60

SETTINGS: dict[str, Any] = {
    # `sort` first: "newest" and "event_start" order by date alone; relevance searches send no sort.
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    # title_prefixes last: only suggestions search it (attributesToSearchOn).
    "searchableAttributes": [*SEARCH_ON, "title_prefixes"],
    "filterableAttributes": [
        "type",
        "tag",
        "county",
        "municipality",
        "org_kind",
        "area",
        "status",
        "technique",
        "audience",
        "hub",
        "author",
        "key",
        "lang",
        "starts",
        "ends",
    ],
    "sortableAttributes": ["created", "starts"],
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        # Stems match exactly, as Tantivy's stem fields do.
        "disableOnAttributes": ["title_stems", "text_stems"],
    },
    "localizedAttributes": [{"attributePatterns": ["*"], "locales": LOCALES}],
    "faceting": {"maxValuesPerFacet": MAX_VALUES_PER_FACET, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": MAX_DEPTH},
}


class MeiliTaskError(RuntimeError):
    """A Meilisearch task failed or was cancelled."""


# --- documents ---------------------------------------------------------------------------------


def document_uid(key: str) -> str:
    """`post:12` → `post-12`."""
    return key.replace(":", "-")


def prefixes(text: str) -> list[str]:
    """Every beginning of every word, once: `Kraft AI` → k kr kra kraf kraft a ai."""
    out: dict[str, None] = {}
    for word in words(text):
        for end in range(1, len(word) + 1):
            out[word[:end]] = None
    return list(out)


def document(doc: IndexDocument) -> dict[str, Any]:
    fields = fields_of(doc)
    lang = fields["lang"]
    return {
        PRIMARY_KEY: document_uid(doc.key),
        **fields,
        "title_stems": " ".join(stems(doc.title, lang)),
        "text_stems": " ".join(stems(fields["text"], lang)),
        "title_prefixes": " ".join(prefixes(doc.title)),
    }


# --- filters -------------------------------------------------------------------------------------


def quote(value: str) -> str:
    """A string value of a filter expression, in double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else quote(value)


def any_of(field: str, values: Iterable[str | int]) -> str:
    return f"{field} IN [{', '.join(_value(v) for v in values)}]"


def visibility(scope: Scope) -> list[str]:
    """Mirrors tantivy_engine.visibility: public documents for anyone; members-only for
    members; hub-members documents for the hub's members; never of or by a blocked
    member, nor posts and events by a muted one. The clauses are ANDed."""
    if scope.member_id is None:
        return ['audience = "public"']
    may = [any_of("audience", ("public", "members")), f"author = {scope.member_id}"]
    if scope.hub_ids:
        may.append(f'(audience = "hub_members" AND {any_of("hub", scope.hub_ids)})')
    clauses = [f"({' OR '.join(may)})"]
    # NOT keeps documents without the field, as Tantivy's MustNot does.
    if scope.blocked_ids:
        clauses.append(f"NOT ({any_of('author', scope.blocked_ids)})")
    if scope.muted_ids:
        clauses.append(f"NOT ({any_of('author', scope.muted_ids)} AND {any_of('type', AUTHORED_TYPES)})")
    return clauses


def filter_clauses(f: Filters, sort: SearchSort) -> list[str] | None:
    """Mirrors tantivy_engine._filters; None when nothing can match."""
    types = types_to_search(f, sort)
    if types is None:
        return None
    clauses: list[str] = []
    for field, values in value_filters(f, types):
        if values:
            clauses.append(any_of(field, values))
    # Starts in [starts_from, starts_before); documents without a start are not events.
    if f.starts_from is not None:
        clauses.append(f"starts >= {seconds(f.starts_from)}")
    if f.starts_before is not None:
        clauses.append(f"starts < {seconds(f.starts_before)}")
    if f.ends_after is not None:
        # Not an event, or an event that has not ended.
        clauses.append(f"(ends NOT EXISTS OR ends >= {seconds(f.ends_after)})")
    return clauses


def filter_of(plan: Plan) -> str | None:
    """The plan's visibility and filters as one expression; None when nothing can match."""
    clauses = filter_clauses(plan.filters, plan.sort)
    if clauses is None:
        return None
    return " AND ".join(visibility(plan.scope) + clauses)


def sort_of(plan: Plan) -> list[str] | None:
    if plan.sort == SearchSort.newest or (plan.sort == SearchSort.relevance and not plan.words):
        return ["created:desc"]
    if plan.sort == SearchSort.event_start:
        return ["starts:asc"]
    return None


# --- words ---------------------------------------------------------------------------------------


def forms(word: str, language: str, *, prefix: bool) -> tuple[str, ...]:
    """The query terms that find `word` in documents of `language`: the word itself
    (typos, and a prefix if it may be one) and its stem as an exact one-word phrase."""
    stemmed = stem(word, language)
    if stemmed == word:
        return (word,)
    exact = f'"{stemmed}"'  # stems are letters and digits only
    if typo_budget(word) == 0 and not prefix:
        return (exact,)  # the word itself would only match exactly, and its stem is in any document holding it
    return (word, exact)


def _capped(per_word: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Keep the number of combinations within MAX_COMBINATIONS: the earliest words that
    branch keep only their stem (the last word, usually being typed, keeps its prefix)."""
    out = list(per_word)
    for i, options in enumerate(out):
        if math.prod(len(o) for o in out) <= MAX_COMBINATIONS:
            break
        if len(options) > 1:
            out[i] = options[-1:]
    return out


def alternatives(plan_words: Sequence[str], *, all_prefix: bool = False) -> list[tuple[str, str | None]]:
    """The queries (q, language or None for every language) whose union finds what the
    words find: every combination of each word's forms, per document language."""
    if not plan_words:
        return [("", None)]
    last = len(plan_words) - 1
    by_language: dict[str, list[str]] = {}
    for language in LANGUAGES:
        per_word = [forms(w, language, prefix=all_prefix or i == last) for i, w in enumerate(plan_words)]
        by_language[language] = list(dict.fromkeys(" ".join(c) for c in product(*_capped(per_word))))
    everywhere = set.intersection(*(set(qs) for qs in by_language.values()))
    out: list[tuple[str, str | None]] = []
    for language, queries in by_language.items():
        for q in queries:
            if q not in everywhere:
                out.append((q, language))
            elif (q, None) not in out:
                out.append((q, None))
    return out


# --- one search ----------------------------------------------------------------------------------


def search_request(plan: Plan, index_uid: str) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The federated multi-search (queries, federation) that executes the plan; None when
    the filters can match nothing."""
    base = filter_of(plan)
    if base is None:
        return None
    sort = sort_of(plan)
    queries: list[dict[str, Any]] = []
    for q, language in alternatives(plan.words, all_prefix=plan.titles_only):
        query: dict[str, Any] = {
            "indexUid": index_uid,
            "q": q,
            "filter": base if language is None else f"{base} AND lang = {quote(language)}",
            "matchingStrategy": "all",
            "attributesToSearchOn": SUGGEST_ON if plan.titles_only else SEARCH_ON,
            "attributesToRetrieve": RETRIEVE,
            "locales": LOCALES,
        }
        if sort:
            query["sort"] = sort
        queries.append(query)
    federation: dict[str, Any] = {"offset": plan.offset, "limit": plan.limit}
    if plan.facets:
        federation["facetsByIndex"] = {index_uid: list(FACET_FIELDS.values())}
    return queries, federation


def facets_of(distribution: Mapping[str, Mapping[str, int]]) -> dict[str, list[FacetValue]]:
    """Meilisearch's facetDistribution under our facet names, most frequent first."""
    out: dict[str, list[FacetValue]] = {}
    for name, size in FACET_SIZES.items():
        counts = distribution.get(FACET_FIELDS[name], {})
        ranked = sorted(counts.items(), key=lambda vc: (-int(vc[1]), str(vc[0])))
        out[name] = [FacetValue(value=str(v), count=int(c)) for v, c in ranked[:size]]
    return out


def answer_of(response: Mapping[str, Any], index_uid: str, *, facets: bool) -> Answer:
    """A federated search response as the engine's answer."""
    found = [
        Found(
            type=str(hit["type"]),
            id=int(hit["id"]),
            language=str(hit.get("lang") or "sv"),
            title=str(hit.get("title") or ""),
            text=str(hit.get("text") or ""),
        )
        for hit in response.get("hits", [])
    ]
    total = int(response.get("totalHits", response.get("estimatedTotalHits", 0)) or 0)
    values = None
    if facets:
        by_index = response.get("facetsByIndex") or {}
        distribution = (by_index.get(index_uid) or {}).get("distribution") or response.get("facetDistribution") or {}
        values = facets_of(distribution)
    return Answer(found=found, total=total, facets=values)


def nothing(plan: Plan) -> Answer:
    return Answer(found=[], total=0, facets={name: [] for name in FACET_SIZES} if plan.facets else None)


# --- tasks ---------------------------------------------------------------------------------------


def check_task(task: Task, *, allow: Iterable[str] = ()) -> None:
    """Raise unless the task succeeded (or failed with one of the `allow`ed error codes)."""
    if task.status == "succeeded":
        return
    error = task.error or {}
    if task.status == "failed" and error.get("code") in set(allow):
        return
    raise MeiliTaskError(
        f"Meilisearch task {task.uid} ({task.type} on {task.index_uid}) {task.status}: "
        f"{error.get('code', '')} {error.get('message', '')}".rstrip()
    )


class MeiliEngine:
    name = "meilisearch"

    def __init__(self, url: str, api_key: str, index: str) -> None:
        self.client = meilisearch.Client(url, api_key or None, timeout=HTTP_TIMEOUT_SECONDS)
        self.index_uid = index
        self._ready = False
        self._ready_lock = asyncio.Lock()

    # --- plumbing -------------------------------------------------------------------------------

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.to_thread(call)

    def _wait(self, info: TaskInfo, *, allow: Iterable[str] = ()) -> None:
        check_task(self.client.wait_for_task(info.task_uid, TASK_TIMEOUT_MS, TASK_POLL_MS), allow=allow)

    def _create(self, uid: str) -> None:
        """The index with our primary key and settings (an existing one keeps its documents)."""
        self._wait(self.client.create_index(uid, {"primaryKey": PRIMARY_KEY}), allow=("index_already_exists",))
        self._wait(self.client.index(uid).update_settings(dict(SETTINGS)))

    async def _ensure(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self._run(lambda: self._create(self.index_uid))
                self._ready = True

    async def _write(self, uid: str, call: Callable[[Index], TaskInfo]) -> None:
        await self._run(lambda: self._wait(call(self.client.index(uid))))

    # --- writes ---------------------------------------------------------------------------------

    async def _add(self, uid: str, docs: Sequence[IndexDocument]) -> None:
        payload = [document(d) for d in docs]
        await self._write(uid, lambda index: index.add_documents(payload, primary_key=PRIMARY_KEY))

    async def _delete(self, uid: str, keys: Sequence[str]) -> None:
        expression = any_of("key", list(dict.fromkeys(keys)))
        await self._write(uid, lambda index: index.delete_documents(filter=expression))

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        if docs:
            await self._ensure()
            await self._add(self.index_uid, docs)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self._ensure()
            await self._delete(self.index_uid, keys)

    async def clear(self) -> None:
        await self._ensure()
        await self._write(self.index_uid, lambda index: index.delete_all_documents())

    # --- reads ----------------------------------------------------------------------------------

    def _search(self, plan: Plan) -> Answer:
        request = search_request(plan, self.index_uid)
        if request is None:
            return nothing(plan)
        queries, federation = request
        response = cast(dict[str, Any], self.client.multi_search(queries, federation=federation))
        return answer_of(response, self.index_uid, facets=plan.facets)

    async def search(self, plan: Plan) -> Answer:
        await self._ensure()
        return await self._run(lambda: self._search(plan))

    async def count(self) -> int:
        await self._ensure()
        stats = await self._run(lambda: self.client.index(self.index_uid).get_stats())
        return int(stats.number_of_documents)

    async def stale(self) -> bool:
        """Never: the index's settings are brought up to date when it is first used, and the
        documents it holds keep their fields."""
        return False

    # --- reindex --------------------------------------------------------------------------------

    async def build(self, generation: str) -> MeiliBuild:
        uid = f"{self.index_uid}_{generation}"

        def prepare() -> None:
            # Left over from a build that died: start empty.
            self._wait(self.client.delete_index(uid), allow=("index_not_found",))
            self._create(uid)

        await self._run(prepare)
        return MeiliBuild(self, generation, uid)

    async def close(self) -> None:
        """The client holds no connections between requests."""


class MeiliBuild:
    """A new index `<index>_<generation>` with the same settings, swapped in when complete."""

    def __init__(self, engine: MeiliEngine, generation: str, uid: str) -> None:
        self.engine = engine
        self.generation = generation
        self.uid = uid

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        if docs:
            await self.engine._add(self.uid, docs)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self.engine._delete(self.uid, keys)

    async def commit(self) -> None:
        """Nothing to do: every write above waited for its task."""

    async def swap(self) -> None:
        engine = self.engine
        await engine._ensure()  # both indexes must exist to be swapped
        live, new = engine.index_uid, self.uid
        await engine._run(lambda: engine._wait(engine.client.swap_indexes([{"indexes": [live, new]}])))
        # The build's uid now names the previous documents.
        await engine._run(lambda: engine._wait(engine.client.delete_index(new), allow=("index_not_found",)))
        log.info("search.swapped", engine=engine.name, index=live, generation=self.generation)

    async def abort(self) -> None:
        engine = self.engine
        await engine._run(lambda: engine._wait(engine.client.delete_index(self.uid), allow=("index_not_found",)))
