"""Typed client of the search service's API, for the gateway."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from services.search import contracts as c
from shared.auth import Principal, TokenCodec
from shared.failed_jobs import FailedJobsClient
from shared.settings import Settings


class SearchClient(FailedJobsClient):
    NAME = "search"

    @classmethod
    async def for_settings(
        cls, settings: Settings, codec: TokenCodec, stack: AsyncExitStack, graph: Any, feed: Any
    ) -> tuple[SearchClient, Any]:
        """The search service these settings name: remote at HUBBEN_SEARCH_URL, or its app
        started in this process on `graph` and `feed` (returned too, else None)."""
        search_app = None
        if settings.search_url:
            search = cls.remote(settings.search_url, codec)
        else:
            from services.search.api import create_app

            search_app = create_app(settings, graph, feed)
            await stack.enter_async_context(search_app.router.lifespan_context(search_app))
            search = cls.in_process(search_app, codec)
        stack.push_async_callback(search.aclose)
        return search, search_app

    async def search(self, p: Principal, data: c.SearchIn) -> c.SearchOut:
        return await self.call(p, "POST", "/v1/search", c.SearchOut, json=data)  # type: ignore[no-any-return]

    async def suggest(self, p: Principal, data: c.SuggestIn) -> c.SuggestOut:
        return await self.call(p, "POST", "/v1/suggest", c.SuggestOut, json=data)  # type: ignore[no-any-return]
