"""The initiatives registry's contracts: what its API takes and gives."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.graph.contracts import (
    CountyCode,
    Input,
    Link,
    MunicipalityCode,
    Output,
    PageOut,
    _clean,
    _nonblank,
)
from services.graph.initiatives_reference import (
    AREAS,
    EXPORT_PAGE_MAX,
    MAX_LINKS,
    MAX_TECHNIQUES,
    OPEN_DATA_LICENCE,
    OPEN_DATA_LICENCE_URL,
    STATUSES,
    Term,
    label,
)
from shared.geo import municipalities
from shared.text import clean_text

# The vocabulary (services/graph/initiatives_reference.py) is part of the contract: other
# services label areas and statuses and state the open-data licence from it.
__all__ = [
    "AREAS",
    "EXPORT_PAGE_MAX",
    "OPEN_DATA_LICENCE",
    "OPEN_DATA_LICENCE_URL",
    "STATUSES",
    "Term",
    "label",
    "InitiativeArea",
    "InitiativeStatus",
    "InitiativeVisibility",
    "Title",
    "Summary",
    "LongMarkdown",
    "Benefit",
    "Funding",
    "Technique",
    "Techniques",
    "PlaceIn",
    "InitiativeFields",
    "InitiativeCreateIn",
    "InitiativeUpdateIn",
    "PlaceOut",
    "InitiativeOut",
    "InitiativeFilter",
    "InitiativeCountsFilter",
    "PlaceCount",
    "InitiativePage",
    "InitiativeExportPage",
]


class InitiativeArea(StrEnum):
    """Areas of activity; labels in services/graph/initiatives_reference.py AREAS."""

    elderly_care = "elderly_care"
    education = "education"
    social_services = "social_services"
    urban_planning = "urban_planning"
    administration = "administration"
    culture = "culture"
    environment = "environment"
    health = "health"
    transport = "transport"
    labour_market = "labour_market"
    democracy = "democracy"
    other = "other"


class InitiativeStatus(StrEnum):
    """Labels in services/graph/initiatives_reference.py STATUSES."""

    idea = "idea"
    pilot = "pilot"
    in_production = "in_production"
    ended = "ended"


class InitiativeVisibility(StrEnum):
    """public: everyone (the map, search, feeds, open data); organisation: only its members."""

    public = "public"
    organisation = "organisation"


# The enums and the reference list are one vocabulary: fail at import if they drift apart.
assert [a.value for a in InitiativeArea] == [t.code for t in AREAS]
assert [s.value for s in InitiativeStatus] == [t.code for t in STATUSES]


def _technique(value: str) -> str:
    """Normalised like post tags: lower case, inner whitespace collapsed, no leading '#'."""
    value = " ".join(clean_text(value).lstrip("#").split()).lower()
    if not 1 <= len(value) <= 40:
        raise ValueError("techniques are 1–40 characters")
    return value


def _techniques(value: list[str]) -> list[str]:
    return list(dict.fromkeys(value))


Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_nonblank)]
Summary = Annotated[str, StringConstraints(max_length=500), AfterValidator(_clean)]
LongMarkdown = Annotated[str, StringConstraints(max_length=20000), AfterValidator(_clean)]
Benefit = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean)]
Funding = Annotated[str, StringConstraints(max_length=150), AfterValidator(_clean)]
Technique = Annotated[str, StringConstraints(max_length=60), AfterValidator(_technique)]
Techniques = Annotated[list[Technique], Field(max_length=MAX_TECHNIQUES), AfterValidator(_techniques)]


class PlaceIn(Input):
    """A municipality (its county follows) or, with only `county_code`, a whole county."""

    municipality_code: MunicipalityCode | None = None
    county_code: CountyCode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PlaceIn:
        if self.municipality_code is None and self.county_code is None:
            raise ValueError("name a municipality or a county")
        if self.municipality_code is not None:
            county = municipalities()[self.municipality_code].county_code
            if self.county_code is not None and self.county_code != county:
                raise ValueError("the municipality is not in that county")
            self.county_code = county
        return self


class InitiativeFields(Input):
    """What both creating and editing may set; on create the required ones are checked by the service."""

    title: Title | None = None
    summary: Summary | None = None
    description: LongMarkdown | None = None
    area: InitiativeArea | None = None
    techniques: Techniques | None = None
    status: InitiativeStatus | None = None
    societal_benefit: Benefit | None = None
    funder: Funding | None = None
    programme: Funding | None = None
    contact_member_id: int | None = None
    links: list[Link] | None = Field(default=None, max_length=MAX_LINKS)
    starts_on: date | None = None
    ends_on: date | None = None
    seeking_partners: bool | None = None
    open_to_reuse: bool | None = None
    visibility: InitiativeVisibility | None = None
    places: list[PlaceIn] | None = Field(default=None, max_length=400)
    partner_organisation_ids: list[int] | None = Field(default=None, max_length=50)
    reuses_initiative_ids: list[int] | None = Field(default=None, max_length=20)


class InitiativeCreateIn(InitiativeFields):
    title: Title
    area: InitiativeArea
    status: InitiativeStatus = InitiativeStatus.idea
    visibility: InitiativeVisibility = InitiativeVisibility.public


class InitiativeUpdateIn(InitiativeFields):
    pass


class PlaceOut(Output):
    municipality_code: str | None
    county_code: str


class InitiativeOut(Output):
    id: int
    organisation_id: int
    title: str
    summary: str
    description: str
    description_html: str
    area: str
    techniques: list[str]
    status: str
    societal_benefit: str
    funder: str | None
    programme: str | None
    contact_member_id: int | None
    links: list[dict[str, str]]
    starts_on: date | None
    ends_on: date | None
    seeking_partners: bool
    open_to_reuse: bool
    visibility: str
    places: list[PlaceOut] = Field(default_factory=list)
    partner_organisation_ids: list[int] = Field(default_factory=list)
    reuses_initiative_ids: list[int] = Field(default_factory=list)
    reused_by_initiative_ids: list[int] = Field(default_factory=list)
    created_by: int
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime


class InitiativeFilter(Input):
    # Read from the query string next to the paging parameters, so other parameters are not extra.
    model_config = ConfigDict(extra="ignore")

    area: InitiativeArea | None = None
    status: InitiativeStatus | None = None
    technique: Technique | None = None
    county_code: CountyCode | None = None
    municipality_code: MunicipalityCode | None = None
    organisation_id: int | None = None


class InitiativeCountsFilter(Input):
    model_config = ConfigDict(extra="ignore")

    by: Literal["municipality", "county"] = "municipality"
    area: InitiativeArea | None = None
    status: InitiativeStatus | None = None
    technique: Technique | None = None


class PlaceCount(BaseModel):
    code: str
    count: int


class InitiativePage(PageOut):
    items: list[InitiativeOut]


class InitiativeExportPage(BaseModel):
    """One page of the open-data registry, in id order; `next_after` is None on the last page."""

    licence: str
    items: list[InitiativeOut]
    next_after: int | None
    last_modified: datetime | None
