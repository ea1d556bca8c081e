"""ED assault attendances beside police-recorded violence, per block, H3 cell or LSOA.

Pure core on frames. Both sources go through the *same* hot-blocks assignment
(``istvhub.hotblocks.assign``), so a unit means the same thing for both. Police points are
treated as precise points on the street they name ("On or near Marsh Wall" snaps only to a Marsh
Wall block within 50 m), but they are anonymised snap points, not where the crime happened: a
block-level difference can be an artefact of where police.uk put its map point.

Disclosure control (docs/COMPARE.md, docs/DISCLOSURE.md): the ED count and the ED-only excess
are health-derived. ``ed_count`` is protected as the hot-block counts are (cell-key perturbation,
suppress 1-7, round to 5); a unit is listed only for its (public) police count or an ED count of
8 or more, and an ED count of 0 is shown exactly as one of 1-7 (null, ``ed_suppressed``), so the
table never tells "no ED attendance here" from "a few". The excess ``ed_count - police_count`` is
the *published* ED count minus the (public) police count, protected the same way on its size
(sign kept), and never published where the ED count is withheld: taken from the raw ED count, an
excess of 0 would hand back the exact ED count to anyone who counts police.uk. A borough filter
selects units, not records (``hotblocks.scope``). Police counts are public (police.uk, OGL) but
are rounded by the same rule so the two columns compare like with like and never look more
precise than each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub._errors import HotblocksError
from istvhub.disclosure.cellkey import cell_key_of, cell_keys, with_record_keys
from istvhub.disclosure.rules import DisclosureRule, protect, protect_total
from istvhub.hotblocks.aggregate import (
    ATTRIBUTION,
    Filters,
    SummaryRows,
    _hex_polygons,
    filter_records,
)
from istvhub.hotblocks.areas import AREA_LAYERS, area_codes
from istvhub.hotblocks.assign import Assignment, BlockIndex, assign, to_bng
from istvhub.hotblocks.scope import hex_in_scope, lsoa_in_scope

UNITS = ("blocks", "hexes", "lsoas", "lsoas21", "msoas21")
UNIT_KEY = {
    "blocks": "block_id",
    "hexes": "hex_id",
    "lsoas": "lsoa_code",
    "lsoas21": "lsoa21_code",
    "msoas21": "msoa21_code",
}
_AREA21_COL = "_area21"  # a Census 2021 unit's code on the assigned records (issue 19)
#: Police snap points are treated as points on their street: snapped within the hot-blocks
#: point distance (50 m) and fine enough for every H3 resolution used.
POLICE_PRECISION_M = 50.0
POLICE_ATTRIBUTION = "Police-recorded crime: data.police.uk, Open Government Licence v3.0."
CAVEAT = (
    "Police.uk points are anonymised: every crime is moved to one of a fixed set of map points "
    "('On or near <street>'), often the middle of a street or a nearby landmark. A crime and an "
    "ED attendance at the same place can land on different blocks, and a block can show ED-only "
    "violence simply because police.uk put its map point on the next block. Read block-level "
    "differences as pointers to look at, not as findings; hexes and LSOAs are sturdier. ED counts "
    "cover attendances at the EDs that shared data, geocoded to a street location; police counts "
    "cover 'Violence and sexual offences', which includes offences no ED would see."
)


class CompareError(HotblocksError):
    """A comparison option is malformed (names the option, never data)."""


@dataclass
class Comparison:
    """The per-unit table (``table``, EPSG:27700) and its summary rows; all protected."""

    unit: str
    table: gpd.GeoDataFrame
    summary: pd.DataFrame
    rule: DisclosureRule
    stats: dict[str, object] = field(default_factory=dict)


def police_records(police: pd.DataFrame, boroughs: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Police crimes in the record shape the hot-blocks assignment reads (one row per crime)."""
    lon = pd.to_numeric(police["lon"], errors="coerce").to_numpy(dtype="float64")
    lat = pd.to_numeric(police["lat"], errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(lon) & np.isfinite(lat)
    x = np.full(len(police), np.nan)
    y = np.full(len(police), np.nan)
    if ok.any():
        x[ok], y[ok] = to_bng(lon[ok], lat[ok])
    df = pd.DataFrame(
        {
            "period": police["month"].astype("string").to_numpy(),
            "geo_status": np.where(ok, "located", "unmatched"),
            "match_type": np.where(ok, _obj("postcode"), _obj(None)),
            "lat": lat,
            "lon": lon,
            "easting": x,
            "northing": y,
            "precision_m": POLICE_PRECISION_M,
            "matched_name": police["street"].astype("object").to_numpy(),
            "lsoa_code": police["lsoa_code"].astype("object").to_numpy(),
            "borough": None,
        }
    )
    if boroughs is not None and len(boroughs) and ok.any():
        b = boroughs.to_crs(27700) if boroughs.crs and boroughs.crs.to_epsg() != 27700 else boroughs
        name_col = "name" if "name" in b.columns else "borough"
        tree = shapely.STRtree(np.asarray(b.geometry.values, dtype=object))
        pos = np.flatnonzero(ok)
        pi, bi = tree.query(shapely.points(x[pos], y[pos]), predicate="within")
        first = pd.DataFrame({"p": pi, "b": bi}).drop_duplicates("p")
        names = b[name_col].astype("object").to_numpy()
        bor = np.array(df["borough"].astype("object").to_numpy(), dtype=object)
        bor[pos[first["p"].to_numpy()]] = names[first["b"].to_numpy()]
        df["borough"] = bor
    return df


def _obj(v: object) -> np.ndarray:
    """``v`` as a 0-d object array, for ``np.where`` to mix strings and None."""
    return np.array(v, dtype=object)


def _unit_counts(
    a: Assignment,
    unit: str,
    res: int,
    scope_ids: pd.Index | None,
    *,
    boroughs: tuple[str, ...] = (),
    lsoas: gpd.GeoDataFrame | None = None,
    asked: pd.Series | None = None,
    keys: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series | None, pd.Series]:
    """(count per unit, cell key per unit or None, which records are in a unit in scope).

    A borough filter selects units by where they lie (``hotblocks.scope``); ``asked`` (the
    records the borough filter itself keeps) is the fallback without LSOA outlines."""
    if unit == "blocks":
        ab = a.blocks.assign(block_id=a.blocks["block_id"].astype(str))
        if scope_ids is not None:
            ab = ab[ab["block_id"].isin(scope_ids)]
        s = ab.groupby("block_id", sort=True)["weight"].sum()
        ck = None
        if keys is not None:
            ck = cell_keys(
                keys.reindex(ab["record"].to_numpy()).reset_index(drop=True),
                ab["block_id"].reset_index(drop=True),
            )
        used = pd.Series(a.records.index.isin(ab["record"].unique()), index=a.records.index)
    else:
        col = {"hexes": f"hex_{res}", "lsoas": "lsoa_code"}.get(unit, _AREA21_COL)
        m = a.records[col].notna()
        if boroughs:
            f = hex_in_scope if unit == "hexes" else lsoa_in_scope
            by_area = f(a.records[col], boroughs, lsoas)
            # the units inside the boroughs where the lookup can say, else the records asked for
            sel = by_area if by_area is not None else asked
            if sel is None:
                raise TypeError("a borough filter needs an area lookup or the records asked for")
            m &= sel
        of = a.records.loc[m, col].astype(str)
        s = of.value_counts().sort_index()
        ck = cell_keys(keys[m], of) if keys is not None else None
        used = m
    return s[s > 0].astype("float64"), ck, used


def protect_excess(
    ed: np.ndarray, police_raw: np.ndarray, ed_suppressed: np.ndarray, rule: DisclosureRule
) -> pd.DataFrame:
    """ED-only excess (ED minus police; ``ed`` the published ED counts), protected on its size
    with the sign kept, and withheld wherever the ED count is suppressed."""
    ex = np.asarray(ed, dtype="float64") - np.asarray(police_raw, dtype="float64")
    p = protect(pd.Series(np.abs(ex)), rule, total_shown=False)
    sup = p["suppressed"].to_numpy() | np.asarray(ed_suppressed, dtype=bool)
    val = np.sign(ex) * p["count"].to_numpy()
    val = np.where(sup, np.nan, val)
    return pd.DataFrame({"excess": val, "suppressed": sup})


def compare(
    ed: pd.DataFrame,
    police: pd.DataFrame,
    blocks: gpd.GeoDataFrame | BlockIndex,
    filters: Filters,
    rule: DisclosureRule,
    *,
    unit: str = "blocks",
    lsoas: gpd.GeoDataFrame | None = None,
    boroughs: gpd.GeoDataFrame | None = None,
    gazetteer_version: str = "unknown",
    areas21: dict[str, gpd.GeoDataFrame] | None = None,
) -> Comparison:
    """Per ``unit``: protected ED count, police count and ED-only excess, ranked by excess."""
    if unit not in UNITS:
        raise CompareError(f"option --unit: must be one of {', '.join(UNITS)}")
    started = datetime.now(UTC)
    index = blocks if isinstance(blocks, BlockIndex) else BlockIndex(blocks)
    res = filters.h3_res
    if "record_key" not in ed.columns:
        ed = with_record_keys(ed)
    kept_ed, _ = filter_records(ed, filters)
    pool_ed = filter_records(ed, replace(filters, boroughs=()))[0] if filters.boroughs else kept_ed
    pol_all = police_records(police, boroughs)
    pol_f = Filters(
        period_from=filters.period_from,
        period_to=filters.period_to,
        boroughs=filters.boroughs,
        h3_res=res,
    )
    kept_pol, _ = filter_records(pol_all, pol_f)
    pool_pol = (
        filter_records(pol_all, replace(pol_f, boroughs=()))[0] if pol_f.boroughs else kept_pol
    )

    bl = index.blocks
    scope_ids = None
    if unit == "blocks":
        in_scope = np.ones(len(bl), dtype=bool)
        if filters.boroughs and "borough" in bl.columns:
            in_scope = (
                bl["borough"]
                .astype("string")
                .str.lower()
                .isin([b.lower() for b in filters.boroughs])
                .fillna(False)
                .to_numpy(dtype=bool)
            )
        scope_ids = pd.Index(bl["block_id"].astype(str).to_numpy()[in_scope])
    a_ed = assign(pool_ed, index, lsoas)
    a_pol = assign(pool_pol, index, lsoas)
    scope_lsoas = lsoas
    polys = None
    if unit in AREA_LAYERS:  # Census 2021 areas: by point in polygon, scoped by their borough
        code_col, name_col = AREA_LAYERS[unit]
        polys = (areas21 or {}).get(unit)
        if polys is None or not len(polys):
            raise CompareError(f"option --unit: the gazetteer has no {unit} (rebuild it)")
        polys = polys.drop_duplicates(code_col)
        for a, pool in ((a_ed, pool_ed), (a_pol, pool_pol)):
            a.records[_AREA21_COL] = area_codes(pool, polys, code_col).reindex(a.records.index)
        scope_lsoas = polys.rename(columns={code_col: "lsoa_code"})
    rk = pool_ed["record_key"].astype("int64")
    ed_raw, ed_ck, ed_used = _unit_counts(
        a_ed,
        unit,
        res,
        scope_ids,
        boroughs=filters.boroughs,
        lsoas=scope_lsoas,
        asked=pd.Series(pool_ed.index.isin(kept_ed.index), index=pool_ed.index),
        keys=rk,
    )
    pol_raw, _, _ = _unit_counts(
        a_pol,
        unit,
        res,
        scope_ids,
        boroughs=filters.boroughs,
        lsoas=scope_lsoas,
        asked=pd.Series(pool_pol.index.isin(kept_pol.index), index=pool_pol.index),
    )
    # listed: every unit with police crimes (public) and, for ED, only counts that may be shown;
    # a unit whose only ED records are 1-7 is left out exactly as an empty one
    ed_listed = ed_raw if rule.raw else ed_raw[~rule.is_suppressed(ed_raw.to_numpy())]
    keys = ed_listed.index.union(pol_raw.index).sort_values()
    e = ed_raw.reindex(keys, fill_value=0.0).to_numpy()
    p = pol_raw.reindex(keys, fill_value=0.0).to_numpy()
    ck = ed_ck.reindex(keys).fillna(0).to_numpy() if ed_ck is not None else None

    ep = protect(pd.Series(e, index=keys), rule, cell_keys=ck)
    if not rule.raw:  # an ED count of 0 is withheld exactly as one of 1-7 is
        low = e < rule.suppress_max + 0.5
        ep.loc[low, "suppressed"] = True
        ep.loc[low, "count"] = np.nan
    pp = protect(pd.Series(p, index=keys), rule, total_shown=False)
    e_pub = e if rule.raw else ep["count"].fillna(0.0).to_numpy()
    xp = protect_excess(e_pub, p, ep["suppressed"].to_numpy(), rule)

    def as_int(v: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
        return (
            pd.array(np.round(v, 2), dtype="Float64")
            if rule.raw
            else pd.array(np.where(np.isnan(v), np.nan, v), dtype="Float64").astype("Int64")
        )

    cols: dict[str, object] = {UNIT_KEY[unit]: keys.to_numpy(dtype=object)}
    geom = np.array([None] * len(keys), dtype=object)
    if unit == "blocks":
        meta = bl.set_index(bl["block_id"].astype(str))
        g = meta.loc[keys]
        cols["name"] = g["name"].astype("string").to_numpy() if "name" in g else None
        cols["borough"] = g["borough"].astype("string").to_numpy() if "borough" in g else None
        cols["length_m"] = np.round(pd.to_numeric(g["length_m"], errors="coerce").to_numpy(), 1)
        geom = np.asarray(g.geometry.values, dtype=object)
    elif unit == "hexes":
        cols["h3_res"] = np.full(len(keys), res, dtype=np.int32)
        geom = _hex_polygons(pd.Series(keys))
    elif polys is not None:
        pg = polys.set_index(polys[code_col].astype(str))
        hit = keys.isin(pg.index)
        geom[hit] = np.asarray(pg.loc[keys[hit]].geometry.values, dtype=object)
        cols[name_col] = pg[name_col].reindex(keys).astype("string").to_numpy()
        cols["borough"] = pg["borough"].reindex(keys).astype("string").to_numpy()
    elif lsoas is not None and len(lsoas):
        lg = lsoas.to_crs(27700) if lsoas.crs and lsoas.crs.to_epsg() != 27700 else lsoas
        lg = lg.drop_duplicates("lsoa_code")
        lg = lg.set_index(lg["lsoa_code"].astype(str))
        hit = keys.isin(lg.index)
        geom[hit] = np.asarray(lg.loc[keys[hit]].geometry.values, dtype=object)
        if "lsoa_name" in lg.columns:
            cols["lsoa_name"] = lg["lsoa_name"].reindex(keys).astype("string").to_numpy()
    excess = xp["excess"].to_numpy()
    rank = pd.Series(np.where(excess > 0, excess, np.nan)).rank(ascending=False, method="min")
    cols.update(
        {
            "ed_count": as_int(ep["count"].to_numpy()),
            "ed_suppressed": ep["suppressed"].to_numpy(),
            "police_count": as_int(pp["count"].to_numpy()),
            "police_suppressed": pp["suppressed"].to_numpy(),
            "ed_excess": as_int(excess),
            "excess_suppressed": xp["suppressed"].to_numpy(),
            "excess_rank": pd.array(rank.to_numpy(), dtype="Float64").astype("Int64"),
        }
    )
    table = gpd.GeoDataFrame(cols, geometry=geom, crs=27700)
    table = table.sort_values(
        ["excess_rank", "ed_count", UNIT_KEY[unit]],
        ascending=[True, False, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)

    rows = SummaryRows()
    add = rows.add

    if rule.raw:
        add("disclosure", "WARNING", "UNSUPPRESSED RAW COUNTS: NOT FOR PUBLICATION OR SHARING.")
    add("disclosure", "rule", rule.name)
    add("disclosure", "rule_label", rule.label)
    add(
        "disclosure",
        "excess",
        "published ed_count - police_count, protected on its size; withheld wherever "
        "ed_count is withheld (ED 0-7)",
    )
    add("filter", "period_from", filters.period_from)
    add("filter", "period_to", filters.period_to)
    add("filter", "boroughs", ", ".join(filters.boroughs) or "all")
    add("filter", "unit", unit)
    if unit == "hexes":
        add("filter", "h3_res", res)
    add(
        "total",
        "ed_records_in_filter",
        protect_total(len(kept_ed), rule, cell_key_of(kept_ed["record_key"])),
    )
    add(
        "total",
        "ed_in_units",
        protect_total(float(ed_raw.sum()), rule, cell_key_of(rk[ed_used.to_numpy(dtype=bool)])),
    )
    # police totals are public figures: exact, so an analyst can check them against police.uk
    add("total", "police_violent_crimes_read", len(police))
    add("total", "police_in_filter", len(kept_pol))
    add("total", "police_in_units", round(float(pol_raw.sum()), 2))
    if lsoas is not None and len(lsoas) and "lsoa_code" in police:
        from istvhub.compare.vintage import lsoa_agreement  # police LSOA codes (issue 19)

        l21 = (areas21 or {}).get("lsoas21")
        l21 = l21 if l21 is not None else gpd.GeoDataFrame({"lsoa21_code": []}, geometry=[])
        for k, v in lsoa_agreement(police, lsoas, l21).items():
            add("police_lsoa", k, v)
    add("caveat", "police_points", CAVEAT)
    add("build", "built_at", started.replace(microsecond=0).isoformat())
    add("build", "gazetteer_version", gazetteer_version)
    add("attribution", "attribution", f"{ATTRIBUTION} {POLICE_ATTRIBUTION}")
    summary = rows.frame()
    return Comparison(
        unit=unit,
        table=table,
        summary=summary,
        rule=rule,
        stats={"ed_raw_total": float(ed_raw.sum()), "police_raw_total": float(pol_raw.sum())},
    )
