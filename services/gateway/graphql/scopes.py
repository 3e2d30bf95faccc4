"""The token scope each root field needs, stated in the schema and checked before execution.

Every field of Query, Mutation and Subscription carries `@requiresScope(scope: ...)`: `read`
for queries and subscriptions, `write` for mutations, `moderate` for the moderators' and
admins' operations, and `session` for what only a signed-in session may do (manage personal
access tokens, change the password, delete the account). A personal access token holds the
scopes it was created with and never `session`; a session's access token holds them all.
A call that needs a scope its token lacks is refused before anything runs, with FORBIDDEN
naming the scope and the field. Anonymous calls are not refused here: what they may not
do, the services answer with UNAUTHENTICATED.

Fields below the root need no more than their root field: what a token may read through
them, the services decide per viewer as they do for sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.schema_directive import Location
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from shared.auth import SCOPES, Principal
from shared.errors import Forbidden

SESSION = "session"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="The token scope a call of this field needs (see docs/api.md, 'Tokens and scopes').",
)
class RequiresScope:
    scope: str


# Root fields (Python names) that need more, or other, than their type's default.
MODERATE = {
    "moderation_dashboard",
    "moderation_cases",
    "moderation_case",
    "moderation_history",
    "audit_log",
    "failed_jobs",
    "claim_case",
    "decide_case",
    "moderate_member",
    "moderate_organisation",
    "appoint_hub_moderator",
    "suspend_member",
    "set_organisation_verified",
    "set_platform_role",
    "replay_failed_job",
}
SESSION_ONLY = {
    "create_personal_access_token",
    "revoke_personal_access_token",
    "change_password",
    "delete_account",
}
# Signing up, in and out and the e-mail links work without a token: they need nothing more than reading.
TOKENLESS = {
    "sign_up",
    "log_in",
    "refresh_session",
    "log_out",
    "verify_email",
    "request_password_reset",
    "reset_password",
}
DEFAULTS = {"Query": "read", "Mutation": "write", "Subscription": "read"}


def scope_of(type_name: str, python_name: str) -> str:
    if python_name in MODERATE:
        return "moderate"
    if python_name in SESSION_ONLY:
        return SESSION
    if python_name in TOKENLESS:
        return "read"
    return DEFAULTS[type_name]


def state_scopes(*root_types: Any) -> dict[tuple[str, str], str]:
    """Put `@requiresScope` on every field of the root types (before the schema is built);
    return {(root type, GraphQL field name): scope} for the check."""
    needed: dict[tuple[str, str], str] = {}
    for root in root_types:
        definition: StrawberryObjectDefinition = root.__strawberry_definition__
        for field in definition.fields:
            scope = scope_of(definition.name, field.python_name)
            if not any(isinstance(d, RequiresScope) for d in field.directives):
                field.directives = [*field.directives, RequiresScope(scope=scope)]
            needed[(definition.name, field.graphql_name or to_camel_case(field.python_name))] = scope
    return needed


def granted(viewer: Principal) -> set[str]:
    if viewer.token_kind == "jwt":
        return {*SCOPES, SESSION}
    return set(viewer.scopes)


def _root_fields(document: DocumentNode, selection_set: SelectionSetNode) -> Iterator[str]:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    stack = [selection_set]
    seen: set[str] = set()
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    stack.append(fragment.selection_set)


def missing_scope(
    needed: dict[tuple[str, str], str], viewer: Principal, document: DocumentNode, operation_name: str | None
) -> tuple[str, str] | None:
    """(scope, field) of the first root field the viewer's token may not call, or None."""
    if viewer.token_kind not in ("jwt", "pat"):
        return None
    operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    type_name = operation.operation.value.title()
    have = granted(viewer)
    for name in _root_fields(document, operation.selection_set):
        scope = needed.get((type_name, name))
        if scope is not None and scope not in have:
            return scope, name
    return None


class ScopeGuard(SchemaExtension):
    """Refuses, before execution, an operation whose token lacks a scope a root field needs."""

    def __init__(self, needed: dict[tuple[str, str], str]) -> None:
        self.needed = needed

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        viewer = getattr(ctx.context, "viewer", None)
        if document is not None and isinstance(viewer, Principal):
            found = missing_scope(self.needed, viewer, document, ctx.operation_name)
            if found is not None:
                scope, field = found
                if scope == SESSION:
                    message = f"{field} needs a signed-in session; personal access tokens cannot call it"
                else:
                    message = f"this token lacks the '{scope}' scope, which {field} needs"
                error = Forbidden(message)
                ctx.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(message, original_error=error)])
        yield
