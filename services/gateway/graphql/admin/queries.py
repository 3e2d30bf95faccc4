from __future__ import annotations

from typing import Annotated

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.admin.types import FailedJob, FailedJobState, JobService, service_client
from services.gateway.graphql.base import Connection, connection, page_request
from shared.errors import BadUserInput
from shared.failed_jobs import FailedJobState as FailedJobStateValue


@strawberry.type
class AdminQuery:
    @strawberry.field(description="Platform admins: one service's failed jobs, newest first.")
    async def failed_jobs(
        self,
        info: Info,
        service: JobService,
        state: FailedJobState | None = None,  # type: ignore[valid-type]
        job: Annotated[str | None, strawberry.argument(description="Only jobs of this name.")] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[FailedJob]:
        if job is not None and len(job) > 100:
            raise BadUserInput("job names are at most 100 characters", field="job")
        page = await service_client(info, service).failed_jobs(
            info.context.viewer,
            FailedJobStateValue(state.value) if state is not None else None,
            job,
            page_request(first, after, last, before),
        )
        return connection(page, [FailedJob.from_out(f) for f in page.items])
