"""The GraphQL endpoint over HTTP: GraphiQL, GET for queries only, error codes."""

from __future__ import annotations

from tests.conftest import Api


async def test_graphiql_on_browser_get(api: Api) -> None:
    r = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()


async def test_queries_over_get_but_not_mutations(api: Api) -> None:
    r = await api.http.get("/graphql", params={"query": "{ counties { code } }"})
    assert r.status_code == 200
    assert len(r.json()["data"]["counties"]) == 21
    r = await api.http.get(
        "/graphql",
        params={"query": 'mutation { logIn(input: {email: "a@b.se", password: "x"}) { userErrors { message } } }'},
    )
    assert r.status_code in (400, 405)


async def test_validation_errors_carry_a_code(api: Api) -> None:
    body = await api.gql("{ viewer { noSuchField } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "noSuchField" in body["errors"][0]["message"]


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
