"""The compliance report: the grid for a window, per-department consistency over the rules'
window, and the London summary line; :class:`Report` is what every renderer and the API show."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from istvhub.compliance.columns import RAGS
from istvhub.compliance.deadlines import check_period
from istvhub.compliance.grid import build_grid
from istvhub.compliance.rules import ComplianceError, Rules, load_rules
from istvhub.compliance.window import default_window
from istvhub.core.periods import month_add, month_range


def consistency(cells: pd.DataFrame, end: str, rules: Rules = Rules()) -> pd.DataFrame:
    """Per department: green/amber months among the expected, already-due months of the window.

    A department that joined inside the window needs the same proportion of its expected months
    (rounded up); one with no expected month in the window has not agreed yet and is not counted.
    """
    window = month_range(month_add(end, -(rules.window_months - 1)), end)
    rows = []
    for dep, g in cells.groupby("department", sort=False):
        w = g[g["period"].isin(window)]
        judged = w[w["expected"] & (w["status"] != "pending")]
        n = len(judged)
        ok = int(judged["rag"].isin(rules.ok_rags).sum())
        need = math.ceil(rules.min_ok_months * n / rules.window_months) if n else 0
        rows.append(
            {
                "department": dep,
                "expected_months": n,
                "ok_months": ok,
                "required_months": need,
                "agreed": bool(w["expected"].any()),
                "consistent": bool(n > 0 and ok >= need),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "department",
            "expected_months",
            "ok_months",
            "required_months",
            "agreed",
            "consistent",
        ],
    )


@dataclass
class Report:
    """What every renderer (table, CSV, JSON, HTML) and the API show."""

    start: str
    end: str
    cells: pd.DataFrame
    departments: pd.DataFrame
    rules: Rules
    generated_at: str
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return month_range(self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{summary, rules, departments: [...], cells: [...]}`` (NaN -> null)."""
        return {
            "summary": self.summary,
            "rules": self.rules.to_dict(),
            "departments": _records(self.departments),
            "cells": _records(self.cells),
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.astype(object).to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, v in rec.items():
            k = str(key)  # column names are strings; pandas types them as Hashable
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                clean[k] = None
            elif isinstance(v, np.generic):
                clean[k] = v.item()
            elif (
                isinstance(v, float)
                and v.is_integer()
                and (k == "records" or k.startswith(("rows_", "geocoded", "days_", "versions")))
            ):
                clean[k] = int(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def default_range(
    submissions: pd.DataFrame, now: datetime | None = None, window: int = 12
) -> tuple[str, str]:
    """The ``window`` months up to the latest *complete* month (deadline passed, sent on time by
    most departments: :mod:`istvhub.compliance.window`), else up to last month."""
    return default_window(submissions, now, window)


def compliance_report(
    departments: pd.DataFrame,
    submissions: pd.DataFrame,
    record_stats: pd.DataFrame,
    *,
    start: str | None = None,
    end: str | None = None,
    only: list[str] | None = None,
    rules: Rules | None = None,
    now: datetime | None = None,
) -> Report:
    """The whole report: cells for ``start..end``, per-department consistency, London summary.

    The grid is computed from far enough back that trailing medians and the consistency window
    are right even when ``start`` is recent; only ``start..end`` is returned as cells.
    """
    rules = rules or load_rules()
    now = now or datetime.now(UTC)
    d_start, d_end = default_range(submissions, now, rules.window_months)
    end = check_period(end, field_name="to") if end else d_end
    start = (
        check_period(start, field_name="from")
        if start
        else (d_start if end == d_end else month_add(end, -(rules.window_months - 1)))
    )
    if end < start:
        raise ComplianceError("field 'to': earlier than 'from'")
    deps = departments
    if only:
        wanted = {o.strip().upper() for o in only}
        unknown = wanted - set(deps["ods_code"].astype(str).str.upper())
        if unknown:
            raise ComplianceError(f"field 'department': {len(unknown)} code(s) not in the registry")
        deps = deps[deps["ods_code"].astype(str).str.upper().isin(wanted)]
    deps = deps.sort_values("ods_code")
    calc_start = min(start, month_add(end, -(rules.window_months - 1)))
    calc_start = month_add(calc_start, -rules.trailing_months)
    grid = build_grid(deps, submissions, record_stats, calc_start, end, rules=rules, now=now)
    cons = consistency(grid, end, rules)
    info = deps.rename(columns={"ods_code": "department"})[
        ["department", "name", "dept_type", "borough", "sharing_since"]
    ].astype({"department": "string"})
    cells = grid[grid["period"] >= start].reset_index(drop=True)
    counts = cells.pivot_table(
        index="department", columns="rag", values="period", aggfunc="count", fill_value=0
    )
    for r in RAGS:
        if r not in counts:
            counts[r] = 0
    counts = counts[list(RAGS)].add_prefix("months_").reset_index()
    depinfo = info.merge(cons, on="department", how="left").merge(
        counts, on="department", how="left"
    )
    agreed = depinfo[depinfo["agreed"].fillna(False).astype(bool)]
    n_ok = int(agreed["consistent"].sum())
    m = len(agreed)
    summary = {
        "from": start,
        "to": end,
        "generated_at": pd.Timestamp(now).isoformat(),
        "window": [month_add(end, -(rules.window_months - 1)), end],
        "departments_agreed": m,
        "departments_consistent": n_ok,
        "line": f"{n_ok} of {m} departments sharing consistently",
        "rag_counts": {r: int((cells["rag"] == r).sum()) for r in RAGS},
    }
    return Report(
        start=start,
        end=end,
        cells=cells,
        departments=depinfo,
        rules=rules,
        generated_at=pd.Timestamp(now).isoformat(),
        summary=summary,
    )
