"""A bounded HTTP/1.1 load generator for benchmarks: a second process on loopback.

    python -m bench.loadgen SPEC.json   (prints one JSON result on stdout)

SPEC: {"host", "port", "requests": [raw request bytes as latin-1 text, ...], "clients",
"warmup", "seconds", "rate" (optional), "seed", "expect" (optional bytes every body must
hold), "refuse" (optional bytes no body may hold)}.

`clients` keep-alive connections, one request in flight on each. Closed loop (no `rate`):
each sends its next request as soon as the last answer is read, so the figures are the
server's saturated throughput and the latencies that come with it (Little's law: about
clients ÷ throughput). Paced (`rate` requests/s in all): each client sends at exponential
intervals (a Poisson stream in all) and latency runs from when a request was due, not from
when it could be sent, so a server that falls behind is not flattered (no coordinated
omission). Each request is picked at random from `requests` (one per viewer).

Raw asyncio streams rather than an HTTP client library: the generator shares the machine's
two cores with the server, Redis and PostgreSQL, so it should cost as little as it can;
about 20 µs a request here. Responses must carry Content-Length (uvicorn's do)."""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bad_bodies: int = 0
    errors: list[str] = field(default_factory=list)
    bytes_read: int = 0
    reconnects: int = 0
    completed: int = 0  # every answer, warm-up included (server CPU is divided by it)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = -1
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length < 0:
        raise RuntimeError("a response without Content-Length")
    return status, await reader.readexactly(length)


async def _client(n: int, spec: dict[str, Any], requests: list[bytes], start: float, stop: float, tally: Tally) -> None:
    rng = random.Random(spec.get("seed", 1) * 1000 + n)
    expect = spec.get("expect", "").encode()
    refuse = spec.get("refuse", "").encode()
    rate = spec.get("rate")
    interval = spec["clients"] / rate if rate else 0.0
    reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    due = time.perf_counter() + (rng.expovariate(1 / interval) if rate else 0.0)
    try:
        while True:
            now = time.perf_counter()
            if rate:
                if due > now:
                    await asyncio.sleep(due - now)
                began = due  # latency counts from when the request was due
                due += rng.expovariate(1 / interval)
            else:
                began = now
            if began >= stop:
                return
            request = rng.choice(requests)
            try:
                writer.write(request)
                status, body = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed a connection left idle past its keep-alive timeout (uvicorn:
                # 5 s; paced clients at low rates wait that long): open another, ask again.
                writer.close()
                reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
                tally.reconnects += 1
                writer.write(request)
                status, body = await _read_response(reader)
            done = time.perf_counter()
            tally.completed += 1
            if began >= start and done <= stop:
                tally.latencies.append(done - began)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                tally.bytes_read += len(body)
                if status != 200 or (expect and expect not in body) or (refuse and refuse in body):
                    tally.bad_bodies += 1
                    if len(tally.errors) < 3:
                        tally.errors.append(body[:300].decode(errors="replace"))
    finally:
        writer.close()


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    requests = [r.encode("latin-1") for r in spec["requests"]]
    tally = Tally()
    began = time.perf_counter()
    start = began + spec["warmup"]
    stop = start + spec["seconds"]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(_client(n, spec, requests, start, stop, tally) for n in range(spec["clients"])))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    lat = sorted(tally.latencies)
    count = len(lat)
    ms = [x * 1000 for x in lat]
    return {
        "clients": spec["clients"],
        "rate": spec.get("rate"),
        "seconds": spec["seconds"],
        "requests": count,
        "all_requests": tally.completed,
        "throughput": round(count / spec["seconds"], 1),
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(ms[-1], 2) if ms else None,
        "mean_ms": round(sum(ms) / count, 2) if count else None,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "bad": tally.bad_bodies,
        "reconnects": tally.reconnects,
        "errors": tally.errors,
        "bytes_per_response": round(tally.bytes_read / count) if count else 0,
        "generator_cpu_seconds": round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 3),
        # Every latency, so that runs can be pooled (a p99 of one short run is its few slowest).
        "latencies_ms": [round(x, 2) for x in ms],
    }


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    try:
        import uvloop
    except ImportError:  # the standard loop then; uvloop costs less a request
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
