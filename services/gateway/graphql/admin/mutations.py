"""Platform admins: replay a dead job."""

from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.admin.types import FailedJob, decode_failed_job_id, service_client
from services.gateway.graphql.base import UserError, attempt
from shared.failed_jobs import FailedJobOut


@strawberry.input
class ReplayFailedJobInput:
    id: strawberry.ID = strawberry.field(description="The ID of a dead FailedJob.")


@strawberry.type
class ReplayFailedJobPayload:
    failed_job: FailedJob | None
    user_errors: list[UserError]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        description="Platform admins: run a dead job again from its first attempt; it leaves the list when it succeeds."
    )
    async def replay_failed_job(self, info: Info, input: ReplayFailedJobInput) -> ReplayFailedJobPayload:
        ctx = info.context

        async def work() -> FailedJobOut:
            service, raw = decode_failed_job_id(input.id)
            return await service_client(info, service).replay_failed_job(ctx.viewer, raw)  # type: ignore[no-any-return]

        replayed, errors = await attempt(work)
        return ReplayFailedJobPayload(failed_job=FailedJob.from_out(replayed) if replayed else None, user_errors=errors)
