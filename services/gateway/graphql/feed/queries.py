from __future__ import annotations

from datetime import datetime

import strawberry

from services.feed import contracts as fc
from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, decode_id, page_request
from services.gateway.graphql.feed.types import Event, FeedItemConnection, feed_page
from shared.errors import BadUserInput
from shared.geo import counties


async def upcoming_events(
    info: Info,
    *,
    hub_id: int | None = None,
    organisation_id: int | None = None,
    county_code: str | None = None,
    starts_after: datetime | None = None,
    starts_before: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Event]:
    if county_code is not None and county_code not in counties():
        raise BadUserInput("unknown county code", field="countyCode")
    for name, value in (("startsAfter", starts_after), ("startsBefore", starts_before)):
        if value is not None and value.tzinfo is None:
            raise BadUserInput("give the time with its time zone offset", field=name)
    flt = fc.UpcomingFilter(
        hub_id=hub_id,
        organisation_id=organisation_id,
        county_code=county_code,
        starts_after=starts_after,
        starts_before=starts_before,
    )
    page = await info.context.feed.upcoming(info.context.viewer, flt, page_request(first, after, last, before))
    return connection(page, [Event.from_out(e) for e in page.items])


@strawberry.type
class FeedQuery:
    @strawberry.field(description="Everything from the hubs, organisations and members you follow, newest first.")
    async def home_feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnection:
        page = await info.context.feed.home(info.context.viewer, page_request(first, after, last, before))
        return await feed_page(info, page)

    @strawberry.field(description="Posts carrying a #tag, newest first.")
    async def tag_feed(
        self,
        info: Info,
        tag: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnection:
        if not 1 <= len(tag.strip().lstrip("#")) <= 40:
            raise BadUserInput("tags are 1–40 characters", field="tag")
        page = await info.context.feed.tag_feed(info.context.viewer, tag, page_request(first, after, last, before))
        return await feed_page(info, page)

    @strawberry.field(description="Events not yet over, soonest first; filter by hub, organisation, county, dates.")
    async def upcoming_events(
        self,
        info: Info,
        hub_id: strawberry.ID | None = None,
        organisation_id: strawberry.ID | None = None,
        county_code: str | None = None,
        starts_after: datetime | None = None,
        starts_before: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        return await upcoming_events(
            info,
            hub_id=decode_id(hub_id, "Hub", "hubId") if hub_id is not None else None,
            organisation_id=(
                decode_id(organisation_id, "Organisation", "organisationId") if organisation_id is not None else None
            ),
            county_code=county_code,
            starts_after=starts_after,
            starts_before=starts_before,
            first=first,
            after=after,
            last=last,
            before=before,
        )
