"""The feed service's dead letters for platform admins: list its failed jobs and replay a
dead one (the routes are shared by every service; see shared.failed_jobs)."""

from __future__ import annotations

from shared.failed_jobs import failed_jobs_router

router = failed_jobs_router("feed")
