"""Limits on every GraphQL request, checked before anything runs, and the rate-limit charge.

In the order they are checked (each refusal names the limit and the figure found):
- the document's size in bytes, before parsing, and its variables' size;
- its lexical tokens, counted while parsing (parsing stops at the limit);
- depth and aliases, as validation rules (document-only, so ValidationCache may keep them);
- the variables: undeclared ones, wrong types and missing required ones;
- `first`/`last` on connections (required, one of them, 0 to 100) and the computed cost
  (services/gateway/graphql/cost.py) — these depend on the variables, so they run per
  request, memoised per document and page sizes rather than cached with validation;
- the caller's rate limit: a query or mutation is charged its cost, or refused with
  RATE_LIMITED when the budget is spent (services/gateway/ratelimit.py).

Refusals go into `pre_execution_errors` during validation (so they hold for queries,
mutations and subscriptions alike, over HTTP and websockets), except the rate limit, which
is charged in `on_execute` after ScopeGuard's check so that a refused call costs nothing.
The limits come from the app's settings (HUBBEN_GRAPHQL_MAX_*)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_variable_values
from graphql.language import Lexer, Source, TokenKind
from graphql.utilities import get_operation_ast
from strawberry.extensions import ParserCache
from strawberry.types.graphql import OperationType

from services.gateway.context import Info
from services.gateway.graphql.cost import Analysis, analyse
from services.gateway.graphql.identity.mutations import client_ip
from services.gateway.rate_state import RateLimitState
from services.gateway.ratelimit import Caller, budget, rate_limiter_of
from shared.auth import Principal
from shared.errors import BadUserInput, DomainError, RateLimited
from shared.pagination import MAX_PAGE
from shared.settings import Settings, get_settings

# Analyses kept per (document, operation, page sizes); documents are few, page sizes fewer.
ANALYSIS_CACHE_SIZE = 512
MAX_VARIABLE_ERRORS = 10


def _refusal(
    message: str,
    limit: str | None = None,
    value: int | None = None,
    maximum: int | None = None,
    nodes: list[Any] | None = None,
) -> GraphQLError:
    """A BAD_USER_INPUT error; over a numeric limit, extensions also carry the limit's name,
    the figure found and the maximum."""
    extensions = {"limit": limit, "value": value, "maximum": maximum} if limit is not None else None
    return GraphQLError(message, nodes, original_error=BadUserInput(message), extensions=extensions)


# --- validation rules (depend on the document only) --------------------------------------


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fold(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    field: Callable[[FieldNode, Callable[[SelectionSetNode], int]], int],
    combine: Callable[[Iterable[int]], int],
) -> int:
    """Fold the operation's selections: `field` values a field (given how to fold a nested
    selection set), `combine` joins a selection set's values; fragments are followed where
    they are spread (each folded once, cycles cut)."""
    memo: dict[str, int] = {}

    def fold(selection_set: SelectionSetNode, visiting: frozenset[str]) -> int:
        def values() -> Iterator[int]:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    yield field(selection, lambda inner: fold(inner, visiting))
                elif isinstance(selection, InlineFragmentNode):
                    yield fold(selection.selection_set, visiting)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is None or name in visiting:
                        continue
                    if name not in memo:
                        memo[name] = fold(fragment.selection_set, visiting | {name})
                    yield memo[name]

        return combine(values())

    return fold(operation.selection_set, frozenset())


def operation_depth(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> int:
    """The most fields with selections on one path (`{ viewer { name } }` has depth 1);
    introspection fields don't count."""

    def field(node: FieldNode, inner: Callable[[SelectionSetNode], int]) -> int:
        if node.selection_set is None or node.name.value.startswith("__"):
            return 0
        return 1 + inner(node.selection_set)

    return _fold(operation, fragments, field, lambda values: max(values, default=0))


def operation_aliases(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> int:
    """Aliased fields, a fragment's counted at each spread."""

    def field(node: FieldNode, inner: Callable[[SelectionSetNode], int]) -> int:
        nested = inner(node.selection_set) if node.selection_set is not None else 0
        return (node.alias is not None) + nested

    return _fold(operation, fragments, field, sum)


def depth_rule(maximum: int) -> type[ASTValidationRule]:
    class QueryDepth(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context.document)
            for operation in context.document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    found = operation_depth(operation, fragments)
                    if found > maximum:
                        message = f"query depth {found} exceeds the limit of {maximum}"
                        context.report_error(_refusal(message, "depth", found, maximum, nodes=[operation]))

    return QueryDepth


def alias_rule(maximum: int) -> type[ASTValidationRule]:
    class Aliases(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = _fragments(context.document)
            found = sum(
                operation_aliases(d, fragments)
                for d in context.document.definitions
                if isinstance(d, OperationDefinitionNode)
            )
            if found > maximum:
                message = f"{found:,} aliases exceed the limit of {maximum:,}"
                context.report_error(_refusal(message, "aliases", found, maximum))

    return Aliases


# --- the limits of one app ---------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_document_bytes: int
    max_variables_bytes: int
    max_cost: int
    max_page: int
    # Made once per app: ValidationCache keys on the rule classes, so they must not change.
    validation_rules: tuple[type[ASTValidationRule], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_document_bytes=settings.graphql_max_document_bytes,
            max_variables_bytes=settings.graphql_max_variables_bytes,
            max_cost=settings.graphql_max_cost,
            max_page=MAX_PAGE,
            validation_rules=(depth_rule(settings.graphql_max_depth), alias_rule(settings.graphql_max_aliases)),
        )


_DEFAULT: list[Limits] = []


def limits_of(app_state: Any | None) -> Limits:
    """The app's limits (made on first use from its settings); the process settings' when
    the schema runs outside an app."""
    if app_state is not None and getattr(app_state, "settings", None) is not None:
        limits: Limits | None = getattr(app_state, "graphql_limits", None)
        if limits is None:
            limits = app_state.graphql_limits = Limits.from_settings(app_state.settings)
        return limits
    if not _DEFAULT:
        _DEFAULT.append(Limits.from_settings(get_settings()))
    return _DEFAULT[0]


def count_tokens(query: str) -> int | None:
    """The document's lexical tokens (comments excluded, as the parser counts), or None
    when it does not even lex."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind != TokenKind.EOF:
            count += 1
    except GraphQLSyntaxError:
        return None
    return count


def _utf8_size(text: str, limit: int) -> int:
    if len(text) * 4 <= limit:  # no need to encode to know it fits
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


_analyses: OrderedDict[tuple[Any, ...], Analysis] = OrderedDict()


def analysis_of(
    schema: Any,
    query: str,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    limits: Limits,
) -> Analysis:
    # Only integers among the variables can change an analysis (they are page sizes).
    sizes = frozenset((k, v) for k, v in variables.items() if isinstance(v, int) and not isinstance(v, bool))
    key = (id(schema), query, operation.name.value if operation.name else None, sizes, limits.max_page)
    found = _analyses.get(key)
    if found is not None:
        _analyses.move_to_end(key)
        return found
    found = analyse(schema, _fragments(document), operation, variables, limits.max_page)
    _analyses[key] = found
    if len(_analyses) > ANALYSIS_CACHE_SIZE:
        _analyses.popitem(last=False)
    return found


def caller_of(context: Any) -> Caller:
    viewer: Principal = context.viewer
    if viewer.token_kind == "pat":
        raw = None
        request = context.request
        if request.scope["type"] == "http":
            raw = request.headers.get("authorization")
        else:
            params = getattr(context, "connection_params", None)
            if isinstance(params, dict):
                raw = params.get("authorization", params.get("Authorization"))
        if isinstance(raw, str):
            return Caller.token(raw.partition(" ")[2].strip())
    if viewer.member_id is not None:
        return Caller.member(viewer.member_id)
    return Caller.anonymous(client_ip(context.request))


class RequestLimits(ParserCache):
    """Parses through the shared parse cache, after the size check; refuses what is over a
    limit before execution; charges the caller's rate limit. List it after ValidationCache
    (its checks follow validation's) and after ScopeGuard (a call that guard refuses must
    not be charged)."""

    def __init__(self) -> None:
        super().__init__()
        self.refusal: list[GraphQLError] | None = None
        self.cost: int | None = None
        self._limits: Limits | None = None

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            request = getattr(self.execution_context.context, "request", None)
            self._limits = limits_of(request.app.state if request is not None else None)
        return self._limits

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.validation_rules = ctx.validation_rules + self.limits.validation_rules
        # graphql-core's limits that do not count comments as tokens (strawberry's TypedDict
        # still lists only the deprecated max_tokens); comments are bounded apart.
        options = cast(dict[str, Any], ctx.parse_options)
        options["max_lexical_tokens"] = self.limits.max_tokens
        options["max_comments"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None and ctx.graphql_document is None:
            self.refusal = self._check_sizes(ctx.query, ctx.variables)
            if self.refusal is None:
                try:
                    ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
                except GraphQLSyntaxError as exc:
                    self.refusal = self._too_many_tokens(ctx.query, exc)
                    # Other syntax errors: strawberry parses again and reports them.
            if self.refusal is not None:
                # Something for the steps up to validation to hold; nothing of it runs.
                ctx.graphql_document = _placeholder(ctx.operation_name)
        yield

    def _check_sizes(self, query: str, variables: dict[str, Any] | None) -> list[GraphQLError] | None:
        limits = self.limits
        size = _utf8_size(query, limits.max_document_bytes)
        if size > limits.max_document_bytes:
            message = f"the document is {size:,} bytes; the limit is {limits.max_document_bytes:,}"
            return [_refusal(message, "documentBytes", size, limits.max_document_bytes)]
        if variables:
            encoded = json.dumps(variables, ensure_ascii=False, separators=(",", ":"), default=str)
            size = _utf8_size(encoded, limits.max_variables_bytes)
            if size > limits.max_variables_bytes:
                message = f"the variables are {size:,} bytes; the limit is {limits.max_variables_bytes:,}"
                return [_refusal(message, "variablesBytes", size, limits.max_variables_bytes)]
        return None

    def _too_many_tokens(self, query: str, error: GraphQLSyntaxError) -> list[GraphQLError] | None:
        limit = self.limits.max_tokens
        if f"more than {limit} tokens" in error.message:
            found = count_tokens(query)
            counted = f"{found:,} tokens" if found is not None else f"more than {limit:,} tokens"
            message = f"the document has {counted}; the limit is {limit:,}"
            return [_refusal(message, "tokens", found, limit)]
        if f"more than {limit} comments" in error.message:
            message = f"the document has more than {limit:,} comments; the limit is {limit:,}"
            return [_refusal(message, "comments", None, limit)]
        return None

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if self.refusal is None and not ctx.pre_execution_errors and ctx.graphql_document is not None:
            self.refusal = self._check_operation(ctx.graphql_document, ctx.variables)
        if self.refusal:
            ctx.pre_execution_errors = list(self.refusal)  # a new list: the cached one is shared
        yield

    def _check_operation(self, document: DocumentNode, raw: dict[str, Any] | None) -> list[GraphQLError] | None:
        ctx = self.execution_context
        operation = get_operation_ast(document, ctx.operation_name)
        if operation is None:
            return None
        limits = self.limits
        provided = raw if isinstance(raw, dict) else {}
        definitions = operation.variable_definitions or ()
        declared = {d.variable.name.value for d in definitions}
        unknown = [name for name in provided if name not in declared]
        if unknown:
            names = ", ".join(f"${n}" for n in unknown[:10])
            noun = "variable" if len(unknown) == 1 else "variables"
            return [_refusal(f"the operation declares no {noun} {names}")]
        schema = ctx.schema._schema
        coerced = get_variable_values(schema, definitions, provided, MAX_VARIABLE_ERRORS)
        if isinstance(coerced, list):
            return [GraphQLError(e.message, e.nodes, original_error=BadUserInput(e.message)) for e in coerced]
        analysis = analysis_of(schema, ctx.query or "", document, operation, coerced.coerced, limits)
        if analysis.problems:
            return [
                GraphQLError(p.message, [p.node], original_error=BadUserInput(p.message, field=p.argument))
                for p in analysis.problems
            ]
        if analysis.cost > limits.max_cost:
            message = f"query cost {analysis.cost:,} exceeds the limit of {limits.max_cost:,}"
            return [_refusal(message, "cost", analysis.cost, limits.max_cost)]
        self.cost = analysis.cost
        return None

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        request = getattr(ctx.context, "request", None)
        in_app = request is not None and getattr(request.app.state, "settings", None) is not None
        # Subscriptions are not charged: what they deliver is pushed, and their number per
        # connection is limited.
        if (
            ctx.result is None
            and self.cost is not None
            and in_app
            and ctx.operation_type is not OperationType.SUBSCRIPTION
        ):
            refusal = await self._charge(request, ctx.context, self.cost)
            if refusal is not None:
                ctx.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
                )
        yield

    async def _charge(self, request: Any, context: Any, cost: int) -> DomainError | None:
        state = request.app.state
        caller = caller_of(context)
        limit = budget(state.settings, caller)
        window = state.settings.rate_limit_window_seconds
        charged: RateLimitState = await rate_limiter_of(state).charge(caller, cost, limit)
        request.state.rate_limit = charged
        if not charged.exceeded:
            return None
        if cost > limit:
            message = (
                f"this request costs {cost:,} points, more than the {limit:,} a window of {window:,} seconds allows"
            )
        else:
            message = (
                f"the rate limit of {limit:,} points per {window:,} seconds is spent "
                f"({charged.remaining:,} left; this request costs {cost:,}); "
                f"it resets in {charged.retry_after:,} seconds"
            )
        return RateLimited(message, retry_after=charged.retry_after)


_placeholders: dict[str | None, DocumentNode] = {}


def _placeholder(operation_name: str | None) -> DocumentNode:
    """A tiny valid document with the requested operation's name, so that finding the
    operation succeeds and validation hands over to the refusal."""
    name = operation_name if operation_name and operation_name.isidentifier() and operation_name.isascii() else None
    if name not in _placeholders:
        if len(_placeholders) > 256:
            _placeholders.clear()
        _placeholders[name] = parse(f"query {name} {{ __typename }}" if name else "{ __typename }")
    return _placeholders[name]


# --- the rateLimit field -----------------------------------------------------------------


@strawberry.type(description="The caller's rate limit, as charged for this request.")
class RateLimit:
    limit: int = strawberry.field(description="Points the caller may spend per window.")
    cost: int = strawberry.field(description="What this request cost.")
    remaining: int = strawberry.field(description="Points left in the window after this request.")
    reset_at: datetime = strawberry.field(description="When the window ends and the points are back.")


@strawberry.type
class RateLimitQuery:
    @strawberry.field(
        description="The caller's rate limit after this request (see docs/api.md, 'Rate limits'); "
        "null when the request was not charged."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        state: RateLimitState | None = getattr(info.context.request.state, "rate_limit", None)
        if state is None:
            return None
        return RateLimit(limit=state.limit, cost=state.cost, remaining=state.remaining, reset_at=state.reset_at)
