"""Sweden's municipalities and counties (SCB codes), from the reference data shipped with Hubben."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    county_code: str
    county_name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class County:
    code: str
    name: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def municipalities() -> dict[str, Municipality]:
    with (_DATA / "municipalities.csv").open(encoding="utf-8") as fh:
        return {
            row["code"]: Municipality(
                row["code"],
                row["name"],
                row["county_code"],
                row["county_name"],
                float(row["lat"]),
                float(row["lon"]),
            )
            for row in csv.DictReader(fh)
        }


@lru_cache(maxsize=1)
def counties() -> dict[str, County]:
    with (_DATA / "counties.csv").open(encoding="utf-8") as fh:
        return {
            row["county_code"]: County(row["county_code"], row["county_name"], float(row["lat"]), float(row["lon"]))
            for row in csv.DictReader(fh)
        }
