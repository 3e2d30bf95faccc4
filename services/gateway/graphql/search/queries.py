from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types.nodes import SelectedField

from services.gateway.context import Info
from services.gateway.graphql.base import PageInfo, contract_input, decode_id
from services.gateway.graphql.initiatives.types import InitiativeArea, InitiativeStatus
from services.gateway.graphql.organisations.types import OrganisationKind
from services.gateway.graphql.search.types import (
    Highlight,
    SearchEdge,
    SearchFacets,
    SearchResults,
    SearchSort,
    SearchSuggestion,
    SearchType,
    load_results,
)
from services.search import contracts as sc
from shared.errors import BadUserInput


@strawberry.input(description="Refine a search; within one filter any value matches, across filters all must.")
class SearchFilter:
    types: list[SearchType] | None = None  # type: ignore[valid-type]
    county_codes: list[str] | None = None
    municipality_codes: list[str] | None = None
    organisation_kinds: list[OrganisationKind] | None = None  # type: ignore[valid-type]
    hub_ids: list[strawberry.ID] | None = None
    tags: list[str] | None = None
    areas: list[InitiativeArea] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Initiatives in any of these areas."
    )
    statuses: list[InitiativeStatus] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Initiatives in any of these statuses."
    )
    techniques: list[str] | None = strawberry.field(
        default=None, description="Initiatives using any of these AI techniques (as lower-case tags; case is ignored)."
    )
    starts_from: datetime | None = strawberry.field(default=None, description="Events starting at or after.")
    starts_before: datetime | None = strawberry.field(default=None, description="Events starting before.")
    include_past: bool = strawberry.field(
        default=False, description="Also events that have ended (without a date range only upcoming ones are found)."
    )


def _filters(f: SearchFilter | None) -> sc.SearchFilters:
    if f is None:
        return sc.SearchFilters()
    if f.hub_ids is not None and len(f.hub_ids) > sc.MAX_FILTER_VALUES:
        raise BadUserInput(f"at most {sc.MAX_FILTER_VALUES} hubs", field="hubIds")
    return sc.SearchFilters(
        types=[t.value for t in f.types or []],
        county_codes=f.county_codes or [],
        municipality_codes=f.municipality_codes or [],
        organisation_kinds=[k.value for k in f.organisation_kinds or []],
        hub_ids=[decode_id(h, "Hub", "hubIds") for h in f.hub_ids or []],
        tags=f.tags or [],
        areas=[a.value for a in f.areas or []],
        statuses=[s.value for s in f.statuses or []],
        techniques=f.techniques or [],
        starts_from=f.starts_from,
        starts_before=f.starts_before,
        include_past=f.include_past,
    )


def _selected(info: Info, *path: str) -> set[str]:
    """The names of the fields selected under `path` (e.g. "edges") in this field's selection."""
    level = [s for f in info.selected_fields for s in f.selections if isinstance(s, SelectedField)]
    for name in path:
        level = [s for f in level if f.name == name for s in f.selections if isinstance(s, SelectedField)]
    return {s.name for s in level}


def _check_page(first: int, after: str | None) -> None:
    if not 1 <= first <= sc.MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {sc.MAX_PAGE}", field="first")
    if after is not None and len(after) > 100:
        raise BadUserInput("malformed cursor", field="after")


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Search members, organisations, hubs, initiatives, posts and events. The query is plain words "
        "(Swedish and English stemming by each document's language; typos forgiven from 5 letters; the "
        f"last word may be the start of one); at most {sc.MAX_QUERY_CHARS} characters."
    )
    async def search(
        self,
        info: Info,
        query: str = "",
        filter: SearchFilter | None = None,
        sort: SearchSort = sc.SearchSort.relevance,  # type: ignore[valid-type, assignment]
        first: int = 20,
        after: str | None = None,
    ) -> SearchResults:
        if len(query) > sc.MAX_QUERY_CHARS:
            raise BadUserInput(f"queries are at most {sc.MAX_QUERY_CHARS} characters", field="query")
        _check_page(first, after)
        data = contract_input(
            lambda: sc.SearchIn(
                query=query,
                filters=_filters(filter),
                sort=sc.SearchSort(sort.value),
                first=first,
                after=after,
                facets="facets" in _selected(info),
                highlight=bool({"title", "snippet"} & _selected(info, "edges")),
            )
        )
        out = await info.context.search.search(info.context.viewer, data)
        nodes = await load_results(info, out.hits)
        edges = [
            SearchEdge(cursor=h.cursor, node=n, title=Highlight.from_out(h.title), snippet=Highlight.from_out(h.text))
            for h, n in zip(out.hits, nodes, strict=True)
            if n is not None
        ]
        return SearchResults(
            edges=edges,
            page_info=PageInfo(
                has_next_page=out.end_cursor is not None,
                has_previous_page=out.offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=out.end_cursor,
            ),
            total_count=out.total,
            facets=SearchFacets.from_out(out.facets) if out.facets is not None else None,
        )

    @strawberry.field(description="Names and titles beginning with what was typed, for search-as-you-type.")
    async def search_suggestions(
        self,
        info: Info,
        prefix: str,
        types: list[SearchType] | None = None,  # type: ignore[valid-type]
        first: Annotated[int, strawberry.argument(description="At most 20.")] = 8,
    ) -> list[SearchSuggestion]:
        if not 1 <= len(prefix) <= 100:
            raise BadUserInput("a prefix is 1 to 100 characters", field="prefix")
        if not 1 <= first <= 20:
            raise BadUserInput("first must be between 1 and 20", field="first")
        data = contract_input(lambda: sc.SuggestIn(prefix=prefix, types=[t.value for t in types or []], first=first))
        out = await info.context.search.suggest(info.context.viewer, data)
        nodes = await load_results(info, out.suggestions)
        return [
            SearchSuggestion(node=n, title=Highlight.from_out(s.title))
            for s, n in zip(out.suggestions, nodes, strict=True)
            if n is not None
        ]


__all__ = ["SearchQuery"]
