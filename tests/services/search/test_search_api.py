"""Search through GraphQL, end to end on both backends: what members write reaches the
index through the outbox and the jobs (in-process on SQLite, arq workers on Redis with
PostgreSQL), visibility comes from the graph's own facts, and bad input is refused."""

from __future__ import annotations

import time
from typing import Any

from services.search import service
from tests.conftest import Api, Session, poll
from tests.services.feed.test_feeds import (
    DELETE_POST,
    UPDATE_POST,
    joined,
    make_event,
    make_hub,
    make_org,
    make_post,
)
from tests.services.gateway.test_social import BLOCK, MUTE

SEARCH = """query($q: String!, $f: SearchFilter, $sort: SearchSort, $first: Int, $after: String) {
  search(query: $q, filter: $f, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor title { text html } snippet { text html ranges { start end } }
      node { __typename ... on Post { id body } ... on Event { id title } ... on Member { id handle }
             ... on Organisation { id name } ... on Hub { id name } } } } }"""
FACETS = """query($q: String!, $f: SearchFilter) { search(query: $q, filter: $f) { totalCount
  facets { types { value count } counties { value count label } organisationKinds { value count }
           tags { value count } } } }"""
SUGGEST = """query($p: String!, $types: [SearchType!]) { searchSuggestions(prefix: $p, types: $types) {
  title { text html } node { __typename ... on Hub { id } ... on Member { id } ... on Organisation { id } } } }"""
UPDATE_PROFILE = """mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { member { id }
  userErrors { field message } } }"""


async def found(viewer: Api | Session, query: str, **variables: Any) -> list[str]:
    data = await viewer.ok(SEARCH, {"q": query, **variables})
    return [e["node"]["id"] for e in data["search"]["edges"]]


async def eventually(viewer: Api | Session, query: str, expected: list[str], within: float = 10.0) -> None:
    async def matches() -> bool:
        return sorted(await found(viewer, query)) == sorted(expected)

    await poll(matches, within=within)


async def test_a_new_post_is_searchable_within_two_seconds(api: Api) -> None:
    author = await api.sign_up()
    post = await make_post(author, body="Vi tränar språkmodeller för äldreomsorgen i Skellefteå")
    started = time.monotonic()
    await eventually(api, "språkmodell äldreomsorg", [post["id"]], within=2.0)
    assert time.monotonic() - started < 2.0


async def test_edits_deletions_and_profiles_follow_their_owners(api: Api) -> None:
    author = await api.sign_up()
    post = await make_post(author, body="Chattbot för bygglov")
    await eventually(api, "bygglov", [post["id"]])
    await author.ok(UPDATE_POST, {"i": {"id": post["id"], "body": "Chattbot för skolval"}})
    await eventually(api, "skolval", [post["id"]])
    assert await found(api, "bygglov") == []
    await author.ok(DELETE_POST, {"id": post["id"]})
    await eventually(api, "skolval", [])

    await author.ok(UPDATE_PROFILE, {"i": {"headline": "Dataarkitekt i Härnösand", "skills": ["Python"]}})
    await eventually(api, "dataarkitekt härnösand", [author.id])


async def test_what_the_viewer_may_not_see_is_never_found(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner)
    hub = await make_hub(owner, org["id"])
    insider = await joined(api, hub)
    outsider = await api.sign_up()
    public = await make_post(owner, body="kvantdator offentlig", hubId=hub["id"])
    members_only = await make_post(owner, body="kvantdator medlemmar", visibility="MEMBERS")
    hub_only = await make_post(owner, body="kvantdator hubben", hubId=hub["id"], visibility="HUB_MEMBERS")
    await api.settle()

    names = {public["id"]: "public", members_only["id"]: "members", hub_only["id"]: "hub"}
    got = await found(api, "kvantdator")
    assert got == [public["id"]], [names.get(i, i) for i in got]
    assert sorted(await found(outsider, "kvantdator")) == sorted([public["id"], members_only["id"]])
    assert sorted(await found(insider, "kvantdator")) == sorted([public["id"], members_only["id"], hub_only["id"]])

    # Blocks either way hide the author and all they wrote; mutes hide only what they wrote.
    await outsider.ok(BLOCK, {"id": owner.id})
    await api.settle()
    assert await found(outsider, "kvantdator") == []
    assert await found(owner, "kvantdator " + outsider.handle[:3]) == []
    await insider.ok(MUTE, {"id": owner.id})
    await api.settle()
    assert await found(insider, "kvantdator") == []
    assert await found(insider, owner.handle) == [owner.id]


async def test_filters_facets_and_suggestions(api: Api) -> None:
    owner = await api.sign_up()
    org = await make_org(owner, name="Umeå kommun AI-labb", kind="MUNICIPALITY", municipalityCode="2480")
    hub = await make_hub(owner, org["id"])
    post = await make_post(owner, body="AI-labb om #etik", hubId=hub["id"])
    event = await make_event(owner, title="AI-labb öppet hus", municipalityCode="2480", hubId=hub["id"])
    await api.settle()

    def f(**filters: Any) -> dict[str, Any]:
        return {"f": filters}

    assert await found(api, "ai-labb", **f(types=["ORGANISATION"])) == [org["id"]]
    assert await found(api, "ai-labb", **f(countyCodes=["24"], types=["EVENT"])) == [event["id"]]
    assert await found(api, "ai-labb", **f(organisationKinds=["MUNICIPALITY"])) == [org["id"]]
    assert sorted(await found(api, "ai-labb", **f(hubIds=[hub["id"]]))) == sorted([post["id"], event["id"]])
    assert await found(api, "ai-labb", **f(tags=["etik"])) == [post["id"]]

    facets = (await api.ok(FACETS, {"q": "ai-labb"}))["search"]["facets"]
    assert {t["value"]: t["count"] for t in facets["types"]} == {"ORGANISATION": 1, "POST": 1, "EVENT": 1}
    assert {"value": "24", "count": 2, "label": "Västerbottens län"} in facets["counties"]
    assert facets["tags"] == [{"value": "etik", "count": 1}]

    suggestions = (await api.ok(SUGGEST, {"p": "umeå kom", "types": ["ORGANISATION"]}))["searchSuggestions"]
    assert [s["node"]["id"] for s in suggestions] == [org["id"]]
    assert suggestions[0]["title"]["html"].startswith("<mark>Umeå</mark> <mark>kommun</mark>")


async def test_highlights_are_escaped_html(api: Api) -> None:
    author = await api.sign_up()
    await make_post(author, body="<script>alert(1)</script> fotogrammetri & drönare")
    await api.settle()
    edge = (await api.ok(SEARCH, {"q": "fotogrammetri"}))["search"]["edges"][0]
    html = edge["snippet"]["html"]
    assert "<script>" not in html and "&lt;script&gt;" not in html or "<mark>fotogrammetri</mark>" in html
    assert "<mark>fotogrammetri</mark> &amp; drönare" in html


async def test_pages_follow_cursors(api: Api) -> None:
    author = await api.sign_up()
    made = [await make_post(author, body=f"Rapport om bildanalys nummer {i}") for i in range(7)]
    await api.settle()
    seen: list[str] = []
    after = None
    while True:
        data = (await api.ok(SEARCH, {"q": "bildanalys", "first": 3, "after": after, "sort": "NEWEST"}))["search"]
        assert data["totalCount"] == 7
        seen += [e["node"]["id"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == [p["id"] for p in reversed(made)]


async def test_bad_input_is_refused_with_a_clear_error(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"q": "x" * 513}, "query"),
        ({"q": "x", "f": {"countyCodes": ["99"]}}, "countyCodes"),
        ({"q": "x", "f": {"municipalityCodes": ["12345"]}}, "municipalityCodes"),
        ({"q": "x", "f": {"hubIds": ["bm90LWEtaHVi"]}}, "hubIds"),
        (
            {"q": "x", "f": {"startsFrom": "2026-12-02T00:00:00Z", "startsBefore": "2026-12-01T00:00:00Z"}},
            "startsBefore",
        ),
        ({"q": "x", "first": 0}, "first"),
        ({"q": "x", "first": 51}, "first"),
        ({"q": "x", "after": "not-a-cursor"}, "after"),
    ]
    for variables, field in cases:
        body = await api.gql(SEARCH, variables)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
        assert error["extensions"].get("field") == field, (variables, body)
    body = await api.gql(SEARCH, {"q": "x", "f": {"types": ["COMMENT"]}})
    assert body["errors"] and body["_status"] in (200, 400)
    body = await api.gql(SUGGEST, {"p": ""})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Parser syntax is words, not an error.
    for query in ['title:x AND (y OR "z") ~2 *', "\\", "'; DROP TABLE post; --"]:
        assert await found(api, query) == []


async def test_reindex_rebuilds_the_same_index_and_keeps_changes_made_meanwhile(api: Api) -> None:
    author = await api.sign_up()
    kept = await make_post(author, body="Reindex behåller allt om fjärranalys")
    await api.settle()
    search_app = api.app.state.search_app
    engine, sources, maker = search_app.state.index, search_app.state.sources, search_app.state.sessionmaker
    before = await found(api, "fjärranalys")
    progress: list[tuple[str, int]] = []

    async def note(doc_type: Any, count: int) -> None:
        progress.append((doc_type.value, count))
        if doc_type.value == "post" and count:
            # A change while the new index is being built: journalled, and not lost.
            await make_post(author, body="Skriven under fjärranalys-reindex")
            await api.settle()

    out = await service.reindex(engine, sources, maker, note)
    assert out.documents >= 2 and out.pending_applied >= 1
    assert {t for t, _ in progress} >= {"member", "post"}
    after = await found(api, "fjärranalys")
    assert kept["id"] in before and kept["id"] in after and len(after) == 2
