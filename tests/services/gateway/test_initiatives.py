"""Initiatives through GraphQL: create, edit and delete with userErrors, every field's
validation, the organisation page, the vocabularies with their labels, and the map (counts
per municipality and county against the registry under each filter, and the initiatives
behind a municipality)."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from shared.geo import municipalities
from shared.ids import to_global_id
from tests.conftest import Api, Session
from tests.services.gateway.test_organisations import add_member, create_org

FIELDS = """id title summary description descriptionHtml area areaLabel areaLabelEn: areaLabel(language: EN)
  status statusLabel visibility techniques societalBenefit funder programme links { label url }
  startsOn endsOn seekingPartners openToReuse organisation { slug } partners { slug }
  contact { handle } places { municipality { code name } county { code } }
  municipalities { code } reuses { id } reusedBy { id }"""
CREATE = f"""mutation($input: CreateInitiativeInput!) {{ createInitiative(input: $input) {{
  initiative {{ {FIELDS} }} userErrors {{ field message code }} }} }}"""
UPDATE = f"""mutation($input: UpdateInitiativeInput!) {{ updateInitiative(input: $input) {{
  initiative {{ {FIELDS} }} userErrors {{ field message code }} }} }}"""
DELETE = """mutation($id: ID!) { deleteInitiative(input: {id: $id}) { deletedInitiativeId
  userErrors { field message code } } }"""
ORG_INITIATIVES = """query($slug: String!) { organisation(slug: $slug) {
  initiatives(first: 20) { nodes { id title visibility } totalCount } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename ... on Initiative { title } } }"""
LIST = """query($filter: InitiativeFilter, $after: String) { initiatives(filter: $filter, first: 100, after: $after) {
  nodes { id municipalities { code } places { county { code } } } totalCount
  pageInfo { hasNextPage endCursor } } }"""
MAP = """query($filter: InitiativeMapFilter) { initiativeMap(filter: $filter) { total
  municipalities { municipality { code latitude longitude } count } counties { county { code } count } } }"""
BEHIND = """query($code: String!, $filter: InitiativeMapFilter) {
  municipalityInitiatives(code: $code, filter: $filter, first: 100) { nodes { id } totalCount } }"""
VOCABULARY = """{ initiativeAreas { value labelSv labelEn label(language: EN) }
  initiativeStatuses { value labelSv labelEn label } }"""

AREAS = ["ELDERLY_CARE", "EDUCATION", "URBAN_PLANNING"]
STATUSES = ["IDEA", "PILOT", "IN_PRODUCTION"]
TECHNIQUES = ["språkmodeller", "bildanalys", "prognoser"]


def in_county(county: str, n: int) -> list[str]:
    return sorted(code for code, m in municipalities().items() if m.county_code == county)[:n]


async def create(who: Session, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {"organisationId": org["id"], "title": "Chattbot för bygglov", "area": "URBAN_PLANNING", **fields}
    return (await who.gql(CREATE, {"input": data}))["data"]["createInitiative"]  # type: ignore[no-any-return]


async def created(who: Session, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = await create(who, org, **fields)
    assert out["userErrors"] == [], out
    return out["initiative"]  # type: ignore[no-any-return]


async def test_editors_create_edit_and_delete_and_others_get_user_errors(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    editor = await add_member(owner, org, "EDITOR")
    plain = await add_member(owner, org, "MEMBER")
    stranger = await api.sign_up()
    partner = await create_org(stranger)
    theirs = await created(stranger, partner, title="Deras")
    code = in_county("12", 1)[0]

    made = await created(
        editor,
        org,
        summary="Snabbare svar",
        description="Vi **testar**.",
        techniques=["#Språkmodeller", "språkmodeller", "Taligenkänning"],
        status="PILOT",
        societalBenefit="Kortare väntetider",
        funder="Vinnova",
        programme="Utmaningsdriven innovation",
        contactMemberId=editor.id,
        links=[{"label": "Rapport", "url": "https://example.se/rapport"}],
        startsOn="2026-01-15",
        endsOn="2027-06-30",
        seekingPartners=True,
        openToReuse=True,
        places=[{"municipalityCode": code}, {"countyCode": "01"}],
        partnerOrganisationIds=[partner["id"]],
        reusesInitiativeIds=[theirs["id"]],
    )
    assert made["areaLabel"] == "Samhällsplanering" and made["areaLabelEn"] == "Urban planning"
    assert (made["status"], made["statusLabel"], made["visibility"]) == ("PILOT", "Pilot", "PUBLIC")
    assert made["techniques"] == ["språkmodeller", "taligenkänning"]
    assert "<strong>testar</strong>" in made["descriptionHtml"]
    assert made["contact"] == {"handle": editor.handle}
    assert made["partners"] == [{"slug": partner["slug"]}]
    assert made["reuses"] == [{"id": theirs["id"]}]
    assert made["municipalities"] == [{"code": code}]
    assert [p["county"]["code"] for p in made["places"]] == ["12", "01"]
    assert made["places"][1]["municipality"] is None
    assert (made["startsOn"], made["endsOn"]) == ("2026-01-15", "2027-06-30")
    [reused] = (await stranger.ok(NODE.replace("title", "title reusedBy { id }"), {"id": theirs["id"]}))["node"][
        "reusedBy"
    ]
    assert reused == {"id": made["id"]}

    # Refusals that are not the client's input are errors with a code, not userErrors.
    for outsider in (plain, stranger):
        body = await outsider.gql(CREATE, {"input": {"organisationId": org["id"], "title": "x", "area": "OTHER"}})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await outsider.gql(UPDATE, {"input": {"id": made["id"], "title": "Nej"}})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.gql(DELETE, {"id": made["id"]})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    edited = (await owner.ok(UPDATE, {"input": {"id": made["id"], "status": "IN_PRODUCTION", "funder": None}}))[
        "updateInitiative"
    ]
    assert edited["userErrors"] == []
    assert (edited["initiative"]["status"], edited["initiative"]["funder"]) == ("IN_PRODUCTION", None)
    assert edited["initiative"]["summary"] == "Snabbare svar"  # untouched fields stay

    listed = await api.ok(ORG_INITIATIVES, {"slug": org["slug"]})
    assert [n["id"] for n in listed["organisation"]["initiatives"]["nodes"]] == [made["id"]]
    assert (await api.ok(NODE, {"id": made["id"]}))["node"]["title"] == "Chattbot för bygglov"

    gone = (await editor.ok(DELETE, {"id": made["id"]}))["deleteInitiative"]
    assert gone == {"deletedInitiativeId": made["id"], "userErrors": []}
    assert (await api.ok(NODE, {"id": made["id"]}))["node"] is None
    again = (await editor.gql(DELETE, {"id": made["id"]}))["data"]["deleteInitiative"]
    assert again == {
        "deletedInitiativeId": None,
        "userErrors": [{"field": "id", "message": "no such initiative", "code": "NOT_FOUND"}],
    }


async def test_an_organisation_only_initiative_is_shown_to_its_members_alone(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    plain = await add_member(owner, org, "MEMBER")
    stranger = await api.sign_up()
    draft = await created(owner, org, visibility="ORGANISATION", places=[{"municipalityCode": "0180"}])
    for insider in (owner, plain):
        nodes = (await insider.ok(ORG_INITIATIVES, {"slug": org["slug"]}))["organisation"]["initiatives"]["nodes"]
        assert [n["id"] for n in nodes] == [draft["id"]]
    for outsider in (stranger, api):
        nodes = (await outsider.ok(ORG_INITIATIVES, {"slug": org["slug"]}))["organisation"]["initiatives"]["nodes"]
        assert nodes == []
        assert (await outsider.ok(NODE, {"id": draft["id"]}))["node"] is None
    # The map counts public initiatives only, even for the organisation's members.
    assert (await owner.ok(MAP))["initiativeMap"]["total"] == 0


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"summary": "x" * 501}, "summary"),
    ({"description": "x" * 20001}, "description"),
    ({"societalBenefit": "x" * 2001}, "societalBenefit"),
    ({"funder": "x" * 151}, "funder"),
    ({"techniques": ["x" * 41]}, "techniques"),
    ({"techniques": [f"t{i}" for i in range(11)]}, "techniques"),
    ({"places": [{"municipalityCode": "9999"}]}, "places.municipalityCode"),
    ({"places": [{"countyCode": "99"}]}, "places.countyCode"),
    ({"places": [{}]}, "places"),
    ({"places": [{"municipalityCode": "0180", "countyCode": "12"}]}, "places"),
    ({"startsOn": "2027-01-01", "endsOn": "2026-01-01"}, "endsOn"),
    ({"links": [{"label": "x", "url": "javascript:alert(1)"}]}, "links.url"),
    ({"partnerOrganisationIds": [to_global_id("Organisation", 424242)]}, "partnerOrganisationIds"),
    ({"partnerOrganisationIds": ["bogus"]}, "partnerOrganisationIds"),
    ({"reusesInitiativeIds": [to_global_id("Initiative", 424242)]}, "reusesInitiativeIds"),
    ({"contactMemberId": to_global_id("Member", 424242)}, "contactMemberId"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_INPUTS, ids=[b[1] + str(i) for i, b in enumerate(BAD_INPUTS)])
async def test_every_field_is_validated_and_nothing_is_written(api: Api, fields: dict[str, Any], field: str) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    out = await create(owner, org, **fields)
    assert out["initiative"] is None
    [error] = out["userErrors"]
    assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT"), error
    assert (await api.ok(ORG_INITIATIVES, {"slug": org["slug"]}))["organisation"]["initiatives"]["totalCount"] == 0
    # An edit with the same bad value leaves the initiative as it was.
    kept = await created(owner, org, startsOn="2026-06-01")
    out = (await owner.gql(UPDATE, {"input": {"id": kept["id"], **fields}}))["data"]["updateInitiative"]
    assert out["initiative"] is None and out["userErrors"][0]["field"] == field
    assert (await api.ok(NODE.replace("title", FIELDS), {"id": kept["id"]}))["node"] == {
        "__typename": "Initiative",
        **kept,
    }


async def test_required_fields_cannot_be_cleared_and_unknown_ids_are_refused(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    kept = await created(owner, org)
    for field in ("title", "area", "status", "visibility"):
        out = (await owner.gql(UPDATE, {"input": {"id": kept["id"], field: None}}))["data"]["updateInitiative"]
        assert out["userErrors"][0]["field"] == field, out
    body = await owner.gql(UPDATE, {"input": {"id": to_global_id("Initiative", 424242), "title": "x"}})
    assert body["data"]["updateInitiative"]["userErrors"][0] == {
        "field": "id",
        "message": "no such initiative",
        "code": "NOT_FOUND",
    }
    out = (await owner.gql(UPDATE, {"input": {"id": org["id"], "title": "x"}}))["data"]["updateInitiative"]
    assert out["userErrors"][0] == {"field": "id", "message": out["userErrors"][0]["message"], "code": "BAD_USER_INPUT"}
    body = await owner.gql(CREATE, {"input": {"organisationId": org["id"], "title": "x", "area": "SPACE"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_vocabularies_carry_swedish_and_english_labels(api: Api) -> None:
    body = await api.ok(VOCABULARY)
    areas = {a["value"]: a for a in body["initiativeAreas"]}
    assert len(areas) == 12
    assert areas["ELDERLY_CARE"] == {
        "value": "ELDERLY_CARE",
        "labelSv": "Äldreomsorg",
        "labelEn": "Elderly care",
        "label": "Elderly care",
    }
    assert [s["value"] for s in body["initiativeStatuses"]] == ["IDEA", "PILOT", "IN_PRODUCTION", "ENDED"]
    assert body["initiativeStatuses"][2]["label"] == "I drift"


async def registry(api: Api, flt: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.ok(LIST, {"filter": flt, "after": after}))["initiatives"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_map_counts_match_the_registry_under_every_filter(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    stockholm, skane, vasterbotten = in_county("01", 4), in_county("12", 3), in_county("24", 2)
    combos = list(itertools.product(AREAS, STATUSES, TECHNIQUES))
    for n, (area, status, technique) in enumerate(combos[:18]):
        places = [{"municipalityCode": stockholm[n % 4]}, {"municipalityCode": skane[n % 3]}]
        if n % 5 == 0:
            places.append({"countyCode": "24"})
        if n % 7 == 0:
            places.append({"municipalityCode": vasterbotten[n % 2]})
        await created(
            owner, org, title=f"Initiativ {n}", area=area, status=status, techniques=[technique], places=places
        )
    await created(owner, org, title="Utan plats", area="EDUCATION")
    await created(owner, org, title="Internt", visibility="ORGANISATION", places=[{"municipalityCode": stockholm[0]}])
    deleted = await created(owner, org, title="Borta", places=[{"municipalityCode": stockholm[0]}])
    await owner.ok(DELETE, {"id": deleted["id"]})

    filters: list[dict[str, Any]] = [{}]
    filters += [{"area": a} for a in AREAS] + [{"status": s} for s in STATUSES]
    filters += [{"technique": t} for t in TECHNIQUES] + [{"area": "EDUCATION", "status": "PILOT"}]
    filters += [{"area": "OTHER"}, {"technique": "BILDANALYS"}]
    for flt in filters:
        listed = await registry(api, flt)
        by_municipality = Counter(m["code"] for node in listed for m in node["municipalities"])
        by_county = Counter(c for node in listed for c in {p["county"]["code"] for p in node["places"]})
        mapped = (await api.ok(MAP, {"filter": flt}))["initiativeMap"]
        assert mapped["total"] == len(listed), flt
        assert {c["municipality"]["code"]: c["count"] for c in mapped["municipalities"]} == by_municipality, flt
        assert {c["county"]["code"]: c["count"] for c in mapped["counties"]} == by_county, flt
        assert all(55 < c["municipality"]["latitude"] < 69.5 for c in mapped["municipalities"])
        for code, count in by_municipality.items():
            behind = (await api.ok(BEHIND, {"code": code, "filter": flt}))["municipalityInitiatives"]
            assert behind["totalCount"] == count, (flt, code)
            expected = {n["id"] for n in listed if code in {m["code"] for m in n["municipalities"]}}
            assert {n["id"] for n in behind["nodes"]} == expected
    assert (await api.ok(MAP, {"filter": {"area": "OTHER"}}))["initiativeMap"]["municipalities"] == []


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (BEHIND, {"code": "9999"}, "code"),
        (BEHIND, {"code": "0180", "filter": {"technique": "x" * 61}}, "technique"),
        (MAP, {"filter": {"technique": "   "}}, "technique"),
        (LIST, {"filter": {"countyCode": "99"}}, "countyCode"),
        (LIST, {"filter": {"municipalityCode": "1"}}, "municipalityCode"),
        (LIST, {"filter": {"organisationId": "bogus"}}, "organisationId"),
    ],
)
async def test_bad_filters_are_refused_with_the_field_named(
    api: Api, query: str, variables: dict[str, Any], field: str
) -> None:
    body = await api.gql(query, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field, error
