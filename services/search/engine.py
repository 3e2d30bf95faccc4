"""The one contract both search engines keep (Tantivy embedded, Meilisearch in
production): what a search asks of an engine, and what the engine answers. The service
turns an API request into a `Plan` (words already split, filters checked, the viewer's
scope fetched) and the engine only executes it, so both engines find the same things."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.search.contracts import FacetValue, SearchSort
from shared.search_documents import IndexDocument

# Meilisearch reads at most 10 words of a query; so do we, on both engines.
MAX_QUERY_WORDS = 10
FACET_SIZES = {
    "types": 10,
    "county_codes": 25,
    "organisation_kinds": 10,
    "tags": 20,
    "areas": 20,
    "statuses": 10,
    "techniques": 20,
}
# Each facet's field in both engines' indexes.
FACET_FIELDS = {
    "types": "type",
    "county_codes": "county",
    "organisation_kinds": "org_kind",
    "tags": "tag",
    "areas": "area",
    "statuses": "status",
    "techniques": "technique",
}
EVENT_TYPES = ("event",)
# Posts and events by muted members are left out; muted members themselves are not.
AUTHORED_TYPES = ("post", "event")


def micros(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def seconds(when: datetime) -> int:
    return int(when.timestamp())


def fields_of(doc: IndexDocument) -> dict[str, Any]:
    """A document as both engines store and filter it, under the same field names: `text`
    carries the tags too, so they are found as words; times are integers (`created` in
    microseconds for newest-first, `starts`/`ends` in seconds for events). An initiative's
    techniques are words of `text` too, and its own `technique` values (not `tag`)."""
    fields: dict[str, Any] = {
        "key": doc.key,
        "type": doc.type.value,
        "id": doc.id,
        "lang": doc.language.value,
        "title": doc.title,
        "text": "\n".join([doc.text, *doc.tags, *doc.techniques]) if doc.tags or doc.techniques else doc.text,
        "tag": [t.lower() for t in doc.tags],
        "county": doc.county_codes,
        "municipality": doc.municipality_codes,
        "audience": doc.audience.value,
        "created": micros(doc.created_at),
    }
    if doc.organisation_kind:
        fields["org_kind"] = doc.organisation_kind
    if doc.area:
        fields["area"] = doc.area
    if doc.status:
        fields["status"] = doc.status
    if doc.techniques:
        fields["technique"] = [t.lower() for t in doc.techniques]
    for name, value in (("hub", doc.hub_id), ("author", doc.author_id), ("org", doc.organisation_id)):
        if value is not None:
            fields[name] = value
    if doc.starts_at is not None:
        fields["starts"] = seconds(doc.starts_at)
    if doc.ends_at is not None:
        fields["ends"] = seconds(doc.ends_at)
    return fields


def typo_budget(word: str) -> int:
    """Meilisearch's default typo tolerance: none below 5 characters, one from 5, two from 9."""
    n = len(word)
    return 2 if n >= 9 else 1 if n >= 5 else 0


@dataclass(frozen=True)
class Scope:
    """Who is searching: anonymous (member_id None) or a member with what they may see."""

    member_id: int | None = None
    hub_ids: tuple[int, ...] = ()
    blocked_ids: tuple[int, ...] = ()
    muted_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Filters:
    types: tuple[str, ...] = ()
    county_codes: tuple[str, ...] = ()
    municipality_codes: tuple[str, ...] = ()
    organisation_kinds: tuple[str, ...] = ()
    hub_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    # Initiatives' area, status and techniques (other documents have none, so never match).
    areas: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    # Events that ended before this are left out (None: past events too).
    ends_after: datetime | None = None


def value_filters(f: Filters, types: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...] | tuple[int, ...]], ...]:
    """(index field, values) of every filter that matches one of its values: the same fields on
    both engines. Empty values filter nothing."""
    return (
        ("type", types),
        ("county", f.county_codes),
        ("municipality", f.municipality_codes),
        ("org_kind", f.organisation_kinds),
        ("hub", f.hub_ids),
        ("tag", f.tags),
        ("area", f.areas),
        ("status", f.statuses),
        ("technique", f.techniques),
    )


def types_to_search(filters: Filters, sort: SearchSort) -> tuple[str, ...] | None:
    """The document types a plan searches (empty: every type). Sorting by event start finds
    events only; None when the types asked for leave nothing to find."""
    if sort != SearchSort.event_start:
        return filters.types
    types = tuple(t for t in filters.types if t in EVENT_TYPES) if filters.types else EVENT_TYPES
    return types or None


@dataclass(frozen=True)
class Plan:
    words: tuple[str, ...]  # lower-cased words of the query, at most MAX_QUERY_WORDS; the last may be a prefix
    filters: Filters = field(default_factory=Filters)
    scope: Scope = field(default_factory=Scope)
    sort: SearchSort = SearchSort.relevance
    offset: int = 0
    limit: int = 20
    facets: bool = False
    titles_only: bool = False  # suggestions: match names and titles only, every word as a prefix


@dataclass(frozen=True)
class Found:
    """One document found, with the stored text the service highlights."""

    type: str
    id: int
    language: str
    title: str
    text: str


@dataclass
class Answer:
    found: list[Found]
    total: int
    facets: dict[str, list[FacetValue]] | None = None


class Writable(Protocol):
    """What a refresh writes to: the live index, or one being built."""

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Add or replace documents by key."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove documents by key."""


class IndexBuild(Protocol):
    """A new, empty index being filled by a reindex, swapped in when complete."""

    generation: str

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Add or replace documents (by key) in the new index (not visible to searches yet)."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove documents by key from the new index."""

    async def commit(self) -> None:
        """Make everything added so far durable in the new index."""

    async def swap(self) -> None:
        """Make the new index the live one, atomically for every reader."""

    async def abort(self) -> None:
        """Throw the new index away."""


class SearchEngine(Protocol):
    name: str

    async def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Add or replace documents (by key) in the live index; searchable on return."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove documents by key; gone from searches on return."""

    async def search(self, plan: Plan) -> Answer:
        """Execute the plan: visibility and filters always apply, then the words."""

    async def count(self) -> int:
        """Documents in the live index."""

    async def stale(self) -> bool:
        """Whether the live index was started afresh (its schema changed with a new version)
        and needs a reindex to hold the owners' documents again."""

    async def clear(self) -> None:
        """Remove every document from the live index (tests start from an empty one)."""

    async def build(self, generation: str) -> IndexBuild:
        """Start a new index for a reindex."""

    async def close(self) -> None:
        """Release the engine's files or connections."""
