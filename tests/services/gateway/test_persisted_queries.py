"""Persisted queries: Apollo's automatic persisted queries (a hash alone, or a hash with its
document to register it), the spec's `documentId`, over POST and GET and websockets; shared
by every gateway on one Redis; and the allow-list mode that runs only a manifest's documents."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from websockets.asyncio.client import connect

from services.gateway.persisted import KEY_PREFIX, ManifestError, map_script_document
from shared.settings import Settings
from tests.conftest import Api, poll
from tests.services.gateway.test_graphql_http import (
    BOTH,
    GRAPHQL_RESPONSE,
    JSON,
    another_gateway,
    get,
    media_type,
    post,
    refused,
)
from tests.services.gateway.test_subscriptions import PROTOCOL
from tests.test_split_mode import HUBBEN, free_port, hubben_env

COUNTIES = "query Counties { counties { code } }"
NORRBOTTEN = 'query Norrbotten { municipalities(countyCode: "25") { name } }'
LOG_IN = 'mutation LogIn { logIn(input: {email: "a@b.se", password: "x"}) { userErrors { message } } }'


def sha(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


def by_hash(document: str, **more: Any) -> dict[str, Any]:
    return {"extensions": persisted(document), **more}


def with_hash(document: str, **more: Any) -> dict[str, Any]:
    return {"query": document, "extensions": persisted(document), **more}


def get_params(body: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}


def counties(r: httpx.Response) -> int:
    assert r.status_code == 200, r.text
    return len(r.json()["data"]["counties"])


# --- automatic persisted queries -----------------------------------------------------------------


@dataclass(frozen=True)
class Documents:
    counties: str
    norrbotten: str
    log_in: str


@pytest.fixture
def docs() -> Documents:
    """This test's own documents: the test app keeps registered documents in its process
    for the whole session, so each test's carry a comment of their own."""
    tag = f" # {uuid.uuid4().hex}"
    return Documents(COUNTIES + tag, NORRBOTTEN + tag, LOG_IN + tag)


async def test_an_unknown_hash_is_not_found_with_either_media_type(api: Api, docs: Documents) -> None:
    r = await post(api, by_hash(docs.counties))
    assert refused(r, 404, "PERSISTED_QUERY_NOT_FOUND") == "PersistedQueryNotFound"
    assert "no-cache" in r.headers["cache-control"]
    # Apollo's servers answer 200 here, and its clients with application/json expect that.
    r = await post(api, by_hash(docs.counties), accept=JSON)
    assert refused(r, 200, "PERSISTED_QUERY_NOT_FOUND") == "PersistedQueryNotFound"
    assert media_type(r) == JSON
    r = await post(api, by_hash(docs.counties), accept=None)
    refused(r, 404, "PERSISTED_QUERY_NOT_FOUND")
    assert media_type(r) == GRAPHQL_RESPONSE


@pytest.mark.parametrize("accept", BOTH)
async def test_a_hash_with_its_document_registers_it_and_then_the_hash_alone_runs_it(
    api: Api, docs: Documents, accept: str
) -> None:
    norrbotten = docs.norrbotten
    assert (await post(api, by_hash(norrbotten), accept=accept)).json()["errors"]
    r = await post(api, with_hash(norrbotten), accept=accept)
    assert r.status_code == 200 and len(r.json()["data"]["municipalities"]) == 14
    for _ in range(2):
        r = await post(api, by_hash(norrbotten), accept=accept)
        assert r.status_code == 200 and len(r.json()["data"]["municipalities"]) == 14, r.text
    # The spec's persisted-document request names it too.
    r = await post(api, {"documentId": f"sha256:{sha(norrbotten)}"}, accept=accept)
    assert r.status_code == 200 and len(r.json()["data"]["municipalities"]) == 14
    # A hash alone with variables and an operationName, as Apollo's clients send them.
    query = docs.counties.replace(
        "query Counties", "query A($c: String!) { municipalities(countyCode: $c) { name } } query B"
    )
    assert (await post(api, with_hash(query, variables={"c": "25"}, operationName="A"))).status_code == 200
    r = await post(api, by_hash(query, variables={"c": "01"}, operationName="A"), accept=accept)
    assert r.status_code == 200 and len(r.json()["data"]["municipalities"]) == 26
    assert counties(await post(api, by_hash(query, operationName="B"), accept=accept)) == 21


async def test_a_hash_that_is_not_the_documents_is_refused_and_registers_nothing(api: Api, docs: Documents) -> None:
    wrong = {"query": docs.counties, "extensions": persisted(docs.norrbotten)}
    assert "hash" in refused(await post(api, wrong), 400)
    assert "hash" in refused(await post(api, wrong, accept=JSON), 200)
    refused(await post(api, by_hash(docs.norrbotten)), 404, "PERSISTED_QUERY_NOT_FOUND")
    refused(await post(api, by_hash(docs.counties)), 404, "PERSISTED_QUERY_NOT_FOUND")


async def test_a_document_that_does_not_validate_is_not_registered(api: Api, docs: Documents) -> None:
    for bad in (docs.counties.replace("code", "noSuchField"), docs.counties.replace("}", "", 1)):
        refused(await post(api, with_hash(bad)), 400)
        refused(await post(api, by_hash(bad)), 404, "PERSISTED_QUERY_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"extensions": {"persistedQuery": "abc"}},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(COUNTIES)}}},
        {"extensions": {"persistedQuery": {"version": 1}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 42}}},
        {"documentId": sha(COUNTIES)},  # without its "sha256:" prefix
        {"documentId": 42},
        {"documentId": f"sha256:{sha(COUNTIES)}", "extensions": persisted(NORRBOTTEN)},  # two documents
    ],
)
async def test_malformed_persisted_query_requests_are_bad_user_input(api: Api, body: dict[str, Any]) -> None:
    refused(await post(api, body), 400)
    refused(await post(api, body, accept=JSON), 200)


async def test_over_get_a_hash_registers_and_runs_and_mutations_stay_405(api: Api, docs: Documents) -> None:
    refused(await get(api, get_params(by_hash(docs.counties))), 404, "PERSISTED_QUERY_NOT_FOUND")
    assert counties(await get(api, get_params(with_hash(docs.counties)))) == 21
    for accept in BOTH:
        assert counties(await get(api, get_params(by_hash(docs.counties)), accept=accept)) == 21
    assert counties(await get(api, {"documentId": f"sha256:{sha(docs.counties)}"})) == 21
    # A mutation registered over POST runs by hash over POST, never over GET.
    assert (await post(api, with_hash(docs.log_in))).status_code == 200
    assert (await post(api, by_hash(docs.log_in))).json()["errors"][0]["path"] == ["logIn"]  # it ran: wrong password
    r = await get(api, get_params(by_hash(docs.log_in)))
    assert refused(r, 405) and r.headers["allow"] == "POST"


async def test_documents_are_shared_by_gateways_on_one_redis(api: Api, docs: Documents, tmp_path: Path) -> None:
    """On PostgreSQL the gateways share Redis, and a document registered through one runs by
    hash on the other; the embedded default keeps documents in each process."""
    assert counties(await post(api, with_hash(docs.counties))) == 21
    async with another_gateway(api, tmp_path) as other:
        r = await post(other, by_hash(docs.counties))
        if api.backend == "postgres":
            assert counties(r) == 21
            key = KEY_PREFIX + sha(docs.counties)
            assert (await api.app.state.redis.get(key)).decode() == docs.counties
            ttl = await api.app.state.redis.ttl(key)
            assert 0 < ttl <= api.app.state.settings.graphql_persisted_queries_ttl_seconds
            # Registered through the other, found here.
            assert (await post(other, with_hash(docs.norrbotten))).status_code == 200
            r = await post(api, by_hash(docs.norrbotten))
            assert r.status_code == 200 and len(r.json()["data"]["municipalities"]) == 14
        else:
            refused(r, 404, "PERSISTED_QUERY_NOT_FOUND")
            assert counties(await post(api, by_hash(docs.counties))) == 21


async def test_off_mode_refuses_hashes_but_runs_documents(api: Api, docs: Documents, tmp_path: Path) -> None:
    async with another_gateway(api, tmp_path, graphql_persisted_queries="off") as off:
        for body in (by_hash(docs.counties), with_hash(docs.counties)):
            refused(await post(off, body), 400, "PERSISTED_QUERY_NOT_SUPPORTED")
            refused(await post(off, body, accept=JSON), 200, "PERSISTED_QUERY_NOT_SUPPORTED")
        assert counties(await post(off, {"query": docs.counties})) == 21


# --- allow-list mode -------------------------------------------------------------------------------

SUBSCRIPTION = "subscription Notifications { notificationAdded { id } }"


def manifest_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hubben graphql manifest ...`, the real console script."""
    return subprocess.run(
        [HUBBEN, "graphql", "manifest", *args],
        env=hubben_env(var_dir=str(tmp_path / "var")),
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_manifest(tmp_path: Path) -> Path:
    """The manifest as `hubben graphql manifest` builds it from .graphql files."""
    documents = tmp_path / "documents"
    (documents / "nested").mkdir(parents=True)
    (documents / "counties.graphql").write_text(COUNTIES, "utf-8")
    (documents / "nested" / "log_in.gql").write_text(LOG_IN, "utf-8")
    (documents / "notifications.graphql").write_text(SUBSCRIPTION, "utf-8")
    (documents / "notes.txt").write_text("not a document", "utf-8")
    manifest = tmp_path / "manifest.json"
    result = manifest_command(tmp_path, str(documents), "--output", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    return manifest


async def test_the_manifest_command_lists_each_file_and_the_maps_document(tmp_path: Path) -> None:
    manifest = json.loads((await asyncio.to_thread(write_manifest, tmp_path)).read_text("utf-8"))
    map_document = map_script_document()
    assert manifest == {sha(d): d for d in (COUNTIES, LOG_IN, SUBSCRIPTION, map_document)}
    assert "municipalityInitiatives" in map_document
    # A document the schema does not know stops it, naming the file.
    (tmp_path / "bad.graphql").write_text("{ counties { nope } }", "utf-8")
    result = await asyncio.to_thread(manifest_command, tmp_path, str(tmp_path / "bad.graphql"), "--no-include-map")
    assert result.returncode == 2 and "bad.graphql" in result.stdout + result.stderr


async def test_allow_list_mode_runs_listed_documents_only(api: Api, tmp_path: Path) -> None:
    manifest = await asyncio.to_thread(write_manifest, tmp_path)
    async with another_gateway(
        api, tmp_path / "var", graphql_persisted_queries="allowlist", graphql_allowlist=manifest
    ) as strict:
        # Listed: by hash, in full, both, over GET; and the map's browser document.
        assert counties(await post(strict, by_hash(COUNTIES))) == 21
        assert counties(await post(strict, {"query": COUNTIES})) == 21
        assert counties(await post(strict, with_hash(COUNTIES))) == 21
        assert counties(await get(strict, get_params(by_hash(COUNTIES)))) == 21
        assert counties(await post(strict, {"documentId": f"sha256:{sha(COUNTIES)}"})) == 21
        map_query = {"query": map_script_document(), "variables": {"code": "0180", "lang": "SV"}}
        assert "totalCount" in (await post(strict, map_query)).json()["data"]["municipalityInitiatives"]
        assert (await post(strict, by_hash(LOG_IN))).json()["errors"][0]["path"] == ["logIn"]  # it ran

        # Anything else is refused before it is parsed, and nothing gets registered.
        unlisted = [
            {"query": NORRBOTTEN},
            by_hash(NORRBOTTEN),
            with_hash(NORRBOTTEN),
            {"query": COUNTIES + " "},  # listed means exactly the listed text
            {"query": "{ __schema { types { name } } }"},  # introspection too, unless listed
            {"query": "{ nope "},
        ]
        for body in unlisted:
            assert "allow-list" in refused(await post(strict, body), 403, "PERSISTED_QUERY_NOT_ALLOWED"), body
            refused(await post(strict, body, accept=JSON), 200, "PERSISTED_QUERY_NOT_ALLOWED")
        refused(await get(strict, get_params(by_hash(NORRBOTTEN))), 403, "PERSISTED_QUERY_NOT_ALLOWED")
        assert "hash" in refused(await post(strict, {"query": COUNTIES, "extensions": persisted(LOG_IN)}), 400)
        if strict.app.state.redis is not None:
            assert await strict.app.state.redis.get(KEY_PREFIX + sha(NORRBOTTEN)) is None

        # No GraphiQL: it could run nothing.
        r = await strict.http.get("/graphql", headers={"accept": "text/html,*/*;q=0.8"})
        assert "graphiql" not in r.text.lower()
        refused(r, 400)

        # The map and the panel, mounted in the gateway, call it in-process with their own documents.
        page = await strict.http.get("/karta/")
        assert page.status_code == 200 and 'id="map"' in page.text
        assert (await strict.http.get("/admin/login")).status_code == 200


async def test_allow_list_mode_holds_over_websockets(api: Api, tmp_path: Path) -> None:
    manifest = await asyncio.to_thread(write_manifest, tmp_path)
    async with another_gateway(
        api, tmp_path / "var", graphql_persisted_queries="allowlist", graphql_allowlist=manifest
    ) as strict:
        port = free_port()
        config = uvicorn.Config(strict.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            await poll(lambda: server.started, within=10)
            async with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=[PROTOCOL], proxy=None) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"

                async def answer(op_id: str, payload: dict[str, Any]) -> dict[str, Any]:
                    """The first answer to this subscribe (skipping other operations' `complete`)."""
                    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
                    while True:
                        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        if message.get("id") == op_id:
                            return message

                # Unlisted, as a query or a subscription: refused.
                for op_id, document in (("q", NORRBOTTEN), ("s", "subscription { notificationAdded { text } }")):
                    message = await answer(op_id, {"query": document})
                    assert message["type"] == "error", message
                    assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
                # Listed, by hash: it runs (anonymous, so the subscription says to sign in).
                message = await answer("h", {"extensions": persisted(SUBSCRIPTION)})
                assert message["type"] == "next", message
                assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                message = await answer("c", {"query": COUNTIES})
                assert message["type"] == "next" and len(message["payload"]["data"]["counties"]) == 21
        finally:
            server.should_exit = True
            await task


def test_allow_list_mode_needs_a_sound_manifest(tmp_path: Path) -> None:
    from services.gateway.app import create_app

    with pytest.raises(ValidationError, match="HUBBEN_GRAPHQL_ALLOWLIST"):
        Settings(var_dir=tmp_path, graphql_persisted_queries="allowlist")
    manifest = tmp_path / "manifest.json"
    for content, words in (
        ("{nope", "not JSON"),
        ("[]", "JSON object"),
        (json.dumps({sha(COUNTIES): NORRBOTTEN}), "not its document's SHA-256"),
        (json.dumps({sha(COUNTIES): 42}), "not a document"),
    ):
        manifest.write_text(content, "utf-8")
        settings = Settings(var_dir=tmp_path, graphql_persisted_queries="allowlist", graphql_allowlist=manifest)
        with pytest.raises(ManifestError, match=words):
            create_app(settings)
    settings = Settings(var_dir=tmp_path, graphql_persisted_queries="allowlist", graphql_allowlist=tmp_path / "none")
    with pytest.raises(ManifestError, match="cannot read"):
        create_app(settings)
