"""The map page's basemap, drawn from the gazetteer itself: no tile server, no web tiles.

One GeoJSON per borough (its streets from the block network, parks, the Thames, LSOA 2021
outlines and labels) and one for London (borough outlines, the Thames, main roads, borough
labels, which boroughs have a street network). Built lazily from the gazetteer's parquet tables
the first time a page asks, then cached under ``<home>/cache/basemap/<gazetteer version>/`` (a
new gazetteer version gets new files), written atomically with a gzipped copy beside each.

The Thames is not a table of its own: the borough boundaries run down the middle of the river
while the Census 2021 LSOA outlines (BGC) stop at the banks, so the river is the largest piece of
"boroughs minus LSOAs". Optional tables (``parks.parquet``, place entries) are used when the
gazetteer has them and simply left out when it does not.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from istvhub.api.geo import round_coords

#: bump when the content of the files changes, so cached files of older code are not reused
BASEMAP_SCHEMA = 4
#: OSM/OpenMapTiles highway classes -> drawing rank (0 main roads, 1 through roads, 2 the rest)
_RANK0 = {"motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"}
_RANK1 = {"secondary", "tertiary", "secondary_link", "tertiary_link"}
_lock = threading.Lock()
_build_locks: dict[str, threading.Lock] = {}


class UnknownArea(LookupError):
    """The basemap asked for is neither ``london`` nor one of the 33 boroughs."""


def slug(name: str) -> str:
    """``"Kensington and Chelsea"`` -> ``"kensington-and-chelsea"`` (the file and URL name)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def gazetteer_version_dir(home: Path) -> Path:
    from istvhub._errors import GazetteerNotBuilt

    current = Path(home) / "gazetteer" / "CURRENT"
    if not current.is_file():
        raise GazetteerNotBuilt("no gazetteer built: run `istvhub gazetteer build` first")
    return current.parent / current.read_text().strip()


def _rank(highway: object) -> int:
    text = str(highway or "").lower()
    toks = set(re.findall(r"[a-z_]+", text))
    if toks & _RANK0:
        return 0
    if toks & _RANK1:
        return 1
    return 2


def _features(gdf: Any, kind: str, props: list[str]) -> list[dict[str, Any]]:
    """GeoJSON features (EPSG:4326, 5 decimals, about 1 m) of a frame in EPSG:27700."""
    import shapely

    if gdf is None or len(gdf) == 0:
        return []
    g = gdf.to_crs(4326)
    out = []
    cols = {p: g[p].tolist() for p in props if p in g.columns}
    for i, geom in enumerate(g.geometry.values):
        if geom is None or geom.is_empty:
            continue
        gi = shapely.geometry.mapping(geom)
        p: dict[str, Any] = {"kind": kind}
        for k, vals in cols.items():
            v = vals[i]
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (float, np.floating)):
                v = None if np.isnan(v) else round(float(v), 1)
            elif v is not None and not isinstance(v, (int, bool)):
                v = str(v)
            p[k] = v
        out.append(
            {
                "type": "Feature",
                "properties": p,
                "geometry": {"type": gi["type"], "coordinates": round_coords(gi["coordinates"])},
            }
        )
    return out


class Gaz:
    """The gazetteer tables the basemap reads, each loaded on first use."""

    def __init__(self, vdir: Path) -> None:
        self.vdir = vdir
        self._t: dict[str, Any] = {}

    def table(self, name: str) -> Any:
        import geopandas as gpd

        if name not in self._t:
            p = self.vdir / f"{name}.parquet"
            frame = None
            if p.is_file():
                frame = gpd.read_parquet(p)
                if frame.crs is not None and frame.crs.to_epsg() != 27700:
                    frame = frame.to_crs(27700)
            self._t[name] = frame
        return self._t[name]

    def boroughs(self) -> Any:
        b = self.table("boroughs")
        if b is None:
            from istvhub._errors import GazetteerNotBuilt

            raise GazetteerNotBuilt("the gazetteer has no boroughs table: rebuild it")
        return b

    def thames(self) -> Any:
        """The tidal Thames as one polygon (EPSG:27700), or None when LSOA 2021 is absent."""
        if "_thames" in self._t:
            return self._t["_thames"]
        import shapely

        lsoa = self.table("lsoas21")
        out = None
        if lsoa is not None and len(lsoa):
            land = shapely.union_all(self.boroughs().geometry.values)
            gaps = shapely.difference(land, shapely.union_all(lsoa.geometry.values))
            parts = sorted(getattr(gaps, "geoms", [gaps]), key=lambda g: -g.area)
            if parts and parts[0].area > 5e6:  # the river is ~21 km2; slivers are < 0.1 km2
                out = parts[0].buffer(-3).buffer(3).simplify(5)
        self._t["_thames"] = out
        return out

    def partly_covered(self) -> dict[str, float]:
        """Boroughs whose network reaches only part of their postcodes (share near a block),
        from the build's manifest (gazetteer/manifest.py)."""
        import json

        if "_partly" not in self._t:
            m = self.vdir / "manifest.json"
            cov = json.loads(m.read_text())["network_coverage"] if m.is_file() else {}
            self._t["_partly"] = dict(cov.get("boroughs_partly_covered", {}))
        partly: dict[str, float] = self._t["_partly"]
        return partly

    def network_by_borough(self) -> dict[str, int]:
        b = self.table("blocks")
        if b is None or "borough" not in b.columns:
            return {}
        return {str(k): int(v) for k, v in b["borough"].value_counts().items()}

    def labels(self, borough: str | None) -> Any:
        """Named places and stations with real coordinates (Wikipedia areas, placed at their
        postcode district, are left out: their point is too rough for a label)."""
        import geopandas as gpd
        import pandas as pd

        p = self.vdir / "entries.parquet"
        if not p.is_file():
            return None
        e = pd.read_parquet(
            p, columns=["entry_type", "name", "easting", "northing", "borough", "source"]
        )
        e = e[e["entry_type"].isin(["area", "station", "park"]) & (e["source"] != "wikipedia")]
        if borough:
            e = e[e["borough"] == borough]
        e = e.drop_duplicates(["entry_type", "name"])
        cls = e["entry_type"].map({"area": "place", "station": "station", "park": "park"})
        return gpd.GeoDataFrame(
            {"name": e["name"].astype(str).to_numpy(), "class": cls.to_numpy()},
            geometry=gpd.points_from_xy(e["easting"], e["northing"]),
            crs=27700,
        )


def _street_lines(blocks: Any, simplify_m: float) -> list[dict[str, Any]]:
    """Streets as background: the blocks of each (name, rank) merged into one line and
    simplified, so the map tiles a few hundred lines, not thousands of blocks (the hot-block
    layer keeps the blocks themselves). A borough's streets at 2 m, London's main roads at 20 m."""
    import geopandas as gpd
    import shapely

    if blocks is None or len(blocks) == 0:
        return []
    names = blocks["name"].astype(str).where(blocks["name"].notna(), "(unnamed)")
    ranks = [_rank(h) for h in blocks["highway"].tolist()]
    keys, geoms = [], []
    groups = blocks.geometry.groupby([names.to_numpy(), np.asarray(ranks)], sort=True)
    for (name, rank), g in groups:
        parts = shapely.get_parts(g.values)
        merged = shapely.line_merge(shapely.multilinestrings(parts))
        geoms.append(merged.simplify(simplify_m))
        keys.append((None if name == "(unnamed)" else name, int(rank)))
    frame = gpd.GeoDataFrame(
        {"name": [k[0] for k in keys], "rank": [k[1] for k in keys]}, geometry=geoms, crs=27700
    )
    return _features(frame, "street", ["name", "rank"])


def _street_labels(blocks: Any) -> list[dict[str, Any]]:
    """One label per named main or through street: the midpoint of its longest block."""
    import geopandas as gpd

    if blocks is None or len(blocks) == 0:
        return []
    b = blocks[blocks["name"].notna() & (blocks["name"].astype(str) != "(unnamed)")].copy()
    b["rank"] = [_rank(h) for h in b["highway"].tolist()]
    b = b[b["rank"] <= 1].sort_values("length_m", ascending=False).drop_duplicates("name")
    pts = gpd.GeoDataFrame(
        {"name": b["name"].astype(str).to_numpy(), "class": "street", "rank": b["rank"].to_numpy()},
        geometry=b.geometry.interpolate(0.5, normalized=True).to_numpy(),
        crs=27700,
    )
    return _features(pts, "label", ["name", "class", "rank"])


def build_borough(gaz: Gaz, borough: str) -> dict[str, Any]:
    """The basemap of one borough: streets, parks, water, LSOA outlines, labels."""
    import shapely

    bor = gaz.boroughs()
    row = bor[bor["name"] == borough]
    shape = row.geometry.iloc[0]
    x0, y0, x1, y1 = shape.bounds
    frame = shapely.box(x0 - 1500, y0 - 1500, x1 + 1500, y1 + 1500)
    feats: list[dict[str, Any]] = []
    blocks = gaz.table("blocks")
    own = blocks[blocks["borough"] == borough] if blocks is not None else None
    parks = gaz.table("parks")
    if parks is not None and len(parks):
        near = parks[parks.intersects(shape)].copy()
        near["geometry"] = near.geometry.simplify(3)
        feats += _features(near, "park", ["name"])
        big = near[near.geometry.area > 20_000].copy()  # label parks of 2 ha and more
        big["geometry"] = big.geometry.representative_point()
        big["class"] = "park"
        feats += _features(big, "label", ["name", "class"])
    river = gaz.thames()
    if river is not None and river.intersects(frame):
        import geopandas as gpd

        w = gpd.GeoDataFrame({"name": ["River Thames"]}, geometry=[river & frame], crs=27700)
        feats += _features(w, "water", ["name"])
    lsoa = gaz.table("lsoas21")
    if lsoa is not None and len(lsoa):
        ls = lsoa[lsoa["borough"] == borough][["lsoa21_code", "lsoa21_name", "geometry"]].copy()
        ls["geometry"] = ls.geometry.simplify(5)
        feats += _features(ls, "lsoa", ["lsoa21_code", "lsoa21_name"])
    feats += _street_lines(own, 2.0)
    feats += _street_labels(own)
    lab = gaz.labels(borough)
    if lab is not None:
        feats += _features(lab, "label", ["name", "class"])
    n = 0 if own is None else len(own)
    return {
        "type": "FeatureCollection",
        "properties": {
            "scope": borough,
            "blocks": n,
            "has_network": n > 0,
            # issue 13: a network that reaches only this share of the borough's postcodes
            "network_share": gaz.partly_covered().get(borough),
            "bbox": _bbox4326(shape),
        },
        "features": feats,
    }


def build_london(gaz: Gaz) -> dict[str, Any]:
    """London: borough outlines (with their network size), the Thames, main roads, labels."""
    import geopandas as gpd

    bor = gaz.boroughs()[["name", "geometry"]].copy()
    net = gaz.network_by_borough()
    bor["blocks"] = [net.get(n, 0) for n in bor["name"]]
    bor["has_network"] = bor["blocks"] > 0
    outl = bor.copy()
    outl["geometry"] = outl.geometry.simplify(40)
    feats = _features(outl, "borough", ["name", "blocks", "has_network"])
    river = gaz.thames()
    if river is not None:
        w = gpd.GeoDataFrame({"name": ["River Thames"]}, geometry=[river.simplify(15)], crs=27700)
        feats += _features(w, "water", ["name"])
    blocks = gaz.table("blocks")
    if blocks is not None and len(blocks):
        main = blocks[[_rank(h) == 0 for h in blocks["highway"].tolist()]]
        feats += _street_lines(main, 20.0)
    pts = gpd.GeoDataFrame(
        {"name": bor["name"].to_numpy(), "class": "borough"},
        geometry=bor.geometry.representative_point().to_numpy(),
        crs=27700,
    )
    feats += _features(pts, "label", ["name", "class"])
    return {
        "type": "FeatureCollection",
        "properties": {
            "scope": "London",
            "bbox": _bbox4326(gaz.boroughs().geometry.union_all()),
            "boroughs_without_network": sorted(bor.loc[~bor["has_network"], "name"]),
            "boroughs_partly_covered": gaz.partly_covered(),
        },
        "features": feats,
    }


def _bbox4326(geom: Any) -> list[float]:
    from pyproj import Transformer

    t = Transformer.from_crs(27700, 4326, always_xy=True)
    x0, y0, x1, y1 = geom.bounds
    lon0, lat0 = t.transform(x0, y0)
    lon1, lat1 = t.transform(x1, y1)
    return [round(lon0, 5), round(lat0, 5), round(lon1, 5), round(lat1, 5)]


_gaz: dict[Path, Gaz] = {}


def gaz_for(vdir: Path) -> Gaz:
    """One :class:`Gaz` per process and gazetteer version (its tables stay loaded)."""
    with _lock:
        if vdir not in _gaz:
            _gaz.clear()
            _gaz[vdir] = Gaz(vdir)
        return _gaz[vdir]


def basemap_file(home: Path, area: str) -> Path:
    """Path of the cached basemap GeoJSON of ``area`` (``london`` or a borough name or slug),
    building it (and its ``.gz`` twin) first if needed."""
    vdir = gazetteer_version_dir(home)
    gaz = gaz_for(vdir)
    if slug(area) == "london":
        name, key = "London", "london"
    else:
        names = {slug(n): str(n) for n in gaz.boroughs()["name"]}
        if slug(area) not in names:
            raise UnknownArea(area)
        key = slug(area)
        name = names[key]
    out_dir = Path(home) / "cache" / "basemap" / f"{vdir.name}-s{BASEMAP_SCHEMA}"
    out = out_dir / f"{key}.geojson"
    if out.is_file() and out.with_suffix(".geojson.gz").is_file():
        return out
    with _lock:
        lk = _build_locks.setdefault(str(out), threading.Lock())
    with lk:
        if out.is_file() and out.with_suffix(".geojson.gz").is_file():
            return out
        fc = build_london(gaz) if key == "london" else build_borough(gaz, name)
        data = json.dumps(fc, separators=(",", ":")).encode()
        out_dir.mkdir(parents=True, exist_ok=True)
        for target, payload in (
            (out.with_suffix(".geojson.gz"), gzip.compress(data, 6)),
            (out, data),
        ):
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, target)
    return out
