"""Borough outlines for the map page: our own boundaries (no web tiles), simplified, as GeoJSON."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from istvhub._errors import SourcesNotFound
from istvhub.core.config import Settings

_cache: dict[str, str] = {}
_lock = threading.Lock()


def _boroughs_frame(settings: Settings) -> Any:
    import geopandas as gpd

    current = settings.gazetteer_dir / "CURRENT"
    if current.is_file():
        p = settings.gazetteer_dir / current.read_text().strip() / "boroughs.parquet"
        if p.is_file():
            return gpd.read_parquet(p)
    src = settings.sources_dir
    gpkg = Path(src) / "boundaries" / "london_boroughs.gpkg" if src else None
    if gpkg is None or not gpkg.is_file():
        raise SourcesNotFound(
            "file 'boundaries/london_boroughs.gpkg': not found under the "
            "sources directory and no gazetteer built"
        )
    return gpd.read_file(gpkg)


def borough_outlines_geojson(settings: Settings, tolerance_m: float = 40.0) -> str:
    """The 33 boroughs as GeoJSON (EPSG:4326, ~40 m simplified, 5 decimals), cached per process."""
    key = f"{settings.gazetteer_dir}|{settings.sources_dir}|{tolerance_m}"
    with _lock:
        if key in _cache:
            return _cache[key]
        gdf = _boroughs_frame(settings)
        if gdf.crs is None or gdf.crs.to_epsg() != 27700:
            gdf = gdf.to_crs(27700)
        gdf = gdf[["name", "geometry"]].copy()
        gdf["geometry"] = gdf.geometry.simplify(tolerance_m, preserve_topology=True)
        text = gdf.to_crs(4326).to_json(drop_id=True)
        # 5 decimals (~1 m) keeps the page light
        data = json.loads(text)
        for f in data["features"]:
            g = f["geometry"]
            f["geometry"] = {"type": g["type"], "coordinates": round_coords(g["coordinates"])}
        out = json.dumps(data, separators=(",", ":"))
        _cache[key] = out
        return out


def round_coords(c: Any, ndigits: int = 5) -> Any:
    """GeoJSON ``coordinates`` (a position or nested lists of them) rounded to ``ndigits``
    decimals: 5 is about 1 m, enough for the map pages and much lighter."""
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
        return [round(c[0], ndigits), round(c[1], ndigits)]
    return [round_coords(x, ndigits) for x in c]
