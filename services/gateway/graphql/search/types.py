"""Search results: members, organisations, hubs, initiatives, posts and events in one list,
each with its highlighted title and a snippet, plus facet counts for refining the search."""

from __future__ import annotations

import asyncio
import html
from typing import Annotated, Any

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import PageInfo, graphql_enum
from services.gateway.graphql.feed.types import Event, Post
from services.gateway.graphql.hubs.types import Hub
from services.gateway.graphql.initiatives.types import Initiative
from services.gateway.graphql.members.types import Language, Member
from services.gateway.graphql.organisations.types import Organisation
from services.graph.contracts import AREAS, STATUSES, Term, label
from services.search import contracts as sc
from shared.geo import counties
from shared.search_documents import DocType

SearchType = graphql_enum(DocType, "SearchType", "What a search result is.")
SearchSort = graphql_enum(
    sc.SearchSort,
    "SearchSort",
    "RELEVANCE (newest first without words), NEWEST, or EVENT_START (events, soonest first).",
)
# Initiative is imported, not a strawberry.lazy reference: this strawberry cannot resolve a
# lazy type inside a union.
SearchResult = Annotated[Member | Organisation | Hub | Initiative | Post | Event, strawberry.union("SearchResult")]
SV = Language("sv")


@strawberry.type(description="A span of a text that matched the search, in characters: [start, end).")
class HighlightRange:
    start: int
    end: int


@strawberry.type(description="A text with the words that matched the search marked.")
class Highlight:
    text: str
    ranges: list[HighlightRange]

    @strawberry.field(description="The text as HTML, escaped, with matches in <mark> elements.")
    def html(self) -> str:
        out, at = [], 0
        for r in self.ranges:
            out += [html.escape(self.text[at : r.start]), "<mark>", html.escape(self.text[r.start : r.end]), "</mark>"]
            at = r.end
        out.append(html.escape(self.text[at:]))
        return "".join(out)

    @classmethod
    def from_out(cls, s: sc.Snippet) -> Highlight:
        return cls(text=s.text, ranges=[HighlightRange(start=a, end=b) for a, b in s.highlights])


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchResult
    title: Highlight = strawberry.field(description="The name or title, with matches marked.")
    snippet: Highlight = strawberry.field(description="About 200 characters of the text around the matches.")


@strawberry.type(description="How many results have this value.")
class FacetCount:
    value: str
    count: int
    label: str | None = strawberry.field(
        default=None, description="A readable name (counties; areas and statuses in the language asked for)."
    )


@strawberry.type(description="Counts over every result of the search, for refining it.")
class SearchFacets:
    types: list[FacetCount]
    counties: list[FacetCount]
    organisation_kinds: list[FacetCount]
    tags: list[FacetCount]
    techniques: list[FacetCount] = strawberry.field(description="Initiatives' AI techniques.")
    out: strawberry.Private[sc.Facets]

    @strawberry.field(description="Initiatives' areas of activity (values are InitiativeArea names).")
    def areas(self, language: Language = SV) -> list[FacetCount]:  # type: ignore[valid-type]
        return _labelled(self.out.areas, AREAS, language)

    @strawberry.field(description="Initiatives' statuses (values are InitiativeStatus names).")
    def statuses(self, language: Language = SV) -> list[FacetCount]:  # type: ignore[valid-type]
        return _labelled(self.out.statuses, STATUSES, language)

    @classmethod
    def from_out(cls, f: sc.Facets) -> SearchFacets:
        names = counties()

        def county(v: sc.FacetValue) -> FacetCount:
            c = names.get(v.value)
            return FacetCount(value=v.value, count=v.count, label=c.name if c else None)

        return cls(
            types=[FacetCount(value=v.value.upper(), count=v.count) for v in f.types],
            counties=[county(v) for v in f.county_codes],
            organisation_kinds=[FacetCount(value=v.value.upper(), count=v.count) for v in f.organisation_kinds],
            tags=[FacetCount(value=v.value, count=v.count) for v in f.tags],
            techniques=[FacetCount(value=v.value, count=v.count) for v in f.techniques],
            out=f,
        )


def _labelled(values: list[sc.FacetValue], terms: tuple[Term, ...], language: object) -> list[FacetCount]:
    lang = getattr(language, "value", "sv")
    return [FacetCount(value=v.value.upper(), count=v.count, label=label(terms, v.value, lang)) for v in values]


@strawberry.type(description="A page of search results.")
class SearchResults:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Results found (counted up to 1,000).")
    facets: SearchFacets | None = strawberry.field(description="Present when asked for in the query.")

    @strawberry.field
    def nodes(self) -> list[SearchResult]:
        return [e.node for e in self.edges]


@strawberry.type(description="A name or title that begins with what was typed.")
class SearchSuggestion:
    node: SearchResult
    title: Highlight


async def load_results(info: Info, hits: list[Any]) -> list[Any]:
    """The hits' objects through the per-request loaders, which apply each owner's own
    visibility once more; a hit its owner no longer shows is None."""
    loaders = info.context.loaders
    loading: dict[DocType, tuple[Any, Any]] = {
        DocType.member: (loaders.member, Member),
        DocType.organisation: (loaders.organisation, Organisation),
        DocType.hub: (loaders.hub, Hub),
        DocType.post: (loaders.post, Post),
        DocType.event: (loaders.event, Event),
        DocType.initiative: (loaders.initiative, Initiative),
    }

    async def one(hit: Any) -> Any:
        loader, kind = loading[hit.type]
        found = await loader.load(hit.id)
        return kind.from_out(found) if found is not None else None

    # Together, so each loader fetches its type in one batch.
    return list(await asyncio.gather(*(one(hit) for hit in hits)))
