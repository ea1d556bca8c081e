"""Extracts in layouts no adapter names, written the way other ED systems would send them, from
the canonical records of one sample month (issue 17). The layouts are data
(``tests/layout_corpus.toml``: header, expected field, source per column); one writer makes
every CSV and one every XLSX from them. Each maker returns the file name, its bytes and the
columns recognition must find (field -> header; ``flag:<header>`` -> weapon for Y/N flag
columns). Synthetic data only."""

from __future__ import annotations

import io
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istvhub.ingest.adapters import adapt
from istvhub.ingest.layouts import detect_layout, vocabulary
from istvhub.ingest.readers import read_table

SAMPLES = Path(__file__).resolve().parents[1] / "sample_feeds"
BASE_FILE = SAMPLES / "RJ122" / "RJ122_2025-03.csv"
SPEC = tomllib.loads((Path(__file__).with_name("layout_corpus.toml")).read_text("utf-8"))
TABLES: dict[str, dict[str, str]] = SPEC["tables"]
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def base() -> pd.DataFrame:
    """The canonical records of RJ122 2025-03 (the istv_mds sample), in file order."""
    data = BASE_FILE.read_bytes()
    t = read_table(data, BASE_FILE.name, vocabulary())
    a = adapt(t, detect_layout(t.headers)[0], file=BASE_FILE.name)
    return a.records.sort_values("source_row").reset_index(drop=True)


def _years(bands: pd.Series, seed: int = 3) -> pd.Series:
    """An exact age inside each record's band (the sample month has bands only)."""
    rng = np.random.default_rng(seed)
    lo = {"0-15": 5, "16-17": 16, "18-24": 18, "25-34": 25, "35-44": 35, "45-54": 45}
    lo |= {"55-64": 55, "65+": 65}
    out = [
        "" if b not in lo else str(lo[b] + int(rng.integers(0, 2 if b == "16-17" else 7)))
        for b in bands
    ]
    return pd.Series(out, index=bands.index)


def _cut(years: pd.Series, table: dict[str, str]) -> pd.Series:
    """Exact ages cut into a table's bands (keys "lo-hi"; "unknown" for no age)."""
    ranges = [(int(k.split("-")[0]), int(k.split("-")[1]), v) for k, v in table.items() if "-" in k]
    age = pd.to_numeric(years, errors="coerce")
    out = pd.Series(table["unknown"], index=years.index, dtype=object)
    for lo, hi, label in ranges:
        out[(age >= lo) & (age <= hi)] = label
    return out


def _dates(b: pd.DataFrame, which: str) -> pd.Series:
    col = "arrival_at" if which == "arrival" else "incident_date"
    return pd.to_datetime(b[col])


def _na_to_none(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


#: source kind -> (records, argument, for a spreadsheet cell) -> one column of values
_SOURCES: dict[str, Callable[[pd.DataFrame, str, bool], Any]] = {
    "key": lambda b, a, x: [f"{a}{i}" for i in range(len(b))],
    "const": lambda b, a, x: [a] * len(b),
    "arrival": lambda b, a, x: _dates(b, "arrival").dt.strftime(a).fillna(""),
    "incident": lambda b, a, x: _dates(b, "incident").dt.strftime(a).fillna(""),
    "serial": lambda b, a, x: (
        (_dates(b, a) - EXCEL_EPOCH).dt.days.astype("Int64").astype(str).replace("<NA>", "")
    ),
    "xdate": lambda b, a, x: [None if pd.isna(t) else t.to_pydatetime() for t in _dates(b, a)],
    "xday": lambda b, a, x: [None if pd.isna(t) else t.date() for t in _dates(b, a)],
    "time": lambda b, a, x: _na_to_none(b["incident_time"].astype("string").str.slice(0, 5)),
    "text": lambda b, a, x: _na_to_none(b["location_text"]) if x else b["location_text"].fillna(""),
    "map": lambda b, a, x: b[a.split(":")[0]].map(TABLES[a.split(":")[1]]),
    "years": lambda b, a, x: _years(b["age_band"], int(a)),
    "yrs": lambda b, a, x: [f"{y} yrs" if y else "" for y in _years(b["age_band"], int(a))],
    "xyears": lambda b, a, x: [int(y) if y else None for y in _years(b["age_band"], int(a))],
    "cut": lambda b, a, x: _cut(
        _years(b["age_band"], int(a.split(":")[1])), TABLES[a.split(":")[0]]
    ),
    "flag": lambda b, a, x: np.where(b["weapon"] == a, "Y", "N"),
}


def _column(b: pd.DataFrame, source: str, cell: bool, alternate: dict[str, str]) -> list[Any]:
    kind, _, arg = source.partition(":")
    vals = list(_SOURCES[kind](b, arg, cell))
    for i in range(1, len(vals), 2):  # every other such value spelt the other way
        vals[i] = alternate.get(vals[i], vals[i]) if isinstance(vals[i], str) else vals[i]
    return vals


def _expected(spec: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in spec["columns"]:
        header, fieldname, source = col[:3]
        name = col[3] if len(col) > 3 else header
        if fieldname == "flag":
            out[f"flag:{name}"] = source.partition(":")[2]
        elif fieldname:
            out[fieldname] = name
    return out


def write(spec: dict[str, Any], b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """One corpus file from its spec: (file name, bytes, expected field -> header)."""
    xlsx = spec["file"].endswith(".xlsx")
    alt = spec.get("alternate", {})
    data = {i: _column(b, c[2], xlsx, alt) for i, c in enumerate(spec["columns"])}
    headers = [c[0] for c in spec["columns"]]
    title: list[list[Any]] = spec.get("title", [])
    if xlsx:
        body = [[data[i][r] for i in data] for r in range(len(b))]
        groups = [[g or None for g in spec["groups"]]] if "groups" in spec else []
        rows = [*title, *groups, headers, *body]
        return spec["file"], _xlsx(rows, spec.get("merges")), _expected(spec)
    sep = spec.get("sep", ",")
    df = pd.DataFrame({headers[i]: v for i, v in data.items()})
    return spec["file"], _csv(df, [sep.join(t) for t in title], sep), _expected(spec)


class Maker:
    """A corpus layout as a callable of the canonical records (named for test ids)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.__name__ = spec["maker"]
        self.__doc__ = spec.get("doc")

    def __call__(self, b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
        return write(self.spec, b)


MAKERS = {s["maker"]: Maker(s) for s in SPEC["layout"]}
HELDOUT = [MAKERS["heldout_title_rows_csv"], MAKERS["heldout_xlsx"]]
CORPUS = [m for m in MAKERS.values() if m not in HELDOUT]


def __getattr__(name: str) -> Maker:
    """``layout_corpus.merged_header_xlsx`` and the like: the makers by name."""
    try:
        return MAKERS[name]
    except KeyError:
        raise AttributeError(name) from None


def _csv(df: pd.DataFrame, title: list[str] | None = None, sep: str = ",") -> bytes:
    buf = io.StringIO()
    for line in title or []:
        buf.write(line + "\n")
    df.to_csv(buf, index=False, sep=sep)
    return buf.getvalue().encode("utf-8")


def _xlsx(rows: list[list[object]], merges: list[str] | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges or []:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
