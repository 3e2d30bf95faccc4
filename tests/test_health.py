"""/healthz answers while the process is up; /readyz checks the services and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from shared.auth import load_key_pair
from tests.conftest import REDIS_URL, make_settings, require_server
from tests.test_split_mode import free_port


@asynccontextmanager
async def gateway(tmp_path: Path, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings("sqlite", tmp_path).model_copy(update=update))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
            yield http


async def test_healthz_and_readyz_without_redis(tmp_path: Path) -> None:
    async with gateway(tmp_path) as http:
        health = await http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"graph": "ok", "feed": "ok", "search": "ok", "moderation": "ok"},
        }


async def test_readyz_checks_a_real_redis(tmp_path: Path) -> None:
    require_server("Redis", "127.0.0.1", 6379)
    async with gateway(tmp_path, redis_url=REDIS_URL) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ready",
            "checks": {"graph": "ok", "feed": "ok", "search": "ok", "moderation": "ok", "redis": "ok"},
        }


async def test_readyz_is_degraded_but_ready_when_redis_is_unreachable(tmp_path: Path) -> None:
    """Writes go on without Redis (jobs wait in the outboxes): stay in the load balancer."""
    closed = free_port()  # bound and released: nothing listens there
    async with gateway(tmp_path, redis_url=f"redis://127.0.0.1:{closed}/0") as http:
        health = await http.get("/healthz")
        assert health.status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["checks"]["graph"] == "ok"
        assert body["checks"]["redis"].startswith("unavailable")


async def test_readyz_is_503_when_a_remote_graph_service_is_down(tmp_path: Path) -> None:
    closed = free_port()
    key = load_key_pair(make_settings("sqlite", tmp_path)).private_pem
    async with gateway(tmp_path, graph_url=f"http://127.0.0.1:{closed}", jwt_private_key=key) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["checks"]["graph"].startswith("unavailable")


async def test_a_gateway_pointed_at_a_graph_service_refuses_to_invent_a_key(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite", tmp_path).model_copy(update={"graph_url": "http://127.0.0.1:9"}))
    with pytest.raises(RuntimeError, match="HUBBEN_JWT_PRIVATE_KEY"):
        async with app.router.lifespan_context(app):
            pass
