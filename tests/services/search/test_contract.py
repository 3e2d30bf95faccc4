"""The search contract, run against every engine: Tantivy always, Meilisearch when
HUBBEN_MEILI_URL names a server. Each case indexes its own documents and asks through the
service's own functions (service.search / service.suggest), as the API does."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.search import service
from services.search.contracts import SearchFilters, SearchIn, SearchSort, SuggestIn
from services.search.engine import Scope, SearchEngine
from shared.errors import BadUserInput
from shared.search_documents import Audience, DocType, IndexDocument, Language

MEILI_URL = os.environ.get("HUBBEN_MEILI_URL", "")
NOW = datetime.now(UTC)
ANYONE = Scope()


# Meilisearch joins the contract when a server is named; there is none on a bare machine.
@pytest.fixture(scope="module", params=["tantivy", *(["meilisearch"] if MEILI_URL else [])])
async def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    if request.param == "tantivy":
        from services.search.tantivy_engine import TantivyEngine

        built: SearchEngine = TantivyEngine(Path(tmp_path_factory.mktemp("tantivy")))
    else:
        from services.search.meili_engine import MeiliEngine

        built = MeiliEngine(MEILI_URL, os.environ.get("HUBBEN_MEILI_API_KEY", ""), f"test_{uuid.uuid4().hex[:8]}")
    yield built
    await built.close()


@pytest.fixture
async def index(engine: SearchEngine) -> SearchEngine:
    await engine.clear()
    return engine


_ids = iter(range(1, 10**9))


def doc(doc_type: str = "post", **fields: Any) -> IndexDocument:
    values: dict[str, Any] = {"id": next(_ids), "title": "", "created_at": NOW, "author_id": 1}
    values.update(fields)
    return IndexDocument(type=DocType(doc_type), **values)


async def find(engine: SearchEngine, query: str = "", scope: Scope = ANYONE, **kw: Any) -> list[tuple[str, int]]:
    out = await service.search(engine, scope, SearchIn(query=query, first=50, **kw))
    return [(h.type.value, h.id) for h in out.hits]


def keys(*docs: IndexDocument) -> list[tuple[str, int]]:
    return [(d.type.value, d.id) for d in docs]


# --- words: stemming, letters, typos, prefixes --------------------------------------------------


async def test_swedish_and_english_are_stemmed_by_the_documents_language(index: SearchEngine) -> None:
    sv = doc(text="Kommunerna använder maskininlärning i äldreomsorgen")
    en = doc(text="We are running language models for municipalities", language=Language.en)
    await index.upsert([sv, en])
    for query in ("kommun", "kommunernas kommunen", "äldreomsorg", "använda"):
        assert await find(index, query) == keys(sv), query
    for query in ("run", "runs model", "municipality"):
        assert await find(index, query) == keys(en), query


async def test_å_ä_and_ö_are_letters_not_accents(index: SearchEngine) -> None:
    are = doc(title="Åre kommun")
    ol = doc(title="Öl och kultur")
    await index.upsert([are, ol])
    assert await find(index, "åre") == keys(are)
    assert await find(index, "are kommun") == []  # a short word: no typo allowed, and a is not å
    assert await find(index, "öl") == keys(ol)
    assert await find(index, "ol och") == []


async def test_typos_one_from_five_letters_two_from_nine(index: SearchEngine) -> None:
    data = doc(text="data analys")  # "data": 4 letters
    modell = doc(text="modell träning")  # "modell": 6 letters
    lang = doc(text="maskininlärning träning")  # 15 letters
    await index.upsert([data, modell, lang])
    # Words other than the last are matched whole, so these test the typo budget alone.
    assert await find(index, "dsta analys") == []  # 4 letters: no typo
    assert await find(index, "modll träning") == keys(modell)  # 5 letters: one typo
    assert await find(index, "mdoell träning") == keys(modell)  # a swap counts as one
    assert await find(index, "mxdxll träning") == []  # 6 letters: not two
    assert await find(index, "maskinilärnig träning") == keys(lang)  # 13 letters: two typos
    assert await find(index, "maskxnxnlärxing träning") == []  # not three


async def test_the_last_word_may_be_the_start_of_one(index: SearchEngine) -> None:
    post = doc(text="maskininlärning i äldreomsorgen")
    await index.upsert([post])
    assert await find(index, "maskin") == keys(post)
    assert await find(index, "äldreomsorgen maskin") == keys(post)
    assert await find(index, "maskin äldreomsorgen") == []  # only the last word is a prefix


async def test_every_word_must_match(index: SearchEngine) -> None:
    both = doc(text="öppna data i kommunen")
    one = doc(text="öppna dörrar")
    await index.upsert([both, one])
    assert await find(index, "öppna data") == keys(both)
    assert sorted(await find(index, "öppna")) == sorted(keys(both, one))


async def test_titles_rank_above_text_and_exact_words_above_typos(index: SearchEngine) -> None:
    in_text = doc(title="Något annat", text="Kraftsamlingen samlar kommuner")
    in_title = doc(title="Kraftsamlingen", text="en hubb")
    typo = doc(title="Kraftsamlingan", text="")
    await index.upsert([in_text, typo, in_title])
    found = await find(index, "kraftsamlingen")
    assert found[0] == keys(in_title)[0]
    assert found.index(keys(in_text)[0]) < found.index(keys(typo)[0]) or found[1] == keys(in_text)[0]


async def test_highlights_mark_the_words_that_matched(index: SearchEngine) -> None:
    post = doc(title="Maskininlärning", text="Kommunerna " + "lorem ipsum " * 40 + "använder maskininlärning nu")
    await index.upsert([post])
    plain = (await service.search(index, ANYONE, SearchIn(query="maskininlarning"))).hits[0]
    assert plain.title.highlights == [] and plain.text.text.startswith("Kommunerna lorem")  # not asked for
    out = await service.search(index, ANYONE, SearchIn(query="maskininlarning", highlight=True))
    hit = out.hits[0]
    assert [hit.title.text[a:b] for a, b in hit.title.highlights] == ["Maskininlärning"]
    marked = [hit.text.text[a:b] for a, b in hit.text.highlights]
    assert marked == ["maskininlärning"] and hit.text.text.startswith("… ")
    assert len(hit.text.text) <= 210


async def test_suggestions_complete_names_as_they_are_typed(index: SearchEngine) -> None:
    hub = doc("hub", title="Kraftsamlingen", text="AI i kommuner")
    member = doc("member", title="Krister Kraft", text="Data scientist")
    post = doc("post", title="", text="Kraftsamlingen träffas")
    await index.upsert([hub, member, post])
    out = await service.suggest(index, ANYONE, SuggestIn(prefix="kraft"))
    assert sorted((s.type.value, s.id) for s in out.suggestions) == sorted(keys(hub, member))
    out = await service.suggest(index, ANYONE, SuggestIn(prefix="kris kra", types=[DocType.member]))
    assert [(s.type.value, s.id) for s in out.suggestions] == keys(member)
    assert [out.suggestions[0].title.text[a:b] for a, b in out.suggestions[0].title.highlights] == ["Krister", "Kraft"]


# --- filters, facets, sorting, pages ------------------------------------------------------------


async def test_each_filter_narrows_and_values_within_a_filter_widen(index: SearchEngine) -> None:
    umea = doc("organisation", title="Umeå kommun AI", county_codes=["24"], municipality_codes=["2480"],
               organisation_kind="municipality")  # fmt: skip
    lund = doc("organisation", title="Lunds AI-förening", county_codes=["12"], municipality_codes=["1281"],
               organisation_kind="civil_society")  # fmt: skip
    hub_post = doc("post", text="AI i hubben", hub_id=77, tags=["ai", "etik"])
    other = doc("post", text="AI annars", hub_id=78, tags=["ai"])
    await index.upsert([umea, lund, hub_post, other])

    def f(**kw: Any) -> dict[str, Any]:
        return {"filters": SearchFilters(**kw)}

    assert sorted(await find(index, "ai", **f(types=["organisation"]))) == sorted(keys(umea, lund))
    assert await find(index, "ai", **f(county_codes=["24"])) == keys(umea)
    assert sorted(await find(index, "ai", **f(county_codes=["24", "12"]))) == sorted(keys(umea, lund))
    assert await find(index, "ai", **f(municipality_codes=["1281"])) == keys(lund)
    assert await find(index, "ai", **f(organisation_kinds=["municipality"])) == keys(umea)
    assert await find(index, "ai", **f(hub_ids=[77])) == keys(hub_post)
    assert await find(index, "ai", **f(tags=["Etik"])) == keys(hub_post)
    assert sorted(await find(index, "ai", **f(tags=["ai"]))) == sorted(keys(hub_post, other))
    assert await find(index, "ai", **f(types=["post"], hub_ids=[78])) == keys(other)


async def test_initiatives_filter_by_area_status_and_technique(index: SearchEngine) -> None:
    bygglov = doc("initiative", title="Chattbot för bygglov", text="Svarar på frågor", area="urban_planning",
                  status="pilot", techniques=["språkmodeller", "rag"], county_codes=["24"])  # fmt: skip
    skola = doc("initiative", title="Schemaläggning med AI", area="education", status="in_production",
                techniques=["optimering"], county_codes=["12"], municipality_codes=["1281"])  # fmt: skip
    post = doc("post", text="AI och språkmodeller", tags=["språkmodeller"])
    await index.upsert([bygglov, skola, post])

    def f(**kw: Any) -> dict[str, Any]:
        return {"filters": SearchFilters(**kw)}

    assert await find(index, "bygglov") == keys(bygglov)
    assert await find(index, "", **f(areas=["education"])) == keys(skola)
    assert sorted(await find(index, "", **f(areas=["education", "urban_planning"]))) == sorted(keys(bygglov, skola))
    assert await find(index, "", **f(statuses=["pilot"])) == keys(bygglov)
    assert await find(index, "", **f(statuses=["ended"])) == []
    # A technique is an initiative's own: the post tagged the same is not found by it.
    assert await find(index, "", **f(techniques=["Språkmodeller"])) == keys(bygglov)
    assert await find(index, "", **f(tags=["språkmodeller"])) == keys(post)
    assert sorted(await find(index, "språkmodeller")) == sorted(keys(bygglov, post))  # and words of its text
    assert await find(index, "", **f(county_codes=["12"], types=["initiative"])) == keys(skola)
    assert await find(index, "", **f(areas=["education"], statuses=["pilot"])) == []

    out = await service.search(
        index, ANYONE, SearchIn(query="", facets=True, filters=SearchFilters(types=["initiative"]))
    )
    assert out.facets is not None
    assert {v.value: v.count for v in out.facets.areas} == {"urban_planning": 1, "education": 1}
    assert {v.value: v.count for v in out.facets.statuses} == {"pilot": 1, "in_production": 1}
    assert {v.value: v.count for v in out.facets.techniques} == {"språkmodeller": 1, "rag": 1, "optimering": 1}
    assert out.facets.tags == []


async def test_events_are_upcoming_by_default_and_filter_by_start(index: SearchEngine) -> None:
    soon = doc("event", title="AI-dagen", starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=2, hours=3))
    later = doc("event", title="AI-veckan", starts_at=NOW + timedelta(days=40), ends_at=NOW + timedelta(days=41))
    past = doc("event", title="AI-mötet", starts_at=NOW - timedelta(days=9), ends_at=NOW - timedelta(days=8))
    ongoing = doc("event", title="AI-festivalen", starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    post = doc("post", text="ai")
    await index.upsert([soon, later, past, ongoing, post])
    assert sorted(await find(index, "ai")) == sorted(keys(soon, later, ongoing, post))
    assert sorted(await find(index, "ai", filters=SearchFilters(include_past=True))) == sorted(
        keys(soon, later, past, ongoing, post)
    )
    window = SearchFilters(types=["event"], starts_from=NOW - timedelta(days=10), starts_before=NOW + timedelta(days=3))
    assert sorted(await find(index, "ai", filters=window)) == sorted(keys(soon, past, ongoing))
    assert await find(index, "", sort=SearchSort.event_start) == keys(ongoing, soon, later)


async def test_facets_count_everything_found(index: SearchEngine) -> None:
    await index.upsert(
        [
            doc("organisation", title="AI Umeå", county_codes=["24"], organisation_kind="municipality"),
            doc("organisation", title="AI Skellefteå", county_codes=["24"], organisation_kind="municipality"),
            doc("organisation", title="AI Lund", county_codes=["12"], organisation_kind="academia"),
            doc("post", text="ai", tags=["etik", "ai"]),
            doc("post", text="ai", tags=["etik"]),
            doc("post", text="annat", tags=["sport"]),
        ]
    )
    out = await service.search(index, ANYONE, SearchIn(query="ai", facets=True))
    assert out.facets is not None
    assert {v.value: v.count for v in out.facets.types} == {"organisation": 3, "post": 2}
    assert {v.value: v.count for v in out.facets.county_codes} == {"24": 2, "12": 1}
    assert {v.value: v.count for v in out.facets.organisation_kinds} == {"municipality": 2, "academia": 1}
    assert {v.value: v.count for v in out.facets.tags} == {"etik": 2, "ai": 1}


async def test_newest_first_and_cursor_pages_cover_everything_once(index: SearchEngine) -> None:
    posts = [doc(text=f"rapport nummer {i}", created_at=NOW - timedelta(minutes=i)) for i in range(23)]
    await index.upsert(posts)
    seen: list[tuple[str, int]] = []
    after = None
    while True:
        page = SearchIn(query="rapport", sort=SearchSort.newest, first=5, after=after)
        out = await service.search(index, ANYONE, page)
        assert out.total == 23
        seen += [(h.type.value, h.id) for h in out.hits]
        if out.end_cursor is None:
            break
        after = out.end_cursor
    assert seen == keys(*posts)  # newest first, each once


async def test_bad_cursors_and_filters_are_refused(index: SearchEngine) -> None:
    for cursor in ("nonsense", "bzo5OTk5", "!!"):
        with pytest.raises(BadUserInput):
            await service.search(index, ANYONE, SearchIn(after=cursor))
    for bad in ({"county_codes": ["99"]}, {"municipality_codes": ["0000"]}, {"organisation_kinds": ["sect"]},
                {"types": ["comment"]}, {"tags": [""]}, {"areas": ["sport"]}, {"statuses": ["done"]},
                {"techniques": ["#"]}, {"techniques": ["x" * 41]}):  # fmt: skip
        with pytest.raises(ValidationError):
            SearchFilters(**bad)
    assert SearchFilters(organisation_kinds=["other"]).organisation_kinds == ["other"]  # every kind there is
    assert SearchFilters(techniques=["#Machine  Learning", "machine learning"]).techniques == ["machine learning"]
    assert SearchFilters(types=list(DocType)).types == list(DocType)  # every type at once
    with pytest.raises(ValidationError):
        SearchFilters(starts_from=NOW, starts_before=NOW - timedelta(days=1))
    with pytest.raises(ValidationError):
        SearchIn(query="x" * 513)


# --- who may find what -----------------------------------------------------------------------------


async def test_visibility_follows_audience_hubs_blocks_and_mutes(index: SearchEngine) -> None:
    public = doc(text="projekt öppet", author_id=10)
    members = doc(text="projekt medlemmar", author_id=10, audience=Audience.members)
    hub_only = doc(text="projekt hubb", author_id=10, audience=Audience.hub_members, hub_id=5)
    own_hub_post = doc(text="projekt eget", author_id=20, audience=Audience.hub_members, hub_id=6)
    blocked_post = doc(text="projekt blockerad", author_id=30)
    blocked_member = doc("member", title="Blockerad projekt", author_id=30)
    muted_post = doc(text="projekt tystad", author_id=40)
    muted_member = doc("member", title="Tystad projekt", author_id=40)
    everything = [public, members, hub_only, own_hub_post, blocked_post, blocked_member, muted_post, muted_member]
    await index.upsert(everything)

    assert sorted(await find(index, "projekt")) == sorted(
        keys(public, blocked_post, blocked_member, muted_post, muted_member)
    )
    member = Scope(member_id=20)
    assert sorted(await find(index, "projekt", member)) == sorted(
        keys(public, members, own_hub_post, blocked_post, blocked_member, muted_post, muted_member)
    )
    in_hub = Scope(member_id=20, hub_ids=(5,), blocked_ids=(30,), muted_ids=(40,))
    assert sorted(await find(index, "projekt", in_hub)) == sorted(keys(public, members, hub_only, own_hub_post,
                                                                        muted_member))  # fmt: skip
    suggestions = await service.suggest(index, in_hub, SuggestIn(prefix="block"))
    assert suggestions.suggestions == []


async def test_deleted_hidden_and_restored_documents(index: SearchEngine) -> None:
    post = doc(text="hemlig plan")
    page = doc("member", title="Erik Eriksson", text="hemlig", author_id=99)
    await index.upsert([post, page])
    await index.delete([post.key])  # deleted, or hidden by a moderator
    assert await find(index, "hemlig") == keys(page)
    await index.upsert([post])  # restored
    assert sorted(await find(index, "hemlig")) == sorted(keys(post, page))
    await index.delete([page.key, "post:0"])  # an erased member; a key never indexed is no error
    assert await find(index, "erik") == []
    await index.upsert([post.model_copy(update={"text": "ny text"})])  # an edit replaces, never duplicates
    assert await find(index, "hemlig") == []
    assert await find(index, "ny text") == keys(post)
    assert await index.count() == 1


HOSTILE = [
    "title:x",
    "*",
    '"',
    "(",
    ")",
    "AND",
    "OR NOT",
    "~2",
    "x~2",
    "x^10",
    "[a TO z]",
    "{}",
    "\\",
    "'; DROP TABLE post; --",
    "-",
    "+x",
    "/regex/",
    "?",
    "\x00",
    "\ud83d",
    "🤖 ✨",
    "a" * 512,
    " ".join(["ord"] * 200)[:512],
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_parser_syntax_is_only_words(index: SearchEngine, query: str) -> None:
    literal = doc(text="title x and or not 2 x 10 a to z drop table post regex ord")
    await index.upsert([literal])
    await service.search(index, ANYONE, SearchIn(query=query, facets=True))
    await service.suggest(index, ANYONE, SuggestIn(prefix=query[:99] + "x"))


async def test_syntax_words_match_as_words(index: SearchEngine) -> None:
    literal = doc(text="title x AND more")
    await index.upsert([literal])
    assert await find(index, "title:x") == keys(literal)
    assert await find(index, '"title" (x) AND') == keys(literal)
    assert await find(index, "*") == keys(literal)  # no words: everything the filters allow
