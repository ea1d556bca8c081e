"""Renderers of a compliance :class:`~istvhub.compliance.report.Report`: table, CSV, JSON, HTML.

All four show the same report; the JSON is what the API serves. The HTML page is self-contained
(inline CSS, no scripts, no external URLs) so that it can be e-mailed or opened offline.
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from typing import Any

import pandas as pd
from rich.table import Table
from rich.text import Text

from istvhub.compliance.report import Report
from istvhub.core.templates import render_template

RAG_STYLE = {
    "green": "black on green3",
    "amber": "black on dark_orange",
    "red": "white on red3",
    "grey": "grey50",
}
#: cell backgrounds (WCAG AA with the text colours in _CSS), also for the MOPAC notebook's plot
RAG_COLOUR = {"green": "#d6eedb", "amber": "#ffe6ad", "red": "#f8d0cc", "grey": "#ececec"}
STATUS_MARK = {"missing": "MISS", "pending": "due", "not_expected": "·"}


def _month_label(period: str) -> str:
    return datetime.strptime(period, "%Y-%m").strftime("%b %y")


def _pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "n/a"
    return f"{float(v):.0%}"


def _int(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "-"
    return str(int(v))


def cell_text(cell: dict[str, Any]) -> str:
    """Short text of a cell: records, ``L`` when late, ``xN`` when re-uploaded, ``!`` on a drop."""
    if cell["status"] != "received":
        status: str = cell["status"]
        return STATUS_MARK.get(status, status)
    parts = [_int(cell["records"])]
    if cell["on_time"] is False:
        parts.append("L")
    if int(cell["versions"]) > 1:
        parts.append(f"x{int(cell['versions'])}")
    if cell["drop_flag"]:
        parts.append("!")
    return " ".join(parts)


def cell_tooltip(cell: dict[str, Any]) -> str:
    """Every figure of a department-month, one per line (the HTML hover text)."""
    lines = [
        f"{cell['department']} {cell['period']}: {cell['rag'].upper()}",
        f"status: {cell['status'].replace('_', ' ')}",
        f"due: {cell['due_at'][:16]}",
    ]
    if cell["status"] == "received":
        late = "on time" if cell["on_time"] else f"late by {_int(cell['days_late'])} day(s)"
        lines += [
            f"received: {str(cell['received_at'])[:16]} ({late})",
            f"versions: {int(cell['versions'])}",
            f"records: {_int(cell['records'])}; quarantined rows: {_int(cell['rows_quarantined'])}",
            "complete: date {} / time {} / location text {} / location type {} / weapon {}".format(
                *(
                    _pct(cell[c])
                    for c in (
                        "complete_incident_date",
                        "complete_incident_time",
                        "complete_location_text",
                        "complete_location_type",
                        "complete_weapon",
                    )
                )
            ),
            "geocoded: located {} / home {} / unknown {} / unmatched {}".format(
                *(_pct(cell[f"share_{s}"]) for s in ("located", "home", "unknown", "unmatched"))
            ),
            f"located of non-home: {_pct(cell['share_located_of_non_home'])}",
            f"trailing median records: {_int(cell['trailing_median'])}"
            + (" (sudden drop)" if cell["drop_flag"] else ""),
        ]
    if cell["reasons"]:
        lines.append(f"why: {cell['reasons']}")
    return "\n".join(lines)


def _by_department(report: Report) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    cells = report.cells.astype(object).where(report.cells.notna(), None)
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in _str_keyed(cells):
        grouped.setdefault(rec["department"], {})[rec["period"]] = rec
    deps = report.departments.astype(object).where(report.departments.notna(), None)
    return [(d, grouped.get(d["department"], {})) for d in _str_keyed(deps)]


def _str_keyed(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts; the column names are strings (pandas types them as Hashable)."""
    return [{str(k): v for k, v in rec.items()} for rec in df.to_dict(orient="records")]


def to_rich_table(report: Report) -> Table:
    """Departments x months, each cell coloured by RAG; the London summary as the caption."""
    t = Table(
        title=f"ISTV sharing compliance {report.start} to {report.end}",
        caption=report.summary["line"] + "   (L late, xN versions, ! sudden drop)",
        show_lines=False,
        pad_edge=False,
    )
    t.add_column("Dept", no_wrap=True, min_width=5)
    t.add_column("Name", overflow="ellipsis", no_wrap=True, max_width=22)
    for p in report.months:
        t.add_column(_month_label(p), justify="center", no_wrap=True, min_width=6)
    t.add_column("Consistent", justify="center", no_wrap=True)
    for dep, cells in _by_department(report):
        row: list[Any] = [dep["department"], dep["name"] or ""]
        for p in report.months:
            c = cells.get(p)
            row.append(Text(cell_text(c), style=RAG_STYLE[c["rag"]]) if c else Text(""))
        ok = f"{_int(dep['ok_months'])}/{_int(dep['expected_months'])}"
        row.append(
            Text(
                ("yes " if dep["consistent"] else "no ") + ok,
                style="green" if dep["consistent"] else "red",
            )
        )
        t.add_row(*row)
    return t


def table_width(report: Report) -> int:
    """Columns the rich table needs, so that piped output is not squeezed to 80."""
    return 40 + 11 * len(report.months) + 14


def to_csv(report: Report) -> str:
    """One row per department-month with every figure (shares as fractions, 4 decimals)."""
    buf = io.StringIO()
    df = report.cells.copy()
    for c in df.columns:
        if c.startswith(("complete_", "share_")):
            df[c] = df[c].round(4)
    from istvhub.exportsafety import neutralise_frame

    neutralise_frame(df).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def to_json(report: Report) -> str:
    """``{summary, rules, departments: [...], cells: [...]}``: what the API serves."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem;margin:0 0 .3rem} p.summary{font-size:1.1rem;font-weight:600}
table.grid{border-collapse:collapse;font-size:.8rem}
table.grid th,table.grid td{border:1px solid #fff;padding:.25rem .4rem;text-align:center;
  white-space:nowrap}
table.grid th.dep,table.grid td.dep{text-align:left}
td.cell{position:relative;cursor:default;min-width:3.2rem}
td.green,.legend .green{background:#d6eedb;color:#0d4019}
td.amber,.legend .amber{background:#ffe6ad;color:#4d3300}
td.red,.legend .red{background:#f8d0cc;color:#6e110b}
td.grey,.legend .grey{background:#ececec;color:#3d3d3d}
td.cell .tip{display:none;position:absolute;z-index:5;left:50%;top:100%;transform:translateX(-50%);
  background:#222;color:#fff;text-align:left;padding:.4rem .6rem;border-radius:4px;
  white-space:pre;font-size:.75rem;box-shadow:0 2px 6px rgba(0,0,0,.3)}
td.cell:hover .tip,td.cell:focus .tip{display:block}
td.yes{color:#1d7a33;font-weight:600} td.no{color:#b3261e;font-weight:600}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.3rem;border-radius:3px}
ul.rules{font-size:.85rem} p.foot{font-size:.75rem;color:#4d4d4d}
"""


def to_html(report: Report) -> str:
    """A self-contained page (``compliance_report.html``): departments x months coloured by RAG,
    each cell's figures on hover and keyboard focus, the rules in words."""
    rows = []
    for dep, cells in _by_department(report):
        shown = []
        for p in report.months:
            c = cells.get(p)
            shown.append(
                None
                if c is None
                else {
                    "rag": c["rag"],
                    "status": c["status"],
                    "text": cell_text(c),
                    "tip": cell_tooltip(c),
                }
            )
        rows.append(
            {
                "department": dep["department"],
                "name": dep["name"] or "",
                "borough": dep["borough"] or "",
                "cells": shown,
                "consistent": bool(dep["consistent"]),
                "ok": f"{_int(dep['ok_months'])}/{_int(dep['expected_months'])}",
            }
        )
    r = report.rules
    rules = [
        f"Due by day {r.due_day} of the following month, 23:59:59 {r.timezone}.",
        *(f"Threshold: {t.label} at least {t.min:.0%}." for t in r.thresholds),
        "Green: on time and no threshold missed. Amber: late, or one threshold missed. "
        f"Red: missing, or {r.red_breaches} or more thresholds missed. "
        "Grey: not expected (before the department joined) or not yet due.",
        f"Sharing consistently: green or amber in at least {r.min_ok_months} of the last "
        f"{r.window_months} expected months.",
        f"Sudden drop (!): records below {r.drop_fraction:.0%} of the department's median of the "
        f"previous {r.trailing_months} months.",
    ]
    s = report.summary
    return render_template(
        "compliance_report.html",
        css=_CSS,
        start=report.start,
        end=report.end,
        summary_line=s["line"],
        window=s["window"],
        rag_order=("green", "amber", "red", "grey"),
        month_labels=[_month_label(p) for p in report.months],
        rows=rows,
        rules=rules,
        generated_at=report.generated_at[:19],
    )


FORMATS = ("table", "csv", "json", "html")


def render(report: Report, fmt: str) -> str:
    """Text of ``report`` in ``fmt`` (csv, json, html); ``table`` renders to plain text."""
    if fmt == "csv":
        return to_csv(report)
    if fmt == "json":
        return to_json(report)
    if fmt == "html":
        return to_html(report)
    if fmt == "table":
        from rich.console import Console

        con = Console(file=io.StringIO(), width=table_width(report), record=True, color_system=None)
        con.print(to_rich_table(report))
        return con.export_text()
    raise ValueError(f"unknown format {fmt!r}")
