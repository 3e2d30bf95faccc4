"""Search benchmark: 100,000 documents, a fixed mix of queries, three ways of asking.

    python -m bench.search [--docs 100000] [--queries 1200] [--rounds 3] [--build-runs 2] [--out DIR]

- Documents from a seed: members, organisations, hubs, posts and events, mostly Swedish (15%
  English), words drawn Zipf-like from a few thousand (AI and public-sector terms, common
  words, compounds, made-up words; 3% of posts are articles of 15-35 thousand characters),
  tags, county and municipality codes, organisation kinds, audiences (mostly public), events
  from 90 days ago to 180 ahead.
- Index build through the reindex path (`engine.build`, `upsert` in pages of 500, `commit`,
  `swap`); floor: the same documents (`_document`, SCHEMA) in a bare IndexWriter, one commit.
- Queries (one word, two words, typos, prefixes, filtered by type, county, tags or upcoming
  events; first=20) asked anonymously (1) through the API as the gateway does in one process
  (`SearchClient.in_process` on `create_app`), (2) through `service.search`, (3) raw: the same
  `query_of(plan)` run by `searcher.search(query, 20)` plus fetching the 20 stored documents,
  the engine's floor; signed in (hubs, blocks, mutes) through (2) and (3), as the API would
  fetch the scope from the graph; a smaller set with facets=True. After a warm-up, `--rounds`
  passes over the queries, each query through every path in turn (the first one rotating).

Results: bench/results/search.json and bench/results/search.md."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench.fanout import machine
from services.graph.contracts import OrganisationKind
from services.search.contracts import SearchFilters, SearchIn
from services.search.engine import Filters, Plan, Scope
from shared.search_documents import Audience, DocType, IndexDocument, Language

ORGANISATION_KINDS = [k.value for k in OrganisationKind]
RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime.now(UTC).replace(microsecond=0)
PAGE = 500  # documents per page of an owner's export, as a reindex gets them
FIRST = 20
TARGETS = {"api_p50_ms": 5.0, "api_p99_ms": 25.0, "overhead_p50_ms": 1.0}
Timed = Callable[[], Awaitable[Any]]

# --- words -------------------------------------------------------------------------------------

COMMON = """och i att det som en på är av för med till den inte om ett har de vi jag men från kan så var ska eller
nu också när efter vara hur bara mer andra alla här sig där mycket år under utan många nya kommer detta finns vill
genom redan även sedan både mellan idag över vilka olika göra kunna stora hela första samma bra viktigt""".split()
TERMS = """ai artificiell intelligens maskininlärning språkmodell språkmodeller data öppna datadelning dataskydd gdpr
integritet algoritm algoritmer automatisering digitalisering förvaltning kommun kommuner region regioner myndighet
myndigheter offentlig sektor upphandling innovation samverkan medborgare invånare tjänster välfärd äldreomsorg skola
skolan utbildning hälsa sjukvård vården omsorg socialtjänst bygglov ärendehantering beslutsstöd chattbot chattbotar
transparens etik ansvar risk risker säkerhet cybersäkerhet molntjänster infrastruktur plattform api standarder
interoperabilitet kompetens kompetensförsörjning forskning universitet högskola pilot piloter projekt hubb nätverk
kraftsamling strategi styrning ledning effektivisering kvalitet uppföljning analys statistik prognoser bildanalys
taligenkänning översättning klarspråk tillgänglighet hållbarhet klimat energi trafik kollektivtrafik miljö lantbruk
skog industri näringsliv företag startups finansiering bidrag vinnova workshop konferens webbinarium seminarium
frukostmöte hackathon meetup rapport vägledning handbok riktlinjer lagstiftning förordning eu aiakten regelverk
juridik arkiv diarium dokumenthantering rpa robotisering generativ träning modell modeller datamängd annotering
validering testning drift förvaltningsmodell arkitektur lösning leverantör licens källkod öppen""".split()
ENGLISH = """the and of to in for on with is are we our this that from by about how new data ai model models
language learning machine public sector government city council services digital open source research university
project pilot network community event meetup workshop conference talk panel ethics trust safety security privacy
risk policy regulation act compliance procurement innovation startup funding grant report guide training
evaluation benchmark deployment infrastructure cloud platform tools team people citizens health care education
schools transport climate energy sustainability future generative assistant chatbot automation analytics vision
speech translation accessibility join us today tomorrow week discuss share experience results lessons learned
building running scaling responsible transparent explainable""".split()
HEADS = """data ai digital kommun region myndighets skol vård omsorgs trafik miljö energi bygg social språk modell
informations säkerhets kvalitets lednings besluts forsknings innovations samhälls medborgar tjänste system process
analys kompetens""".split()
TAILS = """styrning plattform tjänst strategi arbete utveckling förvaltning analys stöd modell system portal projekt
nämnd enhet plan frågor verktyg området kunskap kompetens säkerhet lösning ansvar""".split()
ONSETS = ("b d f g h j k l m n p r s t v " * 4 + "bl br dr fl fr gr kl kr pl pr sk sl sm sn sp st str sv tr").split()
VOWELS, CODAS = "a e i o u y å ä ö a e i o a e".split(), [""] * 8 + "n r l s t k m nd ng rt st ll nn ck rk lt".split()
FIRST_NAMES = """Anna Eva Maria Karin Sara Lena Emma Kerstin Ingrid Linnea Elin Johanna Sofia Maja Lars Mikael Anders
Johan Per Erik Karl Peter Jan Thomas Daniel Fredrik Oskar Ali Mohammed Fatima Amir Leila Noah Hugo Ella Alice""".split()
LAST_NAMES = """Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson
Jonsson Hansson Bengtsson Lindberg Lindqvist Lindgren Berg Axelsson Lundberg Mattsson Holm Sandberg Forsberg Sjöberg
Wallin Engström Nyström Ahmadi Hussein Öberg Åberg Ekström Lund Björk""".split()
TAGS = [t for t in TERMS if len(t) <= 16][:80]
MIX = {DocType.member: 0.30, DocType.organisation: 0.04, DocType.hub: 0.01, DocType.post: 0.52, DocType.event: 0.13}


@dataclass
class Words:
    """A vocabulary, most frequent first, drawn from with Zipf's weights."""

    ranked: list[str]
    s: float = 1.0

    def __post_init__(self) -> None:
        self.cum = [0.0] * len(self.ranked)
        total = 0.0
        for r in range(len(self.ranked)):
            total += 1.0 / (r + 2.7) ** self.s
            self.cum[r] = total

    def take(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.ranked, cum_weights=self.cum, k=k)


def vocabularies(seed: int) -> tuple[Words, Words, Words]:
    """Swedish text, English text, and the words people search for (no function words)."""
    rng = random.Random(seed)
    compounds = [h + t for h in HEADS for t in TAILS if h != t]
    made_up = {
        "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(rng.choice((2, 2, 3))))
        for _ in range(2_300)
    }
    rng.shuffle(compounds)
    generated = sorted(made_up)
    rng.shuffle(generated)
    known = list(dict.fromkeys(TERMS + compounds[:150]))
    rng.shuffle(known)
    content = list(dict.fromkeys(known + compounds[150:] + generated))
    en = list(dict.fromkeys(ENGLISH[:20] + rng.sample(ENGLISH[20:], len(ENGLISH) - 20) + TERMS[:40]))
    # People search for the names of things (terms, compounds), seldom for the rare words.
    return Words(COMMON + content), Words(en), Words(content[:1_200], s=1.05)


def documents(n: int, seed: int) -> list[IndexDocument]:
    from shared.geo import municipalities

    rng = random.Random(seed)
    sv, en, _ = vocabularies(seed)
    places = list(municipalities().values())
    counts = {t: max(1, round(n * share)) for t, share in MIX.items()}
    counts[DocType.post] += n - sum(counts.values())
    members, orgs, hubs = counts[DocType.member], counts[DocType.organisation], counts[DocType.hub]

    def text(lang: Language, lo: int, hi: int) -> str:
        words = (en if lang == Language.en else sv).take(rng, rng.randint(lo, hi))
        cuts = [0]
        while cuts[-1] < len(words):
            cuts.append(cuts[-1] + rng.randint(6, 16))
        return " ".join(" ".join(words[a:b]).capitalize() + "." for a, b in zip(cuts, cuts[1:], strict=False))

    out: list[IndexDocument] = []
    for doc_type, count in counts.items():
        for i in range(1, count + 1):
            lang = Language.en if rng.random() < 0.15 else Language.sv
            place = rng.choice(places)
            where = {"county_codes": [place.county_code], "municipality_codes": [place.code]}
            f: dict[str, Any] = {"type": doc_type, "id": i, "language": lang}
            f["created_at"] = NOW - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            if doc_type == DocType.member:
                f |= {"title": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "author_id": i}
                f |= {"text": text(lang, 8, 60), "tags": rng.sample(TAGS, rng.randint(0, 5))}
                f |= where if rng.random() < 0.8 else {}
                f["audience"] = Audience.members if rng.random() < 0.15 else Audience.public
            elif doc_type == DocType.organisation:
                kind = rng.choice(ORGANISATION_KINDS)
                name = {"municipality": f"{place.name} kommun", "region": f"Region {place.county_name}"}.get(
                    kind, f"{rng.choice(HEADS).capitalize()}{rng.choice(TAILS)} {rng.choice(['AB', 'i', 'Sverige'])}"
                )
                f |= {"title": name, "text": text(lang, 20, 120), "organisation_kind": kind, "organisation_id": i}
                f |= where
            elif doc_type == DocType.hub:
                f |= {"title": " ".join(sv.take(rng, 2)).capitalize() + f" {place.name}", "hub_id": i}
                f |= {"text": text(lang, 20, 100), "organisation_id": rng.randint(1, orgs)}
                f |= {"author_id": rng.randint(1, members), "tags": rng.sample(TAGS, rng.randint(1, 4))}
            else:
                long = rng.random() < 0.03  # articles
                f |= {"text": text(lang, 2_000, 4_500) if long else text(lang, 10, 180)}
                f |= {"author_id": rng.randint(1, members), "tags": rng.sample(TAGS, rng.randint(0, 4))}
                f["created_at"] = NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
                if rng.random() < 0.45:
                    f["hub_id"] = rng.randint(1, hubs)
                r = rng.random()
                f["audience"] = Audience.members if r < 0.12 else Audience.public
                if r < 0.05 and "hub_id" in f:
                    f["audience"] = Audience.hub_members
                if doc_type == DocType.post:
                    f["title"] = text(lang, 3, 9).rstrip(".") if rng.random() < 0.2 else ""
                else:
                    starts = NOW + timedelta(minutes=rng.randint(-90 * 24 * 60, 180 * 24 * 60))
                    f |= {"title": text(lang, 2, 7).rstrip("."), "starts_at": starts}
                    f["ends_at"] = starts + timedelta(minutes=rng.randint(60, 3 * 24 * 60))
                    f |= where if rng.random() < 0.7 else {}
            out.append(IndexDocument(**f))
    return out


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str
    data: SearchIn


def typo(rng: random.Random, word: str) -> str:
    """One edit from 5 letters, two from 9 (Meilisearch's rule): swap, drop, add or change."""
    for _ in range(2 if len(word) >= 9 else 1):
        i, op, letter = rng.randrange(len(word) - 1), rng.choice("sdac"), rng.choice("abdeiklmnorstuvyåäö")
        if op == "s":
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            word = word[:i] + ("" if op == "d" else letter) + word[i + (op != "a") :]
    return word


def cases(n: int, seed: int, *, facets: bool = False, highlight: bool = False) -> list[Case]:
    rng = random.Random(seed + facets)
    _, en, wanted = vocabularies(seed)
    english = Words(en.ranked[20:])  # no function words
    kinds = ["one word"] * 25 + ["two words"] * 20 + ["typo"] * 15 + ["prefix"] * 15 + ["filtered"] * 25
    out = []
    for _ in range(n):
        kind = rng.choice(kinds)
        vocab = english if rng.random() < 0.15 else wanted
        a, b = vocab.take(rng, 2)
        longer = next((w for w in vocab.take(rng, 40) if len(w) >= 5), "kommunerna")
        lead = f"{a} " if rng.random() < 0.3 else ""
        query = {"one word": a, "two words": f"{a} {b}", "typo": lead + typo(rng, longer)}.get(kind, a)
        filters = SearchFilters()
        if kind == "prefix":
            query = lead + longer[: rng.randint(3, min(7, len(longer) - 1))]
        elif kind == "filtered":
            query = a if rng.random() < 0.7 else f"{a} {b}"
            which = rng.choice(["type", "county", "tags", "upcoming"])
            filters = SearchFilters(
                types={"type": [rng.choice(list(DocType))], "upcoming": [DocType.event]}.get(which, []),
                county_codes=[f"{rng.choice([1, 3, 12, 14, 24]):02d}"] if which == "county" else [],
                tags=rng.sample(TAGS[:30], rng.randint(1, 2)) if which == "tags" else [],
                starts_from=NOW if which == "upcoming" else None,
            )
        data = SearchIn(query=query, filters=filters, first=FIRST, facets=facets, highlight=highlight)
        out.append(Case(kind, data))
    return out


def scopes(seed: int, members: int, hubs: int) -> list[Scope]:
    rng = random.Random(seed)

    def some(top: int, lo: int, hi: int) -> tuple[int, ...]:
        return tuple(rng.sample(range(1, top + 1), rng.randint(lo, hi)))

    return [
        Scope(rng.randint(1, members), some(hubs, 3, 8), some(members, 1, 5), some(members, 1, 5)) for _ in range(8)
    ]


def plan_of(case: Case, scope: Scope) -> Plan:
    """The plan service.search makes of a request (relevance, first page, upcoming by default)."""
    from services.search.text import query_words

    f = case.data.filters
    ranged = f.starts_from is not None or f.starts_before is not None
    filters = Filters(
        types=tuple(t.value for t in f.types), county_codes=tuple(f.county_codes), tags=tuple(f.tags),
        starts_from=f.starts_from, starts_before=f.starts_before, ends_after=None if ranged else datetime.now(UTC),
    )  # fmt: skip
    return Plan(words=query_words(case.data.query), filters=filters, scope=scope, limit=FIRST, facets=case.data.facets)


# --- measuring ---------------------------------------------------------------------------------


def summary(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    out = {"p50": statistics.median(ms), "p90": q[89], "p99": q[98], "mean": statistics.fmean(ms)}
    return {"n": len(ms)} | {k: round(v, 3) for k, v in out.items()}


async def build_phase(engine: Any, docs: list[IndexDocument], runs: int, scratch: Path) -> dict[str, Any]:
    import tantivy

    from services.search.tantivy_engine import BUILD_WRITER_HEAP, SCHEMA, _document
    from services.search.text import analyzer

    def bare(path: Path) -> float:
        path.mkdir()
        started = time.perf_counter()
        index = tantivy.Index(SCHEMA, path=str(path))
        for name in ("words", "sv", "en"):
            index.register_tokenizer(name, analyzer(name))
        writer = index.writer(BUILD_WRITER_HEAP, 2)
        for doc in docs:
            writer.add_document(_document(doc))
        writer.commit()
        writer.wait_merging_threads()
        return time.perf_counter() - started

    ours, floor = [], []
    for n in range(runs):
        started = time.perf_counter()
        build = await engine.build(f"g{n}")
        for i in range(0, len(docs), PAGE):
            await build.upsert(docs[i : i + PAGE])
        await build.commit()
        await build.swap()
        ours.append(time.perf_counter() - started)
        floor.append(await asyncio.to_thread(bare, scratch / f"bare{n}"))
        shutil.rmtree(scratch / f"bare{n}")
        print(f"build {n + 1}: reindex path {ours[-1]:.1f} s, bare writer {floor[-1]:.1f} s")
    live = engine._live_generation().path
    a, b = statistics.median(ours), statistics.median(floor)
    return {
        "reindex_path_seconds": [round(s, 2) for s in ours],
        "bare_writer_seconds": [round(s, 2) for s in floor],
        "reindex_path_docs_per_second": round(len(docs) / a),
        "bare_writer_docs_per_second": round(len(docs) / b),
        "ratio": round(b / a, 3),
        "index_mib": round(sum(p.stat().st_size for p in live.iterdir() if p.is_file()) / 2**20, 1),
    }


async def latency_phase(engine: Any, client: Any, groups: dict[str, tuple[list[Case], Any]], rounds: int) -> Any:
    """groups: name -> (cases, scopes: None for anonymous, else the signed-in scopes to rotate)."""
    from services.search import service
    from services.search.engine import FACET_SIZES
    from services.search.tantivy_engine import FACET_FIELDS, query_of
    from shared.auth import ANONYMOUS

    searcher = engine._live_generation().index.searcher()
    aggregations = {name: {"terms": {"field": FACET_FIELDS[name], "size": n}} for name, n in FACET_SIZES.items()}

    def raw(case: Case, scope: Scope) -> Timed:
        query = query_of(plan_of(case, scope))  # made outside the timing: the floor is Tantivy's own work

        async def run() -> None:
            for _, address in searcher.search(query, FIRST).hits:
                searcher.doc(address)
            if case.data.facets:
                searcher.aggregate(query, aggregations)

        return run

    out: dict[str, Any] = {}
    for group, (cases, signed) in groups.items():
        who = [signed[i % len(signed)] if signed else Scope() for i in range(len(cases))]
        fns: dict[str, list[Timed]] = (
            {} if signed else {"api": [partial(client.search, ANONYMOUS, c.data) for c in cases]}
        )
        fns["service"] = [partial(service.search, engine, s, c.data) for c, s in zip(cases, who, strict=True)]
        fns["raw"] = [raw(c, s) for c, s in zip(cases, who, strict=True)]
        for fn in (f for per in fns.values() for f in per):
            await fn()  # warm-up: every query once through every path
        per: dict[str, list[list[float]]] = {p: [[] for _ in cases] for p in fns}
        names = list(fns)
        for r in range(rounds):
            # Paths interleaved query by query (the first of them rotating), so that a slower
            # minute of a shared machine weighs on all of them alike.
            for i in range(len(cases)):
                k = (i + r) % len(names)
                for name in names[k:] + names[:k]:
                    started = time.perf_counter_ns()
                    await fns[name][i]()
                    per[name][i].append((time.perf_counter_ns() - started) / 1e6)
        g: dict[str, Any] = {p: summary([x for q in v for x in q]) for p, v in per.items()}
        g["rounds_p50"] = {
            p: [round(statistics.median(q[r] for q in v), 3) for r in range(rounds)] for p, v in per.items()
        }
        for p in [p for p in per if p != "raw"]:
            paired = [statistics.median(a) - statistics.median(b) for a, b in zip(per[p], per["raw"], strict=True)]
            g[f"{p}_over_raw"] = {
                "p50_minus_p50": round(g[p]["p50"] - g["raw"]["p50"], 3),
                "p99_minus_p99": round(g[p]["p99"] - g["raw"]["p99"], 3),
                "paired_p50": round(statistics.median(paired), 3),
                "paired_p99": round(statistics.quantiles(paired, n=100, method="inclusive")[98], 3),
            }
        g["by_kind_p50"] = {
            k: {p: round(statistics.median(x for c, q in zip(cases, v, strict=True) if c.kind == k for x in q), 3)
                for p, v in per.items()}
            for k in sorted({c.kind for c in cases})
        }  # fmt: skip
        out[group] = g
        print(group, {p: g[p]["p50"] for p in per})
    return out


# --- the run -----------------------------------------------------------------------------------


async def benchmark(n_docs: int, n_queries: int, rounds: int, build_runs: int, seed: int) -> dict[str, Any]:
    from services.search.api import create_app
    from services.search.client import SearchClient
    from services.search.tantivy_engine import TantivyEngine
    from shared.settings import Settings

    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="hubben-bench-search-"))
    try:
        docs = documents(n_docs, seed)
        print(f"{len(docs):,} documents made")
        counts = Counter(d.type.value for d in docs)
        shares = {"english_share": sum(d.language == Language.en for d in docs) / len(docs)}
        shares["public_share"] = sum(d.audience == Audience.public for d in docs) / len(docs)
        settings = Settings(var_dir=workdir / "var", environment="test", demo_data=False, run_jobs_in_process=False)
        engine = TantivyEngine(settings.var_dir / "search" / "tantivy")
        build = await build_phase(engine, docs, build_runs, workdir)
        del docs  # a server does not hold them: no 100,000 objects for the collector to walk
        gc.collect()
        all_cases = cases(n_queries, seed)
        groups = {
            "anonymous": (all_cases, None),
            "signed_in": (all_cases, scopes(seed, counts["member"], counts["hub"])),
            "facets": (cases(max(50, n_queries // 6), seed, facets=True), None),
            # Marked words in titles and snippets, asked for by the gateway when selected.
            "highlights": (cases(max(50, n_queries // 3), seed, highlight=True), None),
        }
        app = create_app(settings, graph=object(), feed=object(), engine=engine)  # anonymous: no scope fetched
        async with app.router.lifespan_context(app):
            client = SearchClient.in_process(app, app.state.codec)
            try:
                latency = await latency_phase(engine, client, groups, rounds)
            finally:
                await client.aclose()
        await engine.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    names = ("tantivy", "fastapi", "starlette", "pydantic", "httpx", "rapidfuzz", "uvloop")
    versions = {"python": platform.python_version()} | {n: metadata.version(n) for n in names if find_spec(n)}
    api = latency["anonymous"]["api"]
    overhead = latency["anonymous"]["api_over_raw"]["p50_minus_p50"]
    own = latency["anonymous"]["service_over_raw"]["p50_minus_p50"]  # the service's work, without the HTTP hop
    return {
        "scenario": "search over 100,000 documents: API, service function and raw Tantivy",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host | {"load_average_end": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions,
        "setup": {"documents": dict(counts), **shares, "queries": dict(Counter(c.kind for c in all_cases))}
        | {"facet_queries": len(groups["facets"][0]), "highlight_queries": len(groups["highlights"][0])}
        | {"rounds": rounds, "first": FIRST, "seed": seed}
        | {"event_loop": "uvloop" if "uvloop" in versions else "asyncio"},
        "build": build,
        "latency_ms": latency,
        "targets": TARGETS
        | {"api_p50_met": api["p50"] < TARGETS["api_p50_ms"], "api_p99_met": api["p99"] < TARGETS["api_p99_ms"]}
        | {"overhead_p50_met": overhead < TARGETS["overhead_p50_ms"]}
        | {"service_overhead_p50_met": own < TARGETS["overhead_p50_ms"]},
    }


ROWS = [("anonymous", "api", "API, in process (the gateway's client)"), ("anonymous", "service", "service.search"),
        ("anonymous", "raw", "raw Tantivy"), ("signed_in", "service", "signed in: service.search"),
        ("signed_in", "raw", "signed in: raw Tantivy"), ("facets", "api", "facets: API"),
        ("facets", "service", "facets: service.search"), ("facets", "raw", "facets: raw Tantivy"),
        ("highlights", "api", "highlights: API"), ("highlights", "service", "highlights: service.search"),
        ("highlights", "raw", "highlights: raw Tantivy")]  # fmt: skip


def markdown(r: dict[str, Any]) -> str:
    m, v, s, b, lat, t = r["machine"], r["versions"], r["setup"], r["build"], r["latency_ms"], r["targets"]
    docs = ", ".join(f"{n:,} {k}s" for k, n in s["documents"].items())
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(s["queries"].items()))
    yes = {True: "met", False: "**not met**"}
    anon = lat["anonymous"]
    lines = [
        f"# Search: {sum(s['documents'].values()):,} documents",
        "",
        f"Run {r['when']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), {m['os']}. Load average "
        f"{m['load_average']} at the start, {m['load_average_end']} at the end (other work shares the cores).",
        f"Python {v['python']}, tantivy {v.get('tantivy')}, FastAPI {v.get('fastapi')}, Starlette "
        f"{v.get('starlette')}, pydantic {v.get('pydantic')}, httpx {v.get('httpx')}, RapidFuzz {v.get('rapidfuzz')}; "
        f"{s['event_loop']}.",
        "",
        f"Documents: {docs} ({s['english_share']:.0%} English, {s['public_share']:.0%} public). Queries: {kinds}; "
        f"first={s['first']}; {s['facet_queries']} more with facets, {s['highlight_queries']} more with highlights "
        "(the main rows ask for neither, as a client that shows no marked snippets). "
        f"Each path: a warm-up, then {s['rounds']} rounds.",
        "",
        "| index build | seconds (runs) | documents/s |",
        "|---|---:|---:|",
        f"| reindex path: build, upsert pages of {PAGE}, commit, swap | {b['reindex_path_seconds']} | "
        f"{b['reindex_path_docs_per_second']:,} |",
        f"| floor: bare IndexWriter, one commit | {b['bare_writer_seconds']} | {b['bare_writer_docs_per_second']:,} |",
        f"| ours ÷ floor | | {b['ratio']} |",
        "",
        f"Index on disk: {b['index_mib']} MiB.",
        "",
        "| latency (ms) | p50 | p90 | p99 | mean | ÷ raw at p50 | above raw: p50 | p99 | per query p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group, path, label in ROWS:
        x, o = lat[group][path], lat[group].get(f"{path}_over_raw")
        above = f"{o['p50_minus_p50']:.2f} | {o['p99_minus_p99']:.2f} | {o['paired_p50']:.2f}" if o else " | | "
        lines.append(
            f"| {label} | {x['p50']:.2f} | {x['p90']:.2f} | {x['p99']:.2f} | {x['mean']:.2f} | "
            f"{x['p50'] / lat[group]['raw']['p50']:.2f} | {above} |"
        )
    lines += ["", "Above raw: the path's p50 (p99) less raw Tantivy's; per query: the median over queries of each"]
    lines += ["query's difference (medians over the rounds). Raw runs in the loop's thread, the engine in a worker."]
    lines += ["", "| p50 by kind (ms, anonymous) | API | service.search | raw |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {p['api']:.2f} | {p['service']:.2f} | {p['raw']:.2f} |" for k, p in anon["by_kind_p50"].items()]
    lines += [
        "",
        f"Targets: API p50 under {t['api_p50_ms']} ms: {yes[t['api_p50_met']]} ({anon['api']['p50']:.2f}); "
        f"API p99 under {t['api_p99_ms']} ms: {yes[t['api_p99_met']]} ({anon['api']['p99']:.2f}); "
        f"the service's own time above raw Tantivy under {t['overhead_p50_ms']} ms at p50: "
        f"{yes[t['service_overhead_p50_met']]} for service.search ({anon['service_over_raw']['p50_minus_p50']:.2f}), "
        f"{yes[t['overhead_p50_met']]} with the in-process HTTP hop of the API added "
        f"({anon['api_over_raw']['p50_minus_p50']:.2f}).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build-runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    run = benchmark(args.docs, args.queries, args.rounds, args.build_runs, args.seed)
    try:
        import uvloop  # uvicorn runs the service on it when it is installed
    except ImportError:
        result = asyncio.run(run)
    else:
        result = uvloop.run(run)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "search.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
