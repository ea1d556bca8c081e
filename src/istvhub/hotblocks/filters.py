"""The hot-block filters: what a user asks for (``Filters``), how the CLI/API options parse, and
how records are kept by period, department, weapon, location type, borough and time window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from istvhub._errors import HotblocksError
from istvhub.core.periods import is_period
from istvhub.records import LOCATION_TYPES, WEAPONS

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BadFilter(HotblocksError):
    """A hot-blocks filter option is malformed (names the option, never data)."""


@dataclass(frozen=True)
class Filters:
    """What the user asked for; ``describe()`` goes verbatim into the summary layer."""

    period_from: str
    period_to: str
    boroughs: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    weapons: tuple[str, ...] = ()
    location_types: tuple[str, ...] = ()
    hours: tuple[int, int] | None = None
    days: tuple[int, ...] = ()
    h3_res: int = 9

    def __post_init__(self) -> None:
        for name, v in (("--from", self.period_from), ("--to", self.period_to)):
            if not is_period(v):
                raise BadFilter(f"option {name}: expected YYYY-MM")
        if self.period_from > self.period_to:
            raise BadFilter("option --from: after --to")
        if self.h3_res not in (8, 9, 10):
            raise BadFilter("option --h3-res: must be 8, 9 or 10")
        for name, vals, allowed in (
            ("--weapon", self.weapons, WEAPONS),
            ("--location-type", self.location_types, LOCATION_TYPES),
        ):
            bad = [v for v in vals if v not in allowed]
            if bad:
                raise BadFilter(f"option {name}: unknown code; allowed: {', '.join(allowed)}")

    def describe(self) -> dict[str, str]:
        hours = f"{self.hours[0]:02d}:00-{self.hours[1]:02d}:00" if self.hours else "all"
        return {
            "period_from": self.period_from,
            "period_to": self.period_to,
            "boroughs": ", ".join(self.boroughs) or "all",
            "departments": ", ".join(self.departments) or "all",
            "weapons": ", ".join(self.weapons) or "all",
            "location_types": ", ".join(self.location_types) or "all",
            "hours": hours,
            "days": ", ".join(DAYS[d] for d in self.days) or "all",
            "h3_res": str(self.h3_res),
        }


def parse_hours(text: str | None) -> tuple[int, int] | None:
    """``"22-04"`` -> (22, 4): from 22:00 up to (not including) 04:00, wrapping midnight."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d{1,2})\s*-\s*(\d{1,2})\s*", text)
    if not m:
        raise BadFilter("option --hours: expected HH-HH, e.g. 22-04")
    a, b = int(m.group(1)), int(m.group(2))
    if not (0 <= a <= 23 and 0 <= b <= 24) or a == b:
        raise BadFilter("option --hours: hours must be 0-24 and differ")
    return a, b % 24 if b != 24 else 24


def parse_days(text: str | None) -> tuple[int, ...]:
    """``"fri,sat"`` -> (4, 5) (Monday = 0)."""
    if not text:
        return ()
    out = []
    for tok in re.split(r"[,\s]+", text.strip().lower()):
        if not tok:
            continue
        if tok[:3] not in DAYS:
            raise BadFilter("option --days: use mon,tue,wed,thu,fri,sat,sun")
        out.append(DAYS.index(tok[:3]))
    return tuple(sorted(set(out)))


def _hour_of(t: Any) -> int | None:
    """Hour of a stored incident time (a ``time``, or ``HH:MM[:SS]`` text from some drivers;
    ``t`` is a column value from ``tolist()``, untyped)."""
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return None
    if isinstance(t, str):
        m = re.match(r"\s*(\d{1,2}):", t)
        return int(m.group(1)) if m else None
    return getattr(t, "hour", None)


def _time_basis(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(hour, weekday, used_incident) per record: incident date/time, else arrival."""
    arrival = pd.to_datetime(df["arrival_at"], errors="coerce")
    it = df["incident_time"] if "incident_time" in df else pd.Series(None, index=df.index)
    idate = df["incident_date"] if "incident_date" in df else pd.Series(None, index=df.index)
    inc_hour = pd.to_numeric(
        pd.Series([_hour_of(t) for t in it.tolist()], index=df.index, dtype="object"),
        errors="coerce",
    )
    inc_date = pd.to_datetime(idate, errors="coerce")
    used = inc_hour.notna()
    hour = inc_hour.where(used, arrival.dt.hour)
    # the weekday of the incident date when the incident time is known, else of the arrival
    wd = inc_date.dt.day_of_week.where(used & inc_date.notna(), arrival.dt.day_of_week)
    return hour, wd, used


def filter_records(df: pd.DataFrame, f: Filters) -> tuple[pd.DataFrame, dict[str, float]]:
    """Apply the filters; returns the kept records and how many used incident vs arrival time."""
    m = (df["period"] >= f.period_from) & (df["period"] <= f.period_to)
    if f.departments:
        m &= df["department"].astype("string").str.upper().isin([d.upper() for d in f.departments])
    if f.weapons:
        m &= df["weapon"].isin(list(f.weapons))
    if f.location_types:
        m &= df["location_type"].isin(list(f.location_types))
    if f.boroughs:
        want = [b.lower() for b in f.boroughs]
        m &= df["borough"].astype("string").str.lower().isin(want).fillna(False)
    out = df[m.fillna(False).to_numpy(dtype=bool)]
    basis = {"incident_time": 0.0, "arrival_time": 0.0}
    if f.hours or f.days:
        hour, wd, used = _time_basis(out)
        keep = pd.Series(True, index=out.index)
        if f.hours:
            a, b = f.hours
            keep &= (hour >= a) & (hour < b) if a < b else (hour >= a) | (hour < b)
        if f.days:
            if f.hours and f.hours[0] > f.hours[1]:
                # a window that wraps midnight belongs to the night it started: with --hours
                # 22-04 --days fri,sat, Saturday 01:30 is Friday night, Sunday 01:30 Saturday's
                wd = wd.where(~(hour < f.hours[1]), (wd - 1) % 7)
            keep &= wd.isin(list(f.days))
        kept_rows = keep.fillna(False).to_numpy(dtype=bool)
        basis = {
            "incident_time": float(used[kept_rows].sum()),
            "arrival_time": float((~used[kept_rows]).sum()),
        }
        out = out[kept_rows]
    return out, basis
