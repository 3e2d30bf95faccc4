"""An API consumer's day, with a real third-party GraphQL client (gql over httpx) against a
real `hubben serve` with demo data: sign up, create a personal access token, page through
the organisations of a county, read a hub's feed, search, spend the rate limit, get HTTP 429
with Retry-After, and carry on once the window has reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.conftest import poll
from tests.test_split_mode import hubben_env, hubben_serve, wait_healthy

pytestmark = pytest.mark.timeout(300)

SIGN_UP = gql(
    """mutation($i: SignUpInput!) { signUp(input: $i) { session { accessToken } userErrors { field message } } }"""
)
CREATE_TOKEN = gql(
    """mutation($i: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $i) {
      token personalAccessToken { scopes } userErrors { field message } } }"""
)
ORGANISATIONS = gql(
    """query($county: String!, $after: String) {
      organisations(countyCode: $county, first: 2, after: $after) {
        nodes { slug name county { code } } totalCount pageInfo { hasNextPage endCursor } } }"""
)
HUB_FEED = gql(
    """query($slug: String!) { hub(slug: $slug) { name feed(first: 10) { nodes { __typename
      ... on Post { body author { handle } commentsCount reactions { total } } ... on Event { title } } } } }"""
)
SEARCH = gql(
    """query($q: String!) { search(query: $q, first: 5) { totalCount
      edges { node { __typename ... on Organisation { name } ... on Initiative { title } } } } }"""
)
RATE = gql("{ rateLimit { limit cost remaining resetAt } }")
# A hundred organisations at a time: a few of these spend the budget.
HEAVY = gql("{ rateLimit { cost } organisations(first: 100) { nodes { slug } } }")


def ask(request: GraphQLRequest, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(request, variable_values=variables)


def transport(url: str, statuses: list[tuple[int, httpx.Headers]], token: str | None = None) -> HTTPXAsyncTransport:
    async def record(response: httpx.Response) -> None:
        statuses.append((response.status_code, response.headers))

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HTTPXAsyncTransport(url=url, headers=headers, timeout=30, event_hooks={"response": [record]})


async def test_an_api_consumer_with_the_gql_client(tmp_path: Path) -> None:
    budget, window = 600, 8
    env = hubben_env(
        var_dir=str(tmp_path / "var"),
        rate_limit_token_points=str(budget),
        rate_limit_window_seconds=str(window),
    )
    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server, within=120)
        url = f"{server.url}/graphql"
        seen: list[tuple[int, httpx.Headers]] = []

        # A session signs up and creates a read-only token for the script.
        async with Client(transport=transport(url, seen)) as anonymous:
            account = {
                "email": "skript@example.se",
                "password": "a long script password",
                "handle": "skript",
                "displayName": "Skript",
            }
            signed = await anonymous.execute(ask(SIGN_UP, i=account))
        session = signed["signUp"]["session"]["accessToken"]
        async with Client(transport=transport(url, seen, session)) as member:
            made = await member.execute(ask(CREATE_TOKEN, i={"name": "etl", "scopes": ["read"]}))
        token = made["createPersonalAccessToken"]["token"]
        assert token.startswith("hbp_") and made["createPersonalAccessToken"]["personalAccessToken"]["scopes"] == [
            "read"
        ]

        async with Client(transport=transport(url, seen, token)) as api:
            # Page through Västerbotten's organisations two at a time.
            slugs: list[str] = []
            after = None
            while True:
                page = (await api.execute(ask(ORGANISATIONS, county="24", after=after)))["organisations"]
                assert all(n["county"]["code"] == "24" for n in page["nodes"])
                slugs += [n["slug"] for n in page["nodes"]]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            assert len(slugs) == page["totalCount"] >= 3 and len(set(slugs)) == len(slugs)

            feed = (await api.execute(ask(HUB_FEED, slug="kraftsamlingen")))["hub"]
            assert feed["feed"]["nodes"], feed
            found = await poll(
                lambda: _search(api, "kommun"), within=30
            )  # the demo's documents are indexed in the background
            assert any(e["node"]["__typename"] == "Organisation" for e in found["edges"])

            # The budget is visible, and every answer carries it in headers.
            rate = (await api.execute(RATE))["rateLimit"]
            assert rate["limit"] == budget and 0 <= rate["remaining"] < budget
            status, headers = seen[-1]
            assert status == 200 and headers["X-RateLimit-Limit"] == str(budget)

            # Spend it: the refusal is HTTP 429 with Retry-After and RATE_LIMITED.
            refused = None
            cost = 0
            for _ in range(50):
                try:
                    cost = (await api.execute(HEAVY))["rateLimit"]["cost"]
                except TransportQueryError as exc:
                    refused = exc
                    break
            assert cost > 1
            assert refused is not None, "the budget was never spent"
            assert refused.errors and refused.errors[0]["extensions"]["code"] == "RATE_LIMITED"
            status, headers = seen[-1]
            assert status == 429
            assert 0 < int(headers["Retry-After"]) <= window
            assert int(headers["X-RateLimit-Remaining"]) < cost  # what is left would not pay for it

            # After the window the same query runs again.
            async def recovered() -> dict[str, Any] | None:
                try:
                    return await api.execute(HEAVY)
                except TransportQueryError as exc:
                    assert exc.errors and exc.errors[0]["extensions"]["code"] == "RATE_LIMITED"
                    return None

            again = await poll(recovered, within=window + 10, interval=0.5)
            assert again["organisations"]["nodes"] and seen[-1][0] == 200


async def _search(api: Any, words: str) -> dict[str, Any] | None:
    result = (await api.execute(ask(SEARCH, q=words)))["search"]
    return result if result["totalCount"] else None
