"""The open-data registry at /open-data: CSV, JSON and GeoJSON with their licence and
last-modified dates, only public initiatives of the registry (not organisation-only or
deleted ones), streamed a page at a time, and HTTP caching with Last-Modified, ETag and 304."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
from fastapi import FastAPI

from services.web.open_data import CSV_COLUMNS, create_open_data_app
from shared.geo import counties, municipalities
from tests.conftest import Api
from tests.services.gateway.test_initiatives import DELETE, UPDATE, created
from tests.services.gateway.test_organisations import create_org

TRICKY_TITLE = 'AI-stöd, "smart" planering\ni Åre – för äldreomsorgen'
SWEDEN = {"lon": (10.5, 24.5), "lat": (55.0, 69.5)}
ARE = "2321"  # Åre, Jämtlands län


async def registry(api: Api) -> dict[str, Any]:
    """Public initiatives (one with every field, one without places, the partner's) and an
    organisation-only and a deleted one that must stay out."""
    owner = await api.sign_up()
    org = await create_org(owner, name="Åre kommun", kind="MUNICIPALITY", municipalityCode=ARE)
    stranger = await api.sign_up()
    partner = await create_org(stranger, name='Partner, "AB"')
    theirs = await created(
        stranger, partner, title="Gatuskador med bildanalys", area="TRANSPORT", places=[{"municipalityCode": "0180"}]
    )
    full = await created(
        owner,
        org,
        title=TRICKY_TITLE,
        summary='Rader,\nkommatecken och "citat"',
        area="ELDERLY_CARE",
        status="PILOT",
        techniques=["språkmodeller", "bildanalys"],
        funder="Vinnova",
        programme="Utmaningsdriven innovation",
        links=[{"label": "Rapport", "url": "https://example.se/rapport"}],
        startsOn="2025-01-01",
        endsOn="2026-12-31",
        seekingPartners=True,
        places=[{"municipalityCode": ARE}, {"countyCode": "25"}],
        partnerOrganisationIds=[partner["id"]],
        reusesInitiativeIds=[theirs["id"]],
    )
    placeless = await created(owner, org, title="Idé utan plats", area="OTHER", status="IDEA")
    hidden = await created(
        owner, org, title="Intern förstudie", visibility="ORGANISATION", places=[{"municipalityCode": ARE}]
    )
    gone = await created(owner, org, title="Nedlagt", places=[{"municipalityCode": ARE}])
    await owner.ok(DELETE, {"id": gone["id"]})
    return {
        "owner": owner,
        "org": org,
        "partner": partner,
        "full": full,
        "placeless": placeless,
        "theirs": theirs,
        "public": {full["id"], placeless["id"], theirs["id"]},
        "absent": {hidden["id"], gone["id"]},
    }


async def fetch(api: Api, fmt: str, **headers: str) -> httpx.Response:
    return await api.http.get(f"/open-data/initiatives.{fmt}", headers=headers)


def in_sweden(point: list[float]) -> bool:
    lon, lat = point
    return SWEDEN["lon"][0] <= lon <= SWEDEN["lon"][1] and SWEDEN["lat"][0] <= lat <= SWEDEN["lat"][1]


async def test_json_geojson_and_csv_hold_the_public_registry_with_licence_and_dates(api: Api) -> None:
    world = await registry(api)

    # JSON
    response = await fetch(api, "json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    assert doc["licence"] == "CC0-1.0" and doc["licenceUrl"].startswith("https://creativecommons.org/")
    assert doc["lastModified"].endswith("Z")
    by_id = {i["id"]: i for i in doc["initiatives"]}
    assert set(by_id) == world["public"]
    full = by_id[world["full"]["id"]]
    assert full["title"] == TRICKY_TITLE
    assert (full["area"], full["areaLabelSv"], full["areaLabelEn"]) == ("elderly_care", "Äldreomsorg", "Elderly care")
    assert (full["status"], full["statusLabelSv"], full["statusLabelEn"]) == ("pilot", "Pilot", "Pilot")
    assert full["organisation"] == {"name": "Åre kommun", "slug": world["org"]["slug"]}
    assert full["partners"] == [{"name": 'Partner, "AB"', "slug": world["partner"]["slug"]}]
    assert full["places"] == [
        {"municipalityCode": ARE, "municipality": "Åre", "countyCode": "23", "county": "Jämtlands län"},
        {"municipalityCode": None, "municipality": None, "countyCode": "25", "county": "Norrbottens län"},
    ]
    assert full["reuses"] == [world["theirs"]["id"]]
    assert by_id[world["theirs"]["id"]]["reusedBy"] == [world["full"]["id"]]
    assert (full["startsOn"], full["endsOn"], full["seekingPartners"]) == ("2025-01-01", "2026-12-31", True)
    assert full["links"] == [{"label": "Rapport", "url": "https://example.se/rapport"}]
    for item in doc["initiatives"]:
        assert item["updatedAt"] <= doc["lastModified"], item
    assert "contact" not in full and "createdBy" not in full  # no personal data

    # GeoJSON: RFC 7946, [longitude, latitude], with the licence as foreign members.
    response = await fetch(api, "geojson")
    assert response.headers["content-type"] == "application/geo+json"
    geo = json.loads(response.content)
    assert geo["type"] == "FeatureCollection"
    assert (geo["licence"], geo["lastModified"]) == ("CC0-1.0", doc["lastModified"])
    features = {f["id"]: f for f in geo["features"]}
    assert set(features) == world["public"]
    for f in geo["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        if f["geometry"] is not None:
            assert f["geometry"]["type"] == "MultiPoint"
            assert f["geometry"]["coordinates"] and all(in_sweden(p) for p in f["geometry"]["coordinates"])
    are, norrbotten = municipalities()[ARE], counties()["25"]
    assert features[world["full"]["id"]]["geometry"]["coordinates"] == [
        [are.lon, are.lat],
        [norrbotten.lon, norrbotten.lat],
    ]
    assert features[world["placeless"]["id"]]["geometry"] is None
    assert features[world["full"]["id"]]["properties"]["title"] == TRICKY_TITLE

    # CSV: a header row, one row per initiative, round-tripping through the csv module.
    response = await fetch(api, "csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    reader = csv.reader(io.StringIO(response.content.decode("utf-8"), newline=""))
    header, *rows = list(reader)
    assert tuple(header) == CSV_COLUMNS
    records = {r["id"]: r for r in (dict(zip(header, row, strict=True)) for row in rows)}
    assert set(records) == world["public"] and len(rows) == len(records)
    row = records[world["full"]["id"]]
    assert row["title"] == TRICKY_TITLE
    assert row["summary"] == 'Rader,\nkommatecken och "citat"'
    assert row["partners"] == 'Partner, "AB"'
    assert row["techniques"] == "språkmodeller; bildanalys"
    assert (row["municipality_codes"], row["municipalities"]) == (ARE, "Åre")
    assert (row["county_codes"], row["counties"]) == ("23; 25", "Jämtlands län; Norrbottens län")
    assert (row["area"], row["area_sv"], row["status_en"]) == ("elderly_care", "Äldreomsorg", "Pilot")
    assert (row["seeking_partners"], row["open_to_reuse"]) == ("true", "false")
    assert row["reuses"] == world["theirs"]["id"]
    for r in records.values():
        assert (r["licence"], r["last_modified"]) == ("CC0-1.0", doc["lastModified"])
    assert records[world["placeless"]["id"]]["municipality_codes"] == ""

    # Every document carries the same Last-Modified, the registry's time to the second.
    stamp = datetime.fromisoformat(doc["lastModified"].replace("Z", "+00:00"))
    for fmt in ("csv", "json", "geojson"):
        headers = (await fetch(api, fmt)).headers
        assert parsedate_to_datetime(headers["last-modified"]) == stamp.replace(microsecond=0), fmt
        assert headers["access-control-allow-origin"] == "*"


async def test_last_modified_and_etag_answer_304_until_the_registry_changes(api: Api) -> None:
    world = await registry(api)
    first = await fetch(api, "json")
    last_modified, etag = first.headers["last-modified"], first.headers["etag"]
    before = parsedate_to_datetime(last_modified)

    unchanged = await fetch(api, "json", **{"if-modified-since": last_modified})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["last-modified"] == last_modified
    later = format_datetime(before + timedelta(hours=1), usegmt=True)
    assert (await fetch(api, "json", **{"if-modified-since": later})).status_code == 304
    earlier = format_datetime(before - timedelta(seconds=1), usegmt=True)
    assert (await fetch(api, "json", **{"if-modified-since": earlier})).status_code == 200
    assert (await fetch(api, "json", **{"if-modified-since": "yesterday"})).status_code == 200
    assert (await fetch(api, "json", **{"if-none-match": etag})).status_code == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    stale = {"if-none-match": 'W/"json-0"', "if-modified-since": later}
    assert (await fetch(api, "json", **stale)).status_code == 200
    # The formats have their own tags.
    assert (await fetch(api, "csv", **{"if-none-match": etag})).status_code == 200

    # An edit moves the registry's time: the old tag no longer matches.
    await world["owner"].ok(UPDATE, {"input": {"id": world["placeless"]["id"], "status": "PILOT"}})
    changed = await fetch(api, "json", **{"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["lastModified"] > first.json()["lastModified"]
    assert parsedate_to_datetime(changed.headers["last-modified"]) >= before

    # Taking an initiative to its organisation takes it out of the open data.
    await world["owner"].ok(UPDATE, {"input": {"id": world["full"]["id"], "visibility": "ORGANISATION"}})
    ids = {i["id"] for i in (await fetch(api, "json")).json()["initiatives"]}
    assert ids == world["public"] - {world["full"]["id"]}

    head = await api.http.head("/open-data/initiatives.geojson")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/geo+json" and head.headers["last-modified"]


async def test_an_empty_registry_and_an_unknown_format(api: Api) -> None:
    empty = await fetch(api, "json")
    assert empty.json() == {
        "licence": "CC0-1.0",
        "licenceUrl": "https://creativecommons.org/publicdomain/zero/1.0/",
        "lastModified": None,
        "initiatives": [],
    }
    assert "last-modified" not in empty.headers
    assert json.loads((await fetch(api, "geojson")).content)["features"] == []
    assert (await fetch(api, "csv")).content.decode().splitlines() == [",".join(CSV_COLUMNS)]
    assert (await fetch(api, "xml")).status_code == 404
    index = (await api.http.get("/open-data/")).json()
    assert [d["url"] for d in index["datasets"]] == [
        "/open-data/initiatives.csv",
        "/open-data/initiatives.json",
        "/open-data/initiatives.geojson",
    ]


async def test_the_documents_stream_the_registry_page_by_page(api: Api) -> None:
    """Read two initiatives at a time, the documents still hold every one, once, in id order."""
    owner = await api.sign_up()
    org = await create_org(owner, name="Sidvis kommun")
    made = [
        (await created(owner, org, title=f"Initiativ {n}, del {n}", places=[{"municipalityCode": "0180"}]))["id"]
        for n in range(5)
    ]
    host = FastAPI()
    host.mount("/open-data", create_open_data_app(lambda: api.app.state.graph, page_size=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://hubben.test") as http:
        doc = (await http.get("/open-data/initiatives.json")).json()
        assert [i["id"] for i in doc["initiatives"]] == made
        geo = json.loads((await http.get("/open-data/initiatives.geojson")).content)
        assert [f["id"] for f in geo["features"]] == made
        rows = list(csv.DictReader(io.StringIO((await http.get("/open-data/initiatives.csv")).text, newline="")))
        assert [r["id"] for r in rows] == made
        assert [r["title"] for r in rows] == [f"Initiativ {n}, del {n}" for n in range(5)]


def test_timestamps_are_utc_with_a_z() -> None:
    from services.web.open_data import _instant

    assert _instant(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    assert _instant(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
