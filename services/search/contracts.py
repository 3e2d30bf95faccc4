"""The search service's API: what goes in and comes out."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from services.feed.contracts import FieldValueError
from services.graph.contracts import InitiativeArea, InitiativeStatus, OrganisationKind, Technique
from shared.geo import counties, municipalities
from shared.search_documents import DocType

MAX_QUERY_CHARS = 512
MAX_PAGE = 50
# Deeper than this a search is refined, not paged (Meilisearch's maxTotalHits is 1,000 too).
MAX_DEPTH = 1000
MAX_FILTER_VALUES = 50


class SearchSort(StrEnum):
    relevance = "relevance"
    newest = "newest"
    event_start = "event_start"  # events only, soonest first


def _codes(values: list[str], known: Container[str], what: str) -> list[str]:
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown[:5])}")
    return list(dict.fromkeys(values))


class SearchFilters(BaseModel):
    """Within one filter any value matches; across filters all must."""

    types: list[DocType] = Field(default_factory=list, max_length=len(DocType))
    county_codes: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    municipality_codes: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    organisation_kinds: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    hub_ids: list[int] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    tags: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    # Initiatives only: a document without an area, status or technique never matches these.
    areas: list[InitiativeArea] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    statuses: list[InitiativeStatus] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    # Normalised as the graph stores them (lower case, one space between words, no "#").
    techniques: list[Technique] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    # Events starting in [starts_from, starts_before). Without either, only events that
    # have not ended yet are found, unless include_past.
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    include_past: bool = False

    @field_validator("county_codes")
    @classmethod
    def _counties(cls, v: list[str]) -> list[str]:
        return _codes(v, counties(), "county code")

    @field_validator("municipality_codes")
    @classmethod
    def _municipalities(cls, v: list[str]) -> list[str]:
        return _codes(v, municipalities(), "municipality code")

    @field_validator("organisation_kinds")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        return _codes(v, {k.value for k in OrganisationKind}, "organisation kind")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        tags = [t.strip().lower().lstrip("#") for t in v]
        if any(not t or len(t) > 40 for t in tags):
            raise ValueError("tags are 1 to 40 characters")
        return list(dict.fromkeys(tags))

    @field_validator("areas", "statuses", "techniques")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _range(self) -> SearchFilters:
        if self.starts_from and self.starts_before and self.starts_before <= self.starts_from:
            raise FieldValueError("startsBefore must be after startsFrom", "startsBefore")
        for when, name in ((self.starts_from, "startsFrom"), (self.starts_before, "startsBefore")):
            if when is not None and when.tzinfo is None:
                raise FieldValueError("give a time zone (e.g. 2026-12-01T00:00:00+01:00)", name)
        return self


def _text(value: object) -> object:
    """Halves of surrogate pairs (which no text can hold) are dropped, not refused."""
    if isinstance(value, str):
        return "".join(ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF)
    return value


Text = Annotated[str, BeforeValidator(_text)]


class SearchIn(BaseModel):
    query: Text = Field(default="", max_length=MAX_QUERY_CHARS)
    filters: SearchFilters = Field(default_factory=SearchFilters)
    sort: SearchSort = SearchSort.relevance
    first: int = Field(default=20, ge=1, le=MAX_PAGE)
    after: str | None = Field(default=None, max_length=100)
    facets: bool = False
    # Mark the matching words in titles and snippets (like Meilisearch's attributesToHighlight,
    # asked for when wanted: it costs more than the search itself on long texts).
    highlight: bool = False


class Snippet(BaseModel):
    """A piece of text with the spans [start, end) that matched the query."""

    text: str
    highlights: list[tuple[int, int]] = Field(default_factory=list)


class SearchHit(BaseModel):
    type: DocType
    id: int
    cursor: str  # continue after this hit
    title: Snippet
    text: Snippet


class FacetValue(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    """Counts over everything the search found (all filters applied)."""

    types: list[FacetValue] = Field(default_factory=list)
    county_codes: list[FacetValue] = Field(default_factory=list)
    organisation_kinds: list[FacetValue] = Field(default_factory=list)
    tags: list[FacetValue] = Field(default_factory=list)
    areas: list[FacetValue] = Field(default_factory=list)
    statuses: list[FacetValue] = Field(default_factory=list)
    techniques: list[FacetValue] = Field(default_factory=list)


class SearchOut(BaseModel):
    hits: list[SearchHit]
    total: int  # documents found, counted up to MAX_DEPTH (and then "more than")
    offset: int
    end_cursor: str | None  # continue after this page; None when there is no more
    facets: Facets | None = None


class SuggestIn(BaseModel):
    prefix: Text = Field(min_length=1, max_length=100)
    types: list[DocType] = Field(default_factory=list, max_length=len(DocType))
    first: int = Field(default=8, ge=1, le=20)


class Suggestion(BaseModel):
    type: DocType
    id: int
    title: Snippet


class SuggestOut(BaseModel):
    suggestions: list[Suggestion]


class ReindexOut(BaseModel):
    generation: str
    documents: int
    pending_applied: int
