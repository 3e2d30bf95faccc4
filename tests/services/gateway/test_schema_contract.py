"""The committed schema.graphql is the code's schema, and it changes without breaking
clients: a removal only after a deprecation in the previously committed schema."""

from __future__ import annotations

from services.gateway.graphql.contract import SCHEMA_FILE, breaking_changes, previous_committed, printed

FIX = "run `python -m services.gateway.graphql.contract --write` and commit schema.graphql"


def test_the_committed_schema_is_the_codes_schema() -> None:
    assert SCHEMA_FILE.exists(), FIX
    assert SCHEMA_FILE.read_text() == printed(), f"schema.graphql differs from the code's schema: {FIX}"


def test_no_breaking_changes_against_the_previous_committed_schema() -> None:
    before = previous_committed()
    if before is None:
        return  # the first committed schema: nothing to break
    problems = breaking_changes(before, printed())
    assert not problems, "breaking changes to the API (deprecate first, remove later):\n" + "\n".join(problems)


OLD = """
type Query {
  kept: String
  retired: String @deprecated(reason: "Use kept.")
  dropped: String
  retyped: String
  search(first: Int): [String!]!
}
enum Colour { RED GREEN @deprecated(reason: "Gone next release.") BLUE }
input Filter { colour: Colour }
type Mutation { paint(colour: Colour): Boolean }
"""


def test_removing_a_deprecated_field_or_value_is_allowed_and_anything_else_is_listed() -> None:
    new = """
type Query {
  kept: String
  retyped: Int
  search(first: Int!): [String!]!
}
enum Colour { RED }
input Filter { colour: Colour, required: Int! }
type Mutation { paint(colour: Colour): Boolean }
"""
    assert breaking_changes(OLD, new) == [
        "FIELD_REMOVED: Field Query.dropped was removed.",
        "FIELD_CHANGED_KIND: Field Query.retyped changed type from String to Int.",
        "ARG_CHANGED_KIND: Argument Query.search(first:) has changed type from Int to Int!.",
        "VALUE_REMOVED_FROM_ENUM: Enum value Colour.BLUE was removed.",
        "REQUIRED_INPUT_FIELD_ADDED: A required field Filter.required was added.",
    ]


def test_additions_are_not_breaking() -> None:
    new = OLD.replace("kept: String", "kept: String\n  added: Int").replace("BLUE }", "BLUE PINK }")
    assert breaking_changes(OLD, new) == []
