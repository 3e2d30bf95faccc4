"""The search service's dead letters for platform admins (see shared.failed_jobs)."""

from __future__ import annotations

from shared.failed_jobs import failed_jobs_router

router = failed_jobs_router("search")
