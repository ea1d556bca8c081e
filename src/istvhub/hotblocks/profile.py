"""When and how the selection's incidents happen: a day-of-week x time-of-day grid and a monthly
trend, every number through the same disclosure control as the map's layers.

Pure core on the records frame the layers read (:func:`istvhub.hotblocks.service.layer_input`).
The grid splits the day into 3-hour bands, not hours: the query rules
(:mod:`istvhub.disclosure.query`) refuse time windows narrower than ``min_hours_window`` and
periods shorter than ``time_filter_min_months``, and a grid cell is such a window. For the same
reason the trend of a time-filtered selection is counted in blocks of that many months. Every
cell is perturbed by its own cell key, suppressed at 1-7 and rounded; cells are computed from
unsuppressed data and never derived from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from istvhub.core.periods import month_range, months_between
from istvhub.disclosure.cellkey import cell_keys
from istvhub.disclosure.query import load_limits
from istvhub.disclosure.rules import DisclosureRule, protect
from istvhub.hotblocks.aggregate import DAYS, Filters, _time_basis, filter_records

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Profile:
    """What the map page's charts show; ``None`` cells are suppressed (1-7 incidents)."""

    bands: list[str]  # "00-03", "03-06", ...
    days: list[str]  # Monday..Sunday
    grid: list[list[float | None]] | None  # [day][band]
    grid_note: str
    periods: list[str]  # "2025-01" or "2025-01..2025-03"
    trend: list[float | None]
    trend_note: str
    rule_label: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _protected(raw: pd.Series, keys: pd.Series, rule: DisclosureRule) -> list[float | None]:
    p = protect(raw, rule, cell_keys=keys.reindex(raw.index).fillna(0).to_numpy())
    vals = p["count"].to_numpy()
    return [None if np.isnan(v) else (round(float(v), 2) if rule.raw else float(v)) for v in vals]


def build_profile(records: pd.DataFrame, filters: Filters, rule: DisclosureRule) -> Profile:
    """The grid (all filters but time of day and weekday, which it is there to choose) and the
    trend (every filter) of ``records`` under ``rule``."""
    lim = load_limits()
    width = max(3, lim.min_hours_window)
    bands = [f"{a:02d}-{min(a + width, 24):02d}" for a in range(0, 24, width)]
    months = months_between(filters.period_from, filters.period_to)
    untimed, _ = filter_records(records, replace(filters, hours=None, days=()))
    grid: list[list[float | None]] | None = None
    grid_note = (
        f"Incidents by day of week and time of day ({width}-hour bands, incident time where "
        "recorded, else arrival time), for every filter except time of day and day of week."
    )
    if not rule.raw and months < lim.time_filter_min_months:
        grid_note = (
            f"Not shown: a day-and-time breakdown needs a period of at least "
            f"{lim.time_filter_min_months} months."
        )
    else:
        hour, wd, _ = _time_basis(untimed) if len(untimed) else (pd.Series(), pd.Series(), None)
        ok = hour.notna() & wd.notna()
        cell = (wd[ok].astype(int) * len(bands) + (hour[ok].astype(int) // width)).astype(int)
        idx = pd.RangeIndex(7 * len(bands))
        raw = cell.value_counts().reindex(idx, fill_value=0).astype("float64")
        keys = cell_keys(untimed.loc[cell.index, "record_key"].astype("int64"), cell)
        flat = _protected(raw, keys, rule)
        grid = [flat[d * len(bands) : (d + 1) * len(bands)] for d in range(7)]
    timed, _ = filter_records(records, filters)
    step = 1
    trend_note = "Incidents per month for the selection."
    if (filters.hours or filters.days) and not rule.raw:
        step = lim.time_filter_min_months
        trend_note = (
            f"Incidents per {step} months: with a time-of-day or weekday filter, counts are "
            f"given for periods of at least {step} months."
        )
    months_all = month_range(filters.period_from, filters.period_to)
    groups = [months_all[i : i + step] for i in range(0, len(months_all), step)]
    if len(groups) > 1 and len(groups[-1]) < step:  # no bin shorter than the rules allow
        groups[-2] += groups.pop()
    label = {m: g[0] if len(g) == 1 else f"{g[0]}..{g[-1]}" for g in groups for m in g}
    periods = [g[0] if len(g) == 1 else f"{g[0]}..{g[-1]}" for g in groups]
    bin_of = timed["period"].astype(str).map(label)
    raw_t = bin_of.value_counts().reindex(periods, fill_value=0).astype("float64")
    keys_t = cell_keys(timed["record_key"].astype("int64"), bin_of.fillna("\x00"))
    return Profile(
        bands=bands,
        days=list(DAY_NAMES),
        grid=grid,
        grid_note=grid_note,
        periods=periods,
        trend=_protected(raw_t, keys_t, rule),
        trend_note=trend_note,
        rule_label=rule.label,
    )


__all__ = ["DAYS", "Profile", "build_profile"]
