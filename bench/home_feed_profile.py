"""py-spy on the server of bench/home_feed.py while one path is under load, and a summary of
its raw stacks: the share of samples by the library at the top of the stack, by our own and
the GraphQL libraries' functions anywhere on it, and the heaviest leaves."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


def profile(pid: int, path: str, seconds: float, load: Callable[[float], dict[str, Any]], workdir: Path) -> Any:
    """py-spy on the process `pid` while `load(seconds)` runs `path`'s load; None when py-spy
    is missing (the bench extra installs it)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    raw = workdir / f"profile-{path}.txt"
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(raw), "--rate", "250"]
        # Samples of the thread holding the GIL only: CPU, not the loop waiting for I/O.
        + ["--duration", str(int(seconds)), "--gil", "--nonblocking", "--subprocesses"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    under = load(seconds + 1)
    under.pop("latencies_ms", None)  # the summary is enough here
    recorder.wait(timeout=60)
    if not raw.exists():
        return {"error": (recorder.stderr.read() if recorder.stderr else b"").decode(errors="replace")[-500:]}
    kept = Path(tempfile.gettempdir()) / f"hubben-home-feed-profile-{path}.txt"  # py-spy's raw stacks
    shutil.copy(raw, kept)
    return {"load": under, "raw_stacks": str(kept), **summarise_profile(raw.read_text().splitlines())}


# Where a sample's time goes: the first matching frame from the top of its stack (the leaf) down.
CATEGORIES = [
    ("json encode/decode", ("json/encoder", "json/decoder", "json/__init__", "orjson")),
    ("pydantic validation/serialisation", ("pydantic", "pydantic_core")),
    ("asyncpg/PostgreSQL driver", ("asyncpg",)),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("redis client", ("redis/",)),
    ("JWT verify (jose)", ("jose/", "cryptography")),
    ("httpx in-process transport", ("httpx/",)),
    ("graphql-core execution", ("graphql/execution",)),
    ("graphql-core other", ("graphql/",)),
    ("strawberry", ("strawberry/",)),
    ("starlette/fastapi", ("starlette/", "fastapi/")),
    ("uvicorn/httptools", ("uvicorn/", "httptools")),
    ("asyncio/uvloop", ("asyncio/", "uvloop")),
]


def summarise_profile(lines: list[str]) -> dict[str, Any]:
    """From py-spy's raw (collapsed) stacks: the share of samples by category of the leaf's
    library, by our own functions on the stack (inclusive), and the heaviest leaves."""
    total = 0
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        n = int(count_text)
        total += n
        frames = stack.split(";")
        leaf = frames[-1]
        leaves[_short(leaf)] += n
        for frame in reversed(frames):
            found = next((name for name, marks in CATEGORIES if any(m in frame for m in marks)), None)
            if found:
                by_category[found] += n
                break
        else:
            by_category["our code and other"] += n
        seen = set()
        for frame in frames:
            short = _short(frame)
            if short not in seen and any(p in frame for p in ("services/", "shared/", "strawberry/", "graphql/")):
                seen.add(short)
                inclusive[short] += n

    def share(c: Counter[str]) -> dict[str, float]:
        return {k: round(100 * v / total, 1) for k, v in c.most_common(25)}

    return {
        "samples": total,
        "by_library_percent": share(by_category),
        "inclusive_percent": share(inclusive),
        "top_leaves_percent": share(leaves),
    }


def _short(frame: str) -> str:
    """`function (path/to/module.py:line)` as `function (module/path.py)`, without the line."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for mark in ("site-packages/", "/work/main/"):
        if mark in where:
            where = where.split(mark, 1)[1]
    return f"{name} ({where})"
