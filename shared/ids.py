"""Time-ordered 63-bit ids and opaque Relay global ids.

An id is milliseconds since 2024-01-01 shifted left 20 bits, plus a per-process
sequence, so ids sort by creation time (feeds rely on that) and fit a BIGINT.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time

_EPOCH_MS = 1_704_067_200_000
_SEQ_BITS = 20
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id() -> int:
    global _last_ms, _seq
    with _lock:
        now = int(time.time() * 1000) - _EPOCH_MS
        if now <= _last_ms:
            now = _last_ms
            _seq += 1
            if _seq >= 1 << _SEQ_BITS:
                now += 1
                _seq = 0
        else:
            # A random start keeps ids from two processes in the same millisecond apart.
            _seq = int.from_bytes(os.urandom(2), "big")
        _last_ms = now
        return (now << _SEQ_BITS) | _seq


class InvalidGlobalId(ValueError):
    pass


def to_global_id(type_name: str, raw_id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int]:
    if not isinstance(global_id, str) or not 1 <= len(global_id) <= 100:
        raise InvalidGlobalId("malformed id")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, _, raw = decoded.partition(":")
        if not type_name.isalpha() or not raw.isascii() or not raw.isdigit() or int(raw) >= 1 << 63:
            raise ValueError
        return type_name, int(raw)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidGlobalId("malformed id") from exc


def expect_global_id(global_id: str, type_name: str) -> int:
    kind, raw = from_global_id(global_id)
    if kind != type_name:
        raise InvalidGlobalId(f"expected a {type_name} id")
    return raw
