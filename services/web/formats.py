"""Times as Swedish moderators read and type them (Europe/Stockholm), and JSON shown tidily."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def parse_instant(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=STOCKHOLM)


def when(value: Any) -> str:
    """An API DateTime as local time, "2026-11-03 14:05"; empty for none."""
    parsed = parse_instant(value)
    return parsed.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if parsed else ""


def iso(value: Any) -> str:
    """An API DateTime for a <time datetime=...> attribute."""
    parsed = parse_instant(value)
    return parsed.isoformat() if parsed else ""


def local_input(value: str) -> str | None:
    """A datetime-local field ("2026-11-20T12:00", Stockholm time) as an instant for the API;
    None when empty. Raises ValueError when it is not a time."""
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=STOCKHOLM)
    return parsed.isoformat()


def day_bound(value: str, end: bool) -> str | None:
    """A date field ("2026-11-20") as the first instant of that Stockholm day, or (end) of the next."""
    value = value.strip()
    if not value:
        return None
    day = date.fromisoformat(value)
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=STOCKHOLM).isoformat()


def pretty_json(value: Any) -> str:
    """JSON text from the audit log, indented; as given when it is not JSON."""
    if not isinstance(value, str):
        return ""
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return value
