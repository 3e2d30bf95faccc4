"""The real `hubben` console script: admin create, serve (embedded demo data, PostgreSQL
migration guard) and migrate, each run as a child process."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import httpx

from shared.settings import Settings
from tests.conftest import PG_URL, Api, _drop_schema, poll, require_server
from tests.test_split_mode import HUBBEN, hubben_env, hubben_serve, wait_healthy

PASSWORD = "a long admin passphrase"
LOGIN = """mutation($i: LogInInput!) { logIn(input: $i) {
  session { accessToken member { handle platformRole } } userErrors { field message code } } }"""


def run_hubben(env: dict[str, str], workdir: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUBBEN, *args],
        env=env,
        cwd=workdir,
        stdin=subprocess.DEVNULL,  # no terminal: nothing can be prompted for
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def said(result: subprocess.CompletedProcess[str]) -> str:
    """Everything the command printed, with rich's line wrapping undone."""
    return " ".join((result.stdout + result.stderr).split())


# --- admin create -------------------------------------------------------------------------


async def test_admin_create_makes_an_admin_who_can_log_in(tmp_path: Path) -> None:
    from services.gateway.app import create_app

    var = tmp_path / "var"
    env = hubben_env(var_dir=str(var), demo_data="false", admin_password=PASSWORD)
    result = await asyncio.to_thread(
        run_hubben, env, tmp_path, "admin", "create", "--email", "chef@example.se", "--handle", "chef"
    )
    assert result.returncode == 0, said(result)
    assert "Admin created: @chef (chef@example.se)" in said(result)

    app = create_app(Settings(var_dir=var, demo_data=False, environment="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
            api = Api(http=http, app=app, backend="sqlite")
            session = (await api.ok(LOGIN, {"i": {"email": "chef@example.se", "password": PASSWORD}}))["logIn"][
                "session"
            ]
            assert session["member"] == {"handle": "chef", "platformRole": "ADMIN"}
            viewer = await api.ok("{ viewer { emailVerified member { platformRole } } }", token=session["accessToken"])
            assert viewer["viewer"] == {"emailVerified": True, "member": {"platformRole": "ADMIN"}}
            wrong = await api.gql(LOGIN, {"i": {"email": "chef@example.se", "password": "not the passphrase"}})
            assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_admin_create_without_a_password_or_terminal_exits_2(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = hubben_env(var_dir=str(var), demo_data="false")
    result = run_hubben(env, tmp_path, "admin", "create", "--email", "chef@example.se")
    assert result.returncode == 2, said(result)
    assert "Set HUBBEN_ADMIN_PASSWORD or run in a terminal" in said(result)
    assert not (var / "graph.db").exists()  # refused before touching the database


def test_admin_create_with_an_invalid_email_exits_2(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = hubben_env(var_dir=str(var), demo_data="false", admin_password=PASSWORD)
    result = run_hubben(env, tmp_path, "admin", "create", "--email", "not-an-email", "--handle", "chef")
    assert result.returncode == 2, said(result)
    assert "email" in said(result).lower()
    assert "Admin created" not in said(result)


def test_admin_create_with_a_taken_email_exits_2(tmp_path: Path) -> None:
    env = hubben_env(var_dir=str(tmp_path / "var"), demo_data="false", admin_password=PASSWORD)
    first = run_hubben(env, tmp_path, "admin", "create", "--email", "chef@example.se", "--handle", "chef")
    assert first.returncode == 0, said(first)
    again = run_hubben(env, tmp_path, "admin", "create", "--email", "chef@example.se", "--handle", "chef2")
    assert again.returncode == 2, said(again)
    assert "an account with this email exists" in said(again)
    assert "Admin created" not in said(again)


# --- serve and migrate --------------------------------------------------------------------


async def test_serve_refuses_an_unmigrated_postgres_schema_until_migrate(tmp_path: Path) -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    prefix = f"cli{uuid.uuid4().hex[:10]}_"
    env = hubben_env(var_dir=str(tmp_path / "var"), database_url=PG_URL, database_schema_prefix=prefix)
    try:
        refused = await asyncio.to_thread(run_hubben, env, tmp_path, "serve", "--port", "1")
        assert refused.returncode != 0, said(refused)
        assert "hubben migrate" in said(refused)

        migrated = await asyncio.to_thread(run_hubben, env, tmp_path, "migrate")
        assert migrated.returncode == 0, said(migrated)
        assert "Migrated: graph" in said(migrated)

        with hubben_serve(env, tmp_path) as server:
            await wait_healthy(server)
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"] == {"graph": "ok", "feed": "ok", "search": "ok", "moderation": "ok"}
    finally:
        await _drop_schema(Settings(database_url=PG_URL, database_schema_prefix=prefix))


async def test_embedded_serve_seeds_the_demo_data(tmp_path: Path) -> None:
    env = hubben_env(var_dir=str(tmp_path / "var"))
    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server)
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            r = await http.post(
                "/graphql",
                json={"query": '{ hub(slug: "kraftsamlingen") { name organisation { name } membersCount } }'},
            )
    assert r.status_code == 200, r.text
    hub = r.json()["data"]["hub"]
    assert hub["organisation"]["name"] == "AI Sweden"
    assert hub["membersCount"] >= 5
    assert hub["name"]
    assert "Demo data created" in server.output()


FIND_HUB = {"query": '{ search(query: "kraftsaml", filter: {types: [HUB]}) { nodes { ... on Hub { slug } } } }'}


async def test_search_reindex_swaps_a_new_index_in_while_the_server_answers(tmp_path: Path) -> None:
    """The demo data is searchable on first start; `hubben search reindex`, run beside the
    server, builds a new index and swaps it in without a search going unanswered."""
    env = hubben_env(var_dir=str(tmp_path / "var"))
    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server)
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:

            async def finds_the_hub() -> bool:
                r = await http.post("/graphql", json=FIND_HUB)
                assert r.status_code == 200 and "errors" not in r.json(), r.text
                return r.json()["data"]["search"]["nodes"] == [{"slug": "kraftsamlingen"}]

            await poll(finds_the_hub, within=20)
            reindex = asyncio.create_task(asyncio.to_thread(run_hubben, env, tmp_path, "search", "reindex"))
            answered = 0
            while not reindex.done():
                assert await finds_the_hub()
                answered += 1
            result = await reindex
            assert result.returncode == 0, said(result)
            assert await finds_the_hub()
    assert "is live:" in said(result) and answered > 0
    generations = [p.name for p in (tmp_path / "var" / "search" / "tantivy").iterdir() if p.is_dir()]
    assert len(generations) == 2  # the new one, and the one it replaced (dropped at the next swap)


def test_serve_refuses_setups_that_would_misdeliver_events(tmp_path: Path) -> None:
    """Without Redis, jobs live in one process's memory; a lone feed needs the graph service."""
    env = hubben_env(var_dir=str(tmp_path / "var"), demo_data="false")
    many = subprocess.run(
        [HUBBEN, "serve", "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert many.returncode == 2 and "HUBBEN_REDIS_URL" in " ".join(many.stderr.decode().split())
    feed = subprocess.run(
        [HUBBEN, "serve", "--service", "feed"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert feed.returncode == 2 and "HUBBEN_GRAPH_URL" in " ".join(feed.stderr.decode().split())
    search = subprocess.run(
        [HUBBEN, "serve", "--service", "search"],
        env={**env, "HUBBEN_GRAPH_URL": "http://127.0.0.1:1"},
        cwd=tmp_path,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert search.returncode == 2 and "HUBBEN_FEED_URL" in " ".join(search.stderr.decode().split())
