"""The department x month grid of sharing compliance, as pure functions on frames.

Inputs are three plain frames (read from the store by :mod:`istvhub.compliance.read`, or made by
hand in tests and notebooks):

- ``departments``: ``ods_code, name, dept_type, borough, sharing_since`` (``YYYY-MM`` or null)
- ``submissions``: ``department, period, version, status, received_at`` and the ``rows_*`` counts
- ``record_stats``: one row per ``department, period`` of the *current* version's records with the
  counts in :data:`STAT_COLUMNS` (see :func:`summarise_records`)

Nothing here touches a database or a file; the rules come in as :class:`~.rules.Rules`, the RAG
from :mod:`istvhub.compliance.rag`, and :mod:`istvhub.compliance.report` makes the report.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from istvhub.compliance.columns import CELL_COLUMNS, COMPLETENESS, STAT_COLUMNS
from istvhub.compliance.deadlines import as_utc, check_period, due_at
from istvhub.compliance.rag import add_drop_flags, assign_rag
from istvhub.compliance.rules import ComplianceError, Rules
from istvhub.core.periods import month_range


def summarise_records(records: pd.DataFrame) -> pd.DataFrame:
    """Counts per department-month from record-level rows (current versions only).

    The same definitions as the SQL in :mod:`istvhub.compliance.read`: a field is complete when
    present; location text when non-blank; location type and weapon when not ``unknown``.
    """
    if records.empty:
        return pd.DataFrame(columns=["department", "period", *STAT_COLUMNS])
    r = records
    txt = r["location_text"].astype("string").str.strip()
    geo = r["geo_status"] if "geo_status" in r else pd.Series(pd.NA, index=r.index)
    geo = geo.astype("string")
    flags = pd.DataFrame(
        {
            "department": r["department"].astype("string"),
            "period": r["period"].astype("string"),
            "records": 1,
            "n_incident_date": r["incident_date"].notna(),
            "n_incident_time": r["incident_time"].notna(),
            "n_location_text": (txt.fillna("").str.len() > 0),
            "n_location_type": r["location_type"].astype("string").fillna("unknown") != "unknown",
            "n_weapon": r["weapon"].astype("string").fillna("unknown") != "unknown",
            "n_geocoded": geo.notna(),
            **{
                f"n_{s}": (geo == s).fillna(False)
                for s in ("located", "home", "unknown", "unmatched", "outside_area", "ambiguous")
            },
        }
    )
    flags = flags.astype({c: "int64" for c in STAT_COLUMNS})
    out = flags.groupby(["department", "period"], as_index=False)[list(STAT_COLUMNS)].sum()
    return out[["department", "period", *STAT_COLUMNS]]


def _submission_summary(submissions: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "department",
        "period",
        "versions",
        "received_at",
        "last_received_at",
        "rows_total",
        "rows_quarantined",
        "rows_skipped",
    ]
    if submissions.empty:
        return pd.DataFrame(columns=cols)
    s = submissions.copy()
    s["received_at"] = [as_utc(v) for v in s["received_at"]]
    s = s.sort_values(["department", "period", "version"])
    g = s.groupby(["department", "period"], sort=False)
    first = g.first()  # version 1 (or the lowest kept): when the month first arrived
    agg = pd.DataFrame(
        {
            "versions": g.size(),
            "received_at": first["received_at"],
            "last_received_at": g["received_at"].max(),
        }
    )
    cur = s[s["status"] == "current"].drop_duplicates(["department", "period"], keep="last")
    cur = cur.set_index(["department", "period"])
    for c in ("rows_total", "rows_quarantined", "rows_skipped"):
        agg[c] = cur[c] if c in cur else np.nan
    return agg.reset_index()[cols]


def _div(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype("float64")
    den = den.astype("float64")
    return (num / den.where(den > 0)).astype("float64")


def build_grid(
    departments: pd.DataFrame,
    submissions: pd.DataFrame,
    record_stats: pd.DataFrame,
    start: str,
    end: str,
    *,
    rules: Rules = Rules(),
    now: datetime | None = None,
) -> pd.DataFrame:
    """One row per department x month from ``start`` to ``end`` with every figure and the RAG.

    ``now`` decides which unreceived months are still ``pending`` (not yet due) rather than
    ``missing``; it defaults to the current time.
    """
    check_period(start, field_name="from")
    check_period(end, field_name="to")
    if end < start:
        raise ComplianceError("field 'to': earlier than 'from'")
    now_ts = as_utc(now or datetime.now(UTC))
    months = month_range(start, end)
    deps = departments[["ods_code", "name", "dept_type", "borough", "sharing_since"]].copy()
    deps = deps.rename(columns={"ods_code": "department"})
    deps["department"] = deps["department"].astype("string")
    grid = deps.merge(pd.DataFrame({"period": pd.Series(months, dtype="string")}), how="cross")

    sub = _submission_summary(submissions)
    if not sub.empty:
        sub = sub.astype({"department": "string", "period": "string"})
    grid = grid.merge(sub, on=["department", "period"], how="left")
    stats = record_stats.copy()
    if stats.empty:
        stats = pd.DataFrame(columns=["department", "period", *STAT_COLUMNS])
    stats = stats.astype({"department": "string", "period": "string"})
    grid = grid.merge(stats, on=["department", "period"], how="left")

    since = grid["sharing_since"].astype("string")
    grid["expected"] = (since.isna() | (since.fillna("") == "") | (grid["period"] >= since)).astype(
        bool
    )
    due = {p: pd.Timestamp(due_at(p, rules.due_day, rules.timezone)) for p in months}
    grid["due_at"] = grid["period"].map(due)
    received = grid["versions"].fillna(0) > 0
    grid["versions"] = grid["versions"].fillna(0).astype("int64")
    grid["received_at"] = grid["received_at"].astype("object")
    passed = grid["due_at"].map(lambda d: d.tz_convert("UTC") < now_ts).astype(bool)
    grid["status"] = np.select(
        [received, ~grid["expected"], ~passed], ["received", "not_expected", "pending"], "missing"
    )

    on: list[bool | None] = []
    late_days: list[float] = []
    for rec, d in zip(grid["received_at"], grid["due_at"], strict=True):
        if rec is None or (not isinstance(rec, pd.Timestamp) and pd.isna(rec)):
            on.append(None)
            late_days.append(np.nan)
        else:
            ok = rec <= d
            on.append(bool(ok))
            late_days.append(0 if ok else math.ceil((rec - d).total_seconds() / 86400))
    grid["on_time"] = pd.Series(on, index=grid.index, dtype="object")
    grid["days_late"] = pd.Series(late_days, index=grid.index, dtype="float64")

    for c in STAT_COLUMNS:
        grid[c] = grid[c].astype("float64")
    recs = grid["records"].where(received)
    grid["records"] = recs
    for col, n in COMPLETENESS:
        grid[col] = _div(grid[n], recs)
    geocoded = grid["n_geocoded"].where(received)
    grid["geocoded"] = geocoded
    for s in ("located", "home", "unknown", "unmatched"):
        grid[f"share_{s}"] = _div(grid[f"n_{s}"], geocoded)
    grid["share_located_of_non_home"] = _div(grid["n_located"], geocoded - grid["n_home"])

    grid = add_drop_flags(grid, rules)
    grid = assign_rag(grid, rules)
    grid["due_at"] = grid["due_at"].map(lambda d: d.isoformat())
    for c in ("received_at", "last_received_at"):
        grid[c] = grid[c].map(lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else None)
    return grid[list(CELL_COLUMNS)].reset_index(drop=True)
