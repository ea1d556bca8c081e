"""The RAG of each received month: threshold breaches, lateness and sudden drops in records
against the department's own trailing median (the rules say which count as breaches)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from istvhub.compliance.rules import Rules
from istvhub.core.periods import month_add


def add_drop_flags(grid: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Trailing median of each department's own received months before this one."""
    med = pd.Series(np.nan, index=grid.index, dtype="float64")
    for _, g in grid.groupby("department", sort=False):
        by_month: dict[str, float] = dict(zip(g["period"], g["records"], strict=True))
        for idx, p in zip(g.index, g["period"], strict=True):
            prev = [by_month.get(month_add(p, -k)) for k in range(1, rules.trailing_months + 1)]
            seen = [v for v in prev if v is not None and not pd.isna(v)]
            if len(seen) >= rules.min_history:
                med[idx] = float(np.median(seen))
    grid["trailing_median"] = med
    rec = grid["records"]
    grid["drop_flag"] = (rec.notna() & med.notna() & (rec < rules.drop_fraction * med)).astype(bool)
    return grid


def assign_rag(grid: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """``rag`` and ``reasons`` of every cell: missing is red, not expected or not yet due grey."""
    rags, reasons = [], []
    for row in grid.itertuples(index=False):
        why: list[str] = []
        if row.status == "missing":
            rags.append("red")
            reasons.append("missing")
            continue
        if row.status != "received":
            rags.append("grey")
            reasons.append("not expected" if row.status == "not_expected" else "not yet due")
            continue
        breaches = 0
        for t in rules.thresholds:
            v = getattr(row, t.metric)
            if v is not None and not pd.isna(v) and float(v) < t.min:
                breaches += 1
                why.append(f"{t.label} below {t.min:.0%}")
        if row.drop_flag and rules.drop_counts_as_breach:
            breaches += 1
        if row.drop_flag:
            why.append("sudden drop in records")
        late = row.on_time is False
        if late:
            why.insert(0, "late")
            if rules.late_counts_as_breach:
                breaches += 1
        if breaches >= rules.red_breaches:
            rags.append("red")
        elif late or breaches >= 1:
            rags.append("amber")
        else:
            rags.append("green")
        reasons.append("; ".join(why))
    grid["rag"] = rags
    grid["reasons"] = reasons
    return grid
