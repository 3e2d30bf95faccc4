"""Reading notifications, choosing how to hear of them, and bells."""

from __future__ import annotations

import strawberry

from services.feed import contracts as fc
from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, decode_id
from services.gateway.graphql.notifications.queries import bell_target
from services.gateway.graphql.notifications.types import (
    Notification,
    NotificationBell,
    NotificationEmail,
    NotificationKind,
    NotificationPreference,
)
from shared.errors import BadUserInput


@strawberry.input(description="Pass the ids of notifications to mark read, or all: true for every one.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Up to 100 of your notifications.")
    all: bool = False


@strawberry.type
class MarkNotificationsReadPayload:
    notifications: list[Notification] = strawberry.field(description="Those marked by ids, as they are now.")
    unread_count: int | None
    user_errors: list[UserError]


@strawberry.input(description="Only what you pass changes.")
class SetNotificationPreferenceInput:
    kind: NotificationKind  # type: ignore[valid-type]
    in_app: bool | None = strawberry.UNSET
    email: NotificationEmail | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.type
class NotificationPreferencePayload:
    preference: NotificationPreference | None
    user_errors: list[UserError]


@strawberry.input
class SetBellInput:
    target_id: strawberry.ID = strawberry.field(description="A Hub or an Organisation.")
    on: bool


@strawberry.type
class NotificationBellPayload:
    bell: NotificationBell | None
    user_errors: list[UserError]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark some of your notifications read (someone else's are not found), or all.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        ctx = info.context

        async def work() -> tuple[fc.MarkReadOut, list[fc.NotificationOut]]:
            ids = [decode_id(i, "Notification", "ids") for i in input.ids or []]
            if input.all and ids:
                raise BadUserInput("pass ids or all, not both", field="ids")
            if not input.all and not ids:
                raise BadUserInput("pass the ids to mark read, or all: true", field="ids")
            out = await ctx.feed.mark_notifications_read(ctx.viewer, {"ids": ids, "all": input.all})
            marked = await ctx.feed.notifications_by_ids(ctx.viewer, out.ids) if out.ids else []
            return out, marked

        result, errors = await attempt(work)
        if result is None:
            return MarkNotificationsReadPayload(notifications=[], unread_count=None, user_errors=errors)
        out, marked = result
        return MarkNotificationsReadPayload(
            notifications=[Notification.from_out(n) for n in marked], unread_count=out.unread_count, user_errors=[]
        )

    @strawberry.mutation(description="Choose whether a kind of notification shows in the app, and how it mails.")
    async def set_notification_preference(
        self, info: Info, input: SetNotificationPreferenceInput
    ) -> NotificationPreferencePayload:
        ctx = info.context
        body: dict[str, object] = {"kind": input.kind.value}  # type: ignore[attr-defined]
        if input.in_app is not strawberry.UNSET and input.in_app is not None:
            body["in_app"] = input.in_app
        if input.email is not strawberry.UNSET and input.email is not None:
            body["email"] = input.email.value  # type: ignore[attr-defined]
        preference, errors = await attempt(lambda: ctx.feed.set_notification_preference(ctx.viewer, body))
        return NotificationPreferencePayload(
            preference=NotificationPreference.from_out(preference) if preference else None, user_errors=errors
        )

    @strawberry.mutation(description="Turn the bell of a hub or organisation on or off: hear of every new item.")
    async def set_bell(self, info: Info, input: SetBellInput) -> NotificationBellPayload:
        ctx = info.context

        async def work() -> fc.BellOut:
            target_type, target_id = bell_target(input.target_id)
            body = {"target_type": target_type.value, "target_id": target_id, "on": input.on}
            return await ctx.feed.set_bell(ctx.viewer, body)

        bell, errors = await attempt(work)
        return NotificationBellPayload(bell=NotificationBell.from_out(bell) if bell else None, user_errors=errors)
