"""Fields without a resolver of their own read their attribute directly (build_schema swaps
strawberry's per-field closure for a plain getattr); every other field keeps its resolver."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import GraphQLObjectType

from services.gateway.graphql.schema import build_schema


def _field(schema: Any, type_name: str, field_name: str) -> Any:
    named = schema._schema.type_map[type_name]
    assert isinstance(named, GraphQLObjectType)
    return named.fields[field_name]


def test_plain_fields_read_the_attribute_and_resolvers_are_kept() -> None:
    schema = build_schema()
    display_name = _field(schema, "Member", "displayName")
    # The GraphQL name is camelCase; the attribute read is the Python one.
    assert display_name.resolve(SimpleNamespace(display_name="Anna"), None) == "Anna"
    assert display_name.resolve.__qualname__.startswith("_attribute_reader")
    for type_name, field_name in (("Post", "author"), ("Member", "bioHtml"), ("Query", "homeFeed")):
        resolve = _field(schema, type_name, field_name).resolve
        assert not resolve.__qualname__.startswith("_attribute_reader"), (type_name, field_name)


def test_every_plain_field_of_the_schema_reads_an_attribute_its_type_has() -> None:
    schema = build_schema()
    checked = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        definition = named.extensions.get("strawberry-definition")
        cls = getattr(definition, "origin", None)
        for field_name, field in named.fields.items():
            if not field.resolve.__qualname__.startswith("_attribute_reader"):
                continue
            python_name = field.extensions["strawberry-definition"].python_name
            known = {f.python_name for f in definition.fields} if definition is not None else set()
            assert python_name in known, (named.name, field_name, cls)
            checked += 1
    assert checked > 300
