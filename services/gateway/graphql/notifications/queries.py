from __future__ import annotations

import strawberry

from services.feed import contracts as fc
from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, page_request
from services.gateway.graphql.notifications.types import Notification, NotificationBell, NotificationPreference
from shared.errors import BadUserInput
from shared.ids import InvalidGlobalId, from_global_id

MAX_BELLS = 100
BELL_TYPES = {"Hub": fc.BellTarget.hub, "Organisation": fc.BellTarget.organisation}


def bell_target(global_id: str, field: str = "targetId") -> tuple[fc.BellTarget, int]:
    try:
        kind, raw = from_global_id(str(global_id))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field=field) from exc
    if kind not in BELL_TYPES:
        raise BadUserInput("bells ring for hubs and organisations only", field=field)
    return BELL_TYPES[kind], raw


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        description="The viewer's notifications, newest first; a group gaining an actor moves up, unread again."
    )
    async def notifications(
        self,
        info: Info,
        unread_only: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Notification]:
        page = await info.context.feed.notifications(
            info.context.viewer, unread_only, page_request(first, after, last, before)
        )
        return connection(page, [Notification.from_out(n) for n in page.items])

    @strawberry.field(description=f"The viewer's unread notifications, counted up to {fc.UNREAD_CAP}.")
    async def unread_notifications_count(self, info: Info) -> int:
        return await info.context.feed.unread_notifications_count(info.context.viewer)

    @strawberry.field(description="How the viewer hears of each kind of notification (defaults included).")
    async def notification_preferences(self, info: Info) -> list[NotificationPreference]:
        return [
            NotificationPreference.from_out(p)
            for p in await info.context.feed.notification_preferences(info.context.viewer)
        ]

    @strawberry.field(
        description=f"Whether the viewer's bell is on for these hubs and organisations (up to {MAX_BELLS})."
    )
    async def notification_bells(self, info: Info, target_ids: list[strawberry.ID]) -> list[NotificationBell]:
        if len(target_ids) > MAX_BELLS:
            raise BadUserInput(f"at most {MAX_BELLS} ids", field="targetIds")
        targets = [bell_target(t, "targetIds") for t in target_ids]
        on: dict[tuple[str, int], bool] = {}
        for target_type in {t for t, _ in targets}:
            ids = [i for t, i in targets if t == target_type]
            for bell in await info.context.feed.bells(info.context.viewer, target_type.value, ids):
                on[(bell.target_type, bell.target_id)] = bell.on
        return [
            NotificationBell.from_out(fc.BellOut(target_type=t.value, target_id=i, on=on.get((t.value, i), False)))
            for t, i in targets
        ]
