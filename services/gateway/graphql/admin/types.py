"""Platform administration: the services' dead letters (jobs that failed)."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import gid, graphql_enum
from shared.errors import BadUserInput
from shared.failed_jobs import FailedJobOut
from shared.failed_jobs import FailedJobState as FailedJobStateValue
from shared.ids import InvalidGlobalId, from_global_id

FailedJobState = graphql_enum(
    FailedJobStateValue,
    "FailedJobState",
    "DEAD: parked after its last attempt until an admin replays it; RETRYING: due again after a backoff.",
)


@strawberry.enum(description="A service that runs jobs and keeps the dead letters of its own jobs.")
class JobService(enum.Enum):
    FEED = "feed"
    GRAPH = "graph"
    SEARCH = "search"


# The global id names the service, so a replay reaches the table the job failed in.
ID_TYPES = {
    JobService.FEED: "FeedFailedJob",
    JobService.GRAPH: "GraphFailedJob",
    JobService.SEARCH: "SearchFailedJob",
}
SERVICES_BY_ID_TYPE = {type_name: service for service, type_name in ID_TYPES.items()}


def decode_failed_job_id(value: str, field: str = "id") -> tuple[JobService, int]:
    try:
        type_name, raw = from_global_id(str(value))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field=field) from exc
    service = SERVICES_BY_ID_TYPE.get(type_name)
    if service is None:
        raise BadUserInput("expected a FailedJob id", field=field)
    return service, raw


def service_client(info: Info, service: JobService) -> Any:
    """The client of the service that owns these jobs."""
    return {
        JobService.FEED: info.context.feed,
        JobService.GRAPH: info.context.graph,
        JobService.SEARCH: info.context.search,
    }[service]


@strawberry.type(description="A job that failed: waiting for its next attempt, or dead after its last one.")
class FailedJob:
    id: strawberry.ID
    service: JobService
    job: str = strawberry.field(description="The job's name, `<service>.<action>`.")
    key: str = strawberry.field(description="The unique key of the job's effect (its arq job id).")
    state: FailedJobState  # type: ignore[valid-type]
    attempts: int
    error: str = strawberry.field(description="The last attempt's error.")
    failed_at: datetime
    next_attempt_at: datetime | None
    dead_at: datetime | None
    replays: int
    arg: str = strawberry.field(description="The job's argument as a JSON string, secrets redacted.")

    @classmethod
    def from_out(cls, f: FailedJobOut) -> FailedJob:
        service = JobService(f.service)
        return cls(
            id=gid(ID_TYPES[service], f.id),
            service=service,
            job=f.job,
            key=f.key,
            state=FailedJobState(f.state.value),
            attempts=f.attempts,
            error=f.error,
            failed_at=f.failed_at,
            next_attempt_at=f.next_attempt_at,
            dead_at=f.dead_at,
            replays=f.replays,
            arg=json.dumps(f.arg, ensure_ascii=False, sort_keys=True),
        )
