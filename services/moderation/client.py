"""Typed client of the moderation service's API, for the gateway."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from services.feed.contracts import ContentSnapshot
from services.moderation import contracts as c
from shared.auth import Principal, TokenCodec
from shared.client import ServiceClient
from shared.pagination import PageRequest
from shared.settings import Settings


def _query(page: PageRequest, flt: Any = None) -> dict[str, Any]:
    params = page.model_dump(exclude_none=True)
    if flt is not None:
        params.update(flt.model_dump(mode="json", exclude_none=True))
    return params


class ModerationClient(ServiceClient):
    NAME = "moderation"

    @classmethod
    async def for_settings(
        cls, settings: Settings, codec: TokenCodec, stack: AsyncExitStack, graph_app: Any, feed_app: Any
    ) -> tuple[ModerationClient, Any]:
        """The moderation service these settings name: remote at HUBBEN_MODERATION_URL, or its
        app started in this process beside the graph and feed apps given (returned too)."""
        moderation_app = None
        if settings.moderation_url:
            client = cls.remote(settings.moderation_url, codec)
        else:
            from services.moderation.api import create_app

            moderation_app = create_app(settings, graph_app, feed_app)
            await stack.enter_async_context(moderation_app.router.lifespan_context(moderation_app))
            client = cls.in_process(moderation_app, codec)
        stack.push_async_callback(client.aclose)
        return client, moderation_app

    async def capabilities(self, p: Principal) -> c.CapabilitiesOut:
        return await self.call(p, "GET", "/v1/capabilities", c.CapabilitiesOut)  # type: ignore[no-any-return]

    async def file_report(self, p: Principal, data: c.ReportIn) -> c.FiledReportOut:
        return await self.call(p, "POST", "/v1/reports", c.FiledReportOut, json=data)  # type: ignore[no-any-return]

    async def cases(self, p: Principal, flt: c.CaseFilter, page: PageRequest) -> c.CasePage:
        return await self.call(p, "GET", "/v1/cases", c.CasePage, params=_query(page, flt))  # type: ignore[no-any-return]

    async def case(self, p: Principal, case_id: int) -> c.CaseOut:
        return await self.call(p, "GET", f"/v1/cases/{case_id}", c.CaseOut)  # type: ignore[no-any-return]

    async def my_cases(self, p: Principal, page: PageRequest) -> c.CasePage:
        return await self.call(p, "GET", "/v1/my-cases", c.CasePage, params=_query(page))  # type: ignore[no-any-return]

    async def my_case(self, p: Principal, case_id: int) -> c.CaseOut:
        return await self.call(p, "GET", f"/v1/my-cases/{case_id}", c.CaseOut)  # type: ignore[no-any-return]

    async def case_reports(self, p: Principal, case_id: int, page: PageRequest) -> c.ReportPage:
        path = f"/v1/cases/{case_id}/reports"
        return await self.call(p, "GET", path, c.ReportPage, params=_query(page))  # type: ignore[no-any-return]

    async def claim(self, p: Principal, case_id: int, data: c.ClaimIn) -> c.CaseOut:
        return await self.call(p, "POST", f"/v1/cases/{case_id}/claim", c.CaseOut, json=data)  # type: ignore[no-any-return]

    async def decide(self, p: Principal, case_id: int, data: c.DecisionIn) -> c.CaseOut:
        return await self.call(p, "POST", f"/v1/cases/{case_id}/decisions", c.CaseOut, json=data)  # type: ignore[no-any-return]

    async def appeal(self, p: Principal, case_id: int, data: c.AppealIn) -> c.CaseOut:
        return await self.call(p, "POST", f"/v1/cases/{case_id}/appeal", c.CaseOut, json=data)  # type: ignore[no-any-return]

    async def moderate_member(self, p: Principal, member_id: int, data: c.DecisionIn) -> c.DecisionOut:
        path = f"/v1/members/{member_id}/decisions"
        return await self.call(p, "POST", path, c.DecisionOut, json=data)  # type: ignore[no-any-return]

    async def history(self, p: Principal, member_id: int) -> c.HistoryOut:
        return await self.call(p, "GET", f"/v1/members/{member_id}/history", c.HistoryOut)  # type: ignore[no-any-return]

    async def recent_content(self, p: Principal, member_id: int, limit: int) -> list[ContentSnapshot]:
        path = f"/v1/members/{member_id}/content"
        return await self.call(p, "GET", path, list[ContentSnapshot], params={"limit": limit})  # type: ignore[no-any-return]

    async def history_decisions(self, p: Principal, member_id: int, page: PageRequest) -> c.DecisionPage:
        path = f"/v1/members/{member_id}/decisions"
        return await self.call(p, "GET", path, c.DecisionPage, params=_query(page))  # type: ignore[no-any-return]

    async def moderate_organisation(self, p: Principal, org_id: int, data: c.OrganisationDecisionIn) -> c.DecisionOut:
        path = f"/v1/organisations/{org_id}/decisions"
        return await self.call(p, "POST", path, c.DecisionOut, json=data)  # type: ignore[no-any-return]

    async def appoint_hub_moderator(self, p: Principal, hub_id: int, data: c.HubModeratorIn) -> c.DecisionOut:
        path = f"/v1/hubs/{hub_id}/moderators"
        return await self.call(p, "POST", path, c.DecisionOut, json=data)  # type: ignore[no-any-return]

    async def dashboard(self, p: Principal) -> c.DashboardOut:
        return await self.call(p, "GET", "/v1/dashboard", c.DashboardOut)  # type: ignore[no-any-return]

    async def audit_log(self, p: Principal, flt: c.AuditFilter, page: PageRequest) -> c.AuditPage:
        return await self.call(p, "GET", "/v1/audit", c.AuditPage, params=_query(page, flt))  # type: ignore[no-any-return]
