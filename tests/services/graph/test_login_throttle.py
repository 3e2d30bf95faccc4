"""Log-in throttling: failures counted per account and per client address; over the limit a
log-in is refused (RATE_LIMITED) without looking at the password, until the window moves on."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from services.graph.models import LoginFailure
from shared.settings import Settings
from tests.conftest import Api

LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken member { handle } } userErrors { field message code } } }"""


def limits(api: Api) -> Settings:
    return api.app.state.graph_app.state.settings  # type: ignore[no-any-return]


async def log_in(
    api: Api, email: str, password: str, ip: str | None = None, http: httpx.AsyncClient | None = None
) -> dict[str, Any]:
    """Log in over HTTP; `ip` is sent as X-Forwarded-For (what a proxy beside the gateway,
    or the admin panel in this process, says the client's address is)."""
    headers = {"x-forwarded-for": ip} if ip else {}
    r = await (http or api.http).post(
        "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": password}}, headers=headers
    )
    return r.json()  # type: ignore[no-any-return]


def code(body: dict[str, Any]) -> str | None:
    if body.get("errors"):
        return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]
    assert body["data"]["logIn"]["session"], body
    return None


def email_key(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()


async def failures(api: Api, *, email: str | None = None, ip: str | None = None) -> int:
    stmt = select(func.count()).select_from(LoginFailure)
    if email is not None:
        stmt = stmt.where(col(LoginFailure.email_key) == email_key(email))
    if ip is not None:
        stmt = stmt.where(col(LoginFailure.ip) == ip)
    async with await api.graph_session() as db:
        return int((await db.execute(stmt)).scalar_one())


async def age_failures(api: Api, by: timedelta) -> None:
    async with await api.graph_session() as db:
        for row in (await db.execute(select(LoginFailure))).scalars():
            row.created_at -= by
        await db.commit()


async def test_account_throttle_engages_even_with_the_right_password(api: Api) -> None:
    anna = await api.sign_up()
    limit = limits(api).login_max_failures_per_account
    # From a different address each time: it is the account that is counted.
    for n in range(limit):
        assert code(await log_in(api, anna.email, "not the password", ip=f"192.0.2.{n + 1}")) == "UNAUTHENTICATED"
    # Upper-case is the same account.
    refused = await log_in(api, anna.email.upper(), anna.password, ip="192.0.2.200")
    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    found = re.search(r"try again in (\d+) seconds", error["message"])
    assert found, error["message"]
    window = limits(api).login_throttle_window_seconds
    assert window - 60 <= int(found.group(1)) <= window
    # An unknown email is throttled alike: a refusal says nothing about whether an account exists.
    for n in range(limit):
        await log_in(api, "nobody@example.se", "guess", ip=f"198.51.100.{n + 1}")
    assert code(await log_in(api, "nobody@example.se", "guess", ip="198.51.100.99")) == "RATE_LIMITED"

    # Once the failures have left the window, the right password works again.
    await age_failures(api, timedelta(seconds=window))
    assert code(await log_in(api, anna.email, anna.password, ip="192.0.2.200")) is None


async def test_address_throttle_engages_across_accounts(api: Api) -> None:
    anna = await api.sign_up()
    limit = limits(api).login_max_failures_per_ip
    for n in range(limit):
        # One failure per account: no account comes near its own limit.
        assert code(await log_in(api, f"guess{n}@example.se", "guess", ip="203.0.113.7")) == "UNAUTHENTICATED"
    assert await failures(api, ip="203.0.113.7") == limit
    assert code(await log_in(api, anna.email, anna.password, ip="203.0.113.7")) == "RATE_LIMITED"
    # Anna from her own address is not held back by it.
    assert code(await log_in(api, anna.email, anna.password, ip="203.0.113.8")) is None


async def test_a_successful_log_in_clears_the_accounts_failures_not_the_addresss(api: Api) -> None:
    anna = await api.sign_up()
    below = limits(api).login_max_failures_per_account - 1
    for _ in range(2):
        for _ in range(below):
            assert code(await log_in(api, anna.email, "not the password", ip="192.0.2.10")) == "UNAUTHENTICATED"
        # Had the first round not been forgiven, the second would have reached the limit.
        assert code(await log_in(api, anna.email, anna.password, ip="192.0.2.10")) is None
        assert await failures(api, email=anna.email) == 0
    assert await failures(api, ip="192.0.2.10") == 2 * below


async def test_a_refusal_keeps_the_failures_and_adds_none(api: Api) -> None:
    anna = await api.sign_up()
    limit = limits(api).login_max_failures_per_account
    for _ in range(limit):
        await log_in(api, anna.email, "not the password")
    # The wrong passwords were refused with an error, and their failures were kept all the same.
    assert await failures(api, email=anna.email) == limit
    for _ in range(3):
        assert code(await log_in(api, anna.email, anna.password)) == "RATE_LIMITED"
    # Refusals are not failures (the password was not looked at), and lose none.
    assert await failures(api, email=anna.email) == limit
    # No address is named in the table, only a hash of it.
    async with await api.graph_session() as db:
        keys = set((await db.execute(select(col(LoginFailure.email_key)))).scalars())
    assert keys == {email_key(anna.email)}


async def test_the_address_is_the_socket_peer_unless_the_caller_is_local(api: Api) -> None:
    anna = await api.sign_up()
    # A local caller (the admin panel, a proxy on this host) names the client: its first address.
    await log_in(api, anna.email, "not the password", ip="192.0.2.33, 10.0.0.1")
    assert await failures(api, ip="192.0.2.33") == 1
    # Something that is not an address is not believed.
    await log_in(api, anna.email, "not the password", ip="not-an-address")
    assert await failures(api, ip="127.0.0.1") == 1
    # A remote caller cannot choose its address with the header.
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, client=("198.51.100.40", 5555)), base_url="http://hubben.test"
    )
    async with remote:
        await log_in(api, anna.email, "not the password", ip="192.0.2.34", http=remote)
    assert await failures(api, ip="198.51.100.40") == 1
    assert await failures(api, ip="192.0.2.34") == 0


async def test_the_client_address_is_not_part_of_the_graphql_input(api: Api) -> None:
    anna = await api.sign_up()
    body = await api.gql(
        """mutation($i: LogInInput!) { logIn(input: $i) { session { accessToken } } }""",
        {"i": {"email": anna.email, "password": anna.password, "clientIp": "192.0.2.1"}},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
