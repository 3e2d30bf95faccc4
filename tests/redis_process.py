"""A private redis-server process a test or benchmark may stop and start again (the shared
server on 6379 is never touched). By default it keeps its data in an append-only file, so a
restart brings back what it held, like a production Redis with persistence."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.test_split_mode import free_port


class RedisProcess:
    def __init__(self, workdir: Path, *, persistent: bool = True, options: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.persistent = persistent
        self.options = options  # further redis-server options, e.g. ("--zset-max-listpack-entries", "0")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                *(("--appendonly", "yes", "--appendfsync", "always") if self.persistent else ("--appendonly", "no")),
                *self.options,
            ],
            stdout=(self.workdir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(500):  # up to ~10 s for the server to accept and load its file
            try:
                if client.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if self.proc.poll() is not None:
                    raise AssertionError((self.workdir / "redis.log").read_text()) from None
                time.sleep(0.02)  # polling interval
        else:
            raise AssertionError("private redis-server did not start")
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None
