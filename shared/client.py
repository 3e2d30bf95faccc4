"""The base of every service client: one httpx client, internal tokens minted per
principal (cached for half their life), and errors mapped back to domain errors."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from shared.auth import Principal, TokenCodec
from shared.errors import DomainError, error_from_payload

M = TypeVar("M")


@lru_cache(maxsize=512)
def _adapter(out: Any) -> TypeAdapter[Any]:
    """One validator per answer type: building one costs more than most calls."""
    return TypeAdapter(out)


Client = TypeVar("Client", bound="ServiceClient")


class ServiceClient:
    # The service's name: the host of its in-process URL (and what its errors say).
    NAME = "service"

    def __init__(self, http: httpx.AsyncClient, codec: TokenCodec, service: str = "gateway") -> None:
        self.http = http
        self.codec = codec
        self.service = service
        self._tokens: dict[Principal, tuple[float, str]] = {}

    @classmethod
    def in_process(cls: type[Client], app: Any, codec: TokenCodec, service: str = "gateway") -> Client:
        """A client that calls the service's app in this process, over ASGI; `service`: who calls."""
        transport = httpx.ASGITransport(app=app)
        return cls(httpx.AsyncClient(transport=transport, base_url=f"http://{cls.NAME}", timeout=30), codec, service)

    @classmethod
    def remote(cls: type[Client], base_url: str, codec: TokenCodec, service: str = "gateway") -> Client:
        """A client of the service running on its own at `base_url`; `service`: who calls."""
        return cls(httpx.AsyncClient(base_url=base_url, timeout=30), codec, service)

    def _token(self, principal: Principal) -> str:
        now = time.monotonic()
        cached = self._tokens.get(principal)
        if cached and cached[0] > now:
            return cached[1]
        token = self.codec.issue_internal_token(principal, self.service)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[principal] = (now + self.codec.settings.internal_token_ttl_seconds / 2, token)
        return token

    async def call(
        self,
        principal: Principal,
        method: str,
        path: str,
        out: Any = None,
        *,
        json: BaseModel | dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        body = json.model_dump(mode="json", exclude_unset=True) if isinstance(json, BaseModel) else json
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        response = await self.http.request(
            method, path, json=body, params=params, headers={"authorization": f"Bearer {self._token(principal)}"}
        )
        if response.status_code >= 400:
            try:
                payload = response.json()
            except ValueError:
                payload = {"code": "INTERNAL", "message": f"{self.service} call failed ({response.status_code})"}
            if not isinstance(payload, dict) or "code" not in payload:
                raise DomainError(f"service call failed ({response.status_code})")
            raise error_from_payload(payload, response.status_code)
        if response.status_code == 204 or out is None:
            return None
        return _adapter(out).validate_json(response.content)

    async def aclose(self) -> None:
        await self.http.aclose()
