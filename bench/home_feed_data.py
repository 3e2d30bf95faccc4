"""The data of bench/home_feed.py: made in memory from a seed and written with COPY straight
into the tables the graph and feed services' migrations create, in schemas of its own
(prefix `bench_home_`). A marker on the feed schema (a JSON comment: scale, seed, the viewers)
lets the next run reuse it; see bench/home_feed.py for what is made."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

PG_URL = os.environ.get("HUBBEN_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PREFIX = "bench_home_"
DATA_VERSION = 1
EPOCH_MS = 1_704_067_200_000  # shared.ids: ids are milliseconds since 2024-01-01, shifted 20 bits
DAY_MS = 86_400_000
BIG_HUB_FOLLOWERS = 0.6  # the share of members who follow Kraftsamlingen


@dataclass(frozen=True)
class Scale:
    members: int = 100_000
    posts: int = 1_000_000
    organisations: int = 5_000
    hubs: int = 500
    viewers: int = 200
    seed: int = 8


def snowflake(ms: int, seq: int) -> int:
    return ((ms - EPOCH_MS) << 20) | (seq & 0xFFFFF)


def when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class Zipf:
    """Draws from a list with weights 1/(rank + offset): a few popular, a long tail."""

    def __init__(self, items: list[Any], offset: float) -> None:
        self.items = items
        total, cum = 0.0, []
        for r in range(len(items)):
            total += 1.0 / (r + offset)
            cum.append(total)
        self.cum = cum

    def take(self, rng: random.Random, k: int) -> list[Any]:
        return rng.choices(self.items, cum_weights=self.cum, k=k)


@dataclass
class Texts:
    bodies: list[tuple[str, str, list[str], str]]  # body, body_html, tags, language
    titles: list[str]
    reactions: list[tuple[str, int]]  # reaction_counts as JSON, and their total


SWEDISH = """och i att det som en på är av för med till den inte om ett har vi men från kan så eller nu också när
efter hur mer alla här mycket år under många nya kommer detta finns vill genom redan även idag över olika göra bra
ai artificiell intelligens maskininlärning språkmodell data öppna datadelning dataskydd integritet algoritmer
automatisering digitalisering förvaltning kommun kommuner region myndighet offentlig sektor upphandling innovation
samverkan invånare tjänster välfärd äldreomsorg skolan utbildning hälsa vården omsorg socialtjänst bygglov
ärendehantering beslutsstöd chattbot transparens etik ansvar risker säkerhet infrastruktur plattform kompetens
forskning pilot projekt hubb nätverk kraftsamling strategi styrning analys statistik prognoser bildanalys
taligenkänning översättning klarspråk tillgänglighet hållbarhet klimat energi trafik miljö workshop konferens
webbinarium rapport vägledning riktlinjer aiakten regelverk arkiv generativ träning modell validering drift
arkitektur leverantör källkod""".split()
ENGLISH = """the and of to in for on with is are we our this that from by about how new data ai model models
language learning public sector government city council services digital open source research project pilot
network community event workshop ethics trust safety security privacy risk policy regulation procurement
innovation funding report guide training evaluation deployment platform tools people health care education""".split()
TAGS = """ai data etik kommun region skola vard omsorg innovation upphandling opendata genai chattbot sprakmodell
integritet aiakten kompetens hallbarhet klimat trafik""".split()


def texts(rng: random.Random) -> Texts:
    """Pools of post bodies (rendered by the feed's own Markdown renderer, tags found as the
    feed finds them), titles and reaction counts, drawn from per post."""
    from shared.text import find_tags, render_markdown

    sv, en = Zipf(SWEDISH, 2.7), Zipf(ENGLISH, 2.7)

    def sentences(words: Zipf, lo: int, hi: int) -> str:
        ws = words.take(rng, rng.randint(lo, hi))
        out, i = [], 0
        while i < len(ws):
            j = i + rng.randint(6, 14)
            out.append(" ".join(ws[i:j]).capitalize() + ".")
            i = j
        return " ".join(out)

    bodies = []
    for _ in range(4_000):
        lang = "en" if rng.random() < 0.15 else "sv"
        body = sentences(en if lang == "en" else sv, 8, 70)
        if rng.random() < 0.3:
            body += " " + " ".join(f"#{t}" for t in rng.sample(TAGS, rng.randint(1, 2)))
        if rng.random() < 0.1:
            body += f" Läs mer: https://example.se/{rng.randrange(10**6)}"
        bodies.append((body, render_markdown(body), find_tags(body), lang))
    titles = [sentences(sv, 3, 9).rstrip(".")[:200] for _ in range(500)]
    reactions = []
    for _ in range(2_000):
        counts: dict[str, int] = {}
        if rng.random() < 0.6:
            for kind, mean in (("like", 6.0), ("insightful", 2.0), ("celebrate", 1.0), ("support", 1.0)):
                n = int(rng.expovariate(1 / mean))
                if n:
                    counts[kind] = n
        reactions.append((json.dumps(counts), sum(counts.values())))
    return Texts(bodies, titles, reactions)


@dataclass
class Graph:
    """The graph the posts are made on, kept in memory while loading."""

    members: list[int]
    member_ms: list[int]
    popular: Zipf  # members, most followed first
    orgs: list[int]
    org_staff: dict[int, list[int]]  # owner first
    org_zipf: Zipf
    hubs: list[int]
    hub_org: dict[int, int]
    hub_members: dict[int, list[int]]  # admin first
    hub_zipf: Zipf
    viewers: list[int]
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


ORG_KINDS = ["municipality", "region", "agency", "civil_society", "company", "academia", "other"]
FIRST = "Anna Eva Maria Karin Sara Lena Emma Ingrid Elin Sofia Lars Mikael Anders Johan Per Erik Karl Ali Amir Leila"
LAST = "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Lindberg Holm Ahmadi Öberg"
HEADLINES = [
    "AI-strateg",
    "Digitaliseringschef",
    "Verksamhetsutvecklare",
    "Dataanalytiker",
    "Utvecklare",
    "Projektledare AI",
    "Enhetschef",
    "Forskare i maskininlärning",
    "",
]


def make_graph(scale: Scale, rng: random.Random, now_ms: int) -> Graph:
    from shared.geo import municipalities

    places = list(municipalities().values())
    firsts, lasts = FIRST.split(), LAST.split()
    n = scale.members
    member_ms = sorted(rng.randrange(now_ms - 730 * DAY_MS, now_ms - 400 * DAY_MS) for _ in range(n))
    members = [snowflake(ms, i) for i, ms in enumerate(member_ms)]
    by_popularity = members[:]
    rng.shuffle(by_popularity)
    popular = Zipf(by_popularity, 10)

    # Organisations, each with an owner and up to two editors (who post as it).
    orgs, org_rows, role_rows, org_staff, member_org = [], [], [], {}, {}
    for i in range(scale.organisations):
        ms = rng.randrange(now_ms - 600 * DAY_MS, now_ms - 380 * DAY_MS)
        org = snowflake(ms, i)
        staff = list(dict.fromkeys(rng.sample(members, 3)[: rng.randint(1, 3)]))
        kind = rng.choice(ORG_KINDS)
        place = rng.choice(places)
        at = when(ms)
        org_rows.append(
            (org, f"org-{i}", f"{place.name} {kind.replace('_', ' ')} {i}", kind, place.code, place.county_code,
             f"https://org{i}.example.se", None, "", rng.random() < 0.2, 0, len(staff), staff[0], at, at)
        )  # fmt: skip
        for j, m in enumerate(staff):
            role_rows.append((snowflake(ms + 1, i * 4 + j), org, m, "owner" if j == 0 else "editor", at))
            member_org.setdefault(m, org)
        orgs.append(org)
        org_staff[org] = staff
    org_zipf = Zipf(orgs, 5)

    # Hubs: Kraftsamlingen first and largest; members of each, the creator its admin.
    hubs, hub_rows, hub_copy, membership_rows, member_copy, hub_org, hub_members = [], [], [], [], [], {}, {}
    for i in range(scale.hubs):
        ms = rng.randrange(now_ms - 500 * DAY_MS, now_ms - 370 * DAY_MS)
        hub = snowflake(ms, i)
        org = orgs[0] if i == 0 else rng.choice(orgs)
        size = 3_000 if i == 0 else max(3, int(2_000 / (i + 5)))
        people = list(dict.fromkeys([org_staff[org][0], *rng.sample(members, size)]))
        at = when(ms)
        name = "Kraftsamlingen" if i == 0 else f"Hubb {i}"
        hub_rows.append(
            (hub, "kraftsamlingen" if i == 0 else f"hub-{i}", name, "", org, "public", "open", 0, len(people),
             people[0], at, at)
        )  # fmt: skip
        hub_copy.append((hub, org, "public"))
        for j, m in enumerate(people):
            role = "admin" if j == 0 else "member"
            membership_rows.append((snowflake(ms + 1, i * 4_000 + j), hub, m, role, "active", at))
            member_copy.append((hub, m, role))
        hubs.append(hub)
        hub_org[hub] = org
        hub_members[hub] = people
    hub_zipf = Zipf(hubs, 3)

    viewers = rng.sample(members, scale.viewers)
    g = Graph(members, member_ms, popular, orgs, org_staff, org_zipf, hubs, hub_org, hub_members, hub_zipf, viewers)

    # Follows: most members follow a few; viewers follow many; ~60% follow Kraftsamlingen.
    follows: dict[int, set[tuple[str, int]]] = {}
    viewer_set = set(viewers)
    for m in members:
        mine: set[tuple[str, int]] = set()
        if m in viewer_set:
            k_members, k_hubs, k_orgs = rng.randint(150, 400), rng.randint(5, 15), rng.randint(3, 10)
        else:
            k_members, k_hubs, k_orgs = min(int(rng.expovariate(1 / 4)), 40), rng.randint(0, 3), rng.randint(0, 2)
        mine.update(("member", t) for t in popular.take(rng, k_members) if t != m)
        mine.update(("hub", t) for t in hub_zipf.take(rng, k_hubs))
        mine.update(("organisation", t) for t in org_zipf.take(rng, k_orgs))
        big = ("hub", hubs[0])
        if m in viewer_set:
            (mine.add if viewers.index(m) % 2 == 0 else mine.discard)(big)
        elif rng.random() < BIG_HUB_FOLLOWERS:
            mine.add(big)
        follows[m] = mine

    # Blocks and mutes: unrelated ones between members, and each viewer mutes two members
    # they follow and blocks a member of a hub they follow (whose hub posts the read must
    # then leave out). A block ends follows both ways, so blocked pairs follow neither way.
    blocks: set[tuple[int, int]] = set()
    mutes: set[tuple[int, int]] = set()
    for v in viewers:
        followed = sorted(t for kind, t in follows[v] if kind == "member")
        mutes.update((v, t) for t in rng.sample(followed, min(2, len(followed))))
        their_hubs = sorted(t for kind, t in follows[v] if kind == "hub")
        if their_hubs:
            candidates = [
                a
                for a in hub_members[rng.choice(their_hubs)][1:]
                if a != v and ("member", a) not in follows[v] and ("member", v) not in follows[a]
            ]
            if candidates:
                blocks.add((v, rng.choice(candidates)))
    while len(blocks) < 20_000 + len(viewers) // 2:
        a, b = rng.choice(members), rng.choice(members)
        if a != b and ("member", b) not in follows[a] and ("member", a) not in follows[b]:
            blocks.add((a, b))
    while len(mutes) < 20_000 + 2 * len(viewers):
        a, b = rng.choice(members), rng.choice(members)
        if a != b:
            mutes.add((a, b))

    follower_counts: Counter[tuple[str, int]] = Counter()
    follow_rows, follow_copy = [], []
    k = 0
    for m in members:
        for kind, target in sorted(follows[m]):
            ms = rng.randrange(now_ms - 365 * DAY_MS, now_ms - DAY_MS)
            fid = snowflake(ms, k)
            k += 1
            follow_rows.append((fid, m, kind, target, when(ms)))
            follow_copy.append((m, kind, target, fid))
            follower_counts[(kind, target)] += 1
    following = {m: len(f) for m, f in follows.items()}

    password_hash = _password_hash()
    member_rows, credential_rows = [], []
    for i, (m, ms) in enumerate(zip(members, member_ms, strict=True)):
        at = when(ms)
        handle = f"m{i:06d}"
        place = places[i % len(places)]
        member_rows.append(
            (m, handle, f"{firsts[i % len(firsts)]} {lasts[(i // 7) % len(lasts)]}", HEADLINES[i % len(HEADLINES)],
             "", f"https://avatars.example.se/{handle}.png" if i % 3 else None, place.code, member_org.get(m),
             "[]", "[]", "sv", "member", None, follower_counts[("member", m)], following[m], at, at, None, None)
        )  # fmt: skip
        credential_rows.append((m, f"{handle}@bench.hubben.se", password_hash, at, at))

    def counted(rows: list[tuple[Any, ...]], kind: str) -> list[tuple[Any, ...]]:
        i = 10 if kind == "organisation" else 7  # followers_count's column
        return [(*r[:i], follower_counts[(kind, r[0])], *r[i + 1 :]) for r in rows]

    seq = 0
    block_rows, mute_rows = [], []
    for a, b in sorted(blocks):
        ms = rng.randrange(now_ms - 365 * DAY_MS, now_ms - DAY_MS)
        block_rows.append((snowflake(ms, seq), a, b, when(ms)))
        seq += 1
    for a, b in sorted(mutes):
        ms = rng.randrange(now_ms - 365 * DAY_MS, now_ms - DAY_MS)
        mute_rows.append((snowflake(ms, seq), a, b, when(ms)))
        seq += 1
    # Viewers are members of two of the hubs they follow (so its members-only posts show).
    for v in viewers:
        for hub in sorted(target for kind, target in follows[v] if kind == "hub")[:2]:
            if v not in hub_members[hub]:
                hub_members[hub].append(v)
                ms = now_ms - 300 * DAY_MS
                membership_rows.append((snowflake(ms, seq), hub, v, "member", "active", when(ms)))
                member_copy.append((hub, v, "member"))
                seq += 1
    hub_member_counts = Counter(r[1] for r in membership_rows)
    hub_rows = [(*r[:8], hub_member_counts[r[0]], *r[9:]) for r in counted(hub_rows, "hub")]

    g.rows = {
        "graph.member": member_rows,
        "graph.credential": credential_rows,
        "graph.organisation": counted(org_rows, "organisation"),
        "graph.organisation_role": role_rows,
        "graph.hub": hub_rows,
        "graph.hub_membership": membership_rows,
        "graph.follow": follow_rows,
        "graph.block": block_rows,
        "graph.mute": mute_rows,
        "feed.hub_copy": hub_copy,
        "feed.hub_member_copy": member_copy,
        "feed.follow_copy": follow_copy,
        "feed.block_copy": [(a, b) for _, a, b, _ in block_rows],
        "feed.mute_copy": [(a, b) for _, a, b, _ in mute_rows],
        "feed.source_stats": [(kind, target, n, None) for (kind, target), n in sorted(follower_counts.items())],
    }
    return g


def _password_hash() -> str:
    """One Argon2id hash for every member ("correct horse battery"), cheap to make."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("correct horse battery")


COLUMNS = {
    "graph.member": "id handle display_name headline bio avatar_url municipality_code organisation_id skills links "
    "language platform_role suspended_until followers_count following_count created_at updated_at erased_at banned_at",
    "graph.credential": "member_id email password_hash email_verified_at password_changed_at",
    "graph.organisation": "id slug name kind municipality_code county_code website logo_url description verified "
    "followers_count members_count created_by created_at updated_at",
    "graph.organisation_role": "id organisation_id member_id role created_at",
    "graph.hub": "id slug name description organisation_id visibility join_policy followers_count members_count "
    "created_by created_at updated_at",
    "graph.hub_membership": "id hub_id member_id role state created_at",
    "graph.follow": "id follower_id target_type target_id created_at",
    "graph.block": "id blocker_id blocked_id created_at",
    "graph.mute": "id muter_id muted_id created_at",
    "feed.hub_copy": "id organisation_id visibility",
    "feed.hub_member_copy": "hub_id member_id role",
    "feed.follow_copy": "follower_id target_type target_id follow_id",
    "feed.block_copy": "blocker_id blocked_id",
    "feed.mute_copy": "muter_id muted_id",
    "feed.source_stats": "target_type target_id followers unfanned_through",
    "feed.post": "id author_id organisation_id hub_id kind title url body body_html visibility tags mentions language "
    "comments_count reaction_counts pinned_at created_at edited_at deleted_at hidden_at",
    "feed.entry": "id item_type author_id organisation_id hub_id visibility kind hub_rank live",
    "feed.tagging": "tag entry_id",
}


def posts(
    scale: Scale, g: Graph, tx: Texts, rng: random.Random, now_ms: int, chunk: int = 100_000
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Post, Entry and Tagging rows in chunks, oldest first, over the last 365 days: 45% in
    hubs (by their members), 10% as organisations (by their staff), the rest members' own
    (the popular ones posting most). A few pinned in Kraftsamlingen."""
    from services.feed.models import PIN_LIFT

    n = scale.posts
    span = 365 * DAY_MS
    step = span // n
    start = now_ms - span
    kinds = ["update"] * 80 + ["news"] * 8 + ["article"] * 4 + ["question"] * 5 + ["resource"] * 3
    pinned_from = n - 300
    pins = 0
    for lo in range(0, n, chunk):
        post_rows, entry_rows, tag_rows = [], [], []
        for i in range(lo, min(n, lo + chunk)):
            ms = start + i * step + rng.randrange(step)
            pid = snowflake(ms, rng.getrandbits(20))
            r = rng.random()
            org = hub = None
            v = rng.random()
            if r < 0.45:
                hub = g.hub_zipf.take(rng, 1)[0]
                author = rng.choice(g.hub_members[hub])
                visibility = "public" if v < 0.85 else "members" if v < 0.95 else "hub_members"
            elif r < 0.55:
                org = g.org_zipf.take(rng, 1)[0]
                author = rng.choice(g.org_staff[org])
                visibility = "public" if v < 0.9 else "members"
            else:
                author = g.popular.take(rng, 1)[0]
                visibility = "public" if v < 0.85 else "members"
            kind = rng.choice(kinds)
            body, html, tags, language = rng.choice(tx.bodies)
            title = rng.choice(tx.titles) if kind != "update" else None
            url = f"https://example.se/resurs/{i}" if kind == "resource" else None
            reactions, _ = rng.choice(tx.reactions)
            comments = int(rng.expovariate(1 / 3)) if rng.random() < 0.5 else 0
            at = when(ms)
            pinned = hub == g.hubs[0] and i >= pinned_from and pins < 3
            pins += 1 if pinned else 0
            post_rows.append(
                (pid, author, org, hub, kind, title, url, body, html, visibility, json.dumps(tags), "[]", language,
                 comments, reactions, at if pinned else None, at, None, None, None)
            )  # fmt: skip
            entry_rows.append(
                (pid, "post", author, org, hub, visibility, kind, pid + PIN_LIFT if pinned else pid, True)
            )
            tag_rows.extend((t, pid) for t in tags)
        yield post_rows, entry_rows, tag_rows


async def secondary_indexes(conn: Any, schema: str, table: str) -> list[tuple[str, str]]:
    """Indexes that back no constraint: dropped while a table is loaded, then made again
    from their own definitions (so the schema ends exactly as the migrations made it)."""
    rows = await conn.fetch(
        """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = $1 AND t.relname = $2
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
        schema,
        table,
    )
    return [(r[0], r[1]) for r in rows]


def pg_dsn() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


async def read_marker() -> dict[str, Any] | None:
    import asyncpg

    conn = await asyncpg.connect(pg_dsn())
    try:
        text = await conn.fetchval(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", f"{PREFIX}feed"
        )
    finally:
        await conn.close()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


async def load(settings: Any, scale: Scale) -> dict[str, Any]:
    """Drop the bench schemas, migrate, and fill them. Returns the marker it wrote."""
    import asyncpg

    from shared.cli import SERVICES, migrate_all

    began = time.perf_counter()
    conn = await asyncpg.connect(pg_dsn())
    try:
        for service in SERVICES:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{PREFIX}{service}" CASCADE')
    finally:
        await conn.close()
    await migrate_all(settings)
    rng = random.Random(scale.seed)
    now_ms = int(time.time() * 1000)
    print("making the graph in memory ...", flush=True)
    g = make_graph(scale, rng, now_ms)
    tx = texts(rng)
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(pg_dsn())
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        big = [("feed", "post"), ("feed", "entry"), ("graph", "follow"), ("feed", "follow_copy")]
        dropped = []
        for service, table in big:
            for name, definition in await secondary_indexes(conn, PREFIX + service, table):
                await conn.execute(f'DROP INDEX "{PREFIX}{service}"."{name}"')
                dropped.append(definition)
        for name, rows in g.rows.items():
            t0 = time.perf_counter()
            service, table = name.split(".")
            await conn.copy_records_to_table(
                table, records=rows, columns=COLUMNS[name].split(), schema_name=PREFIX + service
            )
            timings[name] = round(time.perf_counter() - t0, 2)
            print(f"  {name}: {len(rows):,} rows in {timings[name]:.1f} s", flush=True)
        t0 = time.perf_counter()
        done = 0
        for post_rows, entry_rows, tag_rows in posts(scale, g, tx, rng, now_ms):
            for name, rows in (("feed.post", post_rows), ("feed.entry", entry_rows), ("feed.tagging", tag_rows)):
                await conn.copy_records_to_table(
                    name.split(".")[1], records=rows, columns=COLUMNS[name].split(), schema_name=f"{PREFIX}feed"
                )
            done += len(post_rows)
            print(f"  posts: {done:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
        timings["feed.post+entry+tagging"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        for definition in dropped:
            await conn.execute(definition)
        timings["indexes"] = round(time.perf_counter() - t0, 2)
        print(f"  indexes made again in {timings['indexes']:.1f} s", flush=True)
        t0 = time.perf_counter()
        for service in ("graph", "feed"):
            for table in {n.split(".")[1] for n in COLUMNS if n.startswith(service + ".")}:
                # As autovacuum leaves them: statistics, and a visibility map for index-only scans.
                await conn.execute(f'VACUUM ANALYZE "{PREFIX}{service}"."{table}"')
        timings["vacuum_analyze"] = round(time.perf_counter() - t0, 2)
        marker = {
            "version": DATA_VERSION,
            **asdict(scale),
            "viewers_ids": g.viewers,
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_seconds": round(time.perf_counter() - began, 1),
            "load_timings": timings,
            "rows": {name: len(rows) for name, rows in g.rows.items()},
        }
        marker["rows"]["feed.post"] = marker["rows"]["feed.entry"] = scale.posts
        marker["rows"]["feed.tagging"] = await conn.fetchval(f'SELECT count(*) FROM "{PREFIX}feed".tagging')
        literal = json.dumps(marker).replace("'", "''")
        await conn.execute(f"COMMENT ON SCHEMA \"{PREFIX}feed\" IS '{literal}'")
    finally:
        await conn.close()
    print(f"loaded in {marker['load_seconds']:.0f} s", flush=True)
    return marker


async def ensure_data(settings: Any, scale: Scale, reload: bool) -> tuple[dict[str, Any], bool]:
    """The loaded data's marker, and whether it was loaded now."""
    from shared.cli import migrate_all

    marker = None if reload else await read_marker()
    wanted = {"version": DATA_VERSION, **asdict(scale)}
    if marker is not None and all(marker.get(k) == v for k, v in wanted.items()):
        await migrate_all(settings)  # a migration added since: applied to the data as it is
        print(f"reusing the data loaded {marker['loaded_at']} (--reload makes it again)", flush=True)
        return marker, False
    return await load(settings, scale), True
