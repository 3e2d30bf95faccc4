from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, page_request
from services.gateway.graphql.organisations.types import Organisation, OrganisationKind
from services.graph import contracts as gc
from services.graph.contracts import SLUG_RE
from shared.errors import BadUserInput, NotFound
from shared.geo import counties, municipalities


@strawberry.type
class OrganisationQuery:
    @strawberry.field
    async def organisation(self, info: Info, slug: str) -> Organisation | None:
        if len(slug) > 60:
            raise BadUserInput("slugs are at most 60 characters", field="slug")
        if not SLUG_RE.match(slug.strip().lower()):
            return None  # no organisation has this slug, and it must not reach the service's URL path
        try:
            return Organisation.from_out(await info.context.graph.organisation_by_slug(info.context.viewer, slug))
        except NotFound:
            return None

    @strawberry.field(description="Organisations in the order they joined Hubben, filtered by kind and place.")
    async def organisations(
        self,
        info: Info,
        kind: OrganisationKind | None = None,  # type: ignore[valid-type]
        county_code: str | None = None,
        municipality_code: str | None = None,
        verified: bool | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Organisation]:
        if county_code is not None and county_code not in counties():
            raise BadUserInput("unknown county code", field="countyCode")
        if municipality_code is not None and municipality_code not in municipalities():
            raise BadUserInput("unknown municipality code", field="municipalityCode")
        flt = gc.OrganisationFilter(
            kind=kind.value if kind else None,
            county_code=county_code,
            municipality_code=municipality_code,
            verified=verified,
        )
        page = await info.context.graph.organisations(
            info.context.viewer, flt, page_request(first, after, last, before)
        )
        return connection(page, [Organisation.from_out(o) for o in page.items])
