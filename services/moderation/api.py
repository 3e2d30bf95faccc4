"""The moderation service's REST API. Every route needs an internal token (see shared.web);
the gateway calls on behalf of its viewer, whose principal the token carries."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from services.moderation import contracts as c
from services.moderation.service import cases, decisions, reports
from services.moderation.service.common import Sources, capabilities
from shared.settings import Settings
from shared.web import Actor, Page, Session, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "moderation"
router = APIRouter(prefix="/v1")


async def sources_of(request: Request) -> Sources:
    return request.app.state.sources  # type: ignore[no-any-return]


async def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


Src = Annotated[Sources, Depends(sources_of)]
Config = Annotated[Settings, Depends(settings_of)]


@router.get("/capabilities", response_model=c.CapabilitiesOut)
async def my_capabilities(actor: Actor, sources: Src) -> c.CapabilitiesOut:
    return await capabilities(sources, actor)


@router.post("/reports", response_model=c.FiledReportOut)
async def file_report(data: c.ReportIn, session: Session, actor: Actor, sources: Src, settings: Config) -> Any:
    return await reports.file_report(session, sources, settings, actor, data)


@router.get("/cases", response_model=c.CasePage)
async def list_cases(
    session: Session, actor: Actor, sources: Src, page: Page, flt: Annotated[c.CaseFilter, Query()]
) -> c.CasePage:
    return await cases.list_cases(session, sources, actor, flt, page)


@router.get("/cases/{case_id}", response_model=c.CaseOut)
async def get_case(case_id: int, session: Session, actor: Actor, sources: Src) -> c.CaseOut:
    return await cases.get_case(session, sources, actor, case_id)


@router.get("/my-cases", response_model=c.CasePage)
async def my_cases(session: Session, actor: Actor, page: Page) -> c.CasePage:
    return await cases.my_cases(session, actor, page)


@router.get("/my-cases/{case_id}", response_model=c.CaseOut)
async def my_case(case_id: int, session: Session, actor: Actor) -> c.CaseOut:
    return await cases.my_case(session, actor, case_id)


@router.get("/cases/{case_id}/reports", response_model=c.ReportPage)
async def case_reports(case_id: int, session: Session, actor: Actor, sources: Src, page: Page) -> c.ReportPage:
    return await cases.case_reports(session, sources, actor, case_id, page)


@router.post("/cases/{case_id}/claim", response_model=c.CaseOut)
async def claim(case_id: int, data: c.ClaimIn, session: Session, actor: Actor, sources: Src) -> c.CaseOut:
    return await decisions.claim(session, sources, actor, case_id, data)


@router.post("/cases/{case_id}/decisions", response_model=c.CaseOut)
async def decide(case_id: int, data: c.DecisionIn, session: Session, actor: Actor, sources: Src) -> c.CaseOut:
    return await decisions.decide(session, sources, actor, case_id, data)


@router.post("/cases/{case_id}/appeal", response_model=c.CaseOut)
async def appeal(case_id: int, data: c.AppealIn, session: Session, actor: Actor, sources: Src) -> c.CaseOut:
    return await decisions.appeal(session, sources, actor, case_id, data)


@router.post("/members/{member_id}/decisions", response_model=c.DecisionOut)
async def moderate_member(
    member_id: int, data: c.DecisionIn, session: Session, actor: Actor, sources: Src
) -> c.DecisionOut:
    return await decisions.moderate_member(session, sources, actor, member_id, data)


@router.get("/members/{member_id}/history", response_model=c.HistoryOut)
async def history(member_id: int, session: Session, actor: Actor, sources: Src) -> c.HistoryOut:
    return await cases.history(session, sources, actor, member_id)


@router.get("/members/{member_id}/content")
async def recent_content(
    member_id: int, actor: Actor, sources: Src, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[dict[str, Any]]:
    found = await cases.recent_content(sources, actor, member_id, limit)
    return [s.model_dump(mode="json") for s in found]


@router.get("/members/{member_id}/decisions", response_model=c.DecisionPage)
async def history_decisions(member_id: int, session: Session, actor: Actor, sources: Src, page: Page) -> Any:
    return await cases.history_decisions(session, sources, actor, member_id, page)


@router.post("/organisations/{org_id}/decisions", response_model=c.DecisionOut)
async def moderate_organisation(
    org_id: int, data: c.OrganisationDecisionIn, session: Session, actor: Actor, sources: Src
) -> c.DecisionOut:
    return await decisions.moderate_organisation(session, sources, actor, org_id, data)


@router.post("/hubs/{hub_id}/moderators", response_model=c.DecisionOut)
async def appoint_hub_moderator(
    hub_id: int, data: c.HubModeratorIn, session: Session, actor: Actor, sources: Src
) -> c.DecisionOut:
    return await decisions.appoint_hub_moderator(session, sources, actor, hub_id, data)


@router.get("/dashboard", response_model=c.DashboardOut)
async def dashboard(session: Session, actor: Actor, sources: Src) -> c.DashboardOut:
    return await cases.dashboard(session, sources, actor)


@router.get("/audit", response_model=c.AuditPage)
async def audit_log(
    session: Session, actor: Actor, sources: Src, page: Page, flt: Annotated[c.AuditFilter, Query()]
) -> c.AuditPage:
    return await cases.audit_log(session, sources, actor, flt, page)


def create_app(settings: Settings, graph_app: Any = None, feed_app: Any = None) -> FastAPI:
    """`graph_app`/`feed_app`: those services' apps in this process; otherwise they are
    reached at HUBBEN_GRAPH_URL and HUBBEN_FEED_URL. Either way this service calls them as
    itself ("moderation"), which lets them take its moderators' decisions."""

    async def resources(app: FastAPI, stack: AsyncExitStack) -> None:
        from services.feed.client import FeedClient
        from services.graph.client import GraphClient

        codec = app.state.codec
        graph = (
            GraphClient.in_process(graph_app, codec, SERVICE)
            if graph_app is not None
            else GraphClient.remote(settings.graph_url, codec, service=SERVICE)
        )
        feed = (
            FeedClient.in_process(feed_app, codec, SERVICE)
            if feed_app is not None
            else FeedClient.remote(settings.feed_url, codec, service=SERVICE)
        )
        stack.push_async_callback(graph.aclose)
        stack.push_async_callback(feed.aclose)
        app.state.sources = Sources(graph=graph, feed=feed)

    return create_service_app(SERVICE, settings, router, MIGRATIONS, resources)
