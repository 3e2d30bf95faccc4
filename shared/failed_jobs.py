"""Dead letters for platform admins: every service that runs jobs lists its failed jobs
(waiting for their next attempt, or dead after the last) and replays a dead one. The
routes, their contracts and the client's query parameters are written once, here; each
service mounts `failed_jobs_router()` from its jobs_api.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlmodel import col

from shared.auth import Principal
from shared.client import ServiceClient
from shared.errors import Forbidden, Unauthenticated
from shared.jobs import replay
from shared.outbox import FailedJob
from shared.pagination import PageRequest, paginate
from shared.web import Actor, Page, Session

REDACTED = "[redacted]"
# Argument keys whose values an admin does not need to see (one-time tokens in mails, say).
SECRET_WORDS = ("token", "password", "secret")


class FailedJobState(StrEnum):
    dead = "dead"  # parked after its last attempt, until an admin replays it
    retrying = "retrying"  # due again after a backoff


class FailedJobOut(BaseModel):
    id: int
    service: str
    job: str
    key: str
    arg: dict[str, Any]
    attempts: int
    error: str
    failed_at: datetime
    next_attempt_at: datetime | None
    dead_at: datetime | None
    replays: int

    @property
    def state(self) -> FailedJobState:
        return FailedJobState.dead if self.dead_at is not None else FailedJobState.retrying

    @classmethod
    def of(cls, service: str, row: FailedJob) -> FailedJobOut:
        return cls(
            id=row.id,
            service=service,
            job=row.job,
            key=row.key,
            arg=redact(row.arg),
            attempts=row.attempts,
            error=row.error,
            failed_at=row.failed_at,
            next_attempt_at=row.next_attempt_at,
            dead_at=row.dead_at,
            replays=row.replays,
        )


class FailedJobPage(BaseModel):
    items: list[FailedJobOut]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None


def redact(value: Any) -> Any:
    """The argument as an admin sees it: values under secret-looking keys replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if any(w in str(k).lower() for w in SECRET_WORDS) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def require_admin(actor: Principal) -> None:
    """Platform admins only, and a token that may moderate (a read-only access token may not)."""
    if actor.member_id is None:
        raise Unauthenticated("sign in first")
    if not actor.is_admin:
        raise Forbidden("only platform admins may see and replay failed jobs")
    if "moderate" not in actor.scopes:
        raise Forbidden("this token lacks the 'moderate' scope")


def failed_jobs_statement(state: FailedJobState | None, job: str | None) -> Select[FailedJob]:
    stmt = select(FailedJob)
    if state is FailedJobState.dead:
        stmt = stmt.where(col(FailedJob.dead_at).is_not(None))
    elif state is FailedJobState.retrying:
        stmt = stmt.where(col(FailedJob.dead_at).is_(None))
    if job:
        stmt = stmt.where(col(FailedJob.job) == job)
    return stmt


async def list_failed_jobs(
    session: Any,
    actor: Principal,
    service: str,
    state: FailedJobState | None,
    job: str | None,
    page: PageRequest,
) -> FailedJobPage:
    """Newest failure first (ids are time-ordered)."""
    require_admin(actor)
    p = await paginate(session, failed_jobs_statement(state, job), col(FailedJob.id), lambda r: r[0].id, page)
    return FailedJobPage(
        items=[FailedJobOut.of(service, r[0]) for r in p.rows],
        cursors=p.cursors,
        has_next_page=p.has_next_page,
        has_previous_page=p.has_previous_page,
        total_count=p.total_count,
    )


def failed_jobs_params(state: FailedJobState | str | None, job: str | None, page: PageRequest) -> dict[str, Any]:
    """The list route's query parameters, for the services' clients."""
    return {"state": str(state) if state else None, "job": job, **page.model_dump(exclude_none=True)}


FAILED_JOBS_PATH = "/v1/admin/failed-jobs"


def failed_jobs_router(service: str) -> APIRouter:
    """`GET /v1/admin/failed-jobs` (filter by state and job name, cursor-paginated) and
    `POST /v1/admin/failed-jobs/{id}/replay`, over this service's `failed_job` table."""
    router = APIRouter(prefix=FAILED_JOBS_PATH)

    @router.get("", response_model=FailedJobPage)
    async def failed_jobs(
        session: Session,
        actor: Actor,
        page: Page,
        state: FailedJobState | None = None,
        job: Annotated[str | None, Query(max_length=100)] = None,
    ) -> FailedJobPage:
        return await list_failed_jobs(session, actor, service, state, job, page)

    @router.post("/{failed_job_id}/replay", response_model=FailedJobOut)
    async def replay_failed_job(
        failed_job_id: Annotated[int, Path(ge=1, lt=1 << 63)], actor: Actor, request: Request
    ) -> FailedJobOut:
        require_admin(actor)
        # Commits on its own: the service's retry pump picks the job up within a moment.
        return FailedJobOut.of(service, await replay(request.app.state.sessionmaker, failed_job_id))

    return router


class FailedJobsClient(ServiceClient):
    """The failed-jobs routes, for the client of every service that runs jobs."""

    async def failed_jobs(
        self, p: Principal, state: FailedJobState | None, job: str | None, page: PageRequest
    ) -> FailedJobPage:
        params = failed_jobs_params(state, job, page)
        return await self.call(p, "GET", FAILED_JOBS_PATH, FailedJobPage, params=params)  # type: ignore[no-any-return]

    async def replay_failed_job(self, p: Principal, failed_job_id: int) -> FailedJobOut:
        path = f"{FAILED_JOBS_PATH}/{failed_job_id}/replay"
        return await self.call(p, "POST", path, FailedJobOut)  # type: ignore[no-any-return]
