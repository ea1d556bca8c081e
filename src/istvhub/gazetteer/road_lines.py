"""Reader for the street-line sources (OSM clips, OS Open Roads, OpenMapTiles): one file ->
named lines with an OSM-rank highway class, in EPSG:27700."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

#: OSM highway values kept in the network (named paths and footways are kept too).
ROAD_CLASSES = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "pedestrian",
    "road",
    "busway",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}
NAMED_ONLY_CLASSES = {"service", "footway", "path", "steps", "cycleway", "track", "bridleway"}


#: OS Open Roads / OS MasterMap road classes -> the OSM highway value of the same rank.
OS_ROAD_CLASS = {
    "motorway": "motorway",
    "a road": "primary",
    "b road": "secondary",
    "classified unnumbered": "tertiary",
    "unclassified": "unclassified",
    "not classified": "residential",
    "unknown": "road",
}


#: OpenMapTiles transportation classes -> the OSM highway value of the same rank ("path"
#: takes its subclass: footway, cycleway, pedestrian, steps, ...).
OMT_CLASS = {"minor": "residential", "track": "track", "service": "service"}


def line_layer(f: Path) -> str | int:
    """The road layer of a multi-layer file: 'road_link' (OS Open Roads), else the first
    layer of line geometries, else the first layer."""
    layers = pyogrio.list_layers(f)
    names = [str(n) for n, _ in layers]
    for want in ("road_link", "roadlink", "roads", "edges"):
        if want in [n.lower() for n in names]:
            return names[[n.lower() for n in names].index(want)]
    for n, gt in layers:
        if gt and "line" in str(gt).lower():
            return str(n)
    return 0


def _as_list(v) -> list[str]:
    """OSMnx writes merged ways' name/highway as lists (JSON arrays or their string form)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, list | tuple | np.ndarray):
        return [str(x) for x in v if x is not None and str(x) != ""]
    s = str(v).strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            return [str(x) for x in json.loads(s) if x]
        except json.JSONDecodeError:
            return [x.strip(" '\"") for x in s[1:-1].split(",") if x.strip(" '\"")]
    return [s] if s else []


def read_lines(f: Path) -> gpd.GeoDataFrame:
    """One line source -> GeoDataFrame(names: list[str], highway: str, geometry) in EPSG:27700.

    Accepts GeoJSON/GeoPackage layers with a name column (name, or OS Open Roads' name1/name2
    and class), and OSM XML/PBF (layer 'lines', only highway ways)."""
    is_osm = f.name.endswith(".osm") or f.name.endswith(".osm.pbf")
    if is_osm:
        g = pyogrio.read_dataframe(
            f, layer="lines", columns=["name", "highway"], where="highway IS NOT NULL"
        )
    else:
        g = pyogrio.read_dataframe(f, layer=line_layer(f))
    if g.crs is None:
        g = g.set_crs(4326)
    cols = {c.lower(): c for c in g.columns}
    name_cols = [cols[c] for c in ("name", "name_en", "name1", "name2", "road_name") if c in cols]
    hw_col = (
        cols.get("highway")
        or cols.get("class")
        or cols.get("road_class")
        or cols.get("road_classification")
    )
    names = [[] for _ in range(len(g))]
    for c in name_cols:
        for i, v in enumerate(g[c]):
            names[i].extend(x for x in _as_list(v) if x not in names[i])
    hws = [(_as_list(v) or [""])[0] for v in g[hw_col]] if hw_col else ["road"] * len(g)
    hws = [OS_ROAD_CLASS.get(h.lower(), h) for h in hws]
    if "subclass" in cols and hw_col == cols.get("class"):  # OpenMapTiles' roads layer
        sub = [(_as_list(v) or [""])[0].split(";")[0] for v in g[cols["subclass"]]]
        hws = [
            (s or "path") if h == "path" else OMT_CLASS.get(h, h)
            for h, s in zip(hws, sub, strict=True)
        ]
    out = gpd.GeoDataFrame(
        {"names": names, "highway": hws}, geometry=g.geometry.values, crs=g.crs
    ).to_crs(27700)
    out = out.explode(index_parts=False, ignore_index=True)
    out = out[out.geometry.geom_type == "LineString"]
    keep = [
        (h in ROAD_CLASSES) or (h in NAMED_ONLY_CLASSES and bool(n)) or (hw_col is None)
        for h, n in zip(out["highway"], out["names"], strict=True)
    ]
    return out[keep].reset_index(drop=True)
