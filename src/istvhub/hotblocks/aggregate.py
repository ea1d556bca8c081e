"""Aggregation to blocks / hexes / LSOAs, disclosure control and the summary table.

Pure core: takes frames (records from the store, blocks and LSOAs from the gazetteer), returns
:class:`Layers`. Nothing record-level survives: layers carry counts per area only, never free
text, record ids, exact times or single-record points. Every count goes through
:mod:`istvhub.disclosure` (cell-key perturbation, suppression, rounding); units with 1-7 records
are left out exactly as empty ones are, so a listing never says "at least one here".

The filters live in ``hotblocks.filters`` and the shared publishing steps in
``hotblocks.publish``; both are re-exported here, where callers have always found them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.disclosure.cellkey import cell_key_of, cell_keys, with_record_keys
from istvhub.disclosure.query import check_query
from istvhub.disclosure.rules import DisclosureRule, protect_total
from istvhub.hotblocks.areas import AREA_LAYERS, area_layer, empty_layer
from istvhub.hotblocks.assign import _TO_WGS84, BlockIndex, assign, cells_to_str, h3_cells
from istvhub.hotblocks.concentration import Concentration, concentration
from istvhub.hotblocks.filters import (
    DAYS,
    BadFilter,
    Filters,
    _time_basis,
    filter_records,
    parse_days,
    parse_hours,
)
from istvhub.hotblocks.netmemo import block_mid_hex, block_positions, blocks_in_scope, lsoa_lookup
from istvhub.hotblocks.publish import (
    SummaryRows,
    _hex_polygons,
    _keys_by,
    _protected_table,
    _published,
)
from istvhub.hotblocks.scope import hex_in_scope, lsoa_in_scope
from istvhub.hotblocks.snapshare import network_rows, summary_rows
from istvhub.records import GEO_STATUSES

__all__ = [
    "ATTRIBUTION",
    "CONCENTRATION_MIN_TOTAL",
    "DAYS",
    "BadFilter",
    "Filters",
    "Layers",
    "SummaryRows",
    "_hex_polygons",
    "_keys_by",
    "_protected_table",
    "_published",
    "_time_basis",
    "build_layers",
    "concentration_of",
    "filter_records",
    "parse_days",
    "parse_hours",
]

ATTRIBUTION = (
    "Contains OS data (c) Crown copyright and database right 2025; Contains Royal Mail data "
    "(c) Royal Mail copyright and database right 2025; Contains ONS data, OGL v3; Contains HM "
    "Land Registry data (c) Crown copyright and database right, OGL v3; Street network "
    "(c) OpenStreetMap contributors, ODbL; Source: ISTV emergency department data, "
    "disclosure-controlled."
)
#: Below this many incidents in scope, concentration figures are not published: with few
#: incidents a share to 0.1% would give away exact (small) counts.
CONCENTRATION_MIN_TOTAL = 50


@dataclass
class Layers:
    """Everything an export or report needs; all counts already disclosure-controlled."""

    blocks: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    summary: pd.DataFrame
    concentration: pd.DataFrame
    rule: DisclosureRule
    stats: dict[str, object] = field(default_factory=dict)
    # Census 2021 areas (issue 19); empty when the gazetteer has no 2021 polygons
    lsoas21: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("lsoas21"))
    msoas21: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("msoas21"))


def build_layers(
    records: pd.DataFrame,
    blocks: gpd.GeoDataFrame | BlockIndex,
    filters: Filters,
    rule: DisclosureRule,
    *,
    lsoas: gpd.GeoDataFrame | None = None,
    gazetteer_version: str = "unknown",
    areas21: dict[str, gpd.GeoDataFrame] | None = None,
) -> Layers:
    """Filter, assign, aggregate and protect: the whole hot-blocks core on frames."""
    started = datetime.now(UTC)
    check_query(
        rule,
        period_from=filters.period_from,
        period_to=filters.period_to,
        hours=filters.hours,
        days=filters.days,
        h3_res=filters.h3_res,
    )
    if "record_key" not in records.columns:
        records = with_record_keys(records)
    index = blocks if isinstance(blocks, BlockIndex) else BlockIndex(blocks)
    bl = index.blocks
    # ``kept``: the records the filters ask for (totals, summary); ``pool``: the same without the
    # borough filter, for the unit layers, where a borough filter selects units (hotblocks.scope)
    kept, basis = filter_records(records, filters)
    pool = filter_records(records, replace(filters, boroughs=()))[0] if filters.boroughs else kept
    rk = kept["record_key"].astype("int64")
    rkp = pool["record_key"].astype("int64")
    a = assign(pool, index, lsoas)
    asked = pd.Series(pool.index.isin(kept.index), index=pool.index)

    # blocks in scope: every block of the chosen boroughs (all blocks without a borough filter)
    in_scope, scope_ids = blocks_in_scope(index, filters.boroughs)
    ab = a.blocks.assign(block_id=a.blocks["block_id"].astype(str))
    # by position in the index: ``isin`` over a London network's ids cost ~0.1 s a build
    ab = ab[in_scope[block_positions(index, pd.Index(ab["block_id"].to_numpy(dtype=object)))]]
    blk_raw = ab.groupby("block_id", sort=True)["weight"].sum()
    # a record spread over several blocks adds its key to each of them
    blk_keys = cell_keys(
        rkp.reindex(ab["record"].to_numpy()).reset_index(drop=True),
        ab["block_id"].reset_index(drop=True),
    )
    all_blk = pd.Series(0.0, index=scope_ids).add(blk_raw, fill_value=0.0)
    conc_b = concentration(all_blk.to_numpy())

    res = filters.h3_res
    hcol = f"hex_{res}"
    in_hex = a.records[hcol].notna()
    if filters.boroughs:
        by_area = hex_in_scope(a.records[hcol], filters.boroughs, lsoas)
        in_hex &= asked if by_area is None else by_area
    hex_n = a.records.loc[in_hex, hcol].astype(str).value_counts()
    hex_raw = hex_n[hex_n > 0].sort_index().astype("float64")
    hex_keys = cell_keys(rkp[in_hex], a.records.loc[in_hex, hcol].astype(str))
    # hex universe for concentration: cells holding an incident or a block midpoint in scope
    mid_hex = pd.Series(block_mid_hex(index, res)[in_scope], dtype=object)
    hex_universe = pd.Index(sorted(set(mid_hex.dropna().tolist()) | set(hex_raw.index)))
    conc_h = concentration(pd.Series(0.0, index=hex_universe).add(hex_raw, fill_value=0.0))

    in_lsoa = a.records["lsoa_code"].notna()
    if filters.boroughs:
        by_area = lsoa_in_scope(a.records["lsoa_code"], filters.boroughs, lsoas)
        in_lsoa &= asked if by_area is None else by_area
    lsoa_of = a.records.loc[in_lsoa, "lsoa_code"].astype(str)
    lsoa_raw = lsoa_of.value_counts().sort_index().astype("float64")
    lsoa_keys = cell_keys(rkp[in_lsoa], lsoa_of)

    # totals, from the unsuppressed data, then protected (each with the cell key of its records)
    located = (
        kept.get("geo_status", pd.Series(None, index=kept.index, dtype="string")).astype("string")
        == "located"
    ).fillna(False)
    on_block = rkp.index.isin(ab["record"].unique())
    totals_raw = {
        "records_in_filter": float(len(kept)),
        "located": float(located.sum()),
        "on_blocks": float(blk_raw.sum()),
        "in_hexes": float(hex_raw.sum()),
        "in_lsoas": float(lsoa_raw.sum()),
    }
    totals_keys = {
        "records_in_filter": cell_key_of(rk),
        "located": cell_key_of(rk[located.to_numpy(dtype=bool)]),
        "on_blocks": cell_key_of(rkp[on_block]),
        "in_hexes": cell_key_of(rkp[in_hex.to_numpy(dtype=bool)]),
        "in_lsoas": cell_key_of(rkp[in_lsoa.to_numpy(dtype=bool)]),
    }
    totals = {k: protect_total(v, rule, totals_keys[k]) for k, v in totals_raw.items()}

    # block layer (non-zero blocks only)
    pub = _published(blk_raw, rule, totals["on_blocks"], blk_keys)
    g = bl.iloc[block_positions(index, pub.index)]
    length = pd.to_numeric(g["length_m"], errors="coerce").to_numpy()
    cnt = pub["count"].astype("float64").to_numpy()
    bmid = shapely.line_interpolate_point(
        np.asarray(g.geometry.values, dtype=object), 0.5, normalized=True
    )
    if len(bmid):
        blon, blat = _TO_WGS84.transform(shapely.get_x(bmid), shapely.get_y(bmid))
        bhex = np.asarray(
            cells_to_str(h3_cells(np.asarray(blat), np.asarray(blon), res)), dtype=object
        )
    else:
        bhex = np.array([], dtype=object)
    blocks_layer = gpd.GeoDataFrame(
        {
            "block_id": pub.index.to_numpy(dtype=object),
            "name": g["name"].astype("string").to_numpy() if "name" in g else None,
            "borough": g["borough"].astype("string").to_numpy() if "borough" in g else None,
            "length_m": np.round(length, 1),
            "count": pub["count"].array,
            "rate_per_100m": np.round(np.where(length > 0, cnt / length * 100.0, np.nan), 2),
            "rank": pub["rank"].array,
            "share": pub["share"].to_numpy(),
            "suppressed": pub["suppressed"].to_numpy(),
            "hex_id": bhex,
        },
        geometry=np.asarray(g.geometry.values, dtype=object),
        crs=27700,
    )
    blocks_layer = blocks_layer.sort_values(
        ["rank", "block_id"], na_position="last", kind="stable"
    ).reset_index(drop=True)

    hpub = _published(hex_raw, rule, totals["in_hexes"], hex_keys)
    units_listed_hexes = len(set(mid_hex.dropna().tolist()) | set(hpub.index))
    hexes_layer = gpd.GeoDataFrame(
        {
            "hex_id": hpub.index.to_numpy(dtype=object),
            "h3_res": np.full(len(hpub), res, dtype=np.int32),
            "count": hpub["count"].array,
            "rank": hpub["rank"].array,
            "share": hpub["share"].to_numpy(),
            "suppressed": hpub["suppressed"].to_numpy(),
        },
        geometry=_hex_polygons(pd.Series(hpub.index)),
        crs=27700,
    )

    lpub = _published(lsoa_raw, rule, totals["in_lsoas"], lsoa_keys)
    lgeom = np.array([None] * len(lpub), dtype=object)
    lname = None
    if lsoas is not None and len(lsoas):
        lg = lsoa_lookup(index, lsoas)
        hit = lpub.index.isin(lg.index)
        lgeom[hit] = np.asarray(lg.loc[lpub.index[hit]].geometry.values, dtype=object)
        for col in ("lsoa_name", "name", "lsoa11nm"):
            if col in lg.columns:
                lname = lg[col].reindex(lpub.index).astype("string").to_numpy()
                break
    lsoas_layer = gpd.GeoDataFrame(
        {
            "lsoa_code": lpub.index.to_numpy(dtype=object),
            "lsoa_name": lname,
            "count": lpub["count"].array,
            "rank": lpub["rank"].array,
            "share": lpub["share"].to_numpy(),
            "suppressed": lpub["suppressed"].to_numpy(),
        },
        geometry=lgeom,
        crs=27700,
    )

    # why records were not located / not on a block (protected as a table with a total)
    gs = (
        kept.get("geo_status", pd.Series(None, index=kept.index))
        .astype("string")
        .fillna("not_geocoded")
    )
    why_not = {
        f"not_located_{s}": float((gs == s).sum())
        for s in (*[x for x in GEO_STATUSES if x != "located"], "not_geocoded")
    }
    why_not_keys = _keys_by(rk, "not_located_" + gs, list(why_not))
    snap = a.records.loc[kept.index, "snap_status"]
    why_not_block = {
        f"located_not_on_block_{s}": float((snap == s).sum())
        for s in (
            "too_far",
            "imprecise",
            "street_not_in_network",
            "not_snappable",
            "outside_network",
        )
    }
    why_not_block_keys = _keys_by(
        rk, "located_not_on_block_" + snap.astype("string"), list(why_not_block)
    )
    spread = float((snap == "spread").sum())
    spread_key = cell_key_of(rk[(snap == "spread").fillna(False).to_numpy(dtype=bool)])

    rows = SummaryRows()
    add = rows.add

    if rule.raw:
        add(
            "disclosure",
            "WARNING",
            "UNSUPPRESSED RAW COUNTS: NOT FOR PUBLICATION OR SHARING. "
            "Record-level disclosure risk; administrators only.",
        )
    add("disclosure", "rule", rule.name)
    add("disclosure", "rule_label", rule.label)
    add("disclosure", "suppressed_cells_shown_as", "null count with suppressed = true ('*')")
    for k, text in filters.describe().items():
        add("filter", k, text)
    if filters.hours or filters.days:
        # the filter keeps records by time; which basis each used is a flag on the kept ones
        used = _time_basis(kept)[2] if len(kept) else pd.Series(dtype=bool)
        ptb = _protected_table(
            basis,
            rule,
            _keys_by(rk, used.map({True: "incident_time", False: "arrival_time"}), list(basis)),
        )
        add("filter", "time_basis", "incident date/time where recorded, else arrival date/time")
        add("filter", "records_by_incident_time", ptb["incident_time"])
        add("filter", "records_by_arrival_time_fallback", ptb["arrival_time"])
    for k, v in totals.items():
        add("total", k, v)
    for k, v in _protected_table(why_not, rule, why_not_keys).items():
        add("not_located", k, v)
    for k, v in _protected_table(why_not_block, rule, why_not_block_keys).items():
        add("not_on_block", k, v)
    add(
        "not_on_block",
        "street_matches_spread_over_blocks",
        protect_total(spread, rule, spread_key),
    )
    for section, k, v in summary_rows(kept, snap, rk, rule):  # issue 13: on a block, by group
        add(section, k, v)
    for section, k, text in network_rows(kept, bl, snap):
        add(section, k, text)
    publish_conc = {
        scope: rule.raw or c.incidents >= CONCENTRATION_MIN_TOTAL
        for scope, c in (("blocks", conc_b), ("hexes", conc_h))
    }
    for scope, c in (("blocks", conc_b), ("hexes", conc_h)):
        pubc = (
            c.published()
            if publish_conc[scope]
            else dict.fromkeys(("gini", "pct_units_for_25", "pct_units_for_50"))
        )
        # hexes in scope = block-midpoint cells plus the listed ones: a cell holding 1-7 records
        # and no block midpoint must not add one to the published number of units
        units = c.units if scope == "blocks" or rule.raw else units_listed_hexes
        add("concentration", f"{scope}_units_in_scope", units)
        if not publish_conc[scope]:
            add(
                "concentration",
                f"{scope}_note",
                f"not published: fewer than {CONCENTRATION_MIN_TOTAL} incidents",
            )
        add("concentration", f"{scope}_gini", pubc["gini"])
        add("concentration", f"{scope}_pct_holding_25pct", pubc["pct_units_for_25"])
        add("concentration", f"{scope}_pct_holding_50pct", pubc["pct_units_for_50"])
    add(
        "layers",
        "zero_count_units",
        "omitted, and so are units with 1-7 records: a unit that is not listed has 0 or a "
        "suppressed count (concentration figures include them)",
    )
    add("layers", "crs", "EPSG:27700 (GeoPackage/Parquet); EPSG:4326 (GeoJSON, CSV WKT)")
    add("layers", "h3_note", "coarser H3 cells are parents of the res-10 cell of each point")
    add("build", "built_at", started.replace(microsecond=0).isoformat())
    add("build", "build_seconds", f"{(datetime.now(UTC) - started).total_seconds():.2f}")
    add("build", "gazetteer_version", gazetteer_version)
    from istvhub import __version__

    add("build", "istvhub_version", __version__)
    add("attribution", "attribution", ATTRIBUTION)
    summary = rows.frame()

    conc = pd.concat(
        [
            c.lorenz.assign(scope=scope)
            for scope, c in (("blocks", conc_b), ("hexes", conc_h))
            if publish_conc[scope]
        ]
        or [
            pd.DataFrame(
                {"scope": pd.Series([], dtype=object), "pct_units": [], "pct_incidents": []}
            )
        ],
        ignore_index=True,
    )[["scope", "pct_units", "pct_incidents"]]
    areas21 = areas21 or {}
    census21 = {
        name: area_layer(
            name, pool, rkp, asked, filters.boroughs, rule, areas21.get(name), index=index
        )
        for name in AREA_LAYERS
    }
    return Layers(
        blocks=blocks_layer,
        hexes=hexes_layer,
        lsoas=lsoas_layer,
        summary=summary,
        concentration=conc,
        rule=rule,
        stats={"blocks": conc_b, "hexes": conc_h, "totals": totals, "filters": filters},
        lsoas21=census21["lsoas21"],
        msoas21=census21["msoas21"],
    )


def concentration_of(layers: Layers, scope: str) -> Concentration:
    """The (internal, unrounded) concentration figures of a scope, for the report."""
    return layers.stats[scope]  # type: ignore[return-value]
