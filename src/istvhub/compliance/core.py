"""Sharing compliance as pure functions on frames: department x month grid, deadlines, RAG.

Inputs are three plain frames (read from the store by :mod:`istvhub.compliance.read`, or made by
hand in tests and notebooks):

- ``departments``: ``ods_code, name, dept_type, borough, sharing_since`` (``YYYY-MM`` or null)
- ``submissions``: ``department, period, version, status, received_at`` and the ``rows_*`` counts
- ``record_stats``: one row per ``department, period`` of the *current* version's records with the
  counts in :data:`STAT_COLUMNS` (see :func:`summarise_records`)

Nothing here touches a database or a file except :func:`load_rules`, which reads the TOML rules.
The rules are data (``istvhub/data/compliance.toml``) and written in words in docs/COMPLIANCE.md.
"""

from __future__ import annotations

import calendar
import math
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from istvhub._errors import IstvhubError
from istvhub.core import periods
from istvhub.core.config import DATA_DIR
from istvhub.core.periods import month_add, month_range
from istvhub.store.repos.stats import STAT_COLUMNS as STORE_STAT_COLUMNS

RULES_PATH = DATA_DIR / "compliance.toml"

#: Counts per department-month of the current version's records (the ``record_stats`` frame),
#: one definition: the store's archive columns
STAT_COLUMNS = STORE_STAT_COLUMNS
#: ISTV fields whose completeness is reported: (cell column, count column).
COMPLETENESS = (
    ("complete_incident_date", "n_incident_date"),
    ("complete_incident_time", "n_incident_time"),
    ("complete_location_text", "n_location_text"),
    ("complete_location_type", "n_location_type"),
    ("complete_weapon", "n_weapon"),
)
STATUSES = ("received", "missing", "pending", "not_expected")
RAGS = ("green", "amber", "red", "grey")

#: Columns of a cell (one department-month), in the order the CSV and JSON carry them.
CELL_COLUMNS = (
    "department",
    "name",
    "borough",
    "dept_type",
    "period",
    "expected",
    "status",
    "due_at",
    "received_at",
    "last_received_at",
    "on_time",
    "days_late",
    "versions",
    "records",
    "rows_total",
    "rows_quarantined",
    "rows_skipped",
    *(c for c, _ in COMPLETENESS),
    "geocoded",
    "share_located",
    "share_home",
    "share_unknown",
    "share_unmatched",
    "share_located_of_non_home",
    "trailing_median",
    "drop_flag",
    "rag",
    "reasons",
)


class ComplianceError(IstvhubError):
    """A compliance request or rules file is invalid (bad period, bad TOML)."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Threshold:
    metric: str
    min: float
    label: str


@dataclass(frozen=True)
class Rules:
    """The compliance rules (see compliance.toml); defaults equal the shipped file."""

    due_day: int = 20
    timezone: str = "Europe/London"
    red_breaches: int = 2
    late_counts_as_breach: bool = False
    thresholds: tuple[Threshold, ...] = (
        Threshold("complete_location_text", 0.90, "location text present"),
        Threshold("share_located_of_non_home", 0.60, "non-home records located"),
    )
    window_months: int = 12
    min_ok_months: int = 10
    ok_rags: tuple[str, ...] = ("green", "amber")
    trailing_months: int = 6
    min_history: int = 3
    drop_fraction: float = 0.5
    drop_counts_as_breach: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thresholds"] = [asdict(t) for t in self.thresholds]
        d["ok_rags"] = list(self.ok_rags)
        return d


def load_rules(path: str | Path | None = None) -> Rules:
    """Read the rules TOML (default: the shipped ``istvhub/data/compliance.toml``)."""
    p = Path(path) if path else RULES_PATH
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ComplianceError(
            f"file {p.name!r}: cannot read compliance rules ({type(exc).__name__})"
        ) from None
    dl, rag = raw.get("deadline", {}), raw.get("rag", {})
    con, drop = raw.get("consistency", {}), raw.get("drop_flag", {})
    base = Rules()
    try:
        ths = tuple(
            Threshold(str(t["metric"]), float(t["min"]), str(t.get("label", t["metric"])))
            for t in rag.get("thresholds", [asdict(t) for t in base.thresholds])
        )
        rules = Rules(
            due_day=int(dl.get("due_day", base.due_day)),
            timezone=str(dl.get("timezone", base.timezone)),
            red_breaches=int(rag.get("red_breaches", base.red_breaches)),
            late_counts_as_breach=bool(rag.get("late_counts_as_breach", False)),
            thresholds=ths,
            window_months=int(con.get("window_months", base.window_months)),
            min_ok_months=int(con.get("min_ok_months", base.min_ok_months)),
            ok_rags=tuple(con.get("ok_rags", base.ok_rags)),
            trailing_months=int(drop.get("trailing_months", base.trailing_months)),
            min_history=int(drop.get("min_history", base.min_history)),
            drop_fraction=float(drop.get("fraction", base.drop_fraction)),
            drop_counts_as_breach=bool(drop.get("counts_as_breach", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ComplianceError(f"file {p.name!r}: invalid compliance rules ({exc})") from None
    for t in rules.thresholds:
        if t.metric not in CELL_COLUMNS:
            raise ComplianceError(f"file {p.name!r}, field 'metric': unknown metric {t.metric!r}")
    if not 1 <= rules.due_day <= 31:
        raise ComplianceError(f"file {p.name!r}, field 'due_day': must be 1..31")
    if not 1 <= rules.min_ok_months <= rules.window_months:
        raise ComplianceError(f"file {p.name!r}, field 'min_ok_months': must be 1..window_months")
    return rules


# --------------------------------------------------------------------------- months and deadlines


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


def _as_utc(ts: Any) -> pd.Timestamp | None:
    """Timestamps from the store: aware ones are converted, naive ones are taken as UTC."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def on_time(received_at: Any, period: str, rules: Rules = Rules()) -> bool:
    """True when ``received_at`` is at or before the period's deadline."""
    t = _as_utc(received_at)
    if t is None:
        raise ComplianceError("field 'received_at': missing")
    return t <= pd.Timestamp(due_at(period, rules.due_day, rules.timezone))


# --------------------------------------------------------------------------- record statistics


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


# --------------------------------------------------------------------------- the grid


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
    s["received_at"] = [_as_utc(v) for v in s["received_at"]]
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
    now_ts = _as_utc(now or datetime.now(UTC))
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

    on = []
    late_days = []
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

    grid = _add_drop_flags(grid, rules)
    grid = _assign_rag(grid, rules)
    grid["due_at"] = grid["due_at"].map(lambda d: d.isoformat())
    for c in ("received_at", "last_received_at"):
        grid[c] = grid[c].map(lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else None)
    return grid[list(CELL_COLUMNS)].reset_index(drop=True)


def _add_drop_flags(grid: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Trailing median of each department's own received months before this one."""
    med = pd.Series(np.nan, index=grid.index, dtype="float64")
    for _, g in grid.groupby("department", sort=False):
        by_month = dict(zip(g["period"], g["records"], strict=True))
        for idx, p in zip(g.index, g["period"], strict=True):
            prev = [by_month.get(month_add(p, -k)) for k in range(1, rules.trailing_months + 1)]
            prev = [v for v in prev if v is not None and not pd.isna(v)]
            if len(prev) >= rules.min_history:
                med[idx] = float(np.median(prev))
    grid["trailing_median"] = med
    rec = grid["records"]
    grid["drop_flag"] = (rec.notna() & med.notna() & (rec < rules.drop_fraction * med)).astype(bool)
    return grid


def _assign_rag(grid: pd.DataFrame, rules: Rules) -> pd.DataFrame:
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


# --------------------------------------------------------------------------- consistency, report


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
        clean = {}
        for k, v in rec.items():
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
    from istvhub.compliance.window import default_window

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
