"""Typed client of the feed service's API, for the gateway and other services."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

import httpx

from services.feed import contracts as c
from shared.auth import Principal, TokenCodec
from shared.failed_jobs import FailedJobsClient
from shared.pagination import PageRequest
from shared.search_documents import SEARCH_DOCUMENTS_PATH, DocType, DocumentPage, document_query_params
from shared.settings import Settings

Body = dict[str, Any]


def _page(page: PageRequest) -> dict[str, Any]:
    return page.model_dump(exclude_none=True)


def _ids(ids: list[int]) -> dict[str, str]:
    return {"ids": ",".join(str(i) for i in ids)}


class FeedClient(FailedJobsClient):
    NAME = "feed"

    @classmethod
    async def for_settings(
        cls, settings: Settings, codec: TokenCodec, stack: AsyncExitStack, graph: Any
    ) -> tuple[FeedClient, Any]:
        """The feed service these settings name: remote at HUBBEN_FEED_URL, or its app started
        in this process on `graph` (returned too, else None). The stack closes both."""
        feed_app = None
        if settings.feed_url:
            feed = cls.remote(settings.feed_url, codec)
        else:
            from services.feed.api import create_app

            feed_app = create_app(settings, graph)
            await stack.enter_async_context(feed_app.router.lifespan_context(feed_app))
            feed = cls.in_process(feed_app, codec)
        stack.push_async_callback(feed.aclose)
        return feed, feed_app

    async def _get(self, p: Principal, path: str, out: Any, params: dict[str, Any] | None = None) -> Any:
        return await self.call(p, "GET", path, out, params=params)

    # posts
    async def create_post(self, p: Principal, data: c.PostIn | Body) -> c.PostOut:
        return await self.call(p, "POST", "/v1/posts", c.PostOut, json=data)  # type: ignore[no-any-return]

    async def update_post(self, p: Principal, post_id: int, data: c.PostUpdateIn | Body) -> c.PostOut:
        return await self.call(p, "PATCH", f"/v1/posts/{post_id}", c.PostOut, json=data)  # type: ignore[no-any-return]

    async def delete_post(self, p: Principal, post_id: int) -> c.PostOut:
        return await self.call(p, "DELETE", f"/v1/posts/{post_id}", c.PostOut)  # type: ignore[no-any-return]

    async def pin_post(self, p: Principal, post_id: int, pinned: bool) -> c.PostOut:
        path = f"/v1/posts/{post_id}/pinned"
        return await self.call(p, "PUT", path, c.PostOut, json={"pinned": pinned})  # type: ignore[no-any-return]

    async def posts(self, p: Principal, ids: list[int]) -> list[c.PostOut]:
        return await self._get(p, "/v1/posts", list[c.PostOut], _ids(ids))  # type: ignore[no-any-return]

    # events
    async def create_event(self, p: Principal, data: c.EventIn | Body) -> c.EventOut:
        return await self.call(p, "POST", "/v1/events", c.EventOut, json=data)  # type: ignore[no-any-return]

    async def update_event(self, p: Principal, event_id: int, data: c.EventUpdateIn | Body) -> c.EventOut:
        return await self.call(p, "PATCH", f"/v1/events/{event_id}", c.EventOut, json=data)  # type: ignore[no-any-return]

    async def cancel_event(self, p: Principal, event_id: int) -> c.EventOut:
        return await self.call(p, "POST", f"/v1/events/{event_id}/cancel", c.EventOut)  # type: ignore[no-any-return]

    async def events(self, p: Principal, ids: list[int]) -> list[c.EventOut]:
        return await self._get(p, "/v1/events", list[c.EventOut], _ids(ids))  # type: ignore[no-any-return]

    async def upcoming(self, p: Principal, flt: c.UpcomingFilter, page: PageRequest) -> c.EventPage:
        params = {**flt.model_dump(mode="json", exclude_none=True), **_page(page)}
        return await self._get(p, "/v1/events/upcoming", c.EventPage, params)  # type: ignore[no-any-return]

    async def rsvp(self, p: Principal, event_id: int, status: str) -> c.RsvpOut:
        path = f"/v1/events/{event_id}/rsvp"
        return await self.call(p, "POST", path, c.RsvpOut, json={"status": status})  # type: ignore[no-any-return]

    async def my_rsvp(self, p: Principal, event_id: int) -> c.RsvpOut | None:
        return await self._get(p, f"/v1/events/{event_id}/rsvp", c.RsvpOut | None)  # type: ignore[no-any-return]

    async def rsvps(self, p: Principal, event_id: int, status: str | None, page: PageRequest) -> c.RsvpPage:
        params = {"status": status, **_page(page)}
        return await self._get(p, f"/v1/events/{event_id}/rsvps", c.RsvpPage, params)  # type: ignore[no-any-return]

    async def raw(self, p: Principal, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """A non-JSON answer (calendars, syndication feeds), errors mapped as for every call."""
        response = await self.http.get(path, params=params, headers={"authorization": f"Bearer {self._token(p)}"})
        if response.status_code >= 400:
            await self.call(p, "GET", path, None, params=params)  # raises the mapped domain error
        return response

    async def event_ics(self, p: Principal, event_id: int) -> httpx.Response:
        return await self.raw(p, f"/v1/events/{event_id}/ics")

    async def hub_ics(self, p: Principal, hub_id: int, name: str) -> httpx.Response:
        return await self.raw(p, f"/v1/hubs/{hub_id}/ics", {"name": name})

    async def syndication(
        self,
        p: Principal,
        scope: str,
        scope_id: int,
        fmt: str,
        title: str,
        link: str,
        self_url: str,
        description: str,
    ) -> httpx.Response:
        params = {"fmt": fmt, "title": title, "link": link, "self_url": self_url, "description": description[:5000]}
        return await self.raw(p, f"/v1/feeds/{scope}/{scope_id}/syndication", params)

    # feeds
    async def home(self, p: Principal, page: PageRequest) -> c.FeedPage:
        return await self._get(p, "/v1/feeds/home", c.FeedPage, _page(page))  # type: ignore[no-any-return]

    async def hub_feed(self, p: Principal, hub_id: int, page: PageRequest) -> c.FeedPage:
        return await self._get(p, f"/v1/feeds/hub/{hub_id}", c.FeedPage, _page(page))  # type: ignore[no-any-return]

    async def hub_resources(self, p: Principal, hub_id: int, kind: str | None, page: PageRequest) -> c.FeedPage:
        params = {"kind": kind, **_page(page)}
        return await self._get(p, f"/v1/feeds/hub/{hub_id}/resources", c.FeedPage, params)  # type: ignore[no-any-return]

    async def organisation_feed(self, p: Principal, org_id: int, page: PageRequest) -> c.FeedPage:
        return await self._get(p, f"/v1/feeds/organisation/{org_id}", c.FeedPage, _page(page))  # type: ignore[no-any-return]

    async def member_activity(self, p: Principal, member_id: int, page: PageRequest) -> c.FeedPage:
        return await self._get(p, f"/v1/feeds/member/{member_id}", c.FeedPage, _page(page))  # type: ignore[no-any-return]

    async def tag_feed(self, p: Principal, tag: str, page: PageRequest) -> c.FeedPage:
        path = f"/v1/feeds/tag/{quote(tag, safe='')}"
        return await self._get(p, path, c.FeedPage, _page(page))  # type: ignore[no-any-return]

    # initiatives' activity (created, status changed): items of the feeds, made from graph events
    async def initiative_activities(self, p: Principal, ids: list[int]) -> list[c.InitiativeActivityOut]:
        """Those among `ids` the viewer's feeds may show, in the order asked."""
        path = "/v1/initiative-activities"
        return await self._get(p, path, list[c.InitiativeActivityOut], _ids(ids))  # type: ignore[no-any-return]

    # comments and reactions
    async def create_comment(self, p: Principal, data: c.CommentIn | Body) -> c.CommentOut:
        return await self.call(p, "POST", "/v1/comments", c.CommentOut, json=data)  # type: ignore[no-any-return]

    async def update_comment(self, p: Principal, comment_id: int, data: c.CommentUpdateIn | Body) -> c.CommentOut:
        return await self.call(p, "PATCH", f"/v1/comments/{comment_id}", c.CommentOut, json=data)  # type: ignore[no-any-return]

    async def delete_comment(self, p: Principal, comment_id: int) -> c.CommentOut:
        return await self.call(p, "DELETE", f"/v1/comments/{comment_id}", c.CommentOut)  # type: ignore[no-any-return]

    async def comments(
        self, p: Principal, target_type: str, target_id: int, parent_id: int | None, page: PageRequest
    ) -> c.CommentPage:
        params = {"target_type": target_type, "target_id": target_id, "parent_id": parent_id, **_page(page)}
        return await self._get(p, "/v1/comments", c.CommentPage, params)  # type: ignore[no-any-return]

    async def comments_by_ids(self, p: Principal, ids: list[int]) -> list[c.CommentOut]:
        return await self._get(p, "/v1/comments/batch", list[c.CommentOut], _ids(ids))  # type: ignore[no-any-return]

    async def react(self, p: Principal, data: c.ReactionIn | Body) -> c.ReactionSummary:
        return await self.call(p, "POST", "/v1/reactions", c.ReactionSummary, json=data)  # type: ignore[no-any-return]

    async def unreact(self, p: Principal, data: c.ReactionTargetIn | Body) -> c.ReactionSummary:
        return await self.call(p, "POST", "/v1/reactions/delete", c.ReactionSummary, json=data)  # type: ignore[no-any-return]

    async def viewer_reactions(self, p: Principal, target_type: str, ids: list[int]) -> dict[int, str]:
        body = {"target_type": target_type, "ids": ids}
        return await self.call(p, "POST", "/v1/reactions/viewer", dict[int, str], json=body)  # type: ignore[no-any-return]

    # search (services only)
    async def search_documents(
        self,
        p: Principal,
        doc_type: DocType | str,
        *,
        ids: list[int] | None = None,
        after: int | None = None,
        limit: int | None = None,
        hub_id: int | None = None,
    ) -> DocumentPage:
        """Posts or events for the search index: by `ids`, or the export page after `after`
        (of one hub's items, with `hub_id`)."""
        params = document_query_params(doc_type, ids, after, limit, hub_id)
        return await self.call(p, "GET", SEARCH_DOCUMENTS_PATH, DocumentPage, params=params)  # type: ignore[no-any-return]

    # moderation (the moderation service and platform moderators only)
    async def moderation_content(self, p: Principal, target_type: str, target_id: int) -> c.ContentSnapshot:
        """A post, event or comment as published, hidden or removed ones too."""
        path = f"/v1/moderation/{quote(target_type, safe='')}/{target_id}"
        return await self._get(p, path, c.ContentSnapshot)  # type: ignore[no-any-return]

    async def _moderate(
        self, p: Principal, action: str, target_type: str, target_id: int, reason: str
    ) -> c.ContentSnapshot:
        path = f"/v1/moderation/{quote(target_type, safe='')}/{target_id}/{action}"
        return await self.call(p, "POST", path, c.ContentSnapshot, json={"reason": reason})  # type: ignore[no-any-return]

    async def hide_content(self, p: Principal, target_type: str, target_id: int, reason: str) -> c.ContentSnapshot:
        """Hide from everyone, the author too, until restored (idempotent)."""
        return await self._moderate(p, "hide", target_type, target_id, reason)

    async def restore_content(self, p: Principal, target_type: str, target_id: int, reason: str) -> c.ContentSnapshot:
        """Show a hidden item again (idempotent); a removed one: BadUserInput."""
        return await self._moderate(p, "restore", target_type, target_id, reason)

    async def remove_content(self, p: Principal, target_type: str, target_id: int, reason: str) -> c.ContentSnapshot:
        """Delete for good, as the author would (idempotent)."""
        return await self._moderate(p, "remove", target_type, target_id, reason)

    async def author_content(self, p: Principal, member_id: int, limit: int = 10) -> list[c.ContentSnapshot]:
        """The member's latest posts, events and comments (1..50), hidden and removed ones too, newest first."""
        path = f"/v1/moderation/authors/{member_id}/content"
        return await self._get(p, path, list[c.ContentSnapshot], {"limit": limit})  # type: ignore[no-any-return]

    # mail
    async def unsubscribe(self, p: Principal, member_id: int, kind: str) -> c.UnsubscribedOut:
        """Turn off a kind's mail ("digest": the daily digest) for the member of a checked unsubscribe link."""
        body = {"member_id": member_id, "kind": kind}
        return await self.call(p, "POST", "/v1/mail/unsubscribe", c.UnsubscribedOut, json=body)  # type: ignore[no-any-return]

    # notifications
    async def notifications(self, p: Principal, unread_only: bool, page: PageRequest) -> c.NotificationPage:
        params = {"unread_only": str(unread_only).lower(), **_page(page)}
        return await self._get(p, "/v1/notifications", c.NotificationPage, params)  # type: ignore[no-any-return]

    async def notifications_by_ids(self, p: Principal, ids: list[int]) -> list[c.NotificationOut]:
        return await self._get(p, "/v1/notifications/batch", list[c.NotificationOut], _ids(ids))  # type: ignore[no-any-return]

    async def unread_notifications_count(self, p: Principal) -> int:
        out = await self._get(p, "/v1/notifications/unread-count", c.UnreadCountOut)
        return out.count  # type: ignore[no-any-return]

    async def mark_notifications_read(self, p: Principal, data: c.MarkReadIn | Body) -> c.MarkReadOut:
        return await self.call(p, "POST", "/v1/notifications/read", c.MarkReadOut, json=data)  # type: ignore[no-any-return]

    async def notification_preferences(self, p: Principal) -> list[c.PreferenceOut]:
        return await self._get(p, "/v1/notifications/preferences", list[c.PreferenceOut])  # type: ignore[no-any-return]

    async def set_notification_preference(self, p: Principal, data: c.PreferenceIn | Body) -> c.PreferenceOut:
        return await self.call(p, "PUT", "/v1/notifications/preferences", c.PreferenceOut, json=data)  # type: ignore[no-any-return]

    async def set_bell(self, p: Principal, data: c.BellIn | Body) -> c.BellOut:
        return await self.call(p, "PUT", "/v1/notifications/bells", c.BellOut, json=data)  # type: ignore[no-any-return]

    async def bells(self, p: Principal, target_type: str, ids: list[int]) -> list[c.BellOut]:
        params = {"target_type": target_type, **_ids(ids)}
        return await self._get(p, "/v1/notifications/bells", list[c.BellOut], params)  # type: ignore[no-any-return]
