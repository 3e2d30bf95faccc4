"""Kommunkartan, the public map of AI initiatives (/karta, mounted by the gateway): Swedish by
default, English with ?lang=en. Server-rendered from the GraphQL API like the admin panel, so
the filters (a GET form), the table of municipalities and each municipality's initiatives
work without JavaScript; static/karta.js draws the map (Leaflet, vendored) from the same
numbers, embedded in the page, and lists a municipality's initiatives from GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from services.graph.contracts import InitiativeArea, InitiativeStatus
from services.web import i18n
from services.web.app import HERE, SecurityHeaders, map_security_headers, templates
from services.web.gql import GRAPHQL_PATH, GatewayClient, GraphQLFailure
from shared.geo import municipalities
from shared.settings import Settings

LANG_COOKIE = "hubben_lang"
PAGE_SIZE = 20
MAX_TECHNIQUE = 40
MAX_CURSOR = 200
# Suggestions for the technique field; any technique an initiative names can be typed.
TECHNIQUES = ("språkmodeller", "bildanalys", "prognoser", "optimering", "taligenkänning", "maskininlärning")

VOCABULARY = """initiativeAreas { value label(language: $lang) }
  initiativeStatuses { value label(language: $lang) }"""
MAP = f"""query($filter: InitiativeMapFilter, $lang: Language!) {{
  initiativeMap(filter: $filter) {{ total
    municipalities {{ count municipality {{ code name latitude longitude county {{ code name }} }} }}
    counties {{ count county {{ code name }} }} }}
  {VOCABULARY} }}"""
MUNICIPALITY = f"""query($code: String!, $filter: InitiativeMapFilter, $after: String, $lang: Language!) {{
  municipalityInitiatives(code: $code, filter: $filter, first: {PAGE_SIZE}, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    nodes {{ id title summary areaLabel(language: $lang) statusLabel(language: $lang) techniques
      funder programme startsOn endsOn seekingPartners openToReuse
      organisation {{ name }} partners {{ name }} }} }}
  {VOCABULARY} }}"""


# Å, Ä and Ö come last, in that order, as in a Swedish dictionary.
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "é": "e", "ü": "y"})


def swedish(name: str) -> str:
    """A sort key that orders names as Swedish does."""
    return name.lower().translate(_SWEDISH_ORDER)


class MapError(Exception):
    """A refusal shown as the map's error page (400, 404, 502...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Filters:
    """The map's filters as the URL has them: area and status codes (lower case), a technique."""

    area: str | None = None
    status: str | None = None
    technique: str | None = None

    def graphql(self) -> dict[str, str] | None:
        out = {
            "area": self.area.upper() if self.area else None,
            "status": self.status.upper() if self.status else None,
            "technique": self.technique,
        }
        kept = {k: v for k, v in out.items() if v}
        return kept or None

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("area", self.area), ("status", self.status), ("technique", self.technique)) if v}

    @property
    def any(self) -> bool:
        return bool(self.query())


@dataclass
class MapPage:
    """One request to the map: its language, filters and the GraphQL calls made for it."""

    request: Request
    settings: Settings
    gateway: GatewayClient
    env: Any

    @property
    def lang(self) -> str:
        chosen = self.request.query_params.get("lang") or self.request.cookies.get(LANG_COOKIE)
        if chosen in i18n.LANGUAGES:
            return str(chosen)
        return i18n.negotiate(self.request.headers.get("accept-language", ""))

    def _(self, message: str, **variables: Any) -> str:
        text = i18n.translate(self.lang, message)
        return text % variables if variables else text

    @property
    def root(self) -> str:
        return str(self.request.scope.get("root_path", "")).rstrip("/")

    def url(self, path: str, **query: Any) -> str:
        """A path of the map ("/kommun/0180") as the browser addresses it ("/karta/kommun/0180?...")."""
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return self.root + path + ("?" + urlencode(params) if params else "")

    def language_url(self, lang: str) -> str:
        query = dict(self.request.query_params)
        query["lang"] = lang
        return self.request.url.path + "?" + urlencode(query)

    @property
    def site(self) -> str:
        """The gateway's root as the browser addresses it (where /open-data and /graphql are)."""
        if self.settings.gateway_url and not self.request.app.state.in_gateway:
            return self.settings.gateway_url.rstrip("/")
        return self.root.removesuffix(self.request.app.state.mount)

    @property
    def graphql_url(self) -> str:
        """Where the browser sends its GraphQL: the gateway this app is mounted in, or the
        one HUBBEN_GATEWAY_URL names."""
        return self.site + GRAPHQL_PATH

    def filters(self) -> Filters:
        q = self.request.query_params
        area = (q.get("area") or "").strip().lower() or None
        status = (q.get("status") or "").strip().lower() or None
        technique = " ".join((q.get("technique") or "").split()).lstrip("#") or None
        if area is not None and area not in {a.value for a in InitiativeArea}:
            raise MapError(400, self._("There is no area “%(value)s”. Choose one from the list.", value=area[:60]))
        if status is not None and status not in {s.value for s in InitiativeStatus}:
            raise MapError(400, self._("There is no status “%(value)s”. Choose one from the list.", value=status[:60]))
        if technique is not None and len(technique) > MAX_TECHNIQUE:
            raise MapError(400, self._("A technique is at most %(n)s characters.", n=MAX_TECHNIQUE))
        return Filters(area, status, technique)

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        client_ip = self.request.client.host if self.request.client else None
        try:
            return await self.gateway.execute(
                query, {**variables, "lang": self.lang.upper()}, token=None, client_ip=client_ip
            )
        except GraphQLFailure as exc:
            if exc.code == "BAD_USER_INPUT":
                message = self._("The page link is not valid.") if exc.field == "after" else exc.message
                raise MapError(400, message) from exc
            if exc.code == "NOT_FOUND":
                raise MapError(404, self._("Not found.")) from exc
            if exc.code == "RATE_LIMITED":
                raise MapError(429, self._("Too many requests. Please wait a moment.")) from exc
            raise MapError(502, self._("The service is not answering. Please try again shortly.")) from exc

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("municipality_view", template != "karta/map.html")
        html = self.env.get_template(template).render(p=self, lang=self.lang, **context)
        response = HTMLResponse(html, status_code=status)
        chosen = self.request.query_params.get("lang")
        if chosen in i18n.LANGUAGES and chosen != self.request.cookies.get(LANG_COOKIE):
            response.set_cookie(LANG_COOKIE, chosen, path=self.root or "/", samesite="lax", max_age=365 * 86_400)
        return response


def _labels(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(URL code, label) pairs from GraphQL's vocabulary entries."""
    return [(str(e["value"]).lower(), str(e["label"])) for e in entries]


def _client_messages(p: MapPage) -> dict[str, str]:
    """What karta.js says, in the page's language."""
    return {
        "map": p._("Map of Sweden with AI initiatives per municipality"),
        "marker": p._("%(name)s: %(count)s initiatives"),
        "markerOne": p._("%(name)s: 1 initiative"),
        "inView": p._("Municipalities in the map's view"),
        "noneInView": p._("No municipality with initiatives in this view. Zoom out or move the map."),
        "initiativesIn": p._("Initiatives in %(name)s"),
        "loading": p._("Loading…"),
        "failed": p._("The initiatives could not be loaded."),
        "showAll": p._("All %(count)s initiatives in %(name)s"),
        "openPage": p._("Open as a page"),
        "back": p._("Back to the municipalities in view"),
        "organisation": p._("Organisation"),
        "area": p._("Area"),
        "status": p._("Status"),
        "noTiles": p._("The background map is not available; the markers and the table still work."),
    }


def _map_data(p: MapPage, filters: Filters, rows: list[dict[str, Any]]) -> dict[str, Any]:
    s = p.settings
    tiles = None
    if s.map_tile_url:
        tiles = {
            "url": s.map_tile_url,
            "attribution": s.map_tile_attribution,
            "attributionUrl": s.map_tile_attribution_url,
        }
    return {
        "graphql": p.graphql_url,
        "lang": p.lang.upper(),
        "filter": filters.graphql(),
        "municipalityUrl": p.url("/kommun/"),
        "query": ("?" + urlencode(filters.query())) if filters.any else "",
        "tiles": tiles,
        "markers": [
            {
                "code": r["municipality"]["code"],
                "name": r["municipality"]["name"],
                "county": r["municipality"]["county"]["name"],
                "lat": r["municipality"]["latitude"],
                "lon": r["municipality"]["longitude"],
                "count": r["count"],
            }
            for r in rows
        ],
        "messages": _client_messages(p),
    }


async def map_page(p: MapPage) -> Response:
    filters = p.filters()
    code = (p.request.query_params.get("kommun") or "").strip()
    if code:
        return RedirectResponse(p.url(f"/kommun/{code}", **filters.query()), status_code=303)
    data = await p.gql(MAP, {"filter": filters.graphql()})
    found = data["initiativeMap"]
    rows = sorted(found["municipalities"], key=lambda r: (-r["count"], swedish(r["municipality"]["name"])))
    counties = sorted(found["counties"], key=lambda r: r["county"]["code"])
    return p.render(
        "karta/map.html",
        filters=filters,
        total=found["total"],
        rows=rows,
        counties=counties,
        areas=_labels(data["initiativeAreas"]),
        statuses=_labels(data["initiativeStatuses"]),
        techniques=TECHNIQUES,
        data=_map_data(p, filters, rows),
    )


async def municipality_page(p: MapPage, code: str) -> Response:
    municipality = municipalities().get(code)
    if municipality is None:
        raise MapError(404, p._("There is no municipality with the code %(code)s.", code=code[:10]))
    filters = p.filters()
    after = p.request.query_params.get("after") or None
    if after is not None and len(after) > MAX_CURSOR:
        raise MapError(400, p._("The page link is not valid."))
    data = await p.gql(MUNICIPALITY, {"code": code, "filter": filters.graphql(), "after": after})
    return p.render(
        "karta/municipality.html",
        municipality=municipality,
        filters=filters,
        found=data["municipalityInitiatives"],
        after=after,
        areas=dict(_labels(data["initiativeAreas"])),
        statuses=dict(_labels(data["initiativeStatuses"])),
    )


def create_karta_app(settings: Settings, gateway: ASGIApp | None = None, mount: str = "/karta") -> FastAPI:
    """The map; `gateway` is the gateway app to call in-process (and that serves the
    browser's GraphQL), else settings.gateway_url. `mount` is where the gateway mounts it."""
    client = GatewayClient(settings, gateway)
    env = templates()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Runs only when the map is its own app; mounted, it lives as long as the gateway.
        yield
        await client.aclose()

    app = FastAPI(title="Kommunkartan", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.in_gateway = gateway is not None
    app.state.mount = mount
    external = None
    if gateway is None and settings.gateway_url:
        parts = urlsplit(settings.gateway_url)
        external = f"{parts.scheme}://{parts.netloc}"
    app.add_middleware(SecurityHeaders, headers=map_security_headers(settings, external))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page_of(request: Request) -> MapPage:
        return MapPage(request, settings, client, env)

    @app.get("/")
    async def karta(request: Request) -> Response:
        return await map_page(page_of(request))

    @app.get("/kommun/{code}")
    async def kommun(code: str, request: Request) -> Response:
        return await municipality_page(page_of(request), code)

    @app.exception_handler(MapError)
    async def _refused(request: Request, exc: MapError) -> Response:
        return page_of(request).render(
            "karta/error.html", status=exc.status, status_code=exc.status, message=exc.message
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        p = page_of(request)
        message = p._("Not found.") if exc.status_code == 404 else str(exc.detail)
        return p.render("karta/error.html", status=exc.status_code, status_code=exc.status_code, message=message)

    return app
