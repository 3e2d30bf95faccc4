"""Kommunkartan in a real browser (Debian's Chromium through Playwright) against a real
`hubben serve` with the demo data, its tile server unreachable: the markers agree with the
table (count, size, label) and with the GraphQL map, filtering by an area, choosing a
municipality with the mouse and another with the keyboard, and opening a municipality's
page. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.services.gateway.test_initiatives import MAP
from tests.services.web.test_admin_browser import ARTIFACTS, assert_labelled, chromium, require_chromium
from tests.test_split_mode import free_port, hubben_env, hubben_serve, wait_healthy

pytestmark = pytest.mark.timeout(420)

BEHIND = """query($code: String!, $filter: InitiativeMapFilter) {
  municipalityInitiatives(code: $code, filter: $filter, first: 20) { totalCount nodes { title } } }"""

MARKERS = """() => [...document.querySelectorAll('.karta-marker')].map(el => ({
  code: el.dataset.code, count: Number(el.dataset.count), label: el.getAttribute('aria-label'),
  width: el.getBoundingClientRect().width, focusable: el.tabIndex === 0, role: el.getAttribute('role') }))"""
TABLE = """() => [...document.querySelectorAll('#municipality-table tbody tr')].map(tr => ({
  code: tr.dataset.code, name: tr.querySelector('th').textContent.trim(),
  count: Number(tr.querySelector('td.num').textContent) }))"""
# The marker with the most initiatives that no other marker covers, and where to click it.
UNCOVERED = """() => {
  const free = [...document.querySelectorAll('.karta-marker')].map(el => {
    const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    const mine = hit && hit.closest('.karta-marker') === el;
    return mine ? {code: el.dataset.code, count: Number(el.dataset.count), x, y} : null;
  }).filter(Boolean);
  free.sort((a, b) => b.count - a.count);
  return free[0] || null;
}"""


async def map_counts(http: httpx.AsyncClient, flt: dict[str, str] | None) -> dict[str, int]:
    body = (await http.post("/graphql", json={"query": MAP, "variables": {"filter": flt}})).json()
    return {c["municipality"]["code"]: c["count"] for c in body["data"]["initiativeMap"]["municipalities"]}


async def markers_agree_with_the_table(page: Any, expected: dict[str, int]) -> dict[str, str]:
    """The markers, the table and the GraphQL map have the same municipalities and counts;
    bigger counts make bigger markers; each marker is focusable and labelled. Returns the
    municipalities' names by code."""
    await page.wait_for_selector("#map[data-ready='true']")
    markers = await page.evaluate(MARKERS)
    table = await page.evaluate(TABLE)
    assert {m["code"]: m["count"] for m in markers} == {r["code"]: r["count"] for r in table} == expected
    assert len(markers) == len(table) == len(expected) > 0
    names = {r["code"]: r["name"] for r in table}
    for m in markers:
        assert m["focusable"] and m["role"] == "button"
        assert m["label"] == f"{names[m['code']]}: {m['count']} initiativ", m
    by_count = sorted(markers, key=lambda m: m["count"])
    for smaller, bigger in zip(by_count, by_count[1:], strict=False):
        if bigger["count"] > smaller["count"]:
            assert bigger["width"] > smaller["width"], (smaller, bigger)
    return names


async def test_the_map_filters_and_agrees_with_its_table_in_the_browser(tmp_path: Any) -> None:
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tiles = f"http://127.0.0.1:{free_port()}"  # nothing listens: no background map
    env = hubben_env(
        var_dir=str(tmp_path / "var"),
        demo_data="true",
        map_tile_url=tiles + "/{z}/{x}/{y}.png",
        password_hash_time_cost="1",
        password_hash_memory_kib="1024",
        password_hash_parallelism="1",
    )
    with hubben_serve(env, tmp_path) as server:
        await wait_healthy(server, within=300)
        base = server.url
        async with httpx.AsyncClient(base_url=base, timeout=30) as http, chromium() as browser:
            everywhere = await map_counts(http, None)
            assert len(everywhere) >= 50  # the demo data spreads over the country
            elderly = await map_counts(http, {"area": "ELDERLY_CARE"})
            assert 0 < len(elderly) < len(everywhere)

            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
            page = await context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and not str(m.location.get("url", "")).startswith(tiles)
                    else None
                ),
            )

            await page.goto(f"{base}/karta/")
            assert await page.get_attribute("html", "lang") == "sv"
            await markers_agree_with_the_table(page, everywhere)
            await assert_labelled(page)
            # No tiles: the map says so, and the markers and table work all the same.
            await page.wait_for_selector("#map-notice:not([hidden])")
            assert "Bakgrundskartan är inte tillgänglig" in await page.inner_text("#map-notice")

            # Filter by an area with the form.
            await page.select_option("#filter-area", "elderly_care")
            async with page.expect_navigation():
                await page.get_by_role("button", name="Visa", exact=True).click()
            assert page.url == f"{base}/karta/?area=elderly_care&status=&technique="
            names = await markers_agree_with_the_table(page, elderly)
            assert "Äldreomsorg" in await page.locator("#filter-area option:checked").inner_text()

            # Choose the biggest marker that nothing covers: its initiatives are listed.
            chosen = await page.evaluate(UNCOVERED)
            assert chosen is not None
            await page.mouse.click(chosen["x"], chosen["y"])
            code = chosen["code"]
            heading = page.locator("#map-list-heading")
            await page.wait_for_function(
                "n => document.querySelectorAll('#map-list .initiative-card').length === n", arg=min(elderly[code], 20)
            )
            assert await heading.inner_text() == f"Initiativ i {names[code]}"
            behind = (
                await http.post(
                    "/graphql", json={"query": BEHIND, "variables": {"code": code, "filter": {"area": "ELDERLY_CARE"}}}
                )
            ).json()["data"]["municipalityInitiatives"]
            listed = await page.locator("#map-list .initiative-card h3").all_inner_texts()
            assert listed == [n["title"] for n in behind["nodes"]]
            assert behind["totalCount"] == elderly[code]
            assert "Äldreomsorg" in await page.inner_text("#map-list .initiative-card .meta")
            assert await page.get_attribute(f".karta-marker[data-code='{code}']", "aria-pressed") == "true"
            await page.screenshot(path=str(ARTIFACTS / "karta.png"), full_page=True)

            # Back to the municipalities in view; the focus returns to the marker. Tab to the
            # next marker and choose it with Enter.
            await page.get_by_role("button", name="Tillbaka till kommunerna i vyn").click()
            assert await page.evaluate("document.activeElement.dataset.code") == code
            await page.wait_for_selector("#map-list-body button[data-code]")
            await page.keyboard.press("Tab")
            other = await page.evaluate("document.activeElement.dataset.code")
            assert other in elderly and other != code
            await page.keyboard.press("Enter")
            await page.wait_for_function(
                "name => document.getElementById('map-list-heading').textContent === 'Initiativ i ' + name",
                arg=names[other],
            )
            assert await page.evaluate("document.activeElement.id") == "map-list-heading"
            await page.wait_for_selector("#map-list .initiative-card")

            # The municipality's own page, under the same filter.
            await page.goto(f"{base}/karta/")
            await page.select_option("#filter-area", "elderly_care")
            await page.focus("#filter-technique")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")  # the form submits from the keyboard too
            await markers_agree_with_the_table(page, elderly)
            chosen = await page.evaluate(UNCOVERED)
            await page.mouse.click(chosen["x"], chosen["y"])
            link = page.locator("#map-list-body a")
            await link.wait_for()
            async with page.expect_navigation():
                await link.click()
            assert page.url.startswith(f"{base}/karta/kommun/{chosen['code']}?")
            assert "area=elderly_care" in page.url
            assert await page.inner_text("h1") == f"AI-initiativ i {names[chosen['code']]}"
            assert await page.locator("li.initiative").count() == min(elderly[chosen["code"]], 20)
            for area in await page.locator("li.initiative dl").all_inner_texts():
                assert "Äldreomsorg" in area
            await assert_labelled(page)
            await page.screenshot(path=str(ARTIFACTS / "karta-kommun.png"), full_page=True)

            # In English, and at a phone's width nothing is wider than the screen.
            phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
            small = await phone.new_page()
            await small.goto(f"{base}/karta/")
            assert await small.get_attribute("html", "lang") == "en"
            await small.wait_for_selector("#map[data-ready='true']")
            assert await small.evaluate("document.documentElement.scrollWidth") <= 390
            await small.screenshot(path=str(ARTIFACTS / "karta-mobile.png"), full_page=True)

            assert problems == []
