"""Renderers of an :class:`EqualityTable`: CSV (long, one row per entry) and a self-contained
HTML page (no scripts, no external URLs) with one cross-table per slice."""

from __future__ import annotations

import io
from itertools import product
from typing import Any

import pandas as pd

from istvhub.core.templates import render_template
from istvhub.disclosure.rules import format_count
from istvhub.equality.core import DIMENSIONS, LABELS, TOTAL, EqualityTable

FORMATS = ("csv", "html")


def to_csv(t: EqualityTable) -> str:
    """Long CSV: the ``by`` columns (``All`` = margin), ``count`` (empty when hidden) and
    ``suppressed``."""
    df = t.frame.copy()
    df["count"] = df["count"].astype("Float64").round(0).astype("Int64")
    df["suppressed"] = df["suppressed"].map({True: "true", False: "false"})
    buf = io.StringIO()
    from istvhub.exportsafety import neutralise_frame

    neutralise_frame(df).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _grid(t: EqualityTable, fixed: dict[str, str]) -> dict[str, Any]:
    """One cross-table of the first two dimensions where the others are ``fixed``: its corner
    label, column levels and rows of formatted counts (``*`` = hidden)."""
    rows_dim = t.by[0]
    cols_dim = t.by[1] if len(t.by) > 1 else None
    f = t.frame
    m = pd.Series(True, index=f.index)
    for d, v in fixed.items():
        m &= f[d] == v
    sub = f[m.fillna(False).astype(bool)]
    val = {}
    # by column, not itertuples: a row tuple's ``count`` field is typed as ``tuple.count``
    cols = sub[cols_dim] if cols_dim else [TOTAL] * len(sub)
    for r, c, hidden, n in zip(sub[rows_dim], cols, sub["suppressed"], sub["count"], strict=True):
        val[(r, c)] = format_count(None if hidden else float(n))
    col_levels = (*DIMENSIONS[cols_dim], TOTAL) if cols_dim else (TOTAL,)
    corner = LABELS[rows_dim] + (f" \\ {LABELS[cols_dim]}" if cols_dim else "")
    rows = [
        {
            "label": r,
            "total": r == TOTAL,
            "cells": [val.get((r, c), "") for c in col_levels],
        }
        for r in (*DIMENSIONS[rows_dim], TOTAL)
    ]
    title = ", ".join(f"{LABELS[d]}: {v}" for d, v in fixed.items())
    return {"title": title, "corner": corner, "columns": col_levels, "rows": rows}


CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.2em .5em}
td{text-align:right}tr.total th,tr.total td,td:last-child{font-weight:600;background:#f3f3f3}
td.sup{color:#888}h2{font-size:1.05em;margin-top:1.5em}.note{color:#555;max-width:60em}"""


def to_html(t: EqualityTable) -> str:
    """One page (``data/templates/equality.html``): a cross-table of the first two dimensions
    for every slice of the others (the all-levels slice first)."""
    rest = t.by[2:]
    slices = list(product(*[(TOTAL, *DIMENSIONS[d]) for d in rest])) if rest else [()]
    return render_template(
        "equality.html",
        css=CSS,
        t=t,
        dims=" x ".join(LABELS[d] for d in t.by),
        grids=[_grid(t, dict(zip(rest, sl, strict=True))) for sl in slices],
    )


def render(t: EqualityTable, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(t)
    if fmt == "html":
        return to_html(t)
    from istvhub.equality.core import EqualityError

    raise EqualityError(f"option --format: choose one of {', '.join(FORMATS)}")
