"""A moderator works a report in a real browser (Debian's Chromium through Playwright) against
a real `hubben serve` process: log in with the keyboard, the dashboard, the queue, claim, hide
with a reason; the post leaves the hub feed, the follower's timeline and search, the author is
told, the audit log shows it; restoring brings it back. Also at a phone's width. Screenshots go
to tests/artifacts/."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI, Api, Session, poll
from tests.services.feed.test_feeds import joined, make_hub, make_org, make_post
from tests.test_cli import run_hubben, said
from tests.test_split_mode import ROOT, hubben_env, hubben_serve, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "a long moderator passphrase"
BODY = "Köp billiga klockor nu, unikt erbjudande"
WORDS = "klockor erbjudande"

FOLLOW = """mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"""
REPORT = """mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id }
  userErrors { field message code } } }"""
HUB_FEED = """query($slug: String!) { hub(slug: $slug) { feed(first: 50) { nodes { ... on Post { id } } } } }"""
HOME_FEED = "{ homeFeed(first: 50) { nodes { ... on Post { id } } } }"
SEARCH = """query($q: String!) { search(query: $q, first: 20) { edges { node { __typename ... on Post { id } } } } }"""
NOTIFICATIONS = "{ notifications(first: 20) { nodes { kind text } } }"

pytestmark = pytest.mark.timeout(300)


def require_chromium() -> None:
    """Skipped locally without Chromium or Playwright; in CI their absence is a failure."""
    missing = [
        what
        for what, present in (
            (CHROMIUM, Path(CHROMIUM).exists()),
            ("playwright", importlib.util.find_spec("playwright") is not None),
        )
        if not present
    ]
    if not missing:
        return
    message = f"the browser tests need {' and '.join(missing)} (apt-get install -y chromium; pip install playwright)"
    if IN_CI:
        pytest.fail(f"{message}; CI requires them")
    pytest.skip(message)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def ids(found: Any) -> list[str]:
    return [n["id"] for n in await found if n and n.get("id")]


async def hub_feed(api: Api, slug: str) -> list[str]:
    return await ids(_nodes(api.ok(HUB_FEED, {"slug": slug}), "hub", "feed"))


async def home_feed(reader: Session) -> list[str]:
    return await ids(_nodes(reader.ok(HOME_FEED), "homeFeed"))


async def searched(api: Api) -> list[str]:
    data = await api.ok(SEARCH, {"q": WORDS})
    return [e["node"]["id"] for e in data["search"]["edges"] if e["node"]["__typename"] == "Post"]


async def _nodes(query: Any, *path: str) -> list[dict[str, Any]]:
    data = await query
    for key in path:
        data = data[key]
    return data["nodes"]  # type: ignore[no-any-return]


async def everywhere(api: Api, follower: Session, slug: str, post_id: str, present: bool) -> None:
    """Poll until the post is in (or out of) the hub feed, the follower's timeline and search."""
    for where in (lambda: hub_feed(api, slug), lambda: home_feed(follower), lambda: searched(api)):

        async def settled(where: Any = where) -> bool:
            return (post_id in await where()) is present

        await poll(settled, within=30, interval=0.1)


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => el.labels.length === 0).map(el => el.outerHTML)"""


async def assert_labelled(page: Any) -> None:
    """Every field has a <label>, and the page has its landmarks and skip link."""
    assert await page.evaluate(UNLABELLED) == [], page.url
    for landmark in ("header", "nav", "main", "footer", "a.skip-link[href='#main']"):
        assert await page.locator(landmark).count() >= 1, (landmark, page.url)


async def log_in_with_the_keyboard(page: Any, base: str, email: str) -> None:
    """From the top of the log-in page: Tab to each field, type, Enter submits."""
    await page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/admin/login")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.evaluate(UNLABELLED) == []
    for field, value in (("login-email", email), ("login-password", PASSWORD)):
        for _ in range(15):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.id") == field:
                break
        else:
            raise AssertionError(f"Tab never reached #{field}")
        # The focus is visible (a keyboard user sees where they are).
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none"), outline
        await page.keyboard.type(value)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url == f"{base}/admin/", page.url


async def with_moderator(tmp_path: Path) -> dict[str, str]:
    """The environment of an embedded Hubben under tmp_path whose platform admin @moderatorn
    `hubben admin create` has made."""
    env = hubben_env(
        var_dir=str(tmp_path / "var"),
        demo_data="false",
        admin_password=PASSWORD,
        password_hash_time_cost="1",
        password_hash_memory_kib="1024",
        password_hash_parallelism="1",
    )
    created = await asyncio.to_thread(
        run_hubben, env, tmp_path, "admin", "create", "--email", "moderator@example.se", "--handle", "moderatorn"
    )
    assert created.returncode == 0, said(created)
    return env


async def test_a_moderator_hides_and_restores_a_reported_post_in_the_browser(tmp_path: Path) -> None:
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = await with_moderator(tmp_path)

    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server)
        base = server.url
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            api = Api(http=http, app=None, backend="sqlite")
            owner = await api.sign_up()
            hub = await make_hub(owner, (await make_org(owner))["id"])
            author = await joined(api, hub)
            follower = await joined(api, hub)
            await follower.ok(FOLLOW, {"t": author.id})
            post = await make_post(author, hubId=hub["id"], body=BODY)
            await everywhere(api, follower, hub["slug"], post["id"], present=True)
            filed = await follower.ok(REPORT, {"i": {"targetId": post["id"], "reason": "SPAM", "note": "Reklam"}})
            assert filed["reportContent"]["report"]["id"]

            async with chromium() as browser:
                context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
                page = await context.new_page()
                await log_in_with_the_keyboard(page, base, "moderator@example.se")
                assert await page.inner_text("h1") == "Dashboard"
                open_cases = page.locator(".stats li", has_text="Open cases").locator(".stat-value")
                assert await open_cases.inner_text() == "1"
                await assert_labelled(page)
                await page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

                # The queue, the case, claim it, hide the post with a reason.
                await page.get_by_role("link", name="Cases", exact=True).click()
                await page.wait_for_url(f"{base}/admin/cases")
                await assert_labelled(page)
                await page.get_by_role("link", name="Post: Köp billiga klockor").click()
                await page.wait_for_url(f"{base}/admin/cases/*")
                case_url = page.url
                assert BODY in await page.inner_text(".reported-content")
                assert "Reklam" in await page.inner_text(".reports")
                await page.get_by_role("button", name="Claim the case").click()
                await page.wait_for_selector("text=The case is yours.")
                await page.select_option("#decide-action", "HIDE")
                await page.fill("#decide-reason", "Reklam är inte tillåten i hubben.")
                await page.get_by_role("button", name="Record the decision").click()
                await page.wait_for_selector("text=Decision recorded: Hide.")
                assert "Hidden" in await page.inner_text("#content-heading")
                await assert_labelled(page)
                await page.screenshot(path=str(ARTIFACTS / "admin-case.png"), full_page=True)

                # Gone for readers; the author is told why.
                await everywhere(api, follower, hub["slug"], post["id"], present=False)

                async def told() -> list[dict[str, Any]]:
                    nodes = (await author.ok(NOTIFICATIONS))["notifications"]["nodes"]
                    return [n for n in nodes if n["kind"] == "MODERATION_OUTCOME"]

                outcome = await poll(told, within=30, interval=0.1)
                assert "Reklam är inte tillåten i hubben." in outcome[0]["text"]

                # The audit log has it.
                await page.get_by_role("link", name="Audit log").click()
                await page.wait_for_url(f"{base}/admin/audit")
                log = await page.inner_text("table")
                assert "case.hide" in log and "Reklam är inte tillåten i hubben." in log and "@moderatorn" in log
                await assert_labelled(page)

                # Restored from the case page: back for readers.
                await page.goto(case_url)
                await page.select_option("#decide-action", "RESTORE")
                await page.fill("#decide-reason", "Granskat igen: inom reglerna.")
                await page.get_by_role("button", name="Record the decision").click()
                await page.wait_for_selector("text=Decision recorded: Restore.")
                assert "Visible" in await page.inner_text("#content-heading")
                await everywhere(api, follower, hub["slug"], post["id"], present=True)

                # A phone's width: the same dashboard, nothing wider than the screen.
                phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
                small = await phone.new_page()
                await log_in_with_the_keyboard(small, base, "moderator@example.se")
                width = await small.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, width
                await small.screenshot(path=str(ARTIFACTS / "admin-dashboard-mobile.png"), full_page=True)
                await small.goto(f"{base}/admin/cases?status=")  # every case, so the table has a row
                assert await small.locator("tbody tr").count() == 1
                assert await small.evaluate("document.documentElement.scrollWidth") <= 390
                await small.screenshot(path=str(ARTIFACTS / "admin-queue-mobile.png"), full_page=True)


async def test_the_panel_on_its_own_reaches_the_gateway_over_http(tmp_path: Path) -> None:
    """Split deployments: the panel in another process, with HUBBEN_GATEWAY_URL."""
    from cryptography.fernet import Fernet
    from fastapi import FastAPI

    from services.web.app import create_app as create_web_app
    from shared.settings import Settings
    from tests.services.web.conftest import Browser, browser_at, text_of

    env = await with_moderator(tmp_path)
    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server)
        # Without a key of its own a panel apart from the gateway stays shut rather than guess one.
        shut = FastAPI()
        shut.mount("/admin", create_web_app(Settings(gateway_url=server.url, var_dir=tmp_path / "panel")))
        async with browser_at(shut) as http:
            refused = await http.get("/admin/login")
            assert refused.status_code == 503 and "HUBBEN_WEB_SESSION_KEY" in refused.text

        settings = Settings(
            gateway_url=server.url, web_session_key=Fernet.generate_key().decode(), var_dir=tmp_path / "panel"
        )
        host, panel = FastAPI(), create_web_app(settings)
        host.mount("/admin", panel)
        async with browser_at(host) as http:
            browser = Browser(http)
            assert (await browser.log_in("moderator@example.se", PASSWORD)).status_code == 303
            dashboard = await browser.get("/")
            assert dashboard.status_code == 200 and "You are a platform moderator." in text_of(dashboard)
            assert (await browser.get("/audit")).status_code == 200
        await panel.state.web.gateway.aclose()
