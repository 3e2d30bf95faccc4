"""Shared GraphQL pieces: the Node interface, connections, user errors and error mapping."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from pydantic import BaseModel, ValidationError

from shared.errors import BadUserInput, DomainError, NotFound
from shared.ids import InvalidGlobalId, expect_global_id, to_global_id
from shared.pagination import MAX_PAGE, PageRequest
from shared.web import bad_input

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
# Expected failures of a mutation: they come back as userErrors, not as GraphQL errors.
USER_ERROR_CODES = {"BAD_USER_INPUT", "NOT_FOUND"}


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class UserError:
    field: str | None
    message: str
    code: str


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None

    @strawberry.field
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def gid(type_name: str, raw: int) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, raw))


def decode_id(value: str, type_name: str, field: str) -> int:
    try:
        return expect_global_id(str(value), type_name)
    except InvalidGlobalId as exc:
        raise BadUserInput(f"{exc} ({type_name} id expected)", field=field) from exc


def page_request(first: int | None, after: str | None, last: int | None, before: str | None) -> PageRequest:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise BadUserInput(f"{name} must be between 0 and {MAX_PAGE}", field=name)
    if first is not None and last is not None:
        raise BadUserInput("pass either first or last, not both", field="last")
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and len(cursor) > 200:
            raise BadUserInput("malformed cursor", field=name)
    return PageRequest(first=first, after=after, last=last, before=before)


def connection(page: Any, nodes: list[Any]) -> Connection[Any]:
    # A node can vanish between the page and its load (deleted, or hidden by a block): skip it.
    edges = [Edge(cursor=cur, node=node) for cur, node in zip(page.cursors, nodes, strict=True) if node is not None]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total_count,
    )


def to_user_errors(exc: DomainError) -> list[UserError]:
    field = exc.field
    return [UserError(field=field, message=exc.message, code=exc.code)]


async def attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a mutation's work: expected failures become userErrors, everything else propagates."""
    try:
        return await action(), []
    except DomainError as exc:
        if exc.code in USER_ERROR_CODES:
            return None, to_user_errors(exc)
        raise


def contract_input(make: Callable[[], M], renamed: dict[str, str] | None = None) -> M:
    """Build a service contract from GraphQL input: its validation errors as BadUserInput
    naming the GraphQL field (`renamed`: where it differs from the contract's)."""
    try:
        return make()
    except ValidationError as exc:
        error = bad_input(exc.errors())
        if renamed and error.field in renamed:
            error.field = renamed[error.field]
        raise error from exc


def require_found(value: T | None, what: str) -> T:
    if value is None:
        raise NotFound(f"no such {what}")
    return value


def graphql_error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if original is None:
        return "BAD_USER_INPUT" if error.nodes or error.locations else "INTERNAL"
    if isinstance(original, GraphQLError) and error.path is None:
        # Variable coercion before execution (unknown field, bad scalar): the request is at fault.
        return "BAD_USER_INPUT"
    return "INTERNAL"


Timestamp = datetime


def graphql_enum(source: type[enum.StrEnum], name: str, description: str | None = None) -> Any:
    """A GraphQL enum with conventional UPPER_CASE names whose values are the service's strings."""
    mirrored = enum.Enum(name, {member.name.upper(): member.value for member in source})  # type: ignore[misc]
    return strawberry.enum(mirrored, description=description)


def input_dict(value: Any, id_fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A strawberry input as the service's JSON body: unset fields left out, enums as their
    values, global ids decoded (`id_fields` maps field name to the expected type)."""
    id_fields = id_fields or {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        raw = getattr(value, f.name)
        if raw is strawberry.UNSET:
            continue
        if f.name in id_fields and raw is not None:
            raw = decode_id(raw, id_fields[f.name], _camel(f.name))
        out[f.name] = _plain(raw)
    return out


def _plain(raw: Any) -> Any:
    if isinstance(raw, enum.Enum):
        return raw.value
    if isinstance(raw, list):
        return [_plain(item) for item in raw]
    if dataclasses.is_dataclass(raw) and not isinstance(raw, type):
        return {f.name: _plain(getattr(raw, f.name)) for f in dataclasses.fields(raw)}
    if isinstance(raw, date):  # a datetime is a date too
        return raw.isoformat()
    return raw


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
