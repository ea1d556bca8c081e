"""What a build records about itself: source checksums and rows, attribution, coverage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer.road_lines import line_layer

ATTRIBUTION = """\
istvhub gazetteer: attribution of the open data it was built from
=================================================================

Postcodes (Code-Point Open), postcode lookup, boundaries:
  Contains OS data (c) Crown copyright and database right 2025.
  Contains Royal Mail data (c) Royal Mail copyright and database right 2025.
  Contains National Statistics data (c) Crown copyright and database right 2025.
  Source: Office for National Statistics, licensed under the Open Government Licence v3.0.
  Boundaries: GLA / ONS / OS, Open Government Licence v3.0; LSOA GeoJSON by Martin Chorley
  (CC BY 4.0), retaining the Crown copyright declarations.

Street names (HM Land Registry Price Paid Data):
  Contains HM Land Registry data (c) Crown copyright and database right 2025.
  This data is licensed under the Open Government Licence v3.0.

Street network, venues (cafes):
  (c) OpenStreetMap contributors, available under the Open Database Licence (ODbL) v1.0,
  https://www.openstreetmap.org/copyright

Venues (pubs, music venues, theatres, ...): GLA Cultural Infrastructure Map, OGL v3.0.

Hospitals: CQC care directory, OGL v3.0; NHS organisation data (ODS / NHS website), OGL v3.0.

Schools: Ofsted / Get Information about Schools, OGL v3.0.

Transport: Powered by TfL Open Data. Contains OS data (c) Crown copyright and database rights
  2016 and Geomni UK Map data (c) and database rights [2019] (bus stops, cycle hire docks).
  Station list: MIT-licensed 2014 compilation of TfL / NaPTAN data.

Named areas: Wikipedia "List of areas of London", CC BY-SA 4.0 (Wikipedia contributors).

Places: GeoNames (www.geonames.org), CC BY 4.0.
"""


def file_digest(path: Path) -> tuple[str, int, int]:
    """(sha256, bytes, newline count) in one pass."""
    h = hashlib.sha256()
    lines = 0
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
            size += len(chunk)
    return h.hexdigest(), size, lines


def _source_rows(name: str, path: Path, newlines: int) -> int | None:
    """Data rows of a source file (CSV lines less header; features of vector files)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", errors="replace") as fh:
            first = fh.readline().lower()
        has_header = name != "codepoint" and (
            "name" in first or "postcode" in first or "pcd" in first or "lat" in first
        )
        return max(newlines - (1 if has_header else 0), 0)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg"):
        try:
            import pyogrio

            return int(pyogrio.read_info(path, layer=line_layer(path))["features"])
        except Exception:  # noqa: BLE001 - a count is informative only
            return None
    return None


def source_manifest(found: dict[str, list[Path]], root: Path) -> list[dict[str, Any]]:
    """[{source, path (relative to the sources dir), sha256, bytes, rows}] for every file."""
    out = []
    for name, files in sorted(found.items()):
        for p in files:
            sha, size, nl = file_digest(p)
            try:
                rel = str(p.relative_to(root.resolve()))
            except ValueError:
                rel = str(p)
            out.append(
                {
                    "source": name,
                    "path": rel,
                    "sha256": sha,
                    "bytes": size,
                    "rows": _source_rows(name, p, nl),
                }
            )
    return out


#: A postcode unit is "on the network" when a block passes within about this distance (m).
COVERED_M = 150.0
#: Boroughs with blocks near fewer than this share of their postcodes are "partly covered".
PARTLY_COVERED = 0.9
FILL_ADVICE = (
    "a full OpenStreetMap extract (Geofabrik greater-london-latest.osm.pbf) or OS Open Roads "
    "(road_link layer), passed as 'istvhub gazetteer build --network FILE' or placed in "
    "streets/osm/ of the sources"
)


def covered_share(blocks: gpd.GeoDataFrame, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Whether each point has a block within about COVERED_M: blocks rasterised on a 50 m grid,
    dilated (a numpy lookup per point instead of a nearest-line query)."""
    cell = 50.0
    out = np.zeros(len(e), dtype=bool)
    if len(blocks) == 0 or len(e) == 0:
        return out
    xy = shapely.get_coordinates(shapely.segmentize(blocks.geometry.values, cell / 2))
    x0, y0 = xy[:, 0].min() - COVERED_M - cell, xy[:, 1].min() - COVERED_M - cell
    nx = int((xy[:, 0].max() + COVERED_M + cell - x0) // cell) + 1
    ny = int((xy[:, 1].max() + COVERED_M + cell - y0) // cell) + 1
    hit = np.zeros((ny, nx), dtype=bool)
    hit[((xy[:, 1] - y0) // cell).astype(int), ((xy[:, 0] - x0) // cell).astype(int)] = True
    r = int(COVERED_M // cell)
    grid = np.zeros_like(hit)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            src = hit[max(0, -dy) : ny - max(0, dy), max(0, -dx) : nx - max(0, dx)]
            grid[max(0, dy) : ny - max(0, -dy), max(0, dx) : nx - max(0, -dx)] |= src
    ix = np.floor((e - x0) / cell)
    iy = np.floor((n - y0) / cell)
    ok = (ix >= 0) & (iy >= 0) & (ix < nx) & (iy < ny)
    out[ok] = grid[iy[ok].astype(int), ix[ok].astype(int)]
    return out


def _coverage(
    blocks: gpd.GeoDataFrame, boroughs: gpd.GeoDataFrame, cp: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Blocks and km per borough, the share of each borough's postcodes near a block, and the
    boroughs the network misses wholly or in part (with what a user supplies to fill them)."""
    by = blocks.groupby("borough")["length_m"].agg(["count", "sum"]) if len(blocks) else None
    share: dict[str, float] = {}
    if cp is not None and len(cp):
        near = covered_share(blocks, cp["easting"].to_numpy(), cp["northing"].to_numpy())
        share = {
            str(k): float(v)
            for k, v in pd.Series(near).groupby(cp["borough"].to_numpy()).mean().items()
        }
    with_blocks = {}
    if by is not None:
        for b, r in by.iterrows():
            with_blocks[str(b)] = {
                "blocks": int(r["count"]),
                "km": round(float(r["sum"]) / 1000, 1),
                "postcodes_near_network": round(share.get(str(b), 0.0), 3),
            }
    partly = {
        b: d["postcodes_near_network"]
        for b, d in sorted(with_blocks.items())
        if share and d["postcodes_near_network"] < PARTLY_COVERED
    }
    return {
        "boroughs_with_blocks": with_blocks,
        "boroughs_without_network": sorted(set(boroughs["name"]) - set(with_blocks)),
        "boroughs_partly_covered": partly,
        "covered_m": COVERED_M,
        "note": "street blocks exist only where a line source covers the borough; to fill the "
        "rest supply " + FILL_ADVICE,
    }
