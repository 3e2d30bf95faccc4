"""The static cost of an operation and its page sizes, worked out before anything runs.

The cost is the most objects the operation can return:
- a field whose type is an object, interface or union (or a list of them) costs 1 point
  plus what is selected inside it; scalar and enum fields cost nothing;
- a paged field (a connection, or any field with `first`/`last`) costs 1 point plus, for
  each of the `first` (or `last`) items asked for, what is selected per item: under
  `edges` or `nodes` of a connection (an edge and its node are one item, so
  `edges { node { id } }` and `nodes { id }` each cost 1 per item), or the whole selection
  of a paged list; `pageInfo` and other fields of the connection count once;
- a mutation's root field costs 10 points rather than 1: it writes;
- on an interface or union the costliest possible type counts; fragments and inline
  fragments count where they apply; `@skip`/`@include` do not lower the cost;
- a request costs at least 1 point.

Connections also need `first` or `last` (not both), from 0 to the page limit: a page size
is the client's choice, so it is stated rather than defaulted. Literal values and
variables are checked alike, so the analysis takes the coerced variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

CONNECTION_SUFFIX = "Connection"
PAGE_ARGUMENTS = ("first", "last")
MUTATION_FIELD_COST = 10
PER_ITEM_FIELDS = ("edges", "nodes")


@dataclass(frozen=True)
class PageProblem:
    """A connection's page size that the request may not have."""

    message: str
    argument: str  # "first" or "last"
    value: int | None
    node: FieldNode


@dataclass(frozen=True)
class Analysis:
    cost: int
    problems: tuple[PageProblem, ...]


def is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith(CONNECTION_SUFFIX)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_page: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page = max_page
        # A selection's cost on a type does not depend on where it appears, so fragments
        # spread many times are costed once (no exponential walk through fragment bombs).
        self.memo: dict[tuple[tuple[int, ...], str], int] = {}
        self.problems: dict[tuple[int, str], PageProblem] = {}

    def selection_cost(self, parent: GraphQLNamedType, sets: tuple[SelectionSetNode, ...]) -> int:
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return max((self.object_cost(t, sets) for t in self.schema.get_possible_types(parent)), default=0)
        if isinstance(parent, GraphQLObjectType):
            return self.object_cost(parent, sets)
        return 0

    def object_cost(self, parent: GraphQLObjectType, sets: tuple[SelectionSetNode, ...], root: bool = False) -> int:
        key = (tuple(id(s) for s in sets), parent.name)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = 0  # a cycle (refused by validation anyway) adds nothing
        base = MUTATION_FIELD_COST if root and parent is self.schema.mutation_type else 1
        total = sum(self.field_cost(parent, nodes, base) for nodes in self.collect(parent, sets).values())
        self.memo[key] = total
        return total

    def collect(self, parent: GraphQLObjectType, sets: tuple[SelectionSetNode, ...]) -> dict[str, list[FieldNode]]:
        """The fields selected on this type, grouped by response key, as execution merges them."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        stack = list(reversed(sets))
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self.applies(selection.type_condition, parent):
                        stack.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name not in visited and fragment is not None:
                        visited.add(name)
                        if self.applies(fragment.type_condition, parent):
                            stack.append(fragment.selection_set)
        return fields

    def applies(self, condition: NamedTypeNode | None, parent: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        wanted = self.schema.get_type(condition.name.value)
        if wanted is parent:
            return True
        if isinstance(wanted, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(wanted, parent)
        return False

    def field_def(self, parent: GraphQLObjectType, name: str) -> GraphQLField | None:
        if name == "__schema" and parent is self.schema.query_type:
            return SchemaMetaFieldDef
        if name == "__type" and parent is self.schema.query_type:
            return TypeMetaFieldDef
        return parent.fields.get(name)

    def field_cost(self, parent: GraphQLObjectType, nodes: list[FieldNode], base: int) -> int:
        node = nodes[0]
        definition = self.field_def(parent, node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        sets = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        if not any(arg in definition.args for arg in PAGE_ARGUMENTS):
            return base + self.selection_cost(named, sets)
        size = self.page_size(parent, definition, node)
        if isinstance(named, GraphQLObjectType) and any(f in named.fields for f in PER_ITEM_FIELDS):
            return base + self.connection_cost(named, sets, size)
        if is_list_type(get_nullable_type(definition.type)):
            return base + size * (1 + self.selection_cost(named, sets))
        return base + self.selection_cost(named, sets)

    def connection_cost(self, connection: GraphQLObjectType, sets: tuple[SelectionSetNode, ...], size: int) -> int:
        total = 0
        for nodes in self.collect(connection, sets).values():
            name = nodes[0].name.value
            definition = connection.fields.get(name)
            if definition is None:
                continue
            item = get_named_type(definition.type)
            inner = tuple(n.selection_set for n in nodes if n.selection_set is not None)
            if name == "edges" and isinstance(item, GraphQLObjectType):
                total += size * self.object_cost(item, inner)  # the edge is free; its node costs 1
            elif name == "nodes":
                total += size * (1 + self.selection_cost(item, inner))
            else:
                total += self.field_cost(connection, nodes, 1)
        return total

    def argument(self, definition: GraphQLField, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, VariableNode):
                    return self.variables.get(value.name.value)
                return None  # null (anything else fails validation)
        default = definition.args[name].default_value if name in definition.args else None
        return None if default is Undefined else default

    def page_size(self, parent: GraphQLObjectType, definition: GraphQLField, node: FieldNode) -> int:
        values = {name: self.argument(definition, node, name) for name in PAGE_ARGUMENTS if name in definition.args}
        given = {name: v for name, v in values.items() if isinstance(v, int)}
        if not is_connection(get_named_type(definition.type)):
            return max(0, next(iter(given.values()), 1))
        where = f"{parent.name}.{node.name.value}"
        if not given:
            self.problem(node, "first", None, f"first or last is required on {where} (at most {self.max_page})")
            return self.max_page
        if len(given) > 1:
            self.problem(node, "last", None, f"pass first or last on {where}, not both")
        for name, value in given.items():
            if value > self.max_page:
                self.problem(node, name, value, f"{name} is {value:,} on {where}; the limit is {self.max_page}")
            elif value < 0:
                self.problem(
                    node, name, value, f"{name} is {value} on {where}; it must be between 0 and {self.max_page}"
                )
        return max(0, max(given.values()))

    def problem(self, node: FieldNode, argument: str, value: int | None, message: str) -> None:
        self.problems.setdefault((id(node), argument), PageProblem(message, argument, value, node))


def analyse(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    max_page: int,
) -> Analysis:
    """The operation's cost and page-size problems; `variables` are the coerced values.
    The document must have passed validation."""
    walk = _Walk(schema, fragments, variables, max_page)
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    cost = walk.object_cost(root, (operation.selection_set,), root=True) if root is not None else 0
    return Analysis(cost=max(1, cost), problems=tuple(walk.problems.values()))
