"""Parks, points of interest and places from OpenStreetMap: the OpenMapTiles GeoPackage
(layers ``parks``, ``pois``, ``places``) or a Geofabrik ``.osm.pbf`` / ``.osm`` XML file
(GDAL's OSM driver: ``multipolygons`` with ``leisure``, ``points`` with ``place`` and
``other_tags``).

* Parks and commons become ``venue`` entries (category ``park``, ``garden``, ``common``,
  ``recreation_ground``) at a point inside the polygon, with the radius of a circle of the
  same area as precision; the polygons go to ``parks.parquet`` (for "in the park" and snapping).
  Same-named polygons within :data:`PARK_JOIN_M` are one park (Tooting Bec Common's two parts).
* POIs become ``venue`` entries with their category (``shop``, ``fast_food``, ``pub``,
  ``market``, ``shopping_centre``...). Bus stops, stations, schools and hospitals are left to
  their own, richer sources (TfL, Ofsted, CQC/NHS).
* Places (suburbs, neighbourhoods, villages) become ``area`` entries.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import raw_frame

#: Same-named park polygons closer than this are one park (m).
PARK_JOIN_M = 300.0
#: OpenMapTiles park classes (the naming POI's subclass) kept as parks; pitches and
#: playgrounds carry generic names ("Adventure Playground") and are left out.
PARK_CLASSES = ("park", "garden", "common", "recreation_ground", "village_green")
#: OSM leisure values read as parks from a full extract.
OSM_PARK_LEISURE = ("park", "common", "recreation_ground", "garden", "nature_reserve")
#: POI categories that other sources already hold better (or that swamp name matching).
POI_SKIP = ("bus_stop", "station", "school", "hospital")
#: Precision (m) by POI category; others 30 m.
POI_PRECISION_M = {
    "shopping_centre": 120.0,
    "market": 80.0,
    "stadium": 150.0,
    "college": 120.0,
    "attraction": 80.0,
    "sports_centre": 60.0,
    "petrol_station": 40.0,
    "civic": 50.0,
    "prison": 150.0,
}
#: Precision (m) by place class; cities (London itself) are left out.
PLACE_PRECISION_M = {
    "town": 1500.0,
    "suburb": 1000.0,
    "village": 800.0,
    "neighbourhood": 500.0,
    "quarter": 500.0,
    "hamlet": 400.0,
    "island": 400.0,
    "isolated_dwelling": 100.0,
    "locality": 300.0,
}
#: OSM amenity values -> the POI categories used here (others keep their amenity value).
OSM_AMENITY_CATEGORY = {"marketplace": "market", "place_of_worship": "place_of_worship"}

_TAG = re.compile(r'"([^"]+)"=>"((?:[^"\\]|\\.)*)"')


def _is_osm(f: Path) -> bool:
    return f.name.endswith(".osm") or f.name.endswith(".osm.pbf")


def has_layers(f: Path) -> bool:
    """Whether ``f`` holds parks/POIs/places (the OMT GeoPackage or an OSM extract)."""
    if _is_osm(f):
        return True
    if f.suffix.lower() != ".gpkg":
        return False
    names = {str(n) for n, _ in pyogrio.list_layers(f)}
    return {"parks", "pois", "places"} <= names


def _tags(s: object) -> dict[str, str]:
    return dict(_TAG.findall(s)) if isinstance(s, str) else {}


def _to_bng(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if g.crs is None:
        g = g.set_crs(4326)
    return g.to_crs(27700)


def _named(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = g["name"].astype("string").str.strip()
    g = g.assign(name=n)
    return g[n.notna() & (n != "") & g.geometry.notna()]


# --------------------------------------------------------------------------- parks


def join_parks(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per park: same-named polygons within PARK_JOIN_M unioned (name, category,
    geometry in EPSG:27700)."""
    if g.empty:
        return gpd.GeoDataFrame({"name": [], "category": []}, geometry=[], crs=27700)
    g = g.reset_index(drop=True)
    g["key"] = g["name"].map(normalise_name)
    g = g[g["key"] != ""].reset_index(drop=True)
    # biggest first, so a park's name and category are its largest polygon's
    g = g.iloc[np.argsort(-g.geometry.area.to_numpy(), kind="stable")].reset_index(drop=True)
    parent = np.arange(len(g))
    tree = shapely.STRtree(g.geometry.values)
    a, b = tree.query(g.geometry.values, predicate="dwithin", distance=PARK_JOIN_M)
    keys = g["key"].to_numpy()
    same = (a < b) & (keys[a] == keys[b])

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(a[same].tolist(), b[same].tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    root = np.array([find(i) for i in range(len(g))])
    rows = []
    for r in np.unique(root):
        members = np.flatnonzero(root == r)
        geom = shapely.union_all(g.geometry.values[members])
        rows.append((g["name"].iat[r], g["category"].iat[r], shapely.make_valid(geom)))
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "category": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=27700,
    )


def read_parks(f: Path) -> gpd.GeoDataFrame:
    """Named parks and commons of one file (name, category, geometry EPSG:27700)."""
    if _is_osm(f):
        g = pyogrio.read_dataframe(
            f, layer="multipolygons", columns=["name", "leisure"], where="leisure IS NOT NULL"
        )
        g = g[g["leisure"].isin(OSM_PARK_LEISURE)].rename(columns={"leisure": "category"})
    else:
        g = pyogrio.read_dataframe(f, layer="parks", columns=["name", "subclass"])
        g = g[g["subclass"].isin(PARK_CLASSES)].rename(columns={"subclass": "category"})
    g = _named(_to_bng(g))
    g["category"] = [
        "common" if str(n).lower().endswith(" common") else c
        for n, c in zip(g["name"], g["category"], strict=True)
    ]
    return join_parks(g[["name", "category", "geometry"]])


def park_entries(parks: gpd.GeoDataFrame) -> pd.DataFrame:
    """Raw entry rows for parks: a point inside the largest part; precision = equal-area
    radius. ``_park`` indexes ``parks`` so the build can give each polygon its entry id."""
    if parks.empty:
        return raw_frame().assign(_park=pd.Series(dtype="int64"))
    parts = [max(shapely.get_parts(gm), key=lambda p: p.area) for gm in parks.geometry.values]
    pt = shapely.point_on_surface(np.asarray(parts, dtype=object))
    radius = np.sqrt(parks.geometry.area.to_numpy() / np.pi)
    df = raw_frame(
        entry_type="venue",
        name=parks["name"].to_numpy(),
        easting=shapely.get_x(pt),
        northing=shapely.get_y(pt),
        precision_m=np.clip(radius, 30.0, 2000.0),
        source="osm_parks",
        category=parks["category"].to_numpy(),
        variants=[[] for _ in range(len(parks))],
    )
    df["_park"] = np.arange(len(parks))
    return df


# --------------------------------------------------------------------------- POIs, places


def read_pois(f: Path) -> pd.DataFrame:
    """Named points of interest as venue rows with their category."""
    if _is_osm(f):
        g = pyogrio.read_dataframe(
            f, layer="points", columns=["name", "other_tags"], where="name IS NOT NULL"
        )
        tags = [_tags(t) for t in g["other_tags"]]
        cat = [
            "shop"
            if "shop" in t
            else OSM_AMENITY_CATEGORY.get(t.get("amenity", ""), t.get("amenity"))
            for t in tags
        ]
        g["category"] = cat
        g = g[g["category"].notna()]
    else:
        g = pyogrio.read_dataframe(f, layer="pois", columns=["name", "category"])
    g = _named(_to_bng(g))
    g = g[~g["category"].isin(POI_SKIP)]
    names = g["name"].astype(str).to_numpy()
    return raw_frame(
        entry_type="venue",
        name=names,
        easting=g.geometry.x.to_numpy(),
        northing=g.geometry.y.to_numpy(),
        precision_m=g["category"].map(POI_PRECISION_M).fillna(30.0).to_numpy(),
        source="osm_pois",
        category=g["category"].astype(str).to_numpy(),
        variants=[[x[4:]] if x.lower().startswith("the ") else [] for x in names],
    )


def read_places(f: Path) -> pd.DataFrame:
    """Suburbs, neighbourhoods and villages as area rows."""
    if _is_osm(f):
        g = pyogrio.read_dataframe(
            f, layer="points", columns=["name", "place"], where="place IS NOT NULL"
        ).rename(columns={"place": "class"})
    else:
        g = pyogrio.read_dataframe(f, layer="places", columns=["name", "class"])
    g = _named(_to_bng(g))
    prec = g["class"].map(PLACE_PRECISION_M)
    g, prec = g[prec.notna()], prec[prec.notna()]
    return raw_frame(
        entry_type="area",
        name=g["name"].astype(str).to_numpy(),
        easting=g.geometry.x.to_numpy(),
        northing=g.geometry.y.to_numpy(),
        precision_m=prec.to_numpy(),
        source="osm_places",
        category=g["class"].astype(str).to_numpy(),
        variants=[[] for _ in range(len(g))],
    )


def read_all(files: list[Path]) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """(raw rows of parks, POIs and places, park polygons) from every file that has them."""
    files = [Path(f) for f in files if has_layers(Path(f))]
    park_frames = [read_parks(f) for f in files]
    parks = (
        gpd.GeoDataFrame(pd.concat(park_frames, ignore_index=True), crs=27700)
        if park_frames
        else join_parks(gpd.GeoDataFrame({"name": []}, geometry=[], crs=27700))
    )
    rows = [park_entries(parks)]
    rows += [read_pois(f) for f in files] + [read_places(f) for f in files]
    return pd.concat(rows, ignore_index=True), parks
