"""What the compliance dashboard shows, computed from the compliance stage's report.

The stage decides every RAG status and figure; this module only words them for a person at a
glance: the headline for the latest month, a per-month trend, and one row per department with
each cell's status in words (colour is never the only carrier) and its full explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from istvhub.compliance.render import cell_tooltip
from istvhub.compliance.report import Report

#: ECDS department types (the registry's ``dept_type``), in words
DEPT_TYPES = {
    "01": "Type 1 ED",
    "02": "Type 2 (single specialty)",
    "03": "Type 3 urgent care",
    "04": "Type 4 walk-in",
}
#: what a RAG colour means on this page (the grid's filter offers these)
RAG_WORDS = {
    "green": "On time",
    "amber": "Late or below a threshold",
    "red": "Missing or failing",
    "grey": "Not expected or not yet due",
}


def month_words(period: str, short: bool = False) -> str:
    """``2025-10`` -> ``October 2025`` (``Oct 25`` when short)."""
    d = datetime.strptime(period, "%Y-%m")
    return d.strftime("%b %y" if short else "%B %Y")


def _int(v: Any) -> int | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def cell_words(c: dict[str, Any]) -> str:
    """The status of a department-month in words, short enough for a grid cell."""
    status = c["status"]
    if status == "not_expected":
        return "Not expected"
    if status == "pending":
        return "Not yet due"
    if status == "missing":
        return "Missing"
    n = _int(c.get("records"))
    parts = ["On time" if c.get("on_time") else "Late"]
    if n is not None:
        parts.append(f"{n} rec")
    if c.get("rag") in ("amber", "red") and c.get("on_time") and c.get("reasons"):
        parts[0] = "Below threshold" if c["rag"] == "amber" else "Failing"
    if _int(c.get("versions")) and int(c["versions"]) > 1:
        parts.append(f"v{int(c['versions'])}")
    if c.get("drop_flag"):
        parts.append("drop")
    return " · ".join(parts)


@dataclass
class GridRow:
    department: str
    name: str
    borough: str
    dept_type: str
    type_words: str
    consistent: bool
    ok_months: int
    expected_months: int
    latest_rag: str
    cells: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Dashboard:
    start: str
    end: str
    months: list[str]
    headline: str
    subline: str
    trend: dict[str, list[Any]]
    rows: list[GridRow]
    boroughs: list[str]
    types: list[tuple[str, str]]


def _kind(types: set[str]) -> str:
    return "EDs" if types <= {"01"} else "departments"


def dashboard(report: Report) -> Dashboard:
    """Headline, trend and grid rows of ``report`` (the same figures as its CSV and JSON)."""
    cells = report.cells.astype(object).where(report.cells.notna(), None)
    by_dep: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in cells.to_dict(orient="records"):
        by_dep.setdefault(str(rec["department"]), {})[str(rec["period"])] = {
            str(k): v for k, v in rec.items()
        }
    months = report.months
    trend: dict[str, list[Any]] = {"month": [], "expected": [], "shared": [], "on_time": []}
    for p in months:
        in_month = [d[p] for d in by_dep.values() if p in d]
        due = [c for c in in_month if c["status"] in ("received", "missing")]
        trend["month"].append(p)
        trend["expected"].append(len(due))
        trend["shared"].append(sum(c["status"] == "received" for c in due))
        trend["on_time"].append(sum(c["status"] == "received" and bool(c["on_time"]) for c in due))
    # the headline month: the latest month whose deadline has passed for someone
    last = next((i for i in range(len(months) - 1, -1, -1) if trend["expected"][i]), None)
    deps = report.departments.astype(object).where(report.departments.notna(), None)
    types = {str(t) for t in deps["dept_type"].dropna()} if len(deps) else set()
    kind = _kind(types)
    if last is None:
        headline = f"No {kind} were due to share between {month_words(report.start)} and "
        headline += f"{month_words(report.end)}"
    else:
        headline = (
            f"{trend['on_time'][last]} of {trend['expected'][last]} {kind} shared on time in "
            f"{month_words(months[last])}"
        )
        late = trend["shared"][last] - trend["on_time"][last]
        if late:
            headline += f" ({late} more shared late)"
    s = report.summary
    subline = (
        f"{s.get('departments_consistent', 0)} of {s.get('departments_agreed', 0)} {kind} with a "
        f"sharing agreement shared consistently over {month_words(s['window'][0])} to "
        f"{month_words(s['window'][1])}."
    )
    rows = []
    for d in deps.to_dict(orient="records"):
        code = str(d["department"])
        mine = by_dep.get(code, {})
        row_cells = []
        for p in months:
            c = mine.get(p)
            if c is None:
                row_cells.append(
                    {"period": p, "rag": "grey", "words": "–", "tip": "No figures for this month"}
                )
                continue
            row_cells.append(
                {
                    "period": p,
                    "rag": str(c["rag"]),
                    "status": str(c["status"]),
                    "words": cell_words(c),
                    "tip": cell_tooltip(c),
                }
            )
        latest = next((c["rag"] for c in reversed(row_cells) if c.get("status")), "grey")
        t = str(d.get("dept_type") or "")
        rows.append(
            GridRow(
                department=code,
                name=str(d.get("name") or ""),
                borough=str(d.get("borough") or ""),
                dept_type=t,
                type_words=DEPT_TYPES.get(t, t or "unknown"),
                consistent=bool(d.get("consistent")),
                ok_months=_int(d.get("ok_months")) or 0,
                expected_months=_int(d.get("expected_months")) or 0,
                latest_rag=latest,
                cells=row_cells,
            )
        )
    return Dashboard(
        start=report.start,
        end=report.end,
        months=months,
        headline=headline,
        subline=subline,
        trend=trend,
        rows=rows,
        boroughs=sorted({r.borough for r in rows if r.borough}),
        types=sorted({(r.dept_type, r.type_words) for r in rows}),
    )
