"""Initiatives in search, end to end on both backends: the graph's events reach the index
through the outbox and the search jobs, only live public initiatives are ever indexed, and
the filters by area, status, county, municipality and technique find them. Also the upgrade
path: an index written before initiatives existed (another schema) is rebuilt on start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tantivy

from services.search import service
from services.search.api import create_app as create_search_app
from services.search.contracts import SearchFilters, SearchIn
from services.search.engine import Scope
from services.search.tantivy_engine import REBUILD, TantivyEngine
from shared.search_documents import DocType
from tests.conftest import Api, Session, poll
from tests.services.feed.test_feeds import make_post
from tests.services.gateway.test_organisations import add_member, create_org

SEARCH = """query($q: String!, $f: SearchFilter) { search(query: $q, filter: $f, first: 50) {
  totalCount edges { title { text } node { __typename ... on Initiative { id title status }
    ... on Post { id } } } } }"""
FACETS = """query($q: String!, $f: SearchFilter) { search(query: $q, filter: $f) { totalCount facets {
  types { value count } counties { value count } areas { value count label }
  areasEn: areas(language: EN) { value label } statuses { value count label } techniques { value count } } } }"""
SUGGEST = """query($p: String!) { searchSuggestions(prefix: $p, types: [INITIATIVE]) {
  node { __typename ... on Initiative { id } } } }"""
CREATE = """mutation($input: CreateInitiativeInput!) { createInitiative(input: $input) {
  initiative { id } userErrors { field message code } } }"""
UPDATE = """mutation($input: UpdateInitiativeInput!) { updateInitiative(input: $input) {
  initiative { id status visibility } userErrors { field message code } } }"""
DELETE = """mutation($id: ID!) { deleteInitiative(input: {id: $id}) { userErrors { field message code } } }"""

UMEA, LUND = "2480", "1281"  # in Västerbotten (24) and Skåne (12)


async def create(who: Session, org: dict[str, Any], **fields: Any) -> str:
    data = {"organisationId": org["id"], "title": "Chattbot för bygglov", "area": "URBAN_PLANNING", **fields}
    out = (await who.ok(CREATE, {"input": data}))["createInitiative"]
    return out["initiative"]["id"]  # type: ignore[no-any-return]


async def update(who: Session, initiative_id: str, **fields: Any) -> None:
    await who.ok(UPDATE, {"input": {"id": initiative_id, **fields}})


async def search(viewer: Api | Session, query: str = "", **filters: Any) -> tuple[list[str], int]:
    """The ids found (as the gateway shows them) and the total the search service counted."""
    data = (await viewer.ok(SEARCH, {"q": query, "f": filters or None}))["search"]
    return [e["node"]["id"] for e in data["edges"]], data["totalCount"]


async def found(viewer: Api | Session, query: str = "", **filters: Any) -> list[str]:
    return sorted((await search(viewer, query, **filters))[0])


async def eventually(viewer: Api | Session, query: str, expected: list[str], **filters: Any) -> None:
    async def matches() -> bool:
        return await search(viewer, query, **filters) == (expected, len(expected))

    await poll(matches, within=10.0)


async def test_an_initiative_is_found_by_its_words_and_by_each_filter(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    bygglov = await create(
        owner,
        org,
        summary="Svarar invånare om bygglov dygnet runt",
        status="PILOT",
        techniques=["Språkmodeller", "RAG"],
        places=[{"municipalityCode": UMEA}],
    )
    skolval = await create(
        owner,
        org,
        title="Schemaläggning för gymnasiet",
        summary="Optimerade scheman sparar lärartid",
        description="Vi använder **bildanalys** av salarnas beläggning.",
        area="EDUCATION",
        status="IN_PRODUCTION",
        techniques=["bildanalys"],
        places=[{"countyCode": "12"}],  # the whole county, no municipality
    )
    post = await make_post(owner, body="Språkmodeller och bildanalys i kommunerna, #bildanalys")
    await api.settle()

    # Words of the title, the summary, the Markdown description and the techniques.
    assert await found(api, "chattbot") == [bygglov]
    assert await found(api, "invånare dygnet") == [bygglov]
    assert await found(api, "lärartid") == [skolval]
    assert await found(api, "beläggning") == [skolval]
    assert await found(api, "språkmodeller") == sorted([bygglov, post["id"]])
    assert await found(api, "", types=["INITIATIVE"]) == sorted([bygglov, skolval])

    # Each filter, alone and with others; a filter of initiatives' fields finds no post.
    assert await found(api, "", areas=["EDUCATION"]) == [skolval]
    assert await found(api, "", areas=["EDUCATION", "URBAN_PLANNING"]) == sorted([bygglov, skolval])
    assert await found(api, "", areas=["HEALTH"]) == []
    assert await found(api, "", statuses=["PILOT"]) == [bygglov]
    assert await found(api, "", statuses=["IN_PRODUCTION", "IDEA"]) == [skolval]
    assert await found(api, "", countyCodes=["24"], types=["INITIATIVE"]) == [bygglov]  # the municipality's county
    assert await found(api, "", countyCodes=["12"]) == [skolval]  # a county-only place
    assert await found(api, "", municipalityCodes=[UMEA]) == [bygglov]
    assert await found(api, "", municipalityCodes=[LUND]) == []  # in Skåne, but not named
    assert await found(api, "", techniques=["Bildanalys"]) == [skolval]  # case is ignored
    assert await found(api, "", techniques=["rag", "bildanalys"]) == sorted([bygglov, skolval])
    assert await found(api, "", tags=["bildanalys"]) == [post["id"]]  # post tags are not techniques
    assert await found(api, "", areas=["EDUCATION"], statuses=["PILOT"]) == []
    assert await found(api, "scheman", areas=["EDUCATION"], countyCodes=["12"], techniques=["bildanalys"]) == [skolval]

    facets = (await api.ok(FACETS, {"q": "", "f": {"types": ["INITIATIVE"]}}))["search"]["facets"]
    assert facets["types"] == [{"value": "INITIATIVE", "count": 2}]
    assert {c["value"]: c["count"] for c in facets["counties"]} == {"24": 1, "12": 1}
    assert sorted(facets["areas"], key=lambda a: a["value"]) == [
        {"value": "EDUCATION", "count": 1, "label": "Utbildning"},
        {"value": "URBAN_PLANNING", "count": 1, "label": "Samhällsplanering"},
    ]
    assert {a["value"]: a["label"] for a in facets["areasEn"]}["EDUCATION"] == "Education"
    assert {(s["value"], s["label"]) for s in facets["statuses"]} == {("PILOT", "Pilot"), ("IN_PRODUCTION", "I drift")}
    assert {t["value"]: t["count"] for t in facets["techniques"]} == {"språkmodeller": 1, "rag": 1, "bildanalys": 1}

    suggestions = (await api.ok(SUGGEST, {"p": "schemal"}))["searchSuggestions"]
    assert [s["node"]["id"] for s in suggestions] == [skolval]


async def test_only_public_initiatives_are_found_whoever_searches(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    colleague = await add_member(owner, org, "MEMBER")
    draft = await create(owner, org, title="Hemlig prognosmodell", visibility="ORGANISATION")
    await api.settle()
    # Never indexed: not even counted, and not for the organisation's own members either.
    for viewer in (api, owner, colleague):
        assert await search(viewer, "prognosmodell") == ([], 0)

    await update(owner, draft, visibility="PUBLIC")
    await eventually(api, "prognosmodell", [draft])
    assert await found(colleague, "", statuses=["IDEA"]) == [draft]

    await update(owner, draft, visibility="ORGANISATION")
    await eventually(api, "prognosmodell", [])
    for viewer in (owner, colleague):
        assert await search(viewer, "prognosmodell") == ([], 0)

    await update(owner, draft, visibility="PUBLIC", title="Öppen prognosmodell")
    await eventually(api, "öppen prognosmodell", [draft])
    assert (await owner.ok(DELETE, {"id": draft}))["deleteInitiative"]["userErrors"] == []
    await eventually(api, "prognosmodell", [])


async def test_a_status_change_moves_an_initiative_between_status_filters(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    pilot = await create(owner, org, title="Talrobot i hemtjänsten", area="ELDERLY_CARE", status="PILOT")
    await eventually(api, "talrobot", [pilot], statuses=["PILOT"])

    await update(owner, pilot, status="IN_PRODUCTION")
    await eventually(api, "talrobot", [pilot], statuses=["IN_PRODUCTION"])
    assert await search(api, "talrobot", statuses=["PILOT"]) == ([], 0)
    # Other edits follow too: the area, the techniques and the places.
    await update(owner, pilot, area="HEALTH", techniques=["taligenkänning"], places=[{"municipalityCode": LUND}])
    await eventually(api, "", [pilot], areas=["HEALTH"], techniques=["taligenkänning"], countyCodes=["12"])
    assert await found(api, "", areas=["ELDERLY_CARE"]) == []


async def test_bad_initiative_filters_are_refused_with_a_clear_error(api: Api) -> None:
    for filters, field in (
        ({"techniques": [""]}, "techniques"),
        ({"techniques": ["x" * 41]}, "techniques"),
        ({"techniques": ["ai"] * 51}, "techniques"),
    ):
        body = await api.gql(SEARCH, {"q": "", "f": filters})
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert error["extensions"].get("field") == field, body
    body = await api.gql(SEARCH, {"q": "", "f": {"areas": ["SPORT"]}})
    assert body["errors"] and "SPORT" in body["errors"][0]["message"]


async def test_a_reindex_brings_back_public_initiatives_only(api: Api) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    shown = await create(owner, org, title="Fjärranalys av skogsbränder", places=[{"municipalityCode": UMEA}])
    await create(owner, org, title="Fjärranalys i utkast", visibility="ORGANISATION")
    await api.settle()
    search_app = api.app.state.search_app
    engine, sources, maker = search_app.state.index, search_app.state.sources, search_app.state.sessionmaker
    await engine.clear()
    assert await search(api, "fjärranalys") == ([], 0)

    progress: list[str] = []
    await service.reindex(engine, sources, maker, lambda doc_type, n: progress.append(doc_type.value) if n else None)
    assert "initiative" in progress
    assert await search(api, "fjärranalys", countyCodes=["24"]) == ([shown], 1)


async def test_an_index_of_an_older_schema_is_rebuilt_when_the_service_starts(api: Api, tmp_path: Path) -> None:
    owner = await api.sign_up()
    org = await create_org(owner)
    await create(owner, org, title="Drönare inspekterar broar", area="TRANSPORT", techniques=["datorseende"])
    await api.settle()

    # What a version before this schema left on disk: a live generation of other fields.
    root = tmp_path / "search" / "tantivy"
    old = tantivy.SchemaBuilder()
    old.add_text_field("key", stored=True, tokenizer_name="raw")
    (root / "g1").mkdir(parents=True)
    outdated = tantivy.Index(old.build(), path=str(root / "g1"))
    writer = outdated.writer(15_000_000, 1)
    writer.add_document(tantivy.Document(key="post:1"))
    writer.commit()
    writer.wait_merging_threads()
    (root / "CURRENT").write_text("g1")

    running = api.app.state
    settings = running.settings.model_copy(update={"var_dir": tmp_path})
    app = create_search_app(settings, running.graph, running.feed)
    async with app.router.lifespan_context(app):
        engine = app.state.index
        assert isinstance(engine, TantivyEngine)
        want = SearchIn(filters=SearchFilters(techniques=["datorseende"], areas=["transport"]))

        async def rebuilt() -> bool:
            if (root / REBUILD).exists():
                return False
            out = await service.search(engine, Scope(), want)
            return [h.type for h in out.hits] == [DocType.initiative]

        await poll(rebuilt, within=20.0)
        assert not await engine.stale()
    assert not (root / "g1").exists()  # the outdated generation is dropped once replaced
