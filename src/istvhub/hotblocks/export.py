"""Write hot-block layers: GeoPackage (one file, several layers), GeoJSON, CSV, GeoParquet.

* ``gpkg``: layers ``blocks``, ``hexes``, ``lsoas`` (2011), ``lsoas21`` and ``msoas21`` (Census
  2021; EPSG:27700), ``summary`` and
  ``concentration`` (attribute tables), written through pyogrio.
* ``geojson`` (EPSG:4326, RFC 7946) and ``csv`` (``wkt`` in EPSG:4326 plus ``hex_id``, the column
  kepler.gl reads): one file per layer, ``PATH`` holds ``blocks`` and siblings are named
  ``<stem>_hexes``, ``<stem>_lsoas``, ``<stem>_summary``, ``<stem>_concentration``.
* ``parquet``: GeoParquet (EPSG:27700) per layer, named as for CSV.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from istvhub._errors import HotblocksError
from istvhub.exportsafety import neutralise_frame
from istvhub.hotblocks.aggregate import Layers

FORMATS = ("gpkg", "geojson", "csv", "parquet")
SPATIAL = ("blocks", "hexes", "lsoas", "lsoas21", "msoas21")
TABLES = ("summary", "concentration")


class ExportError(HotblocksError):
    """The output could not be written (names the path and layer, never data)."""


def _spatial(layers: Layers) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for name in SPATIAL:
        g = getattr(layers, name)
        # features without geometry (an LSOA code not in the boundary set) still carry counts
        out[name] = g
    return out


def layer_paths(path: Path, fmt: str) -> dict[str, Path]:
    """Where each layer goes for the one-file-per-layer formats."""
    path = Path(path)
    ext = {"geojson": ".geojson", "csv": ".csv", "parquet": ".parquet"}[fmt]
    stem = path.with_suffix("") if path.suffix else path
    out = {"blocks": stem.with_suffix(ext)}
    for name in (*SPATIAL[1:], *TABLES):
        tab_ext = ext if (fmt != "geojson" or name in SPATIAL) else ".csv"
        out[name] = stem.parent / f"{stem.name}_{name}{tab_ext}"
    return out


def _write_gpkg(layers: Layers, path: Path) -> list[Path]:
    tmp = path.with_name(f".{path.stem}.partial.gpkg")
    if tmp.exists():
        tmp.unlink()
    try:
        for name, g in _spatial(layers).items():
            pyogrio.write_dataframe(
                g,
                tmp,
                layer=name,
                driver="GPKG",
                geometry_type="MultiPolygon" if name != "blocks" else None,
                promote_to_multi=name != "blocks",
            )
        for name in TABLES:
            pyogrio.write_dataframe(getattr(layers, name), tmp, layer=name, driver="GPKG")
    except Exception as exc:  # pragma: no cover - disk/driver failures
        if tmp.exists():
            tmp.unlink()
        raise ExportError(
            f"file {path.name!r}: could not write GeoPackage ({type(exc).__name__})"
        ) from exc
    os.replace(tmp, path)
    return [path]


def _csv_frame(g: gpd.GeoDataFrame) -> pd.DataFrame:
    w = g.to_crs(4326)
    df = pd.DataFrame(w.drop(columns=w.geometry.name))
    df["wkt"] = w.geometry.to_wkt(rounding_precision=6)
    return neutralise_frame(df)  # street/borough names reach a spreadsheet


def write_layers(layers: Layers, path: Path | str, fmt: str) -> list[Path]:
    """Write all layers in ``fmt``; returns the files written."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ExportError(f"option --format: must be one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gpkg":
        return _write_gpkg(layers, path)
    paths = layer_paths(path, fmt)
    written: list[Path] = []
    for name, g in _spatial(layers).items():
        p = paths[name]
        if fmt == "geojson":
            if p.exists():
                p.unlink()
            pyogrio.write_dataframe(
                g.to_crs(4326), p, driver="GeoJSON", layer_options={"RFC7946": "YES"}
            )
        elif fmt == "csv":
            _csv_frame(g).to_csv(p, index=False)
        else:
            g.to_parquet(p, index=False)
        written.append(p)
    for name in TABLES:
        p = paths[name]
        t = getattr(layers, name)
        if fmt == "parquet":
            t.to_parquet(p, index=False)
        else:
            neutralise_frame(t).to_csv(p, index=False)
        written.append(p)
    return written
