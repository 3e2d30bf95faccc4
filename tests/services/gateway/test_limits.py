"""Request limits: each is refused before anything runs, with a message naming the limit and
the figure found. Every refused document here also carries a mutation (a new headline)
that must not have happened; then the cost model, checked against known queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, validate

from services.gateway.graphql.cost import analyse
from tests.conftest import Api, Session, make_settings, served_app

HEADLINE = "changed by a refused request"
# The payload's selection goes where {inner} is.
MUTATE = 'mutation {{ updateProfile(input: {{headline: "' + HEADLINE + '"}}) {{ member {{ {inner} }} }} }}'
MUTATE_WITH = (
    "mutation($h: String!{page}) {{ updateProfile(input: {{headline: $h}}) {{ member {{ handle {inner} }} }} }}"
)


def nested_followers(levels: int, first: str = "first: 1") -> str:
    return f"followers({first}) {{ nodes {{ " * levels + "handle" + " } }" * levels


async def headline(member: Session) -> str | None:
    data = await member.ok("{ viewer { member { headline } } }")
    return data["viewer"]["member"]["headline"]  # type: ignore[no-any-return]


async def refused(member: Session, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's only error, after checking nothing ran: no data, the headline unchanged."""
    before = await headline(member)
    body = await member.gql(query, variables)
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    assert await headline(member) == before != HEADLINE
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


async def test_the_mutation_used_below_runs_when_within_the_limits(api: Api) -> None:
    """The refusals below are the limits', not the mutation's: within them it changes the headline."""
    anna = await api.sign_up()
    data = await anna.ok(MUTATE.format(inner=nested_followers(5)))
    assert data["updateProfile"]["member"]["followers"] == {"nodes": []}
    assert await headline(anna) == HEADLINE


async def test_a_deep_query_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    error = await refused(anna, MUTATE.format(inner=nested_followers(7)))
    # updateProfile, member, then two levels per followers connection.
    assert error["message"] == "query depth 16 exceeds the limit of 12"
    assert error["extensions"] | {"limit": "depth", "value": 16, "maximum": 12} == error["extensions"]
    # Fragments count where they are spread.
    fragmented = (
        'mutation { updateProfile(input: {headline: "' + HEADLINE + '"}) { member { ...F } } }'
        " fragment F on Member { " + nested_followers(6) + " }"
    )
    error = await refused(anna, fragmented)
    assert error["message"] == "query depth 14 exceeds the limit of 12"


async def test_an_alias_bomb_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    aliases = " ".join(f"h{i}: handle" for i in range(45))
    error = await refused(anna, MUTATE.format(inner=aliases))
    assert error["message"] == "45 aliases exceed the limit of 30"
    # A fragment's aliases count at each spread: 2 spreads x 16 aliases.
    bomb = (
        'mutation { updateProfile(input: {headline: "' + HEADLINE + '"}) { a: member { ...F } b: member { ...F } } }'
        " fragment F on Member { " + " ".join(f"h{i}: handle" for i in range(15)) + " }"
    )
    error = await refused(anna, bomb)
    assert error["message"] == "32 aliases exceed the limit of 30"


async def test_a_huge_first_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    error = await refused(anna, MUTATE.format(inner="followers(first: 500) { nodes { handle } }"))
    assert error["message"] == "first is 500 on Member.followers; the limit is 100"
    assert error["extensions"]["field"] == "first"
    # From a variable alike, and for last.
    error = await refused(
        anna,
        MUTATE_WITH.format(page=", $n: Int", inner="followers(last: $n) { nodes { handle } }"),
        {"h": HEADLINE, "n": 101},
    )
    assert error["message"] == "last is 101 on Member.followers; the limit is 100"
    error = await refused(anna, MUTATE.format(inner="followers(first: -1) { nodes { handle } }"))
    assert error["message"] == "first is -1 on Member.followers; it must be between 0 and 100"


async def test_a_connection_without_first_or_last_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    error = await refused(anna, MUTATE.format(inner="followers { totalCount }"))
    assert error["message"] == "first or last is required on Member.followers (at most 100)"
    # A variable left out, or sent as null, is no page size either.
    query = MUTATE_WITH.format(page=", $n: Int", inner="followers(first: $n) { totalCount }")
    for variables in ({"h": HEADLINE}, {"h": HEADLINE, "n": None}):
        error = await refused(anna, query, variables)
        assert error["message"] == "first or last is required on Member.followers (at most 100)"
    # Nested in an inline fragment, it is found as well.
    error = await refused(
        anna,
        MUTATE.format(inner="followers(first: 2) { nodes { ...on Member { followingHubs { totalCount } } } }"),
    )
    assert error["message"] == "first or last is required on Member.followingHubs (at most 100)"


async def test_first_and_last_together_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    error = await refused(anna, MUTATE.format(inner="followers(first: 2, last: 2) { totalCount }"))
    assert error["message"] == "pass first or last on Member.followers, not both"


async def test_a_query_over_the_cost_limit_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    # 10 (the mutation) + 1 (member) + 1 (followers) + 100 x (1 + 1 + 100 x 1)
    inner = "followers(first: 100) { nodes { followers(first: 100) { nodes { handle } } } }"
    error = await refused(anna, MUTATE.format(inner=inner))
    assert error["message"] == "query cost 10,212 exceeds the limit of 10,000"
    assert error["extensions"] | {"limit": "cost", "value": 10212, "maximum": 10000} == error["extensions"]
    # Page sizes from variables count the same.
    inner = "followers(first: $n) { nodes { followers(first: $n) { nodes { handle } } } }"
    query = MUTATE_WITH.format(page=", $n: Int!", inner=inner)
    error = await refused(anna, query, {"h": HEADLINE, "n": 100})
    assert error["message"] == "query cost 10,212 exceeds the limit of 10,000"
    # 12 + 99 x 101 = 10,011 is over too; 12 + 98 x 100 = 9,812 fits.
    assert (await anna.gql(query, {"h": HEADLINE, "n": 99}))["errors"][0]["message"] == (
        "query cost 10,011 exceeds the limit of 10,000"
    )
    data = await anna.ok(query, {"h": "fits", "n": 98})
    assert data["updateProfile"]["member"]["followers"]["nodes"] == []


async def test_an_oversized_document_is_refused_before_parsing(api: Api) -> None:
    anna = await api.sign_up()
    # Not even valid GraphQL (an unterminated string): the size is checked before parsing.
    query = MUTATE.format(inner="handle") + ' "' + "x" * 40_000
    error = await refused(anna, query)
    size = len(query.encode())
    assert error["message"] == f"the document is {size:,} bytes; the limit is 32,768"
    # Bytes, not characters: 16,400 å are 32,800 bytes.
    query = MUTATE.format(inner="handle") + " # " + "å" * 16_400
    error = await refused(anna, query)
    assert error["message"] == f"the document is {len(query.encode()):,} bytes; the limit is 32,768"


async def test_oversized_variables_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    error = await refused(anna, MUTATE_WITH.format(page="", inner=""), {"h": "x" * 300_000})
    assert error["message"] == "the variables are 300,008 bytes; the limit is 262,144"


async def test_too_many_tokens_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    query = MUTATE.format(inner=" ".join(["handle"] * 2100))
    error = await refused(anna, query)
    # `mutation { updateProfile ( input : { headline : "…" } ) { member { … } } }` holds 18 more.
    assert error["message"] == "the document has 2,118 tokens; the limit is 2,000"


async def test_invalid_variables_are_refused(api: Api) -> None:
    anna = await api.sign_up()
    query = MUTATE_WITH.format(page="", inner="")
    error = await refused(anna, query, {"h": 42})
    assert error["message"] == "Variable '$h' has invalid value: String cannot represent a non string value: 42"
    error = await refused(anna, query, {})
    missing = "Variable '$h' has invalid value: Expected a value of non-null type 'String!' to be provided."
    assert error["message"] == missing
    error = await refused(anna, query, {"h": HEADLINE, "hh": "typo"})
    assert error["message"] == "the operation declares no variable $hh"
    error = await refused(anna, query, {"h": HEADLINE, "x": 1, "y": 2})
    assert error["message"] == "the operation declares no variables $x, $y"
    # An input object's unknown field is refused by graphql-core's coercion, named.
    body = await anna.gql(
        "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { member { headline } } }",
        {"i": {"headline": HEADLINE, "nickname": "x"}},
    )
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nickname" in body["errors"][0]["message"]
    assert await headline(anna) != HEADLINE


async def test_the_same_document_is_judged_by_each_request_s_variables(api: Api) -> None:
    """Validation is cached per document; page sizes from variables are not cached with it."""
    anna = await api.sign_up()
    query = "query($n: Int) { viewer { member { followers(first: $n) { totalCount } } } }"
    for n, ok in ((5, True), (500, False), (5, True), (None, False), (100, True)):
        body = await anna.gql(query, {"n": n})
        assert ("errors" not in body) is ok, (n, body)
    # Another caller, the same document: the same rules.
    bo = await api.sign_up()
    [error] = (await bo.gql(query, {"n": 101}))["errors"]
    assert error["message"] == "first is 101 on Member.followers; the limit is 100"


async def test_validation_is_cached_across_requests(api: Api) -> None:
    """The limits' validation rules are made once per app, so ValidationCache hits (it keys on
    the rule classes: per-request rules would make every request a miss)."""
    from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE, _get_validate_cache

    cache = _get_validate_cache(DEFAULT_MAXSIZE)
    query = "{ counties { code } __typename }"
    await api.ok(query)
    hits = cache.cache_info().hits
    for _ in range(3):
        await api.ok(query)
    assert cache.cache_info().hits >= hits + 3


async def test_limits_come_from_the_settings(backend: str, tmp_path: Path) -> None:
    settings = make_settings(backend, tmp_path).model_copy(
        update={
            "graphql_max_depth": 2,
            "graphql_max_aliases": 1,
            "graphql_max_tokens": 50,
            "graphql_max_document_bytes": 300,
            "graphql_max_cost": 5,
        }
    )
    import httpx

    async with served_app(settings) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hubben.test") as http:
            api = Api(http=http, app=app, backend=backend)

            async def message(query: str) -> str:
                body = await api.gql(query)
                assert body["data"] is None, body
                return body["errors"][0]["message"]  # type: ignore[no-any-return]

            assert await message("{ organisations(first: 1) { nodes { hubs(first: 1) { nodes { name } } } } }") == (
                "query depth 4 exceeds the limit of 2"
            )
            assert await message("{ a: counties { code } b: counties { code } }") == "2 aliases exceed the limit of 1"
            assert await message("{ counties { " + "x " * 60 + "} }") == "the document has 65 tokens; the limit is 50"
            assert await message("{ counties { code } }" + " " * 300) == "the document is 321 bytes; the limit is 300"
            assert await message("{ organisations(first: 5) { nodes { name } } }") == (
                "query cost 6 exceeds the limit of 5"
            )
            assert (await api.ok("{ organisations(first: 4) { nodes { name } } }"))["organisations"]["nodes"] == []


# --- the cost model ------------------------------------------------------------------------

COSTS = [
    # Scalars cost nothing; a request costs at least 1.
    ("{ __typename }", {}, 1),
    ("{ counties { code name } }", {}, 1),
    # An object field costs 1 plus its selection; a plain list counts once.
    ("{ municipalities { code county { name } } }", {}, 2),
    # A connection: 1, plus its page size times what each item selects; pageInfo counts once.
    ("{ organisations(first: 10) { totalCount pageInfo { hasNextPage } nodes { name } } }", {}, 12),
    # An edge and its node are one item.
    ("{ organisations(last: 7) { edges { cursor node { name } } } }", {}, 8),
    ("{ organisations(first: 7) { edges { cursor } } }", {}, 1),
    # Connections multiply.
    ("{ organisations(first: 5) { nodes { hubs(first: 4) { nodes { name organisation { name } } } } } }", {}, 51),
    # Page sizes from variables, and defaults of variables.
    ("query($n: Int) { organisations(first: $n) { nodes { name } } }", {"n": 25}, 26),
    ("query($n: Int = 30) { organisations(first: $n) { nodes { name } } }", {}, 31),
    # Fragments count where they are spread, on the types they apply to.
    (
        """query { organisations(first: 2) { nodes { ...O } } }
           fragment O on Organisation { name hubs(first: 3) { totalCount nodes { ...H } } }
           fragment H on Hub { name organisation { name } }""",
        {},
        # 1 + 2 x (1 + hubs: 1 + 3 x (1 + 1))
        17,
    ),
    # On a union, the costliest member counts: a Post with author and hub (3), an Event with hub (2).
    (
        """{ homeFeed(first: 10) { nodes { __typename
             ... on Post { author { handle } hub { name } }
             ... on Event { hub { name } } } } }""",
        {},
        31,
    ),
    # Fields merged by execution count once; aliases count apart.
    ("{ viewer { email } viewer { member { handle } } }", {}, 2),
    ("{ a: viewer { email } b: viewer { email } }", {}, 2),
    # @include does not lower the cost.
    ("query($x: Boolean!) { viewer @include(if: $x) { member { handle } } }", {"x": False}, 2),
    # Paged fields that are not connections multiply by their first (or its default).
    ('{ search(query: "x") { nodes { __typename } } }', {}, 21),
    ('{ search(query: "x", first: 5) { edges { node { ... on Member { handle } } } } }', {}, 6),
    ('{ searchSuggestions(prefix: "um") { title { text } } }', {}, 17),
    # A mutation's root field costs 10.
    ('mutation { updateProfile(input: {headline: "x"}) { member { handle } userErrors { message } } }', {}, 12),
]


@pytest.mark.parametrize(("query", "variables", "cost"), COSTS)
def test_the_cost_of_known_queries(query: str, variables: dict[str, Any], cost: int) -> None:
    from graphql.execution.values import get_variable_values

    from services.gateway.graphql.schema import build_schema

    schema = build_schema()._schema
    document = parse(query)
    assert validate(schema, document) == []
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list)
    analysis = analyse(schema, fragments, operation, coerced.coerced, 100)
    assert analysis.problems == ()
    assert analysis.cost == cost


async def test_the_rate_limit_field_reports_the_computed_cost(api: Api) -> None:
    anna = await api.sign_up()
    query = """query($n: Int!) { rateLimit { cost }
      homeFeed(first: $n) { nodes { ...P ... on Event { hub { name } } } } }
      fragment P on Post { author { handle } hub { name } }"""
    # 1 (rateLimit) + 1 + 10 x 3
    data = await anna.ok(query, {"n": 10})
    assert data["rateLimit"]["cost"] == 32
    data = await anna.ok(query, {"n": 3})
    assert data["rateLimit"]["cost"] == 11
