"""Census 2021 area layers (LSOA 2021, MSOA 2021), counted and protected like the 2011 LSOAs.

A record's 2021 area is the one the geocoder stored, else the polygon holding its point when the
point is precise enough (as for 2011). A borough filter selects areas by the borough they lie in
(see ``hotblocks.scope``), and every count goes through the same cell-key protection as the other
layers, so listing and differencing rules are the same for every unit.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.disclosure.cellkey import cell_key_of, cell_keys
from istvhub.disclosure.rules import DisclosureRule, protect_total
from istvhub.hotblocks.assign import LSOA_MAX_PRECISION_M, BlockIndex

#: layer name -> (code column, name column) in the gazetteer's polygons and the layer
AREA_LAYERS = {
    "lsoas21": ("lsoa21_code", "lsoa21_name"),
    "msoas21": ("msoa21_code", "msoa21_name"),
}


def empty_layer(name: str) -> gpd.GeoDataFrame:
    code, label = AREA_LAYERS[name]
    cols: dict[str, list[object]] = {
        code: [],
        label: [],
        "count": [],
        "rank": [],
        "share": [],
        "suppressed": [],
    }
    return gpd.GeoDataFrame(cols, geometry=[], crs=27700)


def area_codes(records: pd.DataFrame, polygons: gpd.GeoDataFrame, code_col: str) -> pd.Series:
    """The 2021 area of each located record (None where not located or not precise enough)."""
    n = len(records)
    status = records.get("geo_status", pd.Series([None] * n, index=records.index))
    e = pd.to_numeric(records["easting"], errors="coerce")
    nn = pd.to_numeric(records["northing"], errors="coerce")
    prec = pd.to_numeric(records["precision_m"], errors="coerce").fillna(np.inf)
    located = (status.astype("string") == "located").fillna(False) & e.notna() & nn.notna()
    stored = records.get(code_col, pd.Series([None] * n, index=records.index))
    codes = stored.astype(object).where(located & stored.notna(), None)
    missing = np.flatnonzero((located & codes.isna() & (prec <= LSOA_MAX_PRECISION_M)).to_numpy())
    if len(missing) and len(polygons):
        tree = shapely.STRtree(np.asarray(polygons.geometry.values, dtype=object))
        # each distinct point once (records repeat postcode and venue points)
        xy, inv = np.unique(
            np.column_stack([e.to_numpy()[missing], nn.to_numpy()[missing]]),
            axis=0,
            return_inverse=True,
        )
        pi, li = tree.query(shapely.points(xy[:, 0], xy[:, 1]), predicate="intersects")
        first = np.unique(pi, return_index=True)[1]
        of_point = np.full(len(xy), -1, dtype=np.int64)
        of_point[pi[first]] = li[first]
        per = of_point[inv.ravel()]
        hit = per >= 0
        codes.iloc[missing[hit]] = polygons[code_col].to_numpy(dtype=object)[per[hit]]
    return codes


def area_layer(
    name: str,
    records: pd.DataFrame,
    record_keys: pd.Series,
    asked: pd.Series,
    boroughs: tuple[str, ...],
    rule: DisclosureRule,
    polygons: gpd.GeoDataFrame | None,
    *,
    index: BlockIndex | None = None,
) -> gpd.GeoDataFrame:
    """One protected area layer over ``records`` (the pool without the borough filter);
    ``index``: the network's block index, whose memo keeps the polygons' look-up."""
    from istvhub.hotblocks.netmemo import memo
    from istvhub.hotblocks.publish import _published  # the layers' shared publishing step

    if polygons is None or not len(polygons):
        return empty_layer(name)
    code_col, label_col = AREA_LAYERS[name]

    def prep() -> gpd.GeoDataFrame:
        return polygons.drop_duplicates(code_col).set_index(code_col, drop=False)

    poly = memo(index, ("areas", name), (polygons,), prep) if index is not None else prep()
    codes = area_codes(records, poly, code_col)
    inside = codes.notna()
    if boroughs:
        want = {b.lower() for b in boroughs}
        of = poly["borough"].astype("string").str.lower()
        inside &= codes.map(of).isin(want).fillna(False)
    else:
        inside &= asked
    of_unit = codes[inside].astype(str)
    raw = of_unit.value_counts().sort_index().astype("float64")
    keys = cell_keys(record_keys[inside], of_unit)
    total = protect_total(float(raw.sum()), rule, cell_key_of(record_keys[inside]))
    pub = _published(raw, rule, total, keys)
    hit = poly.reindex(pub.index)
    return gpd.GeoDataFrame(
        {
            code_col: pub.index.to_numpy(dtype=object),
            label_col: hit[label_col].astype("string").to_numpy(),
            "borough": hit["borough"].astype("string").to_numpy(),
            "count": pub["count"].array,
            "rank": pub["rank"].array,
            "share": pub["share"].to_numpy(),
            "suppressed": pub["suppressed"].to_numpy(),
        },
        geometry=np.asarray(hit.geometry.values, dtype=object),
        crs=27700,
    )
