"""Initiatives: organisations' AI projects and use cases, and the municipality map's counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Node, gid, graphql_enum
from services.gateway.graphql.members.types import County, Language, Link, Member, Municipality
from services.graph import contracts as gc
from services.graph.contracts import AREAS, STATUSES, Term, label

if TYPE_CHECKING:
    from services.gateway.graphql.organisations.types import Organisation

OrganisationRef = Annotated["Organisation", strawberry.lazy("services.gateway.graphql.organisations.types")]

InitiativeArea = graphql_enum(
    gc.InitiativeArea,
    "InitiativeArea",
    "Area of activity; `initiativeAreas` gives each one's Swedish and English label.",
)
InitiativeStatus = graphql_enum(gc.InitiativeStatus, "InitiativeStatus", "Where an initiative stands.")
InitiativeVisibility = graphql_enum(
    gc.InitiativeVisibility,
    "InitiativeVisibility",
    "PUBLIC: everyone, the map, search, feeds and open data. ORGANISATION: only the organisation's members.",
)
SV = Language("sv")


def _label(terms: tuple[Term, ...], code: str, language: object) -> str:
    return label(terms, code, getattr(language, "value", "sv"))


@strawberry.type(description="A municipality, or with none a whole county, that an initiative covers.")
class InitiativePlace:
    municipality: Municipality | None
    county: County


@strawberry.type(description="An AI project or use case of an organisation.")
class Initiative(Node):
    id: strawberry.ID
    title: str
    summary: str
    description: str = strawberry.field(description="Markdown.")
    description_html: str = strawberry.field(description="The description rendered and sanitised.")
    area: InitiativeArea  # type: ignore[valid-type]
    status: InitiativeStatus  # type: ignore[valid-type]
    visibility: InitiativeVisibility  # type: ignore[valid-type]
    techniques: list[str] = strawberry.field(description="AI techniques, as lower-case tags.")
    societal_benefit: str
    funder: str | None = strawberry.field(description="Who funds it, e.g. Vinnova.")
    programme: str | None = strawberry.field(description="The funder's programme or call.")
    links: list[Link]
    starts_on: date | None
    ends_on: date | None
    seeking_partners: bool
    open_to_reuse: bool
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    raw_id: strawberry.Private[int]
    out: strawberry.Private[gc.InitiativeOut]

    @classmethod
    def from_out(cls, i: gc.InitiativeOut) -> Initiative:
        return cls(
            id=gid("Initiative", i.id),
            title=i.title,
            summary=i.summary,
            description=i.description,
            description_html=i.description_html,
            area=InitiativeArea(i.area),
            status=InitiativeStatus(i.status),
            visibility=InitiativeVisibility(i.visibility),
            techniques=i.techniques,
            societal_benefit=i.societal_benefit,
            funder=i.funder,
            programme=i.programme,
            links=[Link(label=link.get("label", ""), url=link.get("url", "")) for link in i.links],
            starts_on=i.starts_on,
            ends_on=i.ends_on,
            seeking_partners=i.seeking_partners,
            open_to_reuse=i.open_to_reuse,
            created_at=i.created_at,
            updated_at=i.updated_at,
            status_changed_at=i.status_changed_at,
            raw_id=i.id,
            out=i,
        )

    @strawberry.field
    def area_label(self, language: Language = SV) -> str:  # type: ignore[valid-type]
        return _label(AREAS, self.out.area, language)

    @strawberry.field
    def status_label(self, language: Language = SV) -> str:  # type: ignore[valid-type]
        return _label(STATUSES, self.out.status, language)

    @strawberry.field(description="The owning organisation.")
    async def organisation(self, info: Info) -> OrganisationRef | None:
        from services.gateway.graphql.organisations.types import Organisation

        o = await info.context.loaders.organisation.load(self.out.organisation_id)
        return Organisation.from_out(o) if o else None

    @strawberry.field(description="Partner organisations.")
    async def partners(self, info: Info) -> list[OrganisationRef]:
        from services.gateway.graphql.organisations.types import Organisation

        found = await info.context.loaders.organisation.load_many(self.out.partner_organisation_ids)
        return [Organisation.from_out(o) for o in found if o]

    @strawberry.field(description="Who to ask about it: a member of the organisation.")
    async def contact(self, info: Info) -> Member | None:
        if self.out.contact_member_id is None:
            return None
        m = await info.context.loaders.member.load(self.out.contact_member_id)
        return Member.from_out(m) if m else None

    @strawberry.field(description="Where it runs: municipalities (with their county) and whole counties.")
    def places(self) -> list[InitiativePlace]:
        out = []
        for p in self.out.places:
            county = County.of(p.county_code)
            if county is not None:
                out.append(InitiativePlace(municipality=Municipality.of(p.municipality_code), county=county))
        return out

    @strawberry.field(description="The municipalities it covers (not whole counties).")
    def municipalities(self) -> list[Municipality]:
        found = (Municipality.of(p.municipality_code) for p in self.out.places if p.municipality_code)
        return [m for m in found if m is not None]

    @strawberry.field(description="Other organisations' initiatives this one builds on.")
    async def reuses(self, info: Info) -> list[Initiative]:
        return await _initiatives(info, self.out.reuses_initiative_ids)

    @strawberry.field(description="Other organisations' initiatives that build on this one.")
    async def reused_by(self, info: Info) -> list[Initiative]:
        return await _initiatives(info, self.out.reused_by_initiative_ids)


async def _initiatives(info: Info, ids: list[int]) -> list[Initiative]:
    found = await info.context.loaders.initiative.load_many(ids)
    return [Initiative.from_out(i) for i in found if i]


@strawberry.type
class _Labelled:
    label_sv: str
    label_en: str

    @strawberry.field
    def label(self, language: Language = SV) -> str:  # type: ignore[valid-type]
        return self.label_en if getattr(language, "value", "sv") == "en" else self.label_sv


@strawberry.type(description="An area of activity with its labels.")
class InitiativeAreaEntry(_Labelled):
    value: InitiativeArea  # type: ignore[valid-type]


@strawberry.type(description="A status with its labels.")
class InitiativeStatusEntry(_Labelled):
    value: InitiativeStatus  # type: ignore[valid-type]


@strawberry.type(description="How many public initiatives cover a municipality.")
class MunicipalityCount:
    municipality: Municipality
    count: int


@strawberry.type(description="How many public initiatives cover a county (each counted once).")
class CountyCount:
    county: County
    count: int


@strawberry.type(description="The municipality map: public initiatives per municipality and per county.")
class InitiativeMap:
    municipalities: list[MunicipalityCount] = strawberry.field(
        description="Municipalities with at least one initiative, in code order."
    )
    counties: list[CountyCount] = strawberry.field(description="Counties with at least one initiative, in code order.")
    total: int = strawberry.field(description="Public initiatives under the filter, with places or without.")
