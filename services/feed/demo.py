"""Demo posts and events for the embedded default, published through the feed service's
API as the demo members, once the graph demo data exists."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.feed.client import FeedClient
from services.graph.client import GraphClient
from shared.auth import ANONYMOUS, SCOPES, Principal
from shared.errors import NotFound
from shared.pagination import PageRequest

POSTS = [
    (
        "erik_nilsson",
        "update",
        None,
        None,
        "Välkommen till **Kraftsamlingen**! Här delar kommuner och civilsamhälle erfarenheter av AI. "
        "Presentera dig gärna och tagga med #kraftsamlingen.",
    ),
    (
        "anna_lindqvist",
        "question",
        None,
        None,
        "Har någon kommun använt språkmodeller i kundtjänsten? Vi i Göteborg utvärderar nu, "
        "och @sara_holm tipsade om att Umeå testat. #språkmodeller #kundtjänst",
    ),
    (
        "sara_holm",
        "resource",
        "Checklista för AI-piloter i skolan",
        "https://www.ai.se/",
        "Vår checklista för att komma igång med AI-piloter i skolan, fri att återanvända. #skola #AI-etik",
    ),
    (
        "fatima_ali",
        "article",
        "Klarspråk och AI",
        None,
        "Hur vi använder AI för att skriva begripligt till våra medlemmar, och var vi drog gränsen. #klarspråk",
    ),
]


def _as(member_id: int) -> Principal:
    return Principal(member_id=member_id, roles=("member",), scopes=SCOPES, token_kind="jwt")


async def seed_if_empty(feed: FeedClient, graph: GraphClient) -> bool:
    try:
        hub = await graph.hub_by_slug(ANONYMOUS, "kraftsamlingen")
    except NotFound:
        return False
    if (await feed.hub_feed(ANONYMOUS, hub.id, PageRequest(first=1))).items:
        return False
    handles = {p[0] for p in POSTS}
    members = {m.handle: m.id for m in await graph.members_by_handles(ANONYMOUS, sorted(handles))}
    for handle, kind, title, url, body in POSTS:
        data = {"hub_id": hub.id, "kind": kind, "body": body, "title": title, "url": url}
        await feed.create_post(_as(members[handle]), {k: v for k, v in data.items() if v is not None})
    stockholm = ZoneInfo("Europe/Stockholm")
    start = (datetime.now(stockholm) + timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
    await feed.create_event(
        _as(members["erik_nilsson"]),
        {
            "hub_id": hub.id,
            "organisation_id": hub.organisation_id,
            "title": "Kraftsamlingens nätverksträff",
            "description": "Erfarenhetsutbyte om AI i kommunal verksamhet. Fika från 9.30.",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
            "location": "Lindholmen Science Park, Göteborg",
            "online_url": "https://www.ai.se/",
            "municipality_code": "1480",
            "capacity": 40,
        },
    )
    return True
