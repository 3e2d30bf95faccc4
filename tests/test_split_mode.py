"""Split mode: the graph service in its own uvicorn process, the gateway reaching it over HTTP.

Also checks statically that the gateway reaches the graph service only through its client.
The process helpers here are shared with tests/test_cli.py."""

from __future__ import annotations

import ast
import os
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.settings import Settings
from tests.conftest import Api, poll

ROOT = Path(__file__).resolve().parents[1]
HUBBEN = str(ROOT / ".venv" / "bin" / "hubben")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def hubben_env(**settings: str) -> dict[str, str]:
    """This process's environment without any HUBBEN_* variable, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBBEN_")}
    env.update({f"HUBBEN_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def hubben_serve(env: dict[str, str], workdir: Path, *args: str) -> Iterator[Server]:
    """`hubben serve --port <free> *args` as a child process, terminated on the way out."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [HUBBEN, "serve", "--port", str(port), *args],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Server(proc, port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


async def wait_healthy(server: Server, within: float = 60.0) -> None:
    """Poll /healthz until it answers 200; fail at once if the process has exited."""
    async with httpx.AsyncClient(base_url=server.url, timeout=2) as http:

        async def up() -> bool:
            code = server.proc.poll()
            if code is not None:
                raise AssertionError(f"hubben serve exited with {code}:\n{server.output()}")
            try:
                return (await http.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await poll(up, within=within, interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server output ---\n{server.output()}") from exc


# --- the flow -----------------------------------------------------------------------------

ERRORS = "userErrors { field message code }"
CREATE_ORG = f"""mutation($i: CreateOrganisationInput!) {{ createOrganisation(input: $i) {{
  organisation {{ id slug viewerRole }} {ERRORS} }} }}"""
INVITE = f"""mutation($i: InviteToOrganisationInput!) {{ inviteToOrganisation(input: $i) {{
  invitation {{ id status role invitee {{ handle }} }} {ERRORS} }} }}"""
MY_INVITATIONS = "{ viewer { invitations(status: PENDING, first: 10) { nodes { id role organisation { slug } } } } }"
ACCEPT = f"""mutation($i: InvitationInput!) {{ acceptOrganisationInvitation(input: $i) {{
  invitation {{ status }} {ERRORS} }} }}"""
CREATE_HUB = f"""mutation($i: CreateHubInput!) {{ createHub(input: $i) {{
  hub {{ id slug viewerRole organisation {{ slug }} }} {ERRORS} }} }}"""
JOIN = f"""mutation($i: HubInput!) {{ joinHub(input: $i) {{ membership {{ role state }} {ERRORS} }} }}"""
FOLLOW = f"""mutation($i: FollowInput!) {{ follow(input: $i) {{ following targetType {ERRORS} }} }}"""
READ = """query($org: String!, $hub: String!, $anna: String!, $bo: String!) {
  organisation(slug: $org) { membersCount members(first: 10) { totalCount nodes { role member { handle } } } }
  hub(slug: $hub) {
    membersCount followersCount organisation { slug }
    members(first: 10) { totalCount nodes { role member { handle } } }
    followers(first: 10) { nodes { handle } }
  }
  anna: member(handle: $anna) { followersCount followers(first: 10) { nodes { handle } } }
  bo: member(handle: $bo) {
    followingCount followingMembers(first: 10) { nodes { handle } } followingHubs(first: 10) { nodes { slug } }
  }
}"""
LOGIN = f"""mutation($i: LogInInput!) {{ logIn(input: $i) {{
  session {{ accessToken refreshToken member {{ handle }} }} {ERRORS} }} }}"""
REFRESH = f"""mutation($t: String!) {{ refreshSession(input: {{refreshToken: $t}}) {{
  session {{ accessToken refreshToken }} {ERRORS} }} }}"""


async def run_flow(api: Api) -> dict[str, str]:
    """Sign up two members, organisation + invitation, hub + join, follows, counts, log-in/refresh."""
    anna = await api.sign_up(api.unique("anna"))
    bo = await api.sign_up(api.unique("bo"))
    org_slug, hub_slug = f"lund-{anna.handle[-6:]}", f"ai-lund-{anna.handle[-6:]}"

    org = (
        await anna.ok(
            CREATE_ORG,
            {"i": {"slug": org_slug, "name": "Lunds kommun", "kind": "MUNICIPALITY", "municipalityCode": "1281"}},
        )
    )["createOrganisation"]["organisation"]
    assert org["viewerRole"] == "OWNER"

    invitation = (await anna.ok(INVITE, {"i": {"organisationId": org["id"], "memberId": bo.id, "role": "EDITOR"}}))[
        "inviteToOrganisation"
    ]["invitation"]
    assert invitation["status"] == "PENDING" and invitation["invitee"]["handle"] == bo.handle
    pending = (await bo.ok(MY_INVITATIONS))["viewer"]["invitations"]["nodes"]
    assert [(p["id"], p["organisation"]["slug"]) for p in pending] == [(invitation["id"], org_slug)]
    accepted = (await bo.ok(ACCEPT, {"i": {"invitationId": invitation["id"]}}))["acceptOrganisationInvitation"]
    assert accepted["invitation"]["status"] == "ACCEPTED"

    hub = (
        await anna.ok(
            CREATE_HUB,
            {"i": {"slug": hub_slug, "name": "AI i Lund", "organisationId": org["id"], "joinPolicy": "OPEN"}},
        )
    )["createHub"]["hub"]
    assert hub["viewerRole"] == "ADMIN" and hub["organisation"]["slug"] == org_slug
    joined = (await bo.ok(JOIN, {"i": {"hubId": hub["id"]}}))["joinHub"]["membership"]
    assert joined == {"role": "MEMBER", "state": "ACTIVE"}

    assert (await bo.ok(FOLLOW, {"i": {"targetId": anna.id}}))["follow"]["targetType"] == "MEMBER"
    assert (await bo.ok(FOLLOW, {"i": {"targetId": hub["id"]}}))["follow"]["targetType"] == "HUB"

    data = await api.ok(READ, {"org": org_slug, "hub": hub_slug, "anna": anna.handle, "bo": bo.handle})
    organisation = data["organisation"]
    assert organisation["membersCount"] == 2 and organisation["members"]["totalCount"] == 2
    assert {(n["member"]["handle"], n["role"]) for n in organisation["members"]["nodes"]} == {
        (anna.handle, "OWNER"),
        (bo.handle, "EDITOR"),
    }
    h = data["hub"]
    assert (h["membersCount"], h["followersCount"], h["organisation"]["slug"]) == (2, 1, org_slug)
    assert {(n["member"]["handle"], n["role"]) for n in h["members"]["nodes"]} == {
        (anna.handle, "ADMIN"),
        (bo.handle, "MEMBER"),
    }
    assert [n["handle"] for n in h["followers"]["nodes"]] == [bo.handle]
    assert data["anna"]["followersCount"] == 1
    assert [n["handle"] for n in data["anna"]["followers"]["nodes"]] == [bo.handle]
    assert data["bo"]["followingCount"] >= 1
    assert [n["handle"] for n in data["bo"]["followingMembers"]["nodes"]] == [anna.handle]
    assert [n["slug"] for n in data["bo"]["followingHubs"]["nodes"]] == [hub_slug]

    session = (await api.ok(LOGIN, {"i": {"email": anna.email, "password": anna.password}}))["logIn"]["session"]
    assert session["member"]["handle"] == anna.handle
    refreshed = (await api.ok(REFRESH, {"t": session["refreshToken"]}))["refreshSession"]["session"]
    assert refreshed["refreshToken"] != session["refreshToken"]
    viewer = await api.ok("{ viewer { member { handle } } }", token=refreshed["accessToken"])
    assert viewer["viewer"]["member"]["handle"] == anna.handle
    return {"anna": anna.handle, "bo": bo.handle}


async def test_gateway_with_graph_service_in_its_own_process(tmp_path: Path) -> None:
    from services.gateway.app import create_app

    key = private_pem()
    graph_var, gateway_var = tmp_path / "graph-var", tmp_path / "gateway-var"
    env = hubben_env(var_dir=str(graph_var), demo_data="false", jwt_private_key=key)
    with hubben_serve(env, tmp_path, "--service", "graph") as graph:
        await wait_healthy(graph)
        settings = Settings(
            graph_url=graph.url, jwt_private_key=key, var_dir=gateway_var, demo_data=False, environment="test"
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert app.state.graph_app is None
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
                ready = await http.get("/readyz")
                assert (ready.status_code, ready.json()["checks"]) == (
                    200,
                    {"graph": "ok", "feed": "ok", "search": "ok", "moderation": "ok"},
                ), ready.text
                handles = await run_flow(Api(http=http, app=app, backend="split"))

        # The data is in the graph process's database; the gateway made none of its own.
        assert not (gateway_var / "graph.db").exists()
        with sqlite3.connect(graph_var / "graph.db") as db:
            stored = {row[0] for row in db.execute("SELECT handle FROM member")}
        assert set(handles.values()) <= stored
        output = graph.output()
        assert "POST /v1/auth/signup" in output and "POST /v1/hubs" in output, output
        assert graph.proc.poll() is None, output


# --- the gateway reaches the graph service only through its client -----------------------

ALLOWED = {"services.graph.client", "services.graph.contracts"}
ALLOWED_IN = {"app.py": {"services.graph.api"}}  # in-process mounting of the graph app


def graph_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("services.graph"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "services.graph":
                found.update(f"services.graph.{a.name}" for a in node.names)
            elif node.module == "services" and any(a.name == "graph" for a in node.names):
                found.add("services.graph")
            elif node.module.startswith("services.graph."):
                found.add(node.module)
    return found


def test_gateway_imports_only_the_graph_client_and_contracts() -> None:
    gateway = ROOT / "services" / "gateway"
    files = sorted(gateway.rglob("*.py"))
    assert len(files) > 5
    offending: dict[str, set[str]] = {}
    seen: set[str] = set()
    for path in files:
        source = path.read_text()
        relative = str(path.relative_to(gateway))
        imports = graph_imports(ast.parse(source, filename=str(path)))
        seen |= imports
        bad = imports - ALLOWED - ALLOWED_IN.get(relative, set())
        for forbidden in ("services.graph.models", "services.graph.repository", "services.graph.service"):
            if forbidden in source:  # also catches importlib strings and lazy imports by name
                bad.add(forbidden)
        if bad:
            offending[relative] = bad
    assert not offending, f"the gateway must use services/graph/client.py only: {offending}"
    assert "services.graph.client" in seen  # the check sees the real imports


async def test_two_processes_through_the_cli_and_the_gateway_keeps_no_database(tmp_path: Path) -> None:
    """`hubben serve --service graph` and `hubben serve` with HUBBEN_GRAPH_URL, as deployed on many machines."""
    key = private_pem()
    graph_var, gateway_var = tmp_path / "graph-var", tmp_path / "gateway-var"
    graph_env = hubben_env(var_dir=str(graph_var), jwt_private_key=key)  # demo data on, in the graph service
    with hubben_serve(graph_env, tmp_path, "--service", "graph") as graph:
        await wait_healthy(graph)
        gateway_env = hubben_env(var_dir=str(gateway_var), jwt_private_key=key, graph_url=graph.url)
        with hubben_serve(gateway_env, tmp_path) as gateway:
            await wait_healthy(gateway)
            async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
                ready = await http.get("/readyz")
                assert (ready.status_code, ready.json()["checks"]) == (
                    200,
                    {"graph": "ok", "feed": "ok", "search": "ok", "moderation": "ok"},
                ), ready.text
                r = await http.post(
                    "/graphql", json={"query": '{ hub(slug: "kraftsamlingen") { organisation { name } } }'}
                )
                assert r.json()["data"]["hub"]["organisation"]["name"] == "AI Sweden", r.text
        assert "GET /v1/hubs/by-slug/kraftsamlingen" in graph.output()
        # The gateway neither made nor seeded a database of its own.
        assert not (gateway_var / "graph.db").exists(), gateway.output()
        assert "Demo data created" not in gateway.output()
        assert "Demo data created" in graph.output()
