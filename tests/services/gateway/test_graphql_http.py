"""The GraphQL endpoint over HTTP as the GraphQL-over-HTTP specification says: media types
and the Accept header, status codes for each kind of error with either media type, POST
content types, GET for queries only, and GraphQL's error shape for every refusal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Api, poll
from tests.services.gateway.test_credentials import create_pat

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BOTH = (GRAPHQL_RESPONSE, JSON)
COUNTIES = "{ counties { code } }"
LOG_IN = 'mutation { logIn(input: {email: "a@b.se", password: "x"}) { userErrors { message } } }'


async def post(
    api: Api,
    body: Any,
    accept: str | None = GRAPHQL_RESPONSE,
    content_type: str | None = JSON,
    token: str | None = None,
) -> httpx.Response:
    """POST to /graphql; `accept=None` sends no Accept header at all, `content_type=None` no Content-Type."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = api.http.build_request("POST", "/graphql", content=content)
    for name, value in (("accept", accept), ("content-type", content_type)):
        if value is None:
            request.headers.pop(name, None)
        else:
            request.headers[name] = value
    if token:
        request.headers["authorization"] = f"Bearer {token}"
    return await api.http.send(request)


async def get(
    api: Api, params: dict[str, str] | list[tuple[str, str]], accept: str = GRAPHQL_RESPONSE
) -> httpx.Response:
    return await api.http.get("/graphql", params=params, headers={"accept": accept})


def media_type(r: httpx.Response) -> str:
    return r.headers["content-type"].split(";")[0].strip()


def refused(r: httpx.Response, status: int, code: str = "BAD_USER_INPUT") -> str:
    """A request error: this status, no `data` entry, one error with this code; its message."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, body
    return str(error["message"])


@asynccontextmanager
async def another_gateway(api: Api, var_dir: Path, **changes: Any) -> AsyncIterator[Api]:
    """A second gateway process beside the test app, with its settings changed so: over the
    same PostgreSQL schemas and Redis (on SQLite, its own files under var_dir), running no jobs."""
    from services.gateway.app import create_app

    update = {"var_dir": var_dir, "run_jobs_in_process": False, **changes}
    app = create_app(api.app.state.settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
            yield Api(http=http, app=app, backend=api.backend)


# --- media types ------------------------------------------------------------------------------


async def test_graphiql_on_browser_get(api: Api) -> None:
    r = await api.http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()
    # A GET with a query is GraphQL, whatever the browser accepts.
    r = await get(api, {"query": COUNTIES}, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 200 and media_type(r) == GRAPHQL_RESPONSE
    assert len(r.json()["data"]["counties"]) == 21


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, GRAPHQL_RESPONSE),  # no Accept: the spec's default since 2025
        ("", GRAPHQL_RESPONSE),
        ("*/*", GRAPHQL_RESPONSE),
        ("application/*", GRAPHQL_RESPONSE),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("application/json; charset=utf-8", JSON),
        # The header the spec recommends to clients.
        ("application/graphql-response+json; charset=utf-8, application/json; charset=utf-8", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", JSON),  # equal q: the first listed
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.9, */*", GRAPHQL_RESPONSE),
        ("text/html, application/json;q=0.8", JSON),
        ("application/graphql-response+json;q=0, */*", JSON),
    ],
)
async def test_the_response_media_type_follows_accept(api: Api, accept: str | None, expected: str) -> None:
    r = await post(api, {"query": COUNTIES}, accept=accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"{expected}; charset=utf-8"
    assert "accept" in r.headers["vary"].lower()
    assert len(r.json()["data"]["counties"]) == 21


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/xml",
        "application/json;q=0",
        "application/json; charset=iso-8859-1",
        "multipart/mixed;subscriptionSpec=1.0",
        "text/event-stream",
    ],
)
async def test_an_accept_allowing_neither_media_type_is_406(api: Api, accept: str) -> None:
    for request in (post(api, {"query": COUNTIES}, accept=accept), get(api, {"query": COUNTIES}, accept=accept)):
        r = await request
        message = refused(r, 406)
        assert GRAPHQL_RESPONSE in message and JSON in message


# --- status codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", BOTH)
async def test_field_errors_are_200_once_execution_started(api: Api, accept: str) -> None:
    # A nullable field fails: the rest of the data is there.
    r = await post(api, {"query": '{ counties { code } node(id: "nonsense") { id } }'}, accept=accept)
    assert r.status_code == 200 and media_type(r) == accept
    body = r.json()
    assert len(body["data"]["counties"]) == 21 and body["data"]["node"] is None
    assert body["errors"][0]["path"] == ["node"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # A non-null field fails (anonymous: UNAUTHENTICATED) and nulls the whole data: still 200.
    r = await post(api, {"query": "{ counties { code } notifications(first: 1) { totalCount } }"}, accept=accept)
    assert r.status_code == 200 and media_type(r) == accept
    body = r.json()
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["notifications"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"query": "{ counties { code "}, "Syntax Error"),  # parsing
        ({"query": "{ counties { noSuchField } }"}, "noSuchField"),  # validation
        ({"query": "query($n: Int!) { counties { code } }", "variables": {"n": "x"}}, "$n"),  # variable coercion
        ({"query": "query($n: Int!) { counties { code } }"}, "$n"),  # a required variable left out
        ({"query": "query A { counties { code } }", "operationName": "B"}, "'B'"),  # no such operation
        ({"query": "query A { counties { code } } query B { counties { name } }"}, "operationName"),
    ],
)
async def test_request_errors_are_400_with_graphql_response_json_and_200_with_json(
    api: Api, body: dict[str, Any], words: str
) -> None:
    assert words in refused(await post(api, body, accept=GRAPHQL_RESPONSE), 400)
    assert words in refused(await post(api, body, accept=JSON), 200)


@pytest.mark.parametrize(
    "content",
    [
        b"NONSENSE",
        b'{"query":',
        b'{"query": "{ counties { code } }"} trailing',
        b"[" * 100_000,
        b"[]",
        b'[{"query": "{ counties { code } }"}]',  # batches are not supported
        b"null",
        b"42",
        b"{}",
        b'{"qeury": "{ counties { code } }"}',
        b'{"query": null}',
        b'{"query": ""}',
        b'{"query": "  \\n "}',
        b'{"query": 42}',
        b'{"query": ["{ counties { code } }"]}',
        b'{"query": "{ counties { code } }", "variables": [7]}',
        b'{"query": "{ counties { code } }", "variables": "{}"}',
        b'{"query": "{ counties { code } }", "extensions": "x"}',
        b'{"query": "{ counties { code } }", "operationName": 5}',
    ],
)
async def test_malformed_requests_are_400_with_either_media_type(api: Api, content: bytes) -> None:
    for accept in BOTH:
        r = await post(api, content, accept=accept)
        refused(r, 400)
        assert media_type(r) == accept


async def test_null_optional_parameters_are_as_good_as_none(api: Api) -> None:
    body = {"query": COUNTIES, "variables": None, "operationName": None, "extensions": None}
    r = await post(api, body)
    assert r.status_code == 200 and len(r.json()["data"]["counties"]) == 21
    r = await post(api, {"query": COUNTIES, "operationName": "", "extensions": {"somethingElse": True}})
    assert r.status_code == 200, r.text


async def test_refusals_before_execution_take_their_codes_status(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    read_only = (await create_pat(anna, ["read"]))["token"]
    follow = {
        "query": "mutation($id: ID!) { follow(input: {targetId: $id}) { following } }",
        "variables": {"id": bo.id},
    }
    assert "'write' scope" in refused(await post(api, follow, token=read_only), 403, "FORBIDDEN")
    assert "'write' scope" in refused(await post(api, follow, accept=JSON, token=read_only), 200, "FORBIDDEN")
    assert (await api.ok("{ viewer { member { followingCount } } }", token=anna.token))["viewer"]["member"][
        "followingCount"
    ] == 0

    nested = "followers(first: 1) { nodes { " * 8 + "handle" + " } }" * 8
    deep = {"query": f'{{ member(handle: "nobody") {{ {nested} }} }}'}
    assert "depth" in refused(await post(api, deep), 400)
    assert "depth" in refused(await post(api, deep, accept=JSON), 200)

    # A token that is no token is refused before the request is read, 401 with either type.
    for accept in BOTH:
        r = await post(api, {"query": COUNTIES}, accept=accept, token="garbage")
        assert r.status_code == 401 and media_type(r) == accept
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- POST content types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        GRAPHQL_RESPONSE,  # a response type, not a request type
        "application/json; charset=iso-8859-1",
        "application/jsonx",
        "nonsense",
    ],
)
async def test_a_post_body_that_is_not_json_in_utf8_is_415(api: Api, content_type: str | None) -> None:
    for accept in BOTH:
        r = await post(api, {"query": COUNTIES}, accept=accept, content_type=content_type)
        assert "application/json" in refused(r, 415)
        assert media_type(r) == accept


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"]
)
async def test_json_in_utf8_is_accepted_however_it_is_written(api: Api, content_type: str) -> None:
    r = await post(api, {"query": COUNTIES}, content_type=content_type)
    assert r.status_code == 200 and len(r.json()["data"]["counties"]) == 21


# --- GET -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", BOTH)
async def test_queries_over_get_with_every_parameter(api: Api, accept: str) -> None:
    query = "query Norr($code: String!) { municipalities(countyCode: $code) { name } } query All { counties { code } }"
    r = await get(
        api,
        {"query": query, "operationName": "Norr", "variables": json.dumps({"code": "25"}), "extensions": "{}"},
        accept=accept,
    )
    assert r.status_code == 200 and media_type(r) == accept, r.text
    assert len(r.json()["data"]["municipalities"]) == 14
    # Empty operationName, variables and extensions are as good as none.
    r = await get(api, {"query": COUNTIES, "operationName": "", "variables": "", "extensions": ""}, accept=accept)
    assert r.status_code == 200 and len(r.json()["data"]["counties"]) == 21


@pytest.mark.parametrize("accept", BOTH)
async def test_a_mutation_over_get_is_405_with_allow_post(api: Api, accept: str) -> None:
    r = await get(api, {"query": LOG_IN}, accept=accept)
    assert "POST" in refused(r, 405)
    assert r.headers["allow"] == "POST" and media_type(r) == accept
    # Chosen by operationName out of a document that holds a query too.
    both = f"query Q {COUNTIES} mutation M {LOG_IN.removeprefix('mutation')}"
    assert refused(await get(api, {"query": both, "operationName": "M"}, accept=accept), 405)
    r = await get(api, {"query": both, "operationName": "Q"}, accept=accept)
    assert r.status_code == 200 and len(r.json()["data"]["counties"]) == 21
    # The same mutation over POST runs.
    r = await post(api, {"query": LOG_IN}, accept=accept)
    assert r.status_code == 200 and r.json()["errors"][0]["path"] == ["logIn"]  # it ran: wrong password


@pytest.mark.parametrize(
    "params",
    [
        [],  # no query
        [("query", "")],
        [("query", COUNTIES), ("query", "{ viewer { email } }")],  # given twice
        [("query", COUNTIES), ("variables", "{nope")],
        [("query", COUNTIES), ("variables", "[1]")],
        [("query", COUNTIES), ("extensions", "42")],
    ],
)
async def test_malformed_get_requests_are_400(api: Api, params: list[tuple[str, str]]) -> None:
    for accept in BOTH:
        refused(await get(api, params, accept=accept), 400)


async def test_subscriptions_are_refused_over_http(api: Api) -> None:
    subscription = {"query": "subscription { notificationAdded { id } }"}
    for accept in BOTH:
        assert "websocket" in refused(await post(api, subscription, accept=accept), 400)
    assert "websocket" in refused(await get(api, subscription), 400)


async def test_other_methods_are_405(api: Api) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        r = await api.http.request(method, "/graphql", json={"query": COUNTIES})
        assert r.status_code == 405, (method, r.status_code)


# --- rate limits ------------------------------------------------------------------------------------


async def test_rate_limit_headers_and_429_with_retry_after_for_either_media_type(api: Api, tmp_path: Path) -> None:
    # `{ counties { code } }` costs one point; anonymous callers get two per two-second window.
    async with another_gateway(api, tmp_path, rate_limit_anonymous_points=2, rate_limit_window_seconds=2) as limited:
        for remaining, accept in ((1, GRAPHQL_RESPONSE), (0, JSON)):
            r = await post(limited, {"query": COUNTIES}, accept=accept)
            assert r.status_code == 200 and len(r.json()["data"]["counties"]) == 21
            assert r.headers["x-ratelimit-limit"] == "2"
            assert r.headers["x-ratelimit-remaining"] == str(remaining)
            assert int(r.headers["x-ratelimit-reset"]) > 0 and "retry-after" not in r.headers
        for accept in BOTH:
            r = await post(limited, {"query": COUNTIES}, accept=accept)
            assert "rate limit" in refused(r, 429, "RATE_LIMITED") and media_type(r) == accept
            assert 1 <= int(r.headers["retry-after"]) <= 2
            assert r.headers["x-ratelimit-remaining"] == "0"
            assert r.json()["errors"][0]["extensions"]["retryAfter"] == int(r.headers["retry-after"])
        # GET is limited alike, and the budget comes back when the window ends.
        assert (await get(limited, {"query": COUNTIES})).status_code == 429

        async def served_again() -> bool:
            return (await get(limited, {"query": COUNTIES})).status_code == 200

        await poll(served_again, within=10, interval=0.2)


# --- as before --------------------------------------------------------------------------------------


async def test_validation_errors_carry_a_code(api: Api) -> None:
    body = await api.gql("{ viewer { noSuchField } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "noSuchField" in body["errors"][0]["message"]
    assert body["_status"] == 400


async def test_anonymous_viewer_is_null_and_reference_data_is_public(api: Api) -> None:
    data = await api.ok('{ viewer { email } municipalities(countyCode: "25") { code name county { name } } }')
    assert data["viewer"] is None
    names = {m["name"] for m in data["municipalities"]}
    assert "Luleå" in names and len(names) == 14
    assert all(m["county"]["name"] == "Norrbottens län" for m in data["municipalities"])


async def test_deep_query_is_refused_before_execution(api: Api) -> None:
    nested = "followers(first: 1) { nodes { " * 8 + "handle" + " } }" * 8
    body = await api.gql(f'{{ member(handle: "nobody") {{ {nested} }} }}')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in body["errors"][0]["message"]
    assert body.get("data") is None
