"""Months and deadlines: a month's extract is due on ``due_day`` of the next month, local time."""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from istvhub.compliance.rules import ComplianceError, Rules
from istvhub.core import periods
from istvhub.core.periods import month_add


def check_period(period: str, *, field_name: str = "period") -> str:
    """Return ``period`` if it is ``YYYY-MM``; raise ComplianceError naming the field otherwise."""
    return periods.check_period(period, field_name=field_name, error=ComplianceError)


def due_at(period: str, due_day: int = 20, tz: str = "Europe/London") -> datetime:
    """Deadline of a month's extract: ``due_day`` of the following month, 23:59:59 local time.

    A day beyond that month's length is clamped to its last day.
    """
    nxt = month_add(check_period(period), 1)
    y, m = int(nxt[:4]), int(nxt[5:7])
    d = min(due_day, calendar.monthrange(y, m)[1])
    return datetime(y, m, d, 23, 59, 59, tzinfo=ZoneInfo(tz))


def as_utc(ts: Any) -> pd.Timestamp | None:
    """Timestamps from the store: aware ones are converted, naive ones are taken as UTC."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def on_time(received_at: Any, period: str, rules: Rules = Rules()) -> bool:
    """True when ``received_at`` is at or before the period's deadline."""
    t = as_utc(received_at)
    if t is None:
        raise ComplianceError("field 'received_at': missing")
    return t <= pd.Timestamp(due_at(period, rules.due_day, rules.timezone))
