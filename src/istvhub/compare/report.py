"""Write a comparison: GeoPackage (``comparison`` + ``summary``), CSV (WKT in EPSG:4326 plus a
``<stem>_summary.csv``), or a self-contained HTML report ranking the places where ED data shows
violence police data does not. Only protected numbers are written; suppressed values print ``*``.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd
import pyogrio

from istvhub.compare.core import CAVEAT, UNIT_KEY, CompareError, Comparison

FORMATS = ("gpkg", "csv", "html")
TOP_N = 25


def _cell(v: object, suppressed: bool = False) -> str:
    if suppressed or v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return "*"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return html.escape(f"{v:,}" if isinstance(v, int) else str(v))


def render_html(c: Comparison) -> str:
    """The one-page report (no scripts, no external URLs)."""
    t = c.table
    key = UNIT_KEY[c.unit]
    top = t[t["excess_rank"].notna()].head(TOP_N)
    kv = dict(zip(c.summary["key"], c.summary["value"], strict=False))
    label = {"blocks": "Street block", "hexes": "H3 cell", "lsoas": "LSOA"}[c.unit]

    def place(r) -> str:
        if c.unit == "blocks":
            nm = r.get("name")
            nm = "" if nm is None or pd.isna(nm) else str(nm)
            bor = r.get("borough")
            bor = "" if bor is None or pd.isna(bor) else str(bor)
            return html.escape(f"{nm or '(unnamed)'}, {bor} [{r[key]}]")
        if c.unit == "lsoas" and "lsoa_name" in r and not pd.isna(r["lsoa_name"]):
            return html.escape(f"{r['lsoa_name']} [{r[key]}]")
        return html.escape(str(r[key]))

    body = "".join(
        f"<tr><td>{_cell(r['excess_rank'])}</td><td>{place(r)}</td>"
        f"<td>{_cell(r['ed_count'], r['ed_suppressed'])}</td>"
        f"<td>{_cell(r['police_count'], r['police_suppressed'])}</td>"
        f"<td>{_cell(r['ed_excess'], r['excess_suppressed'])}</td></tr>"
        for _, r in top.iterrows()
    )
    if not body:
        body = (
            "<tr><td colspan='5'>No place with a publishable ED-only excess in this "
            "period.</td></tr>"
        )
    summ = "".join(
        f"<tr><th>{html.escape(str(s))}: {html.escape(str(k))}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for s, k, v in c.summary.itertuples(index=False)
        if s != "caveat"
    )
    banner = ""
    if c.rule.raw:
        banner = "<p class='warn'>UNSUPPRESSED RAW COUNTS: NOT FOR PUBLICATION OR SHARING.</p>"
    period = f"{kv.get('period_from', '')} to {kv.get('period_to', '')}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Violence police data does not show: {html.escape(period)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:.25em .6em;
text-align:left}}.caveat{{background:#fff6d5;border-left:4px solid #c90;padding:.6em 1em}}
.warn{{background:#c00;color:#fff;padding:.6em 1em;font-weight:bold}}</style></head><body>
{banner}<h1>Where ED data shows violence police data does not</h1>
<p>Period {html.escape(period)}; unit: {html.escape(label)}; boroughs:
{html.escape(kv.get("boroughs", "all"))}. Ranked by the ED-only excess (ED attendances for
assault minus police-recorded violence and sexual offences). Disclosure rule
{html.escape(c.rule.label)}: counts 1-{c.rule.suppress_max} and the excess wherever the ED count is
suppressed show as <b>*</b>; other numbers are rounded to the nearest {c.rule.round_to}.</p>
<div class="caveat"><b>Do not over-interpret block-level differences.</b> {html.escape(CAVEAT)}
</div>
<h2>Top {TOP_N} places by ED-only excess</h2>
<table><thead><tr><th>Rank</th><th>{html.escape(label)}</th><th>ED count</th>
<th>Police count</th><th>ED-only excess</th></tr></thead><tbody>{body}</tbody></table>
<h2>Summary</h2><table>{summ}</table>
</body></html>
"""


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
