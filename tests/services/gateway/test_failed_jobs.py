"""Dead letters through GraphQL, on both backends (SQLite: jobs in-process; PostgreSQL:
jobs on arq with Redis): a job that always fails ends dead in its service's table after
its last attempt, admins list it (filtered, paginated, secrets redacted) and replay it,
members are refused, and a replayed job that now succeeds leaves the list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.conftest import Api, Session, poll

TOPIC = "test.dead_letter"
FEED_JOB = "feed.test_dead_letter"
GRAPH_JOB = "graph.test_dead_letter"

FIELDS = "id service job key state attempts error failedAt nextAttemptAt deadAt replays arg"
FAILED_JOBS = f"""query($s: JobService!, $state: FailedJobState, $job: String, $first: Int, $after: String) {{
  failedJobs(service: $s, state: $state, job: $job, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} nodes {{ {FIELDS} }} }} }}"""
REPLAY = """mutation($id: ID!) { replayFailedJob(input: {id: $id}) {
  failedJob { id service job state attempts deadAt nextAttemptAt } userErrors { field message code } } }"""


@dataclass
class Flaky:
    """A job that fails while `broken`, counting its runs."""

    broken: bool = True
    runs: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)

    async def __call__(self, ctx: dict[str, Any], event: dict[str, Any]) -> None:
        self.runs.append(event["id"])
        if self.broken:
            raise RuntimeError("the mail server said no")
        self.done.append(event["id"])


@contextmanager
def installed(app: Any, jobs: dict[str, Flaky]) -> Iterator[None]:
    """Subscribe test jobs to TOPIC on the running app's job host (and its arq worker)."""
    from arq.worker import func

    from shared.jobs import arq_function
    from shared.worker import ARQ_TIMEOUT_GRACE_SECONDS

    host = app.state.jobs
    for name, job in jobs.items():
        host.registry.add(name, {TOPIC}, job)
        if host.arq_worker is not None:
            timeout = host.settings.job_timeout_seconds + ARQ_TIMEOUT_GRACE_SECONDS
            host.arq_worker.functions[name] = func(arq_function(name, job), name=name, timeout=timeout)  # type: ignore[arg-type]
    try:
        yield
    finally:
        host.registry.subscriptions[:] = [s for s in host.registry.subscriptions if s.name not in jobs]
        for name in jobs:
            host.registry.tasks.pop(name, None)
            if host.arq_worker is not None:
                host.arq_worker.functions.pop(name, None)


async def record(api: Api, payload: dict[str, Any]) -> int:
    from shared.outbox import record_event

    async with await api.graph_session() as db:
        row = record_event(db, TOPIC, payload)
        await db.commit()
    api.app.state.jobs.wake("graph")
    return row.id


async def failed_jobs(who: Session, service: str, **args: Any) -> dict[str, Any]:
    data = await who.ok(FAILED_JOBS, {"s": service, "first": 100, **args})
    return data["failedJobs"]  # type: ignore[no-any-return]


def error_code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def dead_letter(admin: Session, service: str, job: str) -> dict[str, Any]:
    async def parked() -> dict[str, Any] | None:
        nodes = (await failed_jobs(admin, service, state="DEAD", job=job))["nodes"]
        return nodes[0] if nodes else None

    return await poll(parked, within=30, interval=0.1)  # type: ignore[no-any-return]


async def test_a_job_that_always_fails_is_parked_listed_and_replayed_by_admins(api: Api) -> None:
    admin = await api.make_admin()
    member = await api.sign_up()
    feed_job, graph_job = Flaky(), Flaky()
    max_tries = api.app.state.settings.job_max_tries
    with installed(api.app, {FEED_JOB: feed_job, GRAPH_JOB: graph_job}):
        event_id = await record(api, {"hub_id": 7, "token": "one-time-secret"})

        # Each job is tried job_max_tries times with backoff, then parked in its own service.
        feed_dead = await dead_letter(admin, "FEED", FEED_JOB)
        graph_dead = await dead_letter(admin, "GRAPH", GRAPH_JOB)
        assert feed_job.runs == [event_id] * max_tries and graph_job.runs == [event_id] * max_tries
        for dead, service, job in ((feed_dead, "FEED", FEED_JOB), (graph_dead, "GRAPH", GRAPH_JOB)):
            assert dead["service"] == service and dead["job"] == job and dead["state"] == "DEAD"
            assert dead["attempts"] == max_tries
            assert dead["key"] == f"{job}:graph:{event_id}"
            assert "RuntimeError: the mail server said no" in dead["error"]
            assert dead["deadAt"] and dead["nextAttemptAt"] is None and dead["replays"] == 0
            arg = json.loads(dead["arg"])
            assert arg["topic"] == TOPIC and arg["id"] == event_id
            assert arg["payload"] == {"hub_id": 7, "token": "[redacted]"}
        assert feed_dead["id"] != graph_dead["id"]
        # Each service lists only its own dead letters.
        assert (await failed_jobs(admin, "FEED", job=GRAPH_JOB))["totalCount"] == 0

        # Members and anonymous callers cannot see or replay them.
        assert error_code(await member.gql(FAILED_JOBS, {"s": "FEED", "first": 10})) == "FORBIDDEN"
        assert error_code(await member.gql(REPLAY, {"id": feed_dead["id"]})) == "FORBIDDEN"
        assert error_code(await api.gql(FAILED_JOBS, {"s": "GRAPH", "first": 10})) == "UNAUTHENTICATED"
        assert error_code(await api.gql(REPLAY, {"id": feed_dead["id"]})) == "UNAUTHENTICATED"

        # Replayed while still broken: it runs again, through all its attempts, and is dead again.
        again = await admin.ok(REPLAY, {"id": graph_dead["id"]})
        assert again["replayFailedJob"]["failedJob"]["state"] == "RETRYING"
        await poll(lambda: len(graph_job.runs) >= 2 * max_tries, within=30, interval=0.05)
        redead = await dead_letter(admin, "GRAPH", GRAPH_JOB)
        assert redead["attempts"] == max_tries and redead["key"] == f"{GRAPH_JOB}:graph:{event_id}"

        # Fixed and replayed: it runs once more, succeeds, and leaves the list.
        feed_job.broken = graph_job.broken = False
        for dead in (feed_dead, redead):
            replayed = (await admin.ok(REPLAY, {"id": dead["id"]}))["replayFailedJob"]["failedJob"]
            assert replayed["state"] == "RETRYING" and replayed["deadAt"] is None and replayed["attempts"] == 0
        await poll(lambda: feed_job.done == [event_id] and graph_job.done == [event_id], within=30, interval=0.05)

        async def gone() -> bool:
            feed_left = await failed_jobs(admin, "FEED", job=FEED_JOB)
            graph_left = await failed_jobs(admin, "GRAPH", job=GRAPH_JOB)
            return feed_left["totalCount"] == 0 and graph_left["totalCount"] == 0

        await poll(gone, within=10, interval=0.05)
        assert feed_job.done == [event_id] and graph_job.done == [event_id]
        # A replayed job that is gone cannot be replayed again.
        missing = (await admin.gql(REPLAY, {"id": feed_dead["id"]}))["data"]["replayFailedJob"]
        assert missing["userErrors"][0]["code"] == "NOT_FOUND" and missing["failedJob"] is None


async def park(api: Api, service: str, job: str, *, dead: bool, arg: dict[str, Any] | None = None) -> int:
    """A failed job row as the plumbing writes it (retrying ones far in the future)."""
    from shared.database import utcnow
    from shared.outbox import FailedJob

    app = api.app.state.feed_app if service == "feed" else api.app.state.graph_app
    now = utcnow()
    async with app.state.sessionmaker() as db:
        row = FailedJob(
            job=job,
            key=f"{job}:test:{api.unique('k')}",
            arg=arg or {},
            attempts=3,
            error="ValueError: nope",
            failed_at=now,
            next_attempt_at=None if dead else now + timedelta(hours=1),
            dead_at=now if dead else None,
        )
        db.add(row)
        await db.commit()
    return row.id


async def test_failed_jobs_filter_paginate_and_refuse_bad_replays(api: Api) -> None:
    from shared.ids import to_global_id

    admin = await api.make_admin()
    moderator = await api.make_admin("moderator")
    retrying = await park(api, "feed", "feed.test_a", dead=False)
    dead_a = await park(api, "feed", "feed.test_a", dead=True, arg={"nested": [{"password": "x", "keep": 1}]})
    dead_b = await park(api, "feed", "feed.test_b", dead=True)

    everything = await failed_jobs(admin, "FEED")
    assert everything["totalCount"] == 3
    # Newest first.
    assert [n["id"] for n in everything["nodes"]] == [
        to_global_id("FeedFailedJob", i) for i in (dead_b, dead_a, retrying)
    ]
    assert json.loads(everything["nodes"][1]["arg"]) == {"nested": [{"password": "[redacted]", "keep": 1}]}
    assert [n["state"] for n in (await failed_jobs(admin, "FEED", state="RETRYING"))["nodes"]] == ["RETRYING"]
    dead = await failed_jobs(admin, "FEED", state="DEAD")
    assert dead["totalCount"] == 2 and {n["state"] for n in dead["nodes"]} == {"DEAD"}
    only_a = await failed_jobs(admin, "FEED", job="feed.test_a", state="DEAD")
    assert [n["id"] for n in only_a["nodes"]] == [to_global_id("FeedFailedJob", dead_a)]
    assert (await failed_jobs(admin, "GRAPH"))["totalCount"] == 0

    # Cursor pagination walks the list without gaps or repeats.
    seen: list[str] = []
    after = None
    while True:
        page = await failed_jobs(admin, "FEED", first=1, after=after)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [n["id"] for n in everything["nodes"]]

    # Moderators are not admins.
    assert error_code(await moderator.gql(FAILED_JOBS, {"s": "FEED", "first": 10})) == "FORBIDDEN"
    assert error_code(await moderator.gql(REPLAY, {"id": to_global_id("FeedFailedJob", dead_a)})) == "FORBIDDEN"

    async def replay_errors(global_id: str) -> list[dict[str, Any]]:
        payload = (await admin.gql(REPLAY, {"id": global_id}))["data"]["replayFailedJob"]
        assert payload["failedJob"] is None
        return payload["userErrors"]  # type: ignore[no-any-return]

    not_dead = await replay_errors(to_global_id("FeedFailedJob", retrying))
    assert not_dead[0]["code"] == "BAD_USER_INPUT" and not_dead[0]["field"] == "id"
    assert "still being retried" in not_dead[0]["message"]
    # The id names the service: a feed job's id is not found among the graph's.
    assert (await replay_errors(to_global_id("GraphFailedJob", dead_a)))[0]["code"] == "NOT_FOUND"
    assert (await replay_errors("not-an-id"))[0]["code"] == "BAD_USER_INPUT"
    assert (await replay_errors(to_global_id("Member", dead_a)))[0]["code"] == "BAD_USER_INPUT"
    # Nothing was changed by the refusals.
    assert (await failed_jobs(admin, "FEED", state="DEAD"))["totalCount"] == 2
    assert (await failed_jobs(admin, "FEED", state="RETRYING"))["totalCount"] == 1
