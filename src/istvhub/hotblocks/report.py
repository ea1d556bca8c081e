"""One-page, self-contained HTML report: map, Lorenz curve and the top-10 blocks.

The map is drawn with matplotlib from our own borough outlines (no web tiles are reachable and
none are needed); images are embedded as base64 PNG so the file has no external URLs. It shows
only disclosure-controlled layers: suppressed values print as ``*``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from istvhub.core.templates import render_template  # noqa: E402
from istvhub.disclosure.rules import format_count  # noqa: E402
from istvhub.hotblocks.aggregate import Layers  # noqa: E402


def _png(fig: Figure) -> str:
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


CSS = """body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}
.warn{background:#b2182b;color:#fff;padding:.6em;font-weight:bold}
table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}
.row{display:flex;gap:1em;flex-wrap:wrap}img{max-width:100%}small{color:#555}"""


def _top_row(r: Mapping[Hashable, Any]) -> dict[str, str]:
    """One top-10 row as printed: suppressed values as ``*``."""
    sup = bool(r["suppressed"])
    return {
        "rank": "" if pd.isna(r["rank"]) else str(int(r["rank"])),
        "count": format_count(None if sup or pd.isna(r["count"]) else float(r["count"])),
        "rate": "*" if sup or pd.isna(r["rate_per_100m"]) else f"{r['rate_per_100m']:.2f}",
        "share": "*" if sup or pd.isna(r["share"]) else f"{r['share']:.1f}%",
        "name": "" if pd.isna(r.get("name")) else str(r.get("name")),
        "borough": "" if pd.isna(r.get("borough")) else str(r.get("borough")),
    }


def render_report(layers: Layers, boroughs: gpd.GeoDataFrame | None = None) -> str:
    """The report as one HTML string (``data/templates/hotblocks_report.html``; no external
    URLs)."""
    s = layers.summary
    kv = {(r.section, r.key): r.value for r in s.itertuples()}
    top = layers.blocks.sort_values(["rank", "block_id"], na_position="last").head(10)
    return render_template(
        "hotblocks_report.html",
        css=CSS,
        period_from=kv.get(("filter", "period_from"), ""),
        period_to=kv.get(("filter", "period_to"), ""),
        warning=kv.get(("disclosure", "WARNING")),
        rule_label=layers.rule.label,
        map_png=map_png(layers, boroughs),
        lorenz_png=lorenz_png(layers),
        concentration=[
            {
                "scope": scope,
                "gini": kv.get(("concentration", f"{scope}_gini"), "*"),
                "p25": kv.get(("concentration", f"{scope}_pct_holding_25pct"), "*"),
                "p50": kv.get(("concentration", f"{scope}_pct_holding_50pct"), "*"),
            }
            for scope in ("blocks", "hexes")
        ],
        top=[_top_row(r) for r in top.to_dict("records")],
        summary=[r for r in s.itertuples() if r.section != "attribution"],
        attribution=kv.get(("attribution", "attribution"), ""),
    )


def write_report(
    layers: Layers, path: Path | str, boroughs: gpd.GeoDataFrame | None = None
) -> Path:
    """Write the one-page report to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(layers, boroughs), encoding="utf-8")
    return p
