"""`hubben worker` delivers graph events to the feed when the services run in separate
processes: graph service, feed service, worker and gateway as four processes sharing one var/ dir."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import poll
from tests.test_split_mode import HUBBEN, hubben_env, hubben_serve, private_pem, wait_healthy

ERRORS = "userErrors { field message code }"
POST = f"""mutation($h: ID!) {{ createPost(input: {{hubId: $h, body: "Hej #skola"}}) {{ post {{ id }} {ERRORS} }} }}"""


@contextmanager
def hubben_worker(env: dict[str, str], workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = workdir / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [HUBBEN, "worker"], env=env, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    assert proc.returncode == 0, log.read_text(errors="replace")


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    assert "errors" not in body, body
    for value in body["data"].values():
        assert not (isinstance(value, dict) and value.get("userErrors")), body
    return body["data"]


async def sign_up(http: httpx.AsyncClient, handle: str) -> tuple[str, str]:
    data = await gql(
        http,
        f"""mutation($i: SignUpInput!) {{ signUp(input: $i) {{
        session {{ accessToken member {{ id }} }} {ERRORS} }} }}""",
        {
            "i": {
                "email": f"{handle}@example.se",
                "password": "correct horse battery",
                "handle": handle,
                "displayName": handle,
            }
        },
    )
    return data["signUp"]["session"]["accessToken"], data["signUp"]["session"]["member"]["id"]


async def test_home_feed_follows_reach_the_feed_through_the_worker(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = hubben_env(var_dir=str(var), jwt_private_key=private_pem(), demo_data="false")
    with hubben_serve(env, tmp_path, "--service", "graph") as graph:
        await wait_healthy(graph)
        with hubben_serve({**env, "HUBBEN_GRAPH_URL": graph.url}, tmp_path, "--service", "feed") as feed:
            await wait_healthy(feed)
            split = {**env, "HUBBEN_GRAPH_URL": graph.url, "HUBBEN_FEED_URL": feed.url}
            with hubben_worker(env, tmp_path), hubben_serve(split, tmp_path) as gateway:
                await wait_healthy(gateway)
                await run_flow(gateway.url)
            assert "POST /v1/posts" in feed.output() and "GET /v1/feeds/home" in feed.output()
        assert "POST /v1/follows" in graph.output()
    assert (var / "graph.db").exists() and (var / "feed.db").exists()


async def run_flow(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        anna, _ = await sign_up(http, "anna")
        bo, _ = await sign_up(http, "bosse")
        org = await gql(
            http,
            f"""mutation {{ createOrganisation(input: {{slug: "umea-kommun",
            name: "Umeå kommun", kind: MUNICIPALITY, municipalityCode: "2480"}}) {{
            organisation {{ id }} {ERRORS} }} }}""",
            {},
            anna,
        )
        hub = await gql(
            http,
            f"""mutation($o: ID!) {{ createHub(input: {{slug: "ai-i-skolan",
            name: "AI i skolan", organisationId: $o}}) {{ hub {{ id }} {ERRORS} }} }}""",
            {"o": org["createOrganisation"]["organisation"]["id"]},
            anna,
        )
        hub_id = hub["createHub"]["hub"]["id"]
        await gql(
            http,
            f"mutation($h: ID!) {{ follow(input: {{targetId: $h}}) {{ following {ERRORS} }} }}",
            {"h": hub_id},
            bo,
        )

        # The hub's creator can post only once the feed knows she is a member: poll.
        async def posted() -> str | None:
            r = (
                await http.post(
                    "/graphql",
                    headers={"authorization": f"Bearer {anna}"},
                    json={
                        "query": POST,
                        "variables": {"h": hub_id},
                    },
                )
            ).json()
            payload = (r.get("data") or {}).get("createPost") or {}
            return (payload.get("post") or {}).get("id")

        post_id = await poll(posted, within=30, interval=0.2)

        async def in_home_feed() -> bool:
            data = await gql(http, "{ homeFeed(first: 5) { nodes { ... on Post { id } } } }", {}, bo)
            return post_id in [n.get("id") for n in data["homeFeed"]["nodes"]]

        await poll(in_home_feed, within=30, interval=0.2)

        # The worker process indexed it; the gateway's search reads the same Tantivy files.
        async def searchable() -> bool:
            data = await gql(http, '{ search(query: "skola", filter: {types: [HUB, POST]}) { nodes {'
                             " ... on Hub { id } ... on Post { id } } } }", {}, bo)  # fmt: skip
            return {hub_id, post_id} <= {n.get("id") for n in data["search"]["nodes"]}

        await poll(searchable, within=30, interval=0.2)
