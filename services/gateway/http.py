"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification says.

- Responses are `application/graphql-response+json` (the spec's preferred type; also the
  answer to a missing Accept or `*/*`) or `application/json` for clients that ask for it;
  an Accept that allows neither is 406.
- POST bodies are `application/json` (UTF-8; another charset, another type or none is 415);
  GET carries `query`, `operationName`, `variables` and `extensions` (the last two
  JSON-encoded) in the URL, for queries only: a mutation over GET is 405 with `Allow: POST`.
- A request that is not well-formed (bad JSON, a body that is not an object, a missing or
  blank `query`, parameters of the wrong type) is 400 with either media type.
- A GraphQL request error (a parse, validation or variable error, an unknown
  operationName, a refusal before execution) has no `data` entry; with
  application/graphql-response+json its status follows its code (BAD_USER_INPUT 400,
  UNAUTHENTICATED 401, FORBIDDEN 403, RATE_LIMITED 429, ...), with application/json it is 200.
  Once execution started the status is 200, field errors or not.
- The rate limiter's verdict (`request.state.rate_limit`) becomes X-RateLimit-* headers, and
  429 with Retry-After when the budget is spent, with either media type.
- Every error body has GraphQL's shape, each error with `extensions.code`.
- Persisted queries (services/gateway/persisted.py) are resolved before anything is parsed.
GraphiQL answers a browser's GET without a query, except in allow-list mode."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import structlog
from graphql import GraphQLError, GraphQLFormattedError, Lexer, Source, TokenKind
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from services.gateway.graphql.base import graphql_error_code
from services.gateway.graphql.notifications.subscriptions import authenticate_connection
from services.gateway.persisted import PersistedQueries, PersistedQueryError
from services.gateway.rate_state import RateLimitState
from shared.errors import DomainError, RateLimited

log = structlog.get_logger("hubben.gateway")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# The response media types, in the server's order of preference.
RESPONSE_TYPES = (GRAPHQL_RESPONSE_JSON, JSON)
# Set in the ASGI scope by the gateway's own mounted apps (the panel, the map) when they call
# it in-process; no HTTP client can set a scope key. Allow-list mode trusts them.
FIRST_PARTY = "hubben.first_party"

# A request error's HTTP status with application/graphql-response+json, by extensions.code.
REQUEST_ERROR_STATUS = {
    "BAD_USER_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
}


def format_error(error: GraphQLError) -> GraphQLFormattedError:
    code = graphql_error_code(error)
    formatted = error.formatted
    if code == "INTERNAL":
        log.error("graphql.internal_error", error=repr(error.original_error or error), path=error.path)
        formatted["message"] = "internal error"
    if isinstance(error.original_error, DomainError) and error.original_error.field:
        formatted.setdefault("extensions", {})["field"] = error.original_error.field
    if isinstance(error.original_error, RateLimited) and error.original_error.retry_after is not None:
        formatted.setdefault("extensions", {})["retryAfter"] = error.original_error.retry_after
    formatted.setdefault("extensions", {})["code"] = code
    return formatted


class RequestRefused(Exception):
    """A request answered with one error and no data. `status` is the HTTP status; a
    `well_formed` request's refusal is a GraphQL request error, which application/json
    answers with 200."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_USER_INPUT",
        *,
        well_formed: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.well_formed = well_formed
        self.headers = dict(headers or {})


# --- media types ---------------------------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, str, float, str | None]]:
    """(type, subtype, q, charset) of each media range of an Accept header."""
    ranges = []
    for part in accept.split(","):
        name, *params = part.split(";")
        main, _, sub = name.strip().lower().partition("/")
        if not main or not sub:
            continue
        q, charset = 1.0, None
        for param in params:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
            elif key == "charset":
                charset = value
        ranges.append((main, sub, q, charset))
    return ranges


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str | None:
    """The response media type for this Accept header, or None when it allows neither of ours.
    A missing or empty header means application/graphql-response+json (the spec's rule since
    2025). The highest q wins, then the range listed first, then our preference; each type
    takes the q of the most specific range that matches it; only UTF-8 is spoken."""
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for preference, candidate in enumerate(RESPONSE_TYPES):
        main, _, sub = candidate.partition("/")
        match: tuple[int, float, int] | None = None  # (specificity, q, position)
        for position, (r_main, r_sub, q, charset) in enumerate(ranges):
            if charset not in (None, "utf-8", "utf8"):
                continue
            if (r_main, r_sub) == (main, sub):
                specificity = 2
            elif r_main == main and r_sub == "*":
                specificity = 1
            elif (r_main, r_sub) == ("*", "*"):
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, q, position)
        if match is None or match[1] <= 0:
            continue
        key = (match[1], -match[2], -preference)
        if best is None or key > best:
            best, chosen = key, candidate
    return chosen


@lru_cache(maxsize=256)
def _content_type_problem(content_type: str) -> str | None:
    mime, *params = content_type.split(";")
    mime = mime.strip().lower()
    if mime != JSON:
        return f"the request body must be application/json, not {content_type[:100]!r}"
    for param in params:
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return f"the request body must be application/json in UTF-8, not in {charset[:40]!r}"
    return None


def check_content_type(content_type: str | None) -> None:
    """A POST body must be application/json in UTF-8 (the spec's one request media type)."""
    if not content_type or not content_type.strip():
        raise RequestRefused(415, "a POST needs the header Content-Type: application/json")
    problem = _content_type_problem(content_type)
    if problem is not None:
        raise RequestRefused(415, problem)


# --- request parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    document_id: Any = None
    blank_query: bool = False  # `query` was given but empty or whitespace


def _bad(message: str) -> RequestRefused:
    return RequestRefused(400, message)


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _bad(f"{what} is not valid JSON") from exc


def _params(data: Mapping[str, Any]) -> Params:
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise _bad("`query` must be a string holding a GraphQL document")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise _bad("`variables` must be an object mapping variable names to values")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad("`extensions` must be an object")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad("`operationName` must be a string")
    blank = query is not None and not query.strip()
    return Params(
        query=None if blank else query,
        variables=variables,
        operation_name=operation_name or None,
        extensions=extensions,
        document_id=data.get("documentId"),
        blank_query=blank,
    )


def params_from_body(body: bytes) -> Params:
    data = _json(body, "the request body")
    if not isinstance(data, dict):
        raise _bad("the request body must be a JSON object with a `query` (batches are not supported)")
    return _params(data)


URL_PARAMS = ("query", "operationName", "variables", "extensions", "documentId")


def params_from_url(items: Iterable[tuple[str, str]]) -> Params:
    data: dict[str, Any] = {}
    for key, value in items:
        if key not in URL_PARAMS:
            continue
        if key in data:
            raise _bad(f"the URL parameter `{key}` is given more than once")
        data[key] = value
    for key in ("variables", "extensions"):
        if key in data:
            data[key] = _json(data[key], f"the URL parameter `{key}`") if data[key] else None
    return _params(data)


# --- responses ------------------------------------------------------------------------------------


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing executed: no data, and every error is about the request, not a field (a
    field's error has a path; parse, validation, variable and pre-execution refusals don't)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def graphql_response(
    body: Mapping[str, Any], status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(encode(body), status_code=status, headers=dict(headers or {}))
    response.headers["content-type"] = f"{media_type}; charset=utf-8"
    response.headers["vary"] = "Accept"
    return response


def refusal_response(refused: RequestRefused, media_type: str | None) -> Response:
    media_type = media_type or JSON
    status = 200 if refused.well_formed and media_type == JSON else refused.status
    body = {"errors": [{"message": refused.message, "extensions": {"code": refused.code}}]}
    return graphql_response(body, status, media_type, refused.headers)


def result_response(
    result: ExecutionResult, media_type: str, rate_limit: RateLimitState | None, sub_response: Response | None
) -> Response:
    errors = [format_error(e) for e in result.errors or ()]
    status = 200
    headers: dict[str, str] = {}
    if is_request_error(result):
        body: dict[str, Any] = {"errors": errors}
        code = errors[0].get("extensions", {}).get("code", "INTERNAL")
        if code == "RATE_LIMITED":
            status = 429
            retry_after = errors[0].get("extensions", {}).get("retryAfter")
            if isinstance(retry_after, int):
                headers["Retry-After"] = str(retry_after)
        elif media_type == GRAPHQL_RESPONSE_JSON:
            status = REQUEST_ERROR_STATUS.get(str(code), 400)
    else:
        body = {"data": result.data}
        if errors:
            body["errors"] = errors
    if result.extensions:
        body["extensions"] = result.extensions
    if rate_limit is not None:
        headers.update(rate_limit.headers())
        if rate_limit.exceeded:
            status = 429
    response = graphql_response(body, status, media_type, headers)
    if sub_response is not None:
        # What resolvers set on info.context.response (cookies, headers) goes out too.
        if sub_response.status_code and sub_response.status_code != 200 and status == 200:
            response.status_code = sub_response.status_code
        response.headers.raw.extend(
            (k, v) for k, v in sub_response.headers.raw if k not in (b"content-length", b"content-type")
        )
    return response


# --- the view --------------------------------------------------------------------------------------


def persisted_queries(connection: Any) -> PersistedQueries:
    return connection.app.state.persisted_queries  # type: ignore[no-any-return]


class PersistedQueryWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws with persisted queries: a subscribe message may name its document
    by hash (looked up, never registered here), and allow-list mode applies to websockets
    as to HTTP (a websocket can carry queries and mutations too)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            query = payload.get("query")
            extensions = payload.get("extensions")
            try:
                resolved = await persisted_queries(self.context.request).resolve(
                    query if isinstance(query, str) else None,
                    extensions if isinstance(extensions, dict) else None,
                    payload.get("documentId"),
                )
            except PersistedQueryError as exc:
                error: GraphQLFormattedError = {"message": exc.message, "extensions": {"code": exc.code}}
                await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[error]))
                return
            if resolved is not None:
                message = {**message, "payload": {**payload, "query": resolved.query}}
        await super().handle_subscribe(message)


class HubbenGraphQLRouter(GraphQLRouter[Any, None]):
    """Strawberry's router for its routes, context and websockets; HTTP requests are served
    by `serve_http` as the module docstring says."""

    graphql_transport_ws_handler_class = PersistedQueryWSHandler

    async def on_ws_connect(self, context: Any) -> Any:
        return await authenticate_connection(context)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        return await self.serve_http(request, context, None if root_value is UNSET else root_value)

    def wants_ide(self, request: Request) -> bool:
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and not any(key in request.query_params for key in ("query", "documentId", "extensions"))
        )

    async def serve_http(self, request: Request, context: Any, root_value: Any) -> Response:
        if self.wants_ide(request):
            return HTMLResponse(self.graphql_ide_html)
        media_type = negotiate(request.headers.get("accept"))
        try:
            if media_type is None:
                raise RequestRefused(
                    406, f"the Accept header must allow {GRAPHQL_RESPONSE_JSON} or {JSON}", "BAD_USER_INPUT"
                )
            result = await self.execute_request(request, context, root_value)
        except RequestRefused as refused:
            return refusal_response(refused, media_type)
        assert media_type is not None
        rate_limit = getattr(request.state, "rate_limit", None)
        return result_response(
            result,
            media_type,
            rate_limit if isinstance(rate_limit, RateLimitState) else None,
            getattr(context, "response", None),
        )

    async def execute_request(self, request: Request, context: Any, root_value: Any) -> ExecutionResult:
        get = request.method == "GET"
        if get:
            params = params_from_url(request.query_params.multi_items())
        else:
            check_content_type(request.headers.get("content-type"))
            params = params_from_body(await request.body())
        try:
            resolved = await persisted_queries(request).resolve(
                params.query, params.extensions, params.document_id, trusted=bool(request.scope.get(FIRST_PARTY))
            )
        except PersistedQueryError as exc:
            headers = {"Cache-Control": "private, no-cache, must-revalidate"} if exc.status == 404 else None
            raise RequestRefused(exc.status, exc.message, exc.code, well_formed=True, headers=headers) from exc
        if resolved is None:
            raise _bad("the `query` is blank" if params.blank_query else "the request needs a `query`")
        # A document over the size limit is refused by the schema's limits, unscanned.
        max_bytes = getattr(request.app.state.settings, "graphql_max_document_bytes", None)
        if (
            params.operation_name is None
            and (max_bytes is None or len(resolved.query) <= max_bytes)
            and several_operations(resolved.query)
        ):
            message = "the document has several operations: say which one with operationName"
            raise RequestRefused(400, message, well_formed=True)
        allowed = {OperationType.QUERY} if get else {OperationType.QUERY, OperationType.MUTATION}
        try:
            result = await self.schema.execute(
                resolved.query,
                variable_values=params.variables,
                context_value=context,
                root_value=root_value,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type == OperationType.MUTATION:
                raise RequestRefused(405, "mutations are sent with POST, not GET", headers={"Allow": "POST"}) from exc
            raise _bad("subscriptions run over a websocket (graphql-transport-ws), not over HTTP") from exc
        except CannotGetOperationTypeError as exc:
            message = (
                f"the document has no operation named {exc.operation_name!r}"
                if exc.operation_name
                else "the document has several operations: say which one with operationName"
            )
            raise RequestRefused(400, message, well_formed=True) from exc
        if resolved.register is not None and not _document_error(result):
            await persisted_queries(request).register(resolved.register, resolved.query)
        return result


# Documents longer than this are not scanned for a second operation (the token limit refuses
# them anyway).
MAX_SCANNED_TOKENS = 20_000


@lru_cache(maxsize=512)
def several_operations(document: str) -> bool:
    """The document holds more than one operation. Without operationName, GraphQL's
    GetOperation() is then a request error; strawberry would run the first one instead."""
    lexer = Lexer(Source(document))
    operations = braces = parens = scanned = 0
    expect_definition = True
    try:
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            scanned += 1
            if scanned > MAX_SCANNED_TOKENS:
                return False
            kind = token.kind
            if kind == TokenKind.PAREN_L:
                parens += 1
            elif kind == TokenKind.PAREN_R:
                parens -= 1
            elif kind == TokenKind.BRACE_L:
                if braces == 0 and parens == 0 and expect_definition:  # the `{ ... }` shorthand
                    operations += 1
                    expect_definition = False
                braces += 1
            elif kind == TokenKind.BRACE_R:
                braces -= 1
                if braces == 0 and parens == 0:
                    expect_definition = True
            elif kind == TokenKind.NAME and braces == 0 and parens == 0 and expect_definition:
                if token.value in ("query", "mutation", "subscription"):
                    operations += 1
                expect_definition = False
            if operations > 1:
                return True
            token = lexer.advance()
    except GraphQLError:  # does not lex: the parser says so
        return False
    return False


def _document_error(result: ExecutionResult) -> bool:
    """The document did not parse or validate: graphql-core's own errors, before execution
    (a refusal of ours carries the DomainError it came from, and the document was sound)."""
    return is_request_error(result) and not any(isinstance(e.original_error, DomainError) for e in result.errors or ())
