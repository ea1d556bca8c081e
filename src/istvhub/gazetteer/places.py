"""Points of interest and named areas: stations, bus stops, cycle docks, venues (GLA/OSM,
OpenStreetMap POIs and parks), hospitals, schools, areas (GeoNames, OSM places, Wikipedia at
their postcode district) and the boroughs; deduplicated and given stable ids."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer import network as net
from istvhub.gazetteer import read_points as P
from istvhub.gazetteer.entries import (
    DEDUPE_M,
    _borough_name_map,
    _cached_norm,
    _dedupe_near,
    _hash,
    _nearest_district,
)
from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import RAW_COLUMNS

#: the raw entry columns less ``variants`` (areas carry no spelling variants)
AREA_COLUMNS = [c for c in RAW_COLUMNS if c != "variants"]


def point_rows(found: dict[str, list[Path]], osm_rows: pd.DataFrame) -> pd.DataFrame:
    """Every point source's raw rows, in priority order (an earlier row wins a dedupe)."""
    return pd.concat(
        [
            P.read_stations(found["stations"]),
            P.read_bus_stops(found["bus_stops"]),
            P.read_cycle_docks(found["cycle_docks"]),
            P.read_venues(found["venues"]),
            P.read_hospitals(found["cqc_hospitals"], found["nhs_hospitals"]),
            P.read_schools(found["schools"]),
            P.read_geonames(found["geonames"]),
            osm_rows,
        ],
        ignore_index=True,
    )


def locate(pois: pd.DataFrame, boroughs, lsoas, lsoa_tree, cp: pd.DataFrame) -> pd.DataFrame:
    """Borough, LSOA and postcode district of each row; rows outside London are dropped."""
    pois = pois.copy()
    pois["easting"] = pois["easting"].astype(float)
    pois["northing"] = pois["northing"].astype(float)
    pois = pois[np.isfinite(pois["easting"]) & np.isfinite(pois["northing"])]
    pts = shapely.points(pois["easting"].to_numpy(), pois["northing"].to_numpy())
    pois["borough"] = net._borough_of_points(pts, boroughs)
    pois["lsoa_code"] = net.lsoa_of(lsoas, lsoa_tree, pois["easting"], pois["northing"])
    cp_tree = shapely.STRtree(shapely.points(cp["easting"].to_numpy(), cp["northing"].to_numpy()))
    pois["district"] = _nearest_district(cp_tree, cp["district"].to_numpy(), pts)
    return pois[pois["borough"].notna().to_numpy()]


def wikipedia_areas(areas: pd.DataFrame, districts: pd.DataFrame, boroughs) -> pd.DataFrame:
    """Named areas at their postcode district's centroid."""
    bmap = _borough_name_map(boroughs)
    rows = []
    for r in areas.itertuples(index=False):
        d = str(r.postcode_district).split(",")[0].strip().upper()
        if d not in districts.index:
            continue
        bo = bmap.get(normalise_name(str(r.borough).split(",")[0]))
        dd = districts.loc[d]
        rows.append(
            (
                "area",
                str(r.area).strip(),
                dd["easting"],
                dd["northing"],
                float(dd["precision_m"]),
                bo or dd["borough"],
                None,
                d,
                "wikipedia",
                None,
            )
        )
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def borough_entries(boroughs: gpd.GeoDataFrame) -> pd.DataFrame:
    rp = boroughs.geometry.representative_point()
    return pd.DataFrame(
        {
            "entry_id": "borough:" + boroughs["gss_code"],
            "entry_type": "borough",
            "name": boroughs["name"],
            "easting": rp.x.to_numpy(),
            "northing": rp.y.to_numpy(),
            "precision_m": np.sqrt(boroughs.geometry.area.to_numpy() / np.pi),
            "borough": boroughs["name"],
            "lsoa_code": None,
            "district": None,
            "source": "boroughs",
            "category": boroughs["gss_code"],
        }
    )


def finish(pois: pd.DataFrame, area_df: pd.DataFrame) -> pd.DataFrame:
    """Points and areas with keys, deduplicated, with stable ids (``variants`` kept)."""
    area_df = area_df.assign(variants=[[] for _ in range(len(area_df))])
    pois = pd.concat([pois, area_df], ignore_index=True)
    pois["key"] = pois["name"].map(_cached_norm)
    pois = pois[pois["key"] != ""]
    pois = _dedupe_near(pois.reset_index(drop=True), DEDUPE_M)
    pois["entry_id"] = [
        f"{t}:" + _hash(s, k, round(e), round(n))
        for t, s, k, e, n in zip(
            pois["entry_type"],
            pois["source"],
            pois["key"],
            pois["easting"],
            pois["northing"],
            strict=True,
        )
    ]
    return pois.drop_duplicates("entry_id")


def park_layer(parks: gpd.GeoDataFrame, pois: pd.DataFrame) -> gpd.GeoDataFrame:
    """parks.parquet: entry_id, name, category, borough, area_m2, geometry (the polygons of the
    park entries that survived the build)."""
    cols = ["entry_id", "name", "category", "borough", "area_m2"]
    if parks.empty or "_park" not in pois:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=27700)
    p = pois[pois["_park"].notna()]
    idx = p["_park"].astype(int).to_numpy()
    out = gpd.GeoDataFrame(
        {
            "entry_id": p["entry_id"].to_numpy(),
            "name": p["name"].to_numpy(),
            "category": p["category"].to_numpy(),
            "borough": p["borough"].to_numpy(),
            "area_m2": parks.geometry.area.to_numpy()[idx].round(1),
        },
        geometry=parks.geometry.values[idx],
        crs=27700,
    )
    for c in ("entry_id", "name", "category", "borough"):
        out[c] = out[c].astype("string")
    return out.sort_values("entry_id").reset_index(drop=True)
