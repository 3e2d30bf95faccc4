"""Token scopes: every root field states the scope it needs in the schema, and a personal
access token without it is refused before anything runs, with FORBIDDEN naming the scope
and the field."""

from __future__ import annotations

from typing import Any

import graphql
from graphql import GraphQLObjectType

from services.gateway.graphql.schema import build_schema
from tests.conftest import Api, Session
from tests.services.gateway.test_credentials import create_pat

FOLLOW = "mutation($id: ID!) { follow(input: {targetId: $id}) { following } }"
FOLLOWING = "{ viewer { member { followingCount } } }"
CASES = "{ viewer { email } moderationCases(first: 5) { totalCount } }"


def directives() -> dict[tuple[str, str], str]:
    # As a client sees it: the printed schema, read back.
    schema = graphql.build_schema(str(build_schema()))
    out: dict[tuple[str, str], str] = {}
    for root in ("Query", "Mutation", "Subscription"):
        gtype = schema.get_type(root)
        assert isinstance(gtype, GraphQLObjectType)
        for name, field in gtype.fields.items():
            node = field.ast_node
            stated = [d for d in (node.directives if node else ()) if d.name.value == "requiresScope"]
            assert len(stated) == 1, f"{root}.{name} states no scope"
            out[(root, name)] = stated[0].arguments[0].value.value  # type: ignore[attr-defined]
    return out


def test_every_root_field_states_its_scope() -> None:
    scopes = directives()
    assert set(scopes.values()) == {"read", "write", "moderate", "session"}
    assert scopes[("Query", "homeFeed")] == "read"
    assert scopes[("Mutation", "createPost")] == "write"
    assert scopes[("Mutation", "decideCase")] == "moderate"
    assert scopes[("Query", "auditLog")] == "moderate"
    assert scopes[("Mutation", "createPersonalAccessToken")] == "session"
    assert scopes[("Subscription", "notificationAdded")] == "read"
    printed = str(build_schema())
    assert 'createPost(input: CreatePostInput!): PostPayload! @requiresScope(scope: "write")' in printed


def forbidden(body: dict[str, Any]) -> str:
    assert body["data"] is None, body  # refused before execution: nothing ran, not even the allowed fields
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", body
    return str(error["message"])


async def test_a_read_token_is_refused_a_mutation_however_it_is_written(api: Api) -> None:
    anna, bo = await api.sign_up(), await api.sign_up()
    token = (await create_pat(anna, ["read"]))["token"]
    message = forbidden(await api.gql(FOLLOW, {"id": bo.id}, token))
    assert message == "this token lacks the 'write' scope, which follow needs"
    # Hidden in a fragment or an inline fragment, it is found all the same.
    hidden = [
        "mutation($id: ID!) { ...F } fragment F on Mutation { follow(input: {targetId: $id}) { following } }",
        "mutation($id: ID!) { ... on Mutation { follow(input: {targetId: $id}) { following } } }",
        "mutation($id: ID!) { a: __typename ... on Mutation { ...F } } "
        "fragment F on Mutation { b: follow(input: {targetId: $id}) { following } }",
    ]
    for query in hidden:
        assert "'write'" in forbidden(await api.gql(query, {"id": bo.id}, token)), query
    assert (await anna.ok(FOLLOWING))["viewer"]["member"]["followingCount"] == 0
    # Reading works, and a session may do everything.
    assert (await api.ok("{ viewer { email } }", token=token))["viewer"]["email"] == anna.email
    assert (await anna.ok(FOLLOW, {"id": bo.id}))["follow"]["following"] is True


async def test_moderation_needs_the_moderate_scope(api: Api) -> None:
    moderator: Session = await api.make_admin("moderator")
    plain = (await create_pat(moderator, ["read", "write"]))["token"]
    message = forbidden(await api.gql(CASES, None, plain))
    assert message == "this token lacks the 'moderate' scope, which moderationCases needs"
    scoped = (await create_pat(moderator, ["read", "moderate"]))["token"]
    body = await api.ok(CASES, token=scoped)
    assert body["viewer"]["email"] == moderator.email and body["moderationCases"]["totalCount"] >= 0


async def test_token_management_needs_a_session(api: Api) -> None:
    anna = await api.sign_up()
    token = (await create_pat(anna, ["read", "write"]))["token"]
    create = """mutation { createPersonalAccessToken(input: {name: "child", scopes: ["read"]}) { token } }"""
    message = forbidden(await api.gql(create, None, token))
    assert message == "createPersonalAccessToken needs a signed-in session; personal access tokens cannot call it"
    assert (await anna.ok(create))["createPersonalAccessToken"]["token"].startswith("hbp_")


async def test_anonymous_calls_are_left_to_the_services(api: Api) -> None:
    bo = await api.sign_up()
    body = await api.gql(FOLLOW, {"id": bo.id})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
