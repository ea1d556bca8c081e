"""One-page, self-contained HTML report: map, Lorenz curve and the top-10 blocks.

The map is drawn with matplotlib from our own borough outlines (no web tiles are reachable and
none are needed); images are embedded as base64 PNG so the file has no external URLs. It shows
only disclosure-controlled layers: suppressed values print as ``*``.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from istvhub.disclosure.rules import format_count  # noqa: E402
from istvhub.hotblocks.aggregate import Layers  # noqa: E402


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def map_png(layers: Layers, boroughs: gpd.GeoDataFrame | None = None) -> str:
    """Base64 PNG: hexes (shaded by published count) and blocks over borough outlines."""
    fig, ax = plt.subplots(figsize=(8, 7))
    blocks = layers.blocks
    hexes = layers.hexes
    frames = [g for g in (blocks, hexes) if len(g) and g.geometry.notna().any()]
    if frames:
        x0, y0, x1, y1 = np.array([g.total_bounds for g in frames]).T
        bounds = (x0.min(), y0.min(), x1.max(), y1.max())
    else:
        bounds = None
    if boroughs is not None and len(boroughs):
        b = boroughs.to_crs(27700) if boroughs.crs and boroughs.crs.to_epsg() != 27700 else boroughs
        b.boundary.plot(ax=ax, color="#555555", linewidth=0.8, zorder=1)
    if len(hexes):
        pub = hexes[~hexes["suppressed"]]
        sup = hexes[hexes["suppressed"]]
        if len(sup):
            sup.plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=0.3, zorder=2)
        if len(pub):
            pub.assign(c=pub["count"].astype("float64")).plot(
                ax=ax,
                column="c",
                cmap="Oranges",
                alpha=0.55,
                edgecolor="white",
                linewidth=0.3,
                zorder=2,
            )
    if len(blocks):
        pub = blocks[~blocks["suppressed"]]
        if len(pub):
            pub.assign(c=pub["count"].astype("float64")).plot(
                ax=ax,
                column="c",
                cmap="Reds",
                linewidth=2.2,
                zorder=3,
                legend=True,
                legend_kwds={"label": "incidents per block (rounded)", "shrink": 0.6},
            )
        sup = blocks[blocks["suppressed"]]
        if len(sup):
            sup.plot(ax=ax, color="#999999", linewidth=1.0, zorder=3)
    if bounds is not None:
        pad = 300.0
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    r = layers.rule
    ax.set_title(
        "Hot blocks (UNSUPPRESSED)"
        if r.raw
        else f"Hot blocks (blocks and cells with 0-{r.suppress_max} incidents are not drawn)"
    )
    return _png(fig)


def lorenz_png(layers: Layers) -> str:
    """Base64 PNG of the Lorenz curves over blocks and hexes."""
    fig, ax = plt.subplots(figsize=(5, 5))
    c = layers.concentration
    for scope, colour in (("blocks", "#b2182b"), ("hexes", "#ef8a62")):
        s = c[c["scope"] == scope]
        if len(s):
            ax.plot(s["pct_units"], s["pct_incidents"], color=colour, label=scope)
    ax.plot([0, 100], [0, 100], color="#888888", linestyle="--", linewidth=0.8, label="equality")
    ax.set_xlabel("% of units (fewest incidents first)")
    ax.set_ylabel("% of incidents")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left")
    ax.set_title("Lorenz curve")
    return _png(fig)


def _top_row(r: dict) -> str:
    sup = bool(r["suppressed"])
    rank = "" if pd.isna(r["rank"]) else str(int(r["rank"]))
    cnt = format_count(None if sup or pd.isna(r["count"]) else float(r["count"]))
    rate = "*" if sup or pd.isna(r["rate_per_100m"]) else f"{r['rate_per_100m']:.2f}"
    share = "*" if sup or pd.isna(r["share"]) else f"{r['share']:.1f}%"
    name = "" if pd.isna(r.get("name")) else str(r.get("name"))
    borough = "" if pd.isna(r.get("borough")) else str(r.get("borough"))
    return (
        f"<tr><td>{rank}</td><td>{html.escape(name)}</td><td>{html.escape(borough)}</td>"
        f"<td>{cnt}</td><td>{rate}</td><td>{share}</td></tr>"
    )


def render_report(layers: Layers, boroughs: gpd.GeoDataFrame | None = None) -> str:
    """The report as one HTML string (no external URLs)."""
    s = layers.summary
    kv = {(r.section, r.key): r.value for r in s.itertuples()}
    warn = kv.get(("disclosure", "WARNING"))
    top = layers.blocks.sort_values(["rank", "block_id"], na_position="last").head(10)
    rows = "".join(_top_row(r) for r in top.to_dict("records"))
    summary_rows = "".join(
        f"<tr><td>{html.escape(r.section)}</td><td>{html.escape(r.key)}</td>"
        f"<td>{html.escape(r.value)}</td></tr>"
        for r in s.itertuples()
        if r.section != "attribution"
    )
    conc = "".join(
        f"<li>{scope}: Gini {kv.get(('concentration', f'{scope}_gini'), '*')}; "
        f"{kv.get(('concentration', f'{scope}_pct_holding_25pct'), '*')}% of {scope} hold 25% "
        f"and {kv.get(('concentration', f'{scope}_pct_holding_50pct'), '*')}% hold 50% of "
        f"incidents</li>"
        for scope in ("blocks", "hexes")
    )
    banner = (
        f'<p class="warn">{html.escape(warn)}</p>'
        if warn
        else f"<p>Disclosure control: {html.escape(layers.rule.label)}. Suppressed values "
        "are shown as *.</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ISTV hot blocks</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}}
.warn{{background:#b2182b;color:#fff;padding:.6em;font-weight:bold}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
.row{{display:flex;gap:1em;flex-wrap:wrap}}img{{max-width:100%}}small{{color:#555}}</style>
</head><body>
<h1>ISTV hot blocks {html.escape(kv.get(("filter", "period_from"), ""))} to
{html.escape(kv.get(("filter", "period_to"), ""))}</h1>
{banner}
<div class="row"><div><img alt="map of hot blocks" src="data:image/png;base64,{
        map_png(layers, boroughs)
    }"></div>
<div><img alt="Lorenz curve" src="data:image/png;base64,{lorenz_png(layers)}">
<ul>{conc}</ul></div></div>
<h2>Top 10 blocks</h2>
<table><tr><th>rank</th><th>street</th><th>borough</th><th>incidents</th><th>per 100 m</th>
<th>share</th></tr>{rows}</table>
<h2>Summary</h2><table><tr><th>section</th><th>item</th><th>value</th></tr>{summary_rows}</table>
<p><small>{html.escape(kv.get(("attribution", "attribution"), ""))}</small></p>
</body></html>
"""


def write_report(
    layers: Layers, path: Path | str, boroughs: gpd.GeoDataFrame | None = None
) -> Path:
    """Write the one-page report to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(layers, boroughs), encoding="utf-8")
    return p
