"""Kommunkartan's pages without a browser (as a reader without JavaScript gets them): the
table of municipalities equals the map's counts and the markers' data under every filter, a
municipality's page lists its initiatives, bad filters and unknown municipalities get clear
error pages, two languages, and the tile server in the content security policy."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from services.web.app import map_security_headers, tile_source
from shared.geo import municipalities
from shared.settings import Settings
from tests.conftest import Api
from tests.services.gateway.test_initiatives import MAP, created
from tests.services.gateway.test_organisations import create_org
from tests.services.web.conftest import text_of

ROW = re.compile(
    r'<tr data-code="(\d{4})">\s*<th scope="row">([^<]+)</th>\s*<td>([^<]+)</td>\s*<td class="num">(\d+)</td>'
    r'\s*<td><a href="([^"]+)">'
)
DATA = re.compile(r'<script type="application/json" id="karta-data">(.*?)</script>', re.S)
LABELLED = re.compile(r'<label for="([^"]+)"')
FIELD = re.compile(r'<(?:input|select)[^>]* id="([^"]+)"')

# (title, area, status, techniques, municipality codes)
PLANS = [
    ("Chattbot för bygglov", "URBAN_PLANNING", "IN_PRODUCTION", ["språkmodeller"], ["0180", "1480"]),
    ("Hemtjänstplanering", "ELDERLY_CARE", "PILOT", ["optimering", "prognoser"], ["0180"]),
    ("Fallprevention", "ELDERLY_CARE", "IDEA", ["bildanalys"], ["2480"]),
    ('Diarieföring, "smart" & snabb', "ADMINISTRATION", "IN_PRODUCTION", ["språkmodeller"], ["1480", "2480", "0180"]),
    ("Läcksökning", "ENVIRONMENT", "ENDED", ["prognoser"], ["1280"]),
]


async def mapped(api: Api) -> list[dict[str, Any]]:
    owner = await api.sign_up()
    org = await create_org(owner, name="Kartkommunen")
    out = []
    for title, area, status, techniques, codes in PLANS:
        made = await created(
            owner,
            org,
            title=title,
            summary=f"Om {title}",
            area=area,
            status=status,
            techniques=techniques,
            places=[{"municipalityCode": c} for c in codes],
        )
        out.append({**made, "codes": codes, "plan": (title, area, status, techniques)})
    # Neither of these may reach the map.
    await created(owner, org, title="Intern", visibility="ORGANISATION", places=[{"municipalityCode": "0180"}])
    return out


def expected(made: list[dict[str, Any]], **flt: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in made:
        _, area, status, techniques = item["plan"]
        if flt.get("area") and flt["area"].upper() != area:
            continue
        if flt.get("status") and flt["status"].upper() != status:
            continue
        if flt.get("technique") and flt["technique"] not in techniques:
            continue
        counts.update(item["codes"])
    return counts


def table_of(page: httpx.Response) -> dict[str, int]:
    return {code: int(count) for code, _, _, count, _ in ROW.findall(page.text)}


def markers_of(page: httpx.Response) -> dict[str, Any]:
    found = DATA.search(page.text)
    assert found, "the page embeds the map's data"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


async def karta(api: Api, path: str = "/", lang: str = "sv", **params: str) -> httpx.Response:
    return await api.http.get("/karta" + path, params=params, headers={"accept-language": lang})


FILTERS: list[dict[str, str]] = [
    {},
    {"area": "elderly_care"},
    {"status": "in_production"},
    {"technique": "språkmodeller"},
    {"area": "elderly_care", "status": "pilot"},
    {"technique": "prognoser", "status": "ended"},
    {"area": "culture"},
]


async def test_the_table_the_markers_and_the_map_counts_agree_under_every_filter(api: Api) -> None:
    made = await mapped(api)
    for flt in FILTERS:
        page = await karta(api, **flt)
        assert page.status_code == 200, (flt, page.text)
        table = table_of(page)
        assert table == dict(expected(made, **flt)), flt
        data = markers_of(page)
        assert {m["code"]: m["count"] for m in data["markers"]} == table, flt
        graphql = {k: v.upper() if k != "technique" else v for k, v in flt.items()}
        counts = (await api.ok(MAP, {"filter": graphql or None}))["initiativeMap"]["municipalities"]
        assert {c["municipality"]["code"]: c["count"] for c in counts} == table, flt
        for m in data["markers"]:
            assert 55 <= m["lat"] <= 69.5 and 10.5 <= m["lon"] <= 24.5
        # Each row links to the municipality's page under the same filter.
        for code, name, county, _, link in ROW.findall(page.text):
            place = municipalities()[code]
            assert (html.unescape(name), html.unescape(county)) == (place.name, place.county_name)
            target = urlsplit(html.unescape(link))
            assert target.path == f"/karta/kommun/{code}"
            assert dict(parse_qsl(target.query)) == flt, (link, flt)
        if not table:
            assert "Inga publika initiativ matchar filtren." in text_of(page)
    # A technique is matched as the registry stores it: "#Språkmodeller" is språkmodeller.
    tagged = table_of(await karta(api, technique="  #Språkmodeller "))
    assert tagged == dict(expected(made, technique="språkmodeller")) and tagged
    # Rows come by count, the largest first.
    page = await karta(api)
    counts = [int(c) for *_, c, _ in ROW.findall(page.text)]
    assert counts == sorted(counts, reverse=True) and counts[0] == 3


async def test_a_municipality_lists_its_initiatives_under_the_filters(api: Api) -> None:
    made = await mapped(api)
    page = await karta(api, "/kommun/0180")
    assert page.status_code == 200
    words = text_of(page)
    assert "AI-initiativ i Stockholm" in words and "Stockholms län" in words
    titles = re.findall(r'<h2 id="initiative-\d+">([^<]+)</h2>', page.text)
    assert sorted(html.unescape(t) for t in titles) == sorted(m["plan"][0] for m in made if "0180" in m["codes"])
    assert "Kartkommunen" in words and "Intern" not in words
    assert "3 initiativ" in words
    assert "Diarieföring, &#34;smart&#34; &amp; snabb" in page.text  # escaped

    only = await karta(api, "/kommun/0180", area="elderly_care")
    assert re.findall(r'<h2 id="initiative-\d+">([^<]+)</h2>', only.text) == ["Hemtjänstplanering"]
    assert "Område: Äldreomsorg." in text_of(only)

    none = await karta(api, "/kommun/0180", area="culture")
    assert "Inga publika initiativ i Stockholm matchar." in text_of(none)
    # ?kommun= is the same page.
    moved = await karta(api, kommun="2480", status="idea")
    assert moved.status_code == 303 and moved.headers["location"] == "/karta/kommun/2480?status=idea"
    # The table's count for a municipality is the number its page lists, under each filter.
    for flt in FILTERS:
        for code, count in table_of(await karta(api, **flt)).items():
            listed = await karta(api, f"/kommun/{code}", **flt)
            assert len(re.findall(r'<h2 id="initiative-\d+">', listed.text)) == count, (code, flt)


async def test_unknown_municipalities_and_bad_filters_get_clear_error_pages(api: Api) -> None:
    missing = await karta(api, "/kommun/9999")
    assert missing.status_code == 404
    assert "Det finns ingen kommun med koden 9999." in text_of(missing)
    assert (await karta(api, "/kommun/stockholm")).status_code == 404
    assert (await karta(api, "/ingenting")).status_code == 404

    for params, message in (
        ({"area": "rymden"}, "Det finns inget område ”rymden”. Välj ett i listan."),
        ({"status": "klar"}, "Det finns ingen status ”klar”. Välj en i listan."),
        ({"technique": "x" * 41}, "En teknik är högst 40 tecken."),
    ):
        for path in ("/", "/kommun/0180"):
            bad = await karta(api, path, **params)
            assert bad.status_code == 400, (path, params)
            words = text_of(bad)
            assert "Förfrågan gick inte att använda" in words and message in words, words
    english = await karta(api, lang="en", area="space")
    assert english.status_code == 400
    assert "There is no area “space”. Choose one from the list." in text_of(english)
    assert (await karta(api, "/kommun/0180", after="x" * 300)).status_code == 400
    bad_cursor = await karta(api, "/kommun/0180", after="not-a-cursor")
    assert bad_cursor.status_code == 400 and "Sidlänken är inte giltig." in text_of(bad_cursor)
    assert (await karta(api, technique="#")).status_code == 200  # no technique at all
    # Codes are case-insensitive, as a hand-typed address may have them.
    assert (await karta(api, area="ELDERLY_CARE")).status_code == 200


async def test_swedish_by_default_english_on_request_and_kept(api: Api) -> None:
    await mapped(api)
    page = await karta(api, lang="")
    assert '<html lang="sv">' in page.text and "AI-initiativ i Sveriges kommuner" in text_of(page)
    english = await api.http.get("/karta/", params={"lang": "en"}, headers={"accept-language": "sv"})
    assert '<html lang="en">' in english.text and "AI initiatives in Sweden's municipalities" in text_of(english)
    assert "Elderly care" in english.text
    assert english.cookies.get("hubben_lang") == "en"
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test", cookies=english.cookies) as http:
        assert '<html lang="en">' in (await http.get("/karta/")).text
        assert '<html lang="en">' in (await http.get("/karta/kommun/0180")).text
    assert '<html lang="en">' in (await karta(api, lang="en-GB,en;q=0.9")).text
    data = markers_of(english)
    assert data["lang"] == "EN" and data["messages"]["inView"] == "Municipalities in the map's view"


async def test_the_page_works_without_javascript_and_is_labelled(api: Api) -> None:
    await mapped(api)
    page = await karta(api)
    text = page.text
    assert re.search(r'<form method="get" action="/karta/"', text)
    fields = set(FIELD.findall(text))
    assert {"filter-area", "filter-status", "filter-technique"} <= fields
    assert fields <= set(LABELLED.findall(text))
    assert "<caption>" in text and '<th scope="col">' in text and '<th scope="row">' in text
    assert '<a class="skip-link" href="#main">' in text and '<main id="main"' in text
    assert text.count("<h1>") == 1
    # The map's script and Leaflet come from this server, never a CDN.
    scripts = re.findall(r'<script src="([^"]+)"', text)
    assert scripts == ["/karta/static/vendor/leaflet/leaflet.js", "/karta/static/karta.js"]
    for path in (*scripts, "/karta/static/vendor/leaflet/leaflet.css", "/karta/static/karta.css"):
        asset = await api.http.get(path)
        assert asset.status_code == 200 and asset.content, path
    licence = await api.http.get("/karta/static/vendor/leaflet/LICENSE")
    assert "BSD 2-Clause" in licence.text and "Agafonkin" in licence.text


async def test_the_content_security_policy_names_the_tile_server(api: Api) -> None:
    page = await karta(api)
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    data = markers_of(page)
    assert data["tiles"]["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert data["graphql"] == "/graphql"
    # The admin panel keeps its own.
    assert "connect-src" not in (await api.http.get("/admin/login")).headers["content-security-policy"]

    assert tile_source("https://{s}.tile.example.se/{z}/{x}/{y}.png") == "https://*.tile.example.se"
    assert tile_source("http://127.0.0.1:8080/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert tile_source("") is None
    without = map_security_headers(Settings(map_tile_url=""))["content-security-policy"]
    assert "img-src 'self' data:;" in without


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)//{z}/{x}/{y}",
        "https://tiles.example.se/static.png",
        "https://{z}.example/{x}/{y}",
        "ftp://x/{z}/{x}/{y}",
    ],
)
def test_a_bad_tile_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="map_tile_url"):
        Settings(map_tile_url=url)
