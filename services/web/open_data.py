"""The initiatives registry as open data: CSV, JSON and GeoJSON at stable URLs under
/open-data (mounted by the gateway). Public initiatives of public organisations only, read a
page at a time from the graph service's export and streamed out, each document stating its
licence (CC0-1.0) and the registry's last-modified time, with Last-Modified and
If-Modified-Since for HTTP caches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.graph import contracts as gc
from services.graph.client import GraphClient
from services.graph.contracts import (
    AREAS,
    EXPORT_PAGE_MAX,
    OPEN_DATA_LICENCE,
    OPEN_DATA_LICENCE_URL,
    STATUSES,
    label,
)
from shared.auth import ANONYMOUS
from shared.errors import DomainError
from shared.geo import counties, municipalities
from shared.ids import to_global_id

log = structlog.get_logger("hubben.open_data")

JOIN = "; "
CSV_COLUMNS = (
    "id",
    "title",
    "summary",
    "description",
    "organisation",
    "organisation_slug",
    "partners",
    "partner_slugs",
    "area",
    "area_sv",
    "area_en",
    "status",
    "status_sv",
    "status_en",
    "techniques",
    "societal_benefit",
    "funder",
    "programme",
    "municipality_codes",
    "municipalities",
    "county_codes",
    "counties",
    "starts_on",
    "ends_on",
    "seeking_partners",
    "open_to_reuse",
    "links",
    "reuses",
    "reused_by",
    "created_at",
    "updated_at",
    "status_changed_at",
    "licence",
    "last_modified",
)
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the millisecond."""
    if value is None:
        return None
    return _utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _gid(raw: int) -> str:
    return to_global_id("Initiative", raw)


class Registry:
    """The export's pages turned into records, with the organisations' names looked up once
    per page."""

    def __init__(self, graph: GraphClient, page_size: int) -> None:
        self.graph = graph
        self.page_size = page_size

    async def page(self, after: int) -> gc.InitiativeExportPage:
        return await self.graph.initiatives_export_page(ANONYMOUS, after, self.page_size)

    async def organisations(self, items: list[gc.InitiativeOut]) -> dict[int, gc.OrganisationOut]:
        wanted = sorted({i.organisation_id for i in items} | {p for i in items for p in i.partner_organisation_ids})
        found: dict[int, gc.OrganisationOut] = {}
        for start in range(0, len(wanted), 500):
            for org in await self.graph.organisations_by_ids(ANONYMOUS, wanted[start : start + 500]):
                found[org.id] = org
        return found

    async def records(self, page: gc.InitiativeExportPage) -> list[dict[str, Any]]:
        orgs = await self.organisations(page.items)
        # An owner the graph no longer lists (gone, or not public) takes its initiatives along.
        return [record(i, orgs) for i in page.items if i.organisation_id in orgs]


def record(i: gc.InitiativeOut, orgs: dict[int, gc.OrganisationOut]) -> dict[str, Any]:
    """One initiative as the JSON document states it (camelCase, like the GraphQL API)."""
    owner = orgs[i.organisation_id]
    places = []
    for p in i.places:
        m = municipalities().get(p.municipality_code or "")
        county = counties().get(p.county_code)
        places.append(
            {
                "municipalityCode": p.municipality_code,
                "municipality": m.name if m else None,
                "countyCode": p.county_code,
                "county": county.name if county else None,
            }
        )
    return {
        "id": _gid(i.id),
        "title": i.title,
        "summary": i.summary,
        "description": i.description,
        "organisation": {"name": owner.name, "slug": owner.slug},
        "partners": [{"name": orgs[p].name, "slug": orgs[p].slug} for p in i.partner_organisation_ids if p in orgs],
        "area": i.area,
        "areaLabelSv": label(AREAS, i.area, "sv"),
        "areaLabelEn": label(AREAS, i.area, "en"),
        "status": i.status,
        "statusLabelSv": label(STATUSES, i.status, "sv"),
        "statusLabelEn": label(STATUSES, i.status, "en"),
        "techniques": list(i.techniques),
        "societalBenefit": i.societal_benefit,
        "funder": i.funder,
        "programme": i.programme,
        "places": places,
        "startsOn": i.starts_on.isoformat() if i.starts_on else None,
        "endsOn": i.ends_on.isoformat() if i.ends_on else None,
        "seekingPartners": i.seeking_partners,
        "openToReuse": i.open_to_reuse,
        "links": [{"label": link.get("label", ""), "url": link.get("url", "")} for link in i.links],
        "reuses": [_gid(r) for r in i.reuses_initiative_ids],
        "reusedBy": [_gid(r) for r in i.reused_by_initiative_ids],
        "createdAt": _instant(i.created_at),
        "updatedAt": _instant(i.updated_at),
        "statusChangedAt": _instant(i.status_changed_at),
    }


def _distinct(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def csv_row(r: dict[str, Any], last_modified: str | None) -> list[str]:
    places = r["places"]
    flag = {True: "true", False: "false"}
    return [
        r["id"],
        r["title"],
        r["summary"],
        r["description"],
        r["organisation"]["name"],
        r["organisation"]["slug"],
        JOIN.join(p["name"] for p in r["partners"]),
        JOIN.join(p["slug"] for p in r["partners"]),
        r["area"],
        r["areaLabelSv"],
        r["areaLabelEn"],
        r["status"],
        r["statusLabelSv"],
        r["statusLabelEn"],
        JOIN.join(r["techniques"]),
        r["societalBenefit"],
        r["funder"] or "",
        r["programme"] or "",
        JOIN.join(_distinct(p["municipalityCode"] for p in places)),
        JOIN.join(_distinct(p["municipality"] for p in places)),
        JOIN.join(_distinct(p["countyCode"] for p in places)),
        JOIN.join(_distinct(p["county"] for p in places)),
        r["startsOn"] or "",
        r["endsOn"] or "",
        flag[r["seekingPartners"]],
        flag[r["openToReuse"]],
        JOIN.join(link["url"] for link in r["links"]),
        JOIN.join(r["reuses"]),
        JOIN.join(r["reusedBy"]),
        r["createdAt"] or "",
        r["updatedAt"] or "",
        r["statusChangedAt"] or "",
        OPEN_DATA_LICENCE,
        last_modified or "",
    ]


def geometry(r: dict[str, Any]) -> dict[str, Any] | None:
    """A MultiPoint of the places, [longitude, latitude] as RFC 7946 orders them: a
    municipality's reference point, or a whole county's; null without places."""
    points: list[list[float]] = []
    for p in r["places"]:
        m = municipalities().get(p["municipalityCode"] or "")
        at = m if m is not None else counties().get(p["countyCode"])
        if at is not None and [at.lon, at.lat] not in points:
            points.append([at.lon, at.lat])
    return {"type": "MultiPoint", "coordinates": points} if points else None


def feature(r: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in r.items() if k != "id"}
    return {"type": "Feature", "id": r["id"], "geometry": geometry(r), "properties": properties}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _csv(registry: Registry, first: gc.InitiativeExportPage) -> AsyncIterator[bytes]:
    last_modified = _instant(first.last_modified)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    async for page in _pages(registry, first):
        for r in await registry.records(page):
            writer.writerow(csv_row(r, last_modified))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _head(first: gc.InitiativeExportPage) -> dict[str, Any]:
    return {
        "licence": OPEN_DATA_LICENCE,
        "licenceUrl": OPEN_DATA_LICENCE_URL,
        "lastModified": _instant(first.last_modified),
    }


async def _json_list(
    registry: Registry, first: gc.InitiativeExportPage, opening: str, each: Callable[[dict[str, Any]], Any]
) -> AsyncIterator[bytes]:
    """`opening` then the items as a JSON array's members, then the closing brackets."""
    yield opening.encode("utf-8")
    separator = ""
    async for page in _pages(registry, first):
        chunk = []
        for r in await registry.records(page):
            chunk.append(separator + _dumps(each(r)))
            separator = ","
        yield "".join(chunk).encode("utf-8")
    yield b"]}\n"


async def _json(registry: Registry, first: gc.InitiativeExportPage) -> AsyncIterator[bytes]:
    opening = _dumps(_head(first))[:-1] + ',"initiatives":['
    async for chunk in _json_list(registry, first, opening, lambda r: r):
        yield chunk


async def _geojson(registry: Registry, first: gc.InitiativeExportPage) -> AsyncIterator[bytes]:
    # licence, licenceUrl and lastModified are foreign members (RFC 7946, section 6.1).
    opening = '{"type":"FeatureCollection",' + _dumps(_head(first))[1:-1] + ',"features":['
    async for chunk in _json_list(registry, first, opening, feature):
        yield chunk


async def _pages(registry: Registry, first: gc.InitiativeExportPage) -> AsyncIterator[gc.InitiativeExportPage]:
    """The first page (already read, for the headers) and the rest from the graph service."""
    yield first
    after = first.next_after
    while after is not None:
        page = await registry.page(after)
        yield page
        after = page.next_after


WRITERS = {"csv": _csv, "json": _json, "geojson": _geojson}


def _etag(fmt: str, last_modified: datetime | None) -> str:
    """Changes with the registry to the microsecond (Last-Modified has whole seconds only)."""
    stamp = int(_utc(last_modified).timestamp() * 1_000_000) if last_modified else 0
    return f'W/"{fmt}-{stamp:x}"'


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match when sent, else If-Modified-Since."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        return tags.strip() == "*" or etag in [t.strip() for t in tags.split(",")]
    header = request.headers.get("if-modified-since")
    if not header or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as RFC 9110 says
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return _utc(last_modified).replace(microsecond=0) <= since


def create_open_data_app(graph: Callable[[], GraphClient], page_size: int = EXPORT_PAGE_MAX) -> FastAPI:
    """The open-data documents; `graph` gives the graph service's client (the gateway's,
    which exists once the gateway has started). The registry is read `page_size`
    initiatives at a time."""
    app = FastAPI(title="Hubben open data", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> JSONResponse:
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return JSONResponse(
            {
                "licence": OPEN_DATA_LICENCE,
                "licenceUrl": OPEN_DATA_LICENCE_URL,
                "datasets": [
                    {"format": fmt, "mediaType": MEDIA_TYPES[fmt], "url": f"{base}/initiatives.{fmt}"}
                    for fmt in WRITERS
                ],
            },
            headers={"access-control-allow-origin": "*"},
        )

    @app.api_route("/initiatives.{fmt}", methods=["GET", "HEAD"])
    async def initiatives(fmt: str, request: Request) -> Response:
        if fmt not in WRITERS:
            return JSONResponse({"error": "no such format; choose csv, json or geojson"}, status_code=404)
        registry = Registry(graph(), page_size)
        try:
            first = await registry.page(0)
        except (DomainError, httpx.HTTPError) as exc:
            log.error("open_data.unavailable", error=repr(exc))
            return JSONResponse({"error": "the registry is not answering"}, status_code=503)
        headers = {
            "cache-control": "public, max-age=300",
            "access-control-allow-origin": "*",
            "x-content-type-options": "nosniff",
            "content-disposition": f'inline; filename="hubben-initiatives.{fmt}"',
        }
        headers["etag"] = etag = _etag(fmt, first.last_modified)
        if first.last_modified is not None:
            headers["last-modified"] = format_datetime(_utc(first.last_modified), usegmt=True)
        if _not_modified(request, etag, first.last_modified):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(headers=headers, media_type=MEDIA_TYPES[fmt])
        return StreamingResponse(WRITERS[fmt](registry, first), media_type=MEDIA_TYPES[fmt], headers=headers)

    return app
