"""The Meilisearch engine's pure parts, with no server: documents, filter expressions,
query alternatives for stems, the federated request, and reading its answer. The engine
itself joins test_contract when HUBBEN_MEILI_URL names a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from meilisearch.models.task import Task

from services.search.contracts import SearchSort
from services.search.engine import FACET_SIZES, Filters, Plan, Scope
from services.search.meili_engine import (
    SEARCH_ON,
    SETTINGS,
    SUGGEST_ON,
    MeiliTaskError,
    alternatives,
    answer_of,
    check_task,
    document,
    facets_of,
    filter_of,
    forms,
    nothing,
    prefixes,
    quote,
    search_request,
    sort_of,
    visibility,
)
from shared.search_documents import Audience, DocType, IndexDocument, Language

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SECONDS = int(NOW.timestamp())


def test_a_document_carries_stems_in_its_language_and_only_the_fields_it_has() -> None:
    post = IndexDocument(
        type=DocType.post,
        id=12,
        title="Kommunerna och AI",
        text="Vi använder modeller",
        tags=["Etik", "AI"],
        county_codes=["24"],
        hub_id=5,
        author_id=7,
        audience=Audience.hub_members,
        created_at=NOW,
    )
    d = document(post)
    assert d["uid"] == "post-12" and d["key"] == "post:12"
    assert (d["type"], d["id"], d["lang"]) == ("post", 12, "sv")
    assert d["text"] == "Vi använder modeller\nEtik\nAI"  # tags are searchable text too, as in Tantivy
    assert d["tag"] == ["etik", "ai"]
    assert d["title_stems"] == "kommun och ai"
    assert "använd" in d["text_stems"].split()
    assert d["title_prefixes"].split()[:3] == ["k", "ko", "kom"] and "kommunerna" in d["title_prefixes"].split()
    assert (d["county"], d["hub"], d["author"], d["audience"]) == (["24"], 5, 7, "hub_members")
    assert d["created"] == SECONDS * 1_000_000
    for absent in ("org", "org_kind", "starts", "ends", "area", "status", "technique"):  # `NOT EXISTS` holds
        assert absent not in d


def test_an_initiative_carries_its_area_status_and_techniques() -> None:
    initiative = IndexDocument(
        type=DocType.initiative,
        id=8,
        title="Chattbot för bygglov",
        text="Svarar dygnet runt",
        techniques=["språkmodeller", "rag"],
        county_codes=["24"],
        municipality_codes=["2480"],
        organisation_id=3,
        area="urban_planning",
        status="pilot",
        created_at=NOW,
    )
    d = document(initiative)
    assert d["uid"] == "initiative-8" and d["type"] == "initiative"
    assert (d["area"], d["status"], d["technique"]) == ("urban_planning", "pilot", ["språkmodeller", "rag"])
    assert d["text"] == "Svarar dygnet runt\nspråkmodeller\nrag"  # techniques are words to find, too
    assert "tag" in d and d["tag"] == []  # not post tags
    assert (d["county"], d["municipality"], d["org"]) == (["24"], ["2480"], 3)


def test_an_english_event_is_stemmed_in_english_with_times_in_seconds() -> None:
    event = IndexDocument(
        type=DocType.event,
        id=3,
        language=Language.en,
        title="Running models",
        created_at=NOW,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=2),
    )
    d = document(event)
    assert d["title_stems"] == "run model" and d["lang"] == "en"
    assert (d["starts"], d["ends"]) == (SECONDS + 86_400, SECONDS + 86_400 + 7_200)


def test_prefixes_are_each_beginning_once() -> None:
    assert prefixes("Kraft AI kraft") == ["k", "kr", "kra", "kraf", "kraft", "a", "ai"]
    assert prefixes("") == []


def test_filter_values_are_quoted_and_escaped() -> None:
    assert quote("24") == '"24"'
    assert quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'


def test_anonymous_viewers_see_public_documents_only() -> None:
    assert visibility(Scope()) == ['audience = "public"']


def test_members_see_their_hubs_and_not_blocked_or_muted_authors() -> None:
    scope = Scope(member_id=20, hub_ids=(5, 6), blocked_ids=(30,), muted_ids=(40, 41))
    assert visibility(scope) == [
        '(audience IN ["public", "members"] OR author = 20 OR (audience = "hub_members" AND hub IN [5, 6]))',
        "NOT (author IN [30])",
        'NOT (author IN [40, 41] AND type IN ["post", "event"])',
    ]
    assert visibility(Scope(member_id=20)) == ['(audience IN ["public", "members"] OR author = 20)']


def test_filters_become_one_expression() -> None:
    filters = Filters(
        types=("organisation", "post"),
        county_codes=("24", "12"),
        municipality_codes=("2480",),
        organisation_kinds=("municipality",),
        hub_ids=(77,),
        tags=("etik",),
        areas=("education", "health"),
        statuses=("pilot",),
        techniques=("datorseende",),
        starts_from=NOW,
        starts_before=NOW + timedelta(days=3),
        ends_after=NOW,
    )
    assert filter_of(Plan(words=(), filters=filters)) == " AND ".join(
        [
            'audience = "public"',
            'type IN ["organisation", "post"]',
            'county IN ["24", "12"]',
            'municipality IN ["2480"]',
            'org_kind IN ["municipality"]',
            "hub IN [77]",
            'tag IN ["etik"]',
            'area IN ["education", "health"]',
            'status IN ["pilot"]',
            'technique IN ["datorseende"]',
            f"starts >= {SECONDS}",
            f"starts < {SECONDS + 3 * 86_400}",
            f"(ends NOT EXISTS OR ends >= {SECONDS})",
        ]
    )


def test_sorting_by_start_keeps_events_only() -> None:
    assert filter_of(Plan(words=(), sort=SearchSort.event_start)) == 'audience = "public" AND type IN ["event"]'
    both = Filters(types=("post", "event"))
    assert filter_of(Plan(words=(), filters=both, sort=SearchSort.event_start)).endswith('type IN ["event"]')  # type: ignore[union-attr]
    posts = Plan(words=(), filters=Filters(types=("post",)), sort=SearchSort.event_start, facets=True)
    assert filter_of(posts) is None and search_request(posts, "i") is None
    assert nothing(posts).facets == {name: [] for name in FACET_SIZES} and nothing(posts).total == 0


def test_sort_orders() -> None:
    assert sort_of(Plan(words=())) == ["created:desc"]  # no words: newest first
    assert sort_of(Plan(words=("ai",))) is None  # relevance
    assert sort_of(Plan(words=("ai",), sort=SearchSort.newest)) == ["created:desc"]
    assert sort_of(Plan(words=("ai",), sort=SearchSort.event_start)) == ["starts:asc"]


def test_a_word_is_found_as_typed_or_by_its_exact_stem() -> None:
    assert forms("kommun", "sv", prefix=True) == ("kommun",)  # its own stem
    assert forms("kommunen", "sv", prefix=False) == ("kommunen", '"kommun"')  # typos or the stem
    assert forms("runs", "en", prefix=False) == ('"run"',)  # too short for typos: the stem covers it
    assert forms("runs", "en", prefix=True) == ("runs", '"run"')  # a prefix needs the word itself


def test_alternatives_cover_every_combination_per_language() -> None:
    assert alternatives(()) == [("", None)]
    assert alternatives(("kommun",)) == [("kommun", None)]
    assert alternatives(("runs", "model")) == [('"run" model', None)]
    assert alternatives(("öppna", "data")) == [
        ("öppna data", None),
        ('öppna "dat"', "sv"),
        ('"öppn" data', "sv"),
        ('"öppn" "dat"', "sv"),
    ]
    mixed = alternatives(("kommunernas", "kommunen"))
    assert ('"kommun" "kommun"', "sv") in mixed  # both words through their Swedish stem
    assert ('"kommunerna" kommunen', "en") in mixed  # English stems only for English documents
    assert mixed[0] == ("kommunernas kommunen", None)


def test_long_queries_are_capped_and_keep_the_last_word_as_typed() -> None:
    words = ("kommunernas", "kommunen", "äldreomsorgen", "använder", "maskininlärning", "träningen")
    found = alternatives(words)
    for language in ("sv", "en"):
        assert len([q for q, lang in found if lang in (language, None)]) <= 8
    assert all(not q.split()[0].startswith("kommunernas") for q, lang in found if lang == "sv")
    assert any(q.endswith(" träningen") for q, _ in found)


def test_suggestions_keep_every_word_as_typed_and_search_titles() -> None:
    assert alternatives(("runs", "kra"), all_prefix=True) == [("runs kra", None), ('"run" kra', None)]
    queries, federation = search_request(Plan(words=("kris", "kra"), titles_only=True, limit=8), "hub") or ([], {})
    assert [q["q"] for q in queries] == ["kris kra"]
    assert queries[0]["attributesToSearchOn"] == SUGGEST_ON
    assert federation == {"offset": 0, "limit": 8}


def test_the_federated_request() -> None:
    plan = Plan(words=("öppna", "data"), offset=5, limit=10, facets=True, sort=SearchSort.newest)
    request = search_request(plan, "hubben")
    assert request is not None
    queries, federation = request
    assert federation == {
        "offset": 5,
        "limit": 10,
        "facetsByIndex": {"hubben": ["type", "county", "org_kind", "tag", "area", "status", "technique"]},
    }
    assert [q["q"] for q in queries] == ["öppna data", 'öppna "dat"', '"öppn" data', '"öppn" "dat"']
    assert queries[0]["filter"] == 'audience = "public"'
    assert queries[1]["filter"] == 'audience = "public" AND lang = "sv"'
    for q in queries:
        assert q["indexUid"] == "hubben" and q["matchingStrategy"] == "all" and q["sort"] == ["created:desc"]
        assert q["attributesToSearchOn"] == SEARCH_ON and q["locales"] == ["swe"]
        assert not {"offset", "limit", "page", "hitsPerPage", "facets"} & set(q)  # refused in a federation


def test_settings_search_stems_exactly_and_filter_every_filtered_field() -> None:
    assert SETTINGS["searchableAttributes"][:4] == ["title", "title_stems", "text", "text_stems"]
    assert SETTINGS["rankingRules"][0] == "sort"
    assert set(SETTINGS["typoTolerance"]["disableOnAttributes"]) == {"title_stems", "text_stems"}
    filterable = set(SETTINGS["filterableAttributes"])
    assert {
        "type",
        "tag",
        "county",
        "municipality",
        "org_kind",
        "audience",
        "hub",
        "author",
        "key",
        "lang",
        "area",
        "status",
        "technique",
    } <= filterable
    assert {"starts", "ends"} <= filterable and set(SETTINGS["sortableAttributes"]) == {"created", "starts"}
    assert SETTINGS["pagination"] == {"maxTotalHits": 1000}


def test_facets_are_renamed_ranked_and_cut() -> None:
    tags = {f"t{i:02d}": 1 for i in range(30)} | {"etik": 5, "ai": 5, "sport": 2}
    out = facets_of({"type": {"post": 2, "organisation": 3}, "county": {"24": 2, "12": 1}, "tag": tags})
    assert [(v.value, v.count) for v in out["types"]] == [("organisation", 3), ("post", 2)]
    assert [v.value for v in out["county_codes"]] == ["24", "12"]
    assert out["organisation_kinds"] == [] and out["areas"] == [] and out["statuses"] == []
    assert [v.value for v in out["tags"][:4]] == ["ai", "etik", "sport", "t00"]  # count, then value
    assert len(out["tags"]) == FACET_SIZES["tags"]
    out = facets_of({"area": {"health": 1, "education": 3}, "status": {"pilot": 2}, "technique": {"nlp": 1}})
    assert [(v.value, v.count) for v in out["areas"]] == [("education", 3), ("health", 1)]
    assert [(v.value, v.count) for v in out["statuses"]] == [("pilot", 2)]
    assert [(v.value, v.count) for v in out["techniques"]] == [("nlp", 1)]


def test_an_answer_reads_hits_total_and_facets() -> None:
    response = {
        "hits": [
            {"type": "post", "id": 4, "lang": "en", "title": "", "text": "ai", "_federation": {"indexUid": "h"}},
            {"type": "hub", "id": 2, "lang": "sv", "title": "AI-hubben", "text": "x"},
        ],
        "estimatedTotalHits": 23,
        "facetsByIndex": {"h": {"distribution": {"type": {"post": 1, "hub": 1}}, "stats": {}}},
    }
    answer = answer_of(response, "h", facets=True)
    assert [(f.type, f.id, f.language, f.title) for f in answer.found] == [
        ("post", 4, "en", ""),
        ("hub", 2, "sv", "AI-hubben"),
    ]
    assert answer.total == 23
    assert answer.facets is not None and [v.value for v in answer.facets["types"]] == ["hub", "post"]
    assert answer_of({"hits": [], "estimatedTotalHits": 0}, "h", facets=False).facets is None


def _task(status: str, code: str | None = None) -> Task:
    error = {"code": code, "message": "it went wrong"} if code else None
    return Task(uid=1, index_uid="h", status=status, type="documentAdditionOrUpdate", error=error,
                enqueued_at="2026-11-27T12:00:00.000000Z")  # fmt: skip


def test_failed_tasks_raise_unless_the_failure_is_expected() -> None:
    check_task(_task("succeeded"))
    check_task(_task("failed", "index_not_found"), allow=("index_not_found",))
    with pytest.raises(MeiliTaskError, match="invalid_document_id"):
        check_task(_task("failed", "invalid_document_id"))
    with pytest.raises(MeiliTaskError, match="canceled"):
        check_task(_task("canceled"))
