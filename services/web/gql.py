"""The panel's only way to the data: GraphQL over HTTP to the gateway, in-process or remote."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.settings import Settings

GRAPHQL_PATH = "/graphql"
ACCEPT = "application/graphql-response+json, application/json;q=0.9"


@dataclass
class GraphQLFailure(Exception):
    """The operation failed as a whole (a GraphQL error); `code` is its extensions.code."""

    code: str
    message: str
    field: str | None = None
    extensions: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class UserErrors(Exception):
    """A mutation's expected failures: [{field, message, code}]."""

    errors: list[dict[str, Any]]


def _client_from_forwarded_for(app: ASGIApp) -> ASGIApp:
    """In-process, the gateway sees the browser's address as its client, as it would behind a
    trusted proxy. Only the panel reaches the gateway through this wrapper."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    scope = dict(scope, client=(value.decode("latin-1").split(",")[0].strip(), 0))
                    break
        await app(scope, receive, send)

    return asgi


class GatewayClient:
    """Runs GraphQL operations for the panel; one per panel app, shared by its requests."""

    def __init__(self, settings: Settings, gateway: ASGIApp | None) -> None:
        if gateway is not None:
            transport = httpx.ASGITransport(app=_client_from_forwarded_for(gateway))
            self._http = httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=30)
        elif settings.gateway_url:
            self._http = httpx.AsyncClient(base_url=settings.gateway_url.rstrip("/"), timeout=30)
        else:
            raise RuntimeError("the admin panel needs the gateway app or HUBBEN_GATEWAY_URL")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None, client_ip: str | None
    ) -> dict[str, Any]:
        """The operation's data; any GraphQL error raises GraphQLFailure (the first one's code)."""
        headers = {"accept": ACCEPT}
        if token:
            headers["authorization"] = f"Bearer {token}"
        if client_ip:
            headers["x-forwarded-for"] = client_ip
        try:
            response = await self._http.post(
                GRAPHQL_PATH, json={"query": query, "variables": variables or {}}, headers=headers
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GraphQLFailure("UNAVAILABLE", f"the gateway did not answer: {type(exc).__name__}") from exc
        if not isinstance(body, dict):
            raise GraphQLFailure("UNAVAILABLE", f"unexpected answer from the gateway ({response.status_code})")
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            extensions = first.get("extensions") or {}
            raise GraphQLFailure(
                str(extensions.get("code") or "INTERNAL"),
                str(first.get("message") or "error"),
                extensions.get("field"),
                extensions,
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise GraphQLFailure("UNAVAILABLE", f"unexpected answer from the gateway ({response.status_code})")
        return data


def payload(data: dict[str, Any], name: str) -> dict[str, Any]:
    """A mutation's payload; its userErrors raise UserErrors."""
    result: dict[str, Any] = data.get(name) or {}
    if result.get("userErrors"):
        raise UserErrors(list(result["userErrors"]))
    return result
