"""The fixed vocabularies of the initiatives registry: areas of activity and statuses, each
with a Swedish and an English label, and the licence the open-data registry is published
under. Codes are stable (they are stored, filtered on and exported); labels may be reworded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    sv: str
    en: str


AREAS: tuple[Term, ...] = (
    Term("elderly_care", "Äldreomsorg", "Elderly care"),
    Term("education", "Utbildning", "Education"),
    Term("social_services", "Socialtjänst", "Social services"),
    Term("urban_planning", "Samhällsplanering", "Urban planning"),
    Term("administration", "Administration", "Administration"),
    Term("culture", "Kultur och fritid", "Culture and leisure"),
    Term("environment", "Miljö och klimat", "Environment and climate"),
    Term("health", "Hälso- och sjukvård", "Health care"),
    Term("transport", "Trafik och transport", "Traffic and transport"),
    Term("labour_market", "Arbetsmarknad", "Labour market"),
    Term("democracy", "Demokrati och medborgardialog", "Democracy and citizen dialogue"),
    Term("other", "Övrigt", "Other"),
)

STATUSES: tuple[Term, ...] = (
    Term("idea", "Idé", "Idea"),
    Term("pilot", "Pilot", "Pilot"),
    Term("in_production", "I drift", "In production"),
    Term("ended", "Avslutad", "Ended"),
)

AREA_CODES: frozenset[str] = frozenset(t.code for t in AREAS)
STATUS_CODES: frozenset[str] = frozenset(t.code for t in STATUSES)

# The open-data registry (CSV, JSON, GeoJSON) is dedicated to the public domain.
OPEN_DATA_LICENCE = "CC0-1.0"
OPEN_DATA_LICENCE_URL = "https://creativecommons.org/publicdomain/zero/1.0/"

MAX_TECHNIQUES = 10
MAX_LINKS = 10
EXPORT_PAGE_MAX = 500


def label(terms: tuple[Term, ...], code: str, language: str = "sv") -> str:
    """The label of `code` in `language` (sv or en); the code itself if it is unknown."""
    for term in terms:
        if term.code == code:
            return term.en if language == "en" else term.sv
    return code
