"""Neutralise text against spreadsheet formula injection before it reaches a CSV or XLSX export.

Street names, department names, reasons and matched names come (directly or not) from uploads an
outsider may have crafted. A spreadsheet opening an export evaluates a cell that starts with
``= + - @`` (or a tab / carriage return before one), so ``=HYPERLINK(...)`` or ``+cmd|...`` in a
location text would run on a CSP analyst's machine. The OWASP rule: prefix such a text with a
single quote, which spreadsheets show as text and never evaluate. Only text is touched: numbers
(a negative longitude) are written as numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection),
#: plus their full-width forms, which some spreadsheet locales also accept.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate.

    A bare carriage return inside text becomes a newline: CSV writers with a ``\n`` line end do
    not quote a field holding only ``\r``, and a spreadsheet starts a new row there, so the text
    after it (``=1+1``) would land at the start of a cell unneutralised."""
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def is_dangerous(value: Any) -> bool:
    """True for text that a spreadsheet would evaluate as a formula (or split into a new row)."""
    return isinstance(value, str) and (value.startswith(FORMULA_START) or "\r" in value)


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [c for c in df.columns if pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object]


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are safe to write as CSV/XLSX."""
    out = df.copy()
    for c in _text_columns(out):
        col = out[c]
        if col.dtype == object and not col.map(lambda v: isinstance(v, str)).any():
            continue
        out[c] = col.map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def neutralise_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``csv.DictWriter`` with every text value neutralised."""
    return [{k: neutralise(v) for k, v in r.items()} for r in rows]
