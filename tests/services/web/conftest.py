"""The admin panel mounted in a gateway of its own (small log-in limits, a session key), and a
browser-like httpx client that keeps cookies and fills in the CSRF token as a browser would."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import Api, _empty_tables, _flush_redis, make_settings, served_app

LOGIN_FAILURES_PER_ACCOUNT = 3
LOGIN_FAILURES_PER_IP = 6
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
async def panel_gateway(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    settings = make_settings(backend, tmp_path_factory.mktemp(f"web-{backend}")).model_copy(
        update={
            "web_session_key": Fernet.generate_key().decode(),
            "login_max_failures_per_account": LOGIN_FAILURES_PER_ACCOUNT,
            "login_max_failures_per_ip": LOGIN_FAILURES_PER_IP,
            "public_url": "http://hubben.test",
        }
    )
    async with served_app(settings) as app:
        yield app


@pytest.fixture
async def api(panel_gateway: Any, backend: str) -> AsyncIterator[Api]:
    """Like tests/conftest.py's `api`, on the panel's gateway."""
    await _empty_tables(panel_gateway)
    await _flush_redis(panel_gateway)
    transport = httpx.ASGITransport(app=panel_gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
        yield Api(http=http, app=panel_gateway, backend=backend)


@dataclass
class Browser:
    """One browser at one address: cookies kept, forms posted with the page's CSRF token."""

    http: httpx.AsyncClient
    csrf: str | None = None
    pages: list[httpx.Response] = field(default_factory=list)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.get("/admin" + path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = html.unescape(found.group(1))
        self.pages.append(response)
        return response

    async def post(
        self, path: str, data: dict[str, str], *, csrf: str | None | bool = True, **kwargs: Any
    ) -> httpx.Response:
        """POST a form; csrf=True sends the token of the last page, a string sends that, None none."""
        form = dict(data)
        if csrf is True:
            if self.csrf is None:
                await self.get("/login")
            assert self.csrf
            form["csrf"] = self.csrf
        elif isinstance(csrf, str):
            form["csrf"] = csrf
        response = await self.http.post("/admin" + path, data=form, **kwargs)
        self.pages.append(response)
        return response

    async def log_in(self, email: str, password: str) -> httpx.Response:
        await self.get("/login")
        response = await self.post("/login", {"email": email, "password": password, "next": "/"})
        if response.status_code == 303:
            await self.get("/")  # the signed-in session has a new CSRF token
        return response


def browser_at(app: Any, address: str = "127.0.0.1", scheme: str = "http", lang: str = "en") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    return httpx.AsyncClient(
        transport=transport,
        base_url=f"{scheme}://hubben.test",
        follow_redirects=False,
        headers={"accept-language": lang},
    )


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[Browser]:
    async with browser_at(api.app) as http:
        yield Browser(http)


def text_of(response: httpx.Response) -> str:
    """The page's words, tags dropped, whitespace collapsed: what a reader sees."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(html.unescape(words).split())
