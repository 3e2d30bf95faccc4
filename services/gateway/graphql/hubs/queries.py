from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, decode_id, page_request
from services.gateway.graphql.hubs.types import Hub
from services.graph import contracts as gc
from services.graph.contracts import SLUG_RE
from shared.errors import BadUserInput, NotFound


@strawberry.type
class HubQuery:
    @strawberry.field(description="A hub by slug; members-only hubs are null for anyone outside them.")
    async def hub(self, info: Info, slug: str) -> Hub | None:
        if len(slug) > 60:
            raise BadUserInput("slugs are at most 60 characters", field="slug")
        if not SLUG_RE.match(slug.strip().lower()):
            return None  # no hub has this slug, and it must not reach the service's URL path
        try:
            return Hub.from_out(await info.context.graph.hub_by_slug(info.context.viewer, slug))
        except NotFound:
            return None

    @strawberry.field(description="Hubs the viewer may see, oldest first, optionally of one organisation.")
    async def hubs(
        self,
        info: Info,
        organisation_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Hub]:
        org = decode_id(organisation_id, "Organisation", "organisationId") if organisation_id else None
        page = await info.context.graph.hubs(
            info.context.viewer, gc.HubFilter(organisation_id=org), page_request(first, after, last, before)
        )
        return connection(page, [Hub.from_out(h) for h in page.items])
