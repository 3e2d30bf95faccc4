"""One schema merged from the per-domain Query and Mutation classes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType
from strawberry.extensions import ValidationCache
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from services.gateway.graphql.admin.mutations import AdminMutation
from services.gateway.graphql.admin.queries import AdminQuery
from services.gateway.graphql.base import graphql_error_code
from services.gateway.graphql.feed.mutations import FeedMutation
from services.gateway.graphql.feed.queries import FeedQuery
from services.gateway.graphql.feed.types import Comment, Event, InitiativeUpdate, Post
from services.gateway.graphql.hubs.mutations import HubMutation
from services.gateway.graphql.hubs.queries import HubQuery
from services.gateway.graphql.hubs.types import Hub
from services.gateway.graphql.identity.mutations import IdentityMutation
from services.gateway.graphql.initiatives.mutations import InitiativeMutation
from services.gateway.graphql.initiatives.queries import InitiativeQuery
from services.gateway.graphql.initiatives.types import Initiative
from services.gateway.graphql.limits import RateLimitQuery, RequestLimits
from services.gateway.graphql.members.mutations import MemberMutation
from services.gateway.graphql.members.queries import MemberQuery
from services.gateway.graphql.members.types import Member, PersonalAccessToken
from services.gateway.graphql.moderation.mutations import ModerationMutation
from services.gateway.graphql.moderation.queries import ModerationQuery
from services.gateway.graphql.moderation.types import AuditEntry, ModerationCase, ModerationDecision, Report
from services.gateway.graphql.notifications.mutations import NotificationMutation
from services.gateway.graphql.notifications.queries import NotificationQuery
from services.gateway.graphql.notifications.subscriptions import NotificationSubscription
from services.gateway.graphql.notifications.types import Notification
from services.gateway.graphql.organisations.mutations import OrganisationMutation
from services.gateway.graphql.organisations.queries import OrganisationQuery
from services.gateway.graphql.organisations.types import Organisation, OrganisationInvitation
from services.gateway.graphql.scopes import ScopeGuard, state_scopes
from services.gateway.graphql.search.queries import SearchQuery
from shared.errors import DomainError, RateLimited

Query = merge_types(
    "Query",
    (
        MemberQuery,
        OrganisationQuery,
        InitiativeQuery,
        HubQuery,
        FeedQuery,
        NotificationQuery,
        SearchQuery,
        ModerationQuery,
        AdminQuery,
        RateLimitQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        IdentityMutation,
        MemberMutation,
        OrganisationMutation,
        InitiativeMutation,
        HubMutation,
        FeedMutation,
        NotificationMutation,
        ModerationMutation,
        AdminMutation,
    ),
)
Subscription = merge_types("Subscription", (NotificationSubscription,))
NEEDED_SCOPES = state_scopes(Query, Mutation, Subscription)


class Schema(strawberry.Schema):
    """Subscriptions run over websockets only (`stream`): strawberry would otherwise accept
    one in an HTTP POST and fail inside it; refused, it answers HTTP 400. Errors sent over
    a websocket (which skip the HTTP view's formatting) get the same extensions.code and
    field, and internal errors the same masked message."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Only our own failures are logged: a client's syntax or validation error (which may
        # hold anything it typed, lone surrogates included) is answered, not logged.
        internal = [e for e in errors if graphql_error_code(e) == "INTERNAL"]
        if internal:
            super().process_errors(internal, execution_context)
        for error in errors:
            code = graphql_error_code(error)
            extensions = {**(error.extensions or {}), "code": code}
            if isinstance(error.original_error, DomainError) and error.original_error.field:
                extensions["field"] = error.original_error.field
            if isinstance(error.original_error, RateLimited) and error.original_error.retry_after is not None:
                extensions["retryAfter"] = error.original_error.retry_after
            error.extensions = extensions
            if code == "INTERNAL":
                error.message = "internal error"

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query, variable_values, context_value, root_value, operation_name, allowed, operation_extensions
        )


def _read_plain_fields_directly(schema: strawberry.Schema) -> None:
    """A field without a resolver, extensions or permissions ("basic" in strawberry) is
    resolved by a closure strawberry makes per field, which calls the field's get_result,
    which reads three properties and then the attribute: five Python calls for one getattr.
    A home-feed page resolves about 400 such fields. Each gets a resolver that reads the
    attribute at once (what strawberry's default resolver, getattr, does)."""
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for graphql_field in named.fields.values():
            definition = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            resolve = graphql_field.resolve
            if (
                not isinstance(definition, StrawberryField)
                or not definition.is_basic_field
                or not getattr(resolve, "_is_default", False)
                or definition.default_resolver is not getattr
            ):
                continue
            graphql_field.resolve = _attribute_reader(definition.python_name)


def _attribute_reader(name: str) -> Callable[..., Any]:
    def read(source: Any, info: Any, **_: Any) -> Any:
        return getattr(source, name)

    read._is_default = True  # type: ignore[attr-defined]  # as strawberry marks its own
    return read


def build_schema() -> strawberry.Schema:
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Member,
            Organisation,
            Initiative,
            Hub,
            OrganisationInvitation,
            PersonalAccessToken,
            Post,
            Event,
            InitiativeUpdate,
            Comment,
            Notification,
            ModerationCase,
            ModerationDecision,
            Report,
            AuditEntry,
        ],
        # Order matters: RequestLimits refuses after validation and charges the rate limit
        # after ScopeGuard's check (a refused call costs nothing). It parses through
        # ParserCache's cache, after checking the document's size (see graphql/limits.py).
        extensions=[
            lambda: ScopeGuard(NEEDED_SCOPES),
            ValidationCache,
            RequestLimits,
        ],
    )
    _read_plain_fields_directly(schema)
    return schema
