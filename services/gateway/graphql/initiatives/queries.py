from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, contract_input, decode_id, page_request
from services.gateway.graphql.initiatives.types import (
    CountyCount,
    Initiative,
    InitiativeArea,
    InitiativeAreaEntry,
    InitiativeMap,
    InitiativeStatus,
    InitiativeStatusEntry,
    MunicipalityCount,
)
from services.gateway.graphql.members.types import County, Municipality
from services.graph import contracts as gc
from services.graph.contracts import AREAS, STATUSES
from shared.auth import ANONYMOUS
from shared.errors import BadUserInput
from shared.geo import municipalities
from shared.pagination import PageRequest


@strawberry.input(description="Narrow initiatives down; every filter given must hold.")
class InitiativeFilter:
    area: InitiativeArea | None = None  # type: ignore[valid-type]
    status: InitiativeStatus | None = None  # type: ignore[valid-type]
    technique: str | None = strawberry.field(default=None, description="One AI technique, e.g. språkmodeller.")
    county_code: str | None = None
    municipality_code: str | None = None
    organisation_id: strawberry.ID | None = None


@strawberry.input(description="The map's filters.")
class InitiativeMapFilter:
    area: InitiativeArea | None = None  # type: ignore[valid-type]
    status: InitiativeStatus | None = None  # type: ignore[valid-type]
    technique: str | None = None


def _map_filter(f: InitiativeMapFilter | None, by: str = "municipality") -> gc.InitiativeCountsFilter:
    f = f or InitiativeMapFilter()
    return contract_input(
        lambda: gc.InitiativeCountsFilter(
            by=by,  # type: ignore[arg-type]
            area=f.area.value if f.area else None,
            status=f.status.value if f.status else None,
            technique=f.technique,
        )
    )


def _filter(f: InitiativeFilter | None) -> gc.InitiativeFilter:
    f = f or InitiativeFilter()
    org_id = decode_id(f.organisation_id, "Organisation", "organisationId") if f.organisation_id is not None else None
    return contract_input(
        lambda: gc.InitiativeFilter(
            area=f.area.value if f.area else None,
            status=f.status.value if f.status else None,
            technique=f.technique,
            county_code=f.county_code,
            municipality_code=f.municipality_code,
            organisation_id=org_id,
        )
    )


@strawberry.type
class InitiativeQuery:
    @strawberry.field(description="Initiatives you may see, newest first, under the filter.")
    async def initiatives(
        self,
        info: Info,
        filter: InitiativeFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Initiative]:
        flt = _filter(filter)
        page = await info.context.graph.initiatives(info.context.viewer, flt, page_request(first, after, last, before))
        return connection(page, [Initiative.from_out(i) for i in page.items])

    @strawberry.field(description="Public initiatives per municipality and per county, for the map.")
    async def initiative_map(self, info: Info, filter: InitiativeMapFilter | None = None) -> InitiativeMap:
        g = info.context.graph
        by_municipality = _map_filter(filter)
        by_county = by_municipality.model_copy(update={"by": "county"})
        listed = gc.InitiativeFilter(
            area=by_municipality.area, status=by_municipality.status, technique=by_municipality.technique
        )
        # The total counts public initiatives whoever asks, as the counts do.
        total = await g.initiatives(ANONYMOUS, listed, PageRequest(first=0))
        return InitiativeMap(
            municipalities=[
                MunicipalityCount(municipality=m, count=c.count)
                for c in await g.initiative_counts(info.context.viewer, by_municipality)
                if (m := Municipality.of(c.code)) is not None
            ],
            counties=[
                CountyCount(county=county, count=c.count)
                for c in await g.initiative_counts(info.context.viewer, by_county)
                if (county := County.of(c.code)) is not None
            ],
            total=total.total_count or 0,
        )

    @strawberry.field(description="The public initiatives behind one municipality on the map, newest first.")
    async def municipality_initiatives(
        self,
        info: Info,
        code: str,
        filter: InitiativeMapFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Initiative]:
        if code not in municipalities():
            raise BadUserInput("unknown municipality code", field="code")
        page = await info.context.graph.municipality_initiatives(
            info.context.viewer, code, _map_filter(filter), page_request(first, after, last, before)
        )
        return connection(page, [Initiative.from_out(i) for i in page.items])

    @strawberry.field(description="The areas of activity, in their documented order, with Swedish and English labels.")
    def initiative_areas(self) -> list[InitiativeAreaEntry]:
        return [InitiativeAreaEntry(value=InitiativeArea(t.code), label_sv=t.sv, label_en=t.en) for t in AREAS]

    @strawberry.field(description="The statuses, in order, with Swedish and English labels.")
    def initiative_statuses(self) -> list[InitiativeStatusEntry]:
        return [InitiativeStatusEntry(value=InitiativeStatus(t.code), label_sv=t.sv, label_en=t.en) for t in STATUSES]
