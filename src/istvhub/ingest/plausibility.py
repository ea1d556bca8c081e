"""Plausible periods and dates: nothing before the configured start, nothing in the future.

A 5-row file for 2030-01 once moved MOPAC's default compliance window to months that have not
happened (issue 14, point 3). Periods outside ``earliest_period`` .. the current month are
refused for the whole file; dates after today are quarantined row by row. The bounds are data
(``src/istvhub/data/plausibility.toml``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

import pandas as pd

from istvhub._errors import FileRejected


@dataclass(frozen=True)
class Bounds:
    earliest_period: str = "2010-01"
    timezone: str = "Europe/London"

    def today(self, now: datetime | None = None) -> pd.Timestamp:
        """Today's date in the hub's time zone (naive, midnight)."""
        t = (now or datetime.now(UTC)).astimezone(ZoneInfo(self.timezone))
        return pd.Timestamp(t.date())

    def current_period(self, now: datetime | None = None) -> str:
        return self.today(now).strftime("%Y-%m")


@lru_cache(maxsize=1)
def bounds() -> Bounds:
    raw = tomllib.loads(
        resources.files("istvhub.data").joinpath("plausibility.toml").read_text("utf-8")
    )
    return Bounds(
        str(raw.get("earliest_period", "2010-01")), str(raw.get("timezone", "Europe/London"))
    )


def check_period(period: str, *, file: str, field: str, now: datetime | None = None) -> str:
    """Refuse a period before the configured start or after the current month."""
    b = bounds()
    if period < b.earliest_period:
        raise FileRejected(
            f"reporting period is before {b.earliest_period}, the earliest the hub accepts",
            file=file,
            field=field,
        )
    if period > b.current_period(now):
        raise FileRejected("reporting period is in the future", file=file, field=field)
    return period


def future(dates: pd.Series, now: datetime | None = None) -> pd.Series:
    """Rows whose date (datetime64) falls after today."""
    today = bounds().today(now)
    return (dates.notna() & (dates.dt.normalize() > today)).astype(bool)
