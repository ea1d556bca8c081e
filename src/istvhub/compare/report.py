"""Write a comparison: GeoPackage (``comparison`` + ``summary``), CSV (WKT in EPSG:4326 plus a
``<stem>_summary.csv``), or a self-contained HTML report ranking the places where ED data shows
violence police data does not. Only protected numbers are written; suppressed values print ``*``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyogrio

from istvhub.compare.core import CAVEAT, UNIT_KEY, CompareError, Comparison
from istvhub.core.templates import render_template

FORMATS = ("gpkg", "csv", "html")
TOP_N = 25


#: the column head of each unit
UNIT_LABELS = {
    "blocks": "Street block",
    "hexes": "H3 cell",
    "lsoas": "LSOA",
    "lsoas21": "LSOA 2021",
    "msoas21": "MSOA 2021",
}
CSS = """body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .6em;
text-align:left}.caveat{background:#fff6d5;border-left:4px solid #c90;padding:.6em 1em}
.warn{background:#c00;color:#fff;padding:.6em 1em;font-weight:bold}"""


def _cell(v: object, suppressed: bool = False) -> str:
    """A protected number as printed (``*`` when suppressed or missing; thousands grouped)."""
    if suppressed or v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return "*"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) else str(v)


def _place(c: Comparison, r: pd.Series, key: str) -> str:
    """How a ranked place is named: street and borough for a block, the name of an LSOA."""
    if c.unit == "blocks":
        nm = r.get("name")
        nm = "" if nm is None or pd.isna(nm) else str(nm)
        bor = r.get("borough")
        bor = "" if bor is None or pd.isna(bor) else str(bor)
        return f"{nm or '(unnamed)'}, {bor} [{r[key]}]"
    if c.unit == "lsoas" and "lsoa_name" in r and not pd.isna(r["lsoa_name"]):
        return f"{r['lsoa_name']} [{r[key]}]"
    return str(r[key])


def render_html(c: Comparison) -> str:
    """The one-page report (``data/templates/compare.html``; no scripts, no external URLs)."""
    t = c.table
    key = UNIT_KEY[c.unit]
    top = t[t["excess_rank"].notna()].head(TOP_N)
    kv = dict(zip(c.summary["key"], c.summary["value"], strict=False))
    rows = [
        {
            "rank": _cell(r["excess_rank"]),
            "place": _place(c, r, key),
            "ed": _cell(r["ed_count"], r["ed_suppressed"]),
            "police": _cell(r["police_count"], r["police_suppressed"]),
            "excess": _cell(r["ed_excess"], r["excess_suppressed"]),
        }
        for _, r in top.iterrows()
    ]
    return render_template(
        "compare.html",
        css=CSS,
        raw=bool(c.rule.raw),
        period=f"{kv.get('period_from', '')} to {kv.get('period_to', '')}",
        label=UNIT_LABELS.get(c.unit, c.unit),
        boroughs=kv.get("boroughs", "all"),
        rule=c.rule,
        caveat=CAVEAT,
        top_n=TOP_N,
        rows=rows,
        summary=[
            (str(s), str(k), str(v))
            for s, k, v in c.summary.itertuples(index=False)
            if s != "caveat"
        ],
    )


def write_comparison(c: Comparison, path: Path | str, fmt: str) -> list[Path]:
    """Write ``c`` in ``fmt``; returns the files written."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CompareError(f"option --format: must be one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        path.write_text(render_html(c), encoding="utf-8")
        return [path]
    if fmt == "csv":
        w = c.table.to_crs(4326)
        df = pd.DataFrame(w.drop(columns=w.geometry.name))
        df["wkt"] = w.geometry.to_wkt(rounding_precision=6)
        from istvhub.exportsafety import neutralise_frame  # street names reach a spreadsheet

        neutralise_frame(df).to_csv(path, index=False)
        stem = path.with_suffix("") if path.suffix else path
        sp = stem.parent / f"{stem.name}_summary.csv"
        neutralise_frame(c.summary).to_csv(sp, index=False)
        return [path, sp]
    tmp = path.with_name(f".{path.stem}.partial.gpkg")
    if tmp.exists():
        tmp.unlink()
    try:
        t = c.table
        if c.unit != "blocks":
            pyogrio.write_dataframe(
                t,
                tmp,
                layer="comparison",
                driver="GPKG",
                geometry_type="MultiPolygon",
                promote_to_multi=True,
            )
        else:
            pyogrio.write_dataframe(t, tmp, layer="comparison", driver="GPKG")
        pyogrio.write_dataframe(c.summary, tmp, layer="summary", driver="GPKG")
    except Exception as exc:  # pragma: no cover - disk/driver failures
        if tmp.exists():
            tmp.unlink()
        raise CompareError(
            f"file {path.name!r}: could not write GeoPackage ({type(exc).__name__})"
        ) from exc
    os.replace(tmp, path)
    return [path]
