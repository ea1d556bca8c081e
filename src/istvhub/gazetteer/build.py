"""Build the gazetteer: sources -> ``<out>/<version>/`` (Parquet files + manifest), then point
``<out>/CURRENT`` at it.

The new version is written to a hidden temporary directory and renamed into place; CURRENT is
replaced atomically (write temp + ``os.replace``) only after that, so a killed or failed build
leaves the previous gazetteer in use. The file formats are the contract in docs/DEVELOPING.md.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from istvhub import __version__
from istvhub._errors import SourcesNotFound
from istvhub.gazetteer import census2021, fill, osm_layers, places
from istvhub.gazetteer import network as net
from istvhub.gazetteer import read_areas as A
from istvhub.gazetteer.entries import (
    _area_units,
    _cached_norm,
    _fill_lsoa_district,
    _hash,
    _osm_street_entries,
    _postcode_entries,
    _street_entries,
)
from istvhub.gazetteer.extent import street_extent
from istvhub.gazetteer.junctions import (
    POSTCODE_JUNCTION_M,
    _bus_stop_junctions,
    _junction_display,
    _junction_entries,
)
from istvhub.gazetteer.keys import _keys
from istvhub.gazetteer.manifest import ATTRIBUTION, _coverage, source_manifest
from istvhub.gazetteer.raw import to_wgs
from istvhub.gazetteer.sources import find_sources

__all__ = ["BUILD_SCHEMA", "ENTRY_COLUMNS", "ENTRY_TYPES", "POSTCODE_JUNCTION_M", "build"]

#: Bump when the files or their meaning change (also keys the test cache).
BUILD_SCHEMA = 2

ENTRY_COLUMNS = [
    "entry_id",
    "entry_type",
    "name",
    "key",
    "easting",
    "northing",
    "lat",
    "lon",
    "precision_m",
    "borough",
    "lsoa_code",
    "district",
    "source",
    "category",
    "street_a",
    "street_b",
    "extent_m",
]
ENTRY_TYPES = (
    "postcode",
    "postcode_sector",
    "postcode_district",
    "street",
    "junction",
    "station",
    "bus_stop",
    "cycle_dock",
    "venue",
    "hospital",
    "school",
    "area",
    "borough",
)


Progress = Callable[[str], None]


def build(
    sources: Path | None = None,
    out: Path | None = None,
    networks: Sequence[Path] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build a new gazetteer version from ``sources`` under ``out`` and make it CURRENT.

    Returns the new version directory. ``networks`` replaces the default OSM line files (e.g.
    a full Geofabrik ``greater-london-latest.osm.pbf``)."""
    from istvhub.core.config import get_settings

    t0 = time.perf_counter()
    step = progress or (lambda msg: None)
    settings = get_settings()
    sources = Path(sources) if sources else settings.sources_dir
    if sources is None:
        raise SourcesNotFound("no sources directory: set ISTVHUB_SOURCES or pass --sources")
    out = Path(out) if out else settings.gazetteer_dir
    found = find_sources(sources)
    if networks:
        for f in networks:
            if not Path(f).is_file():
                raise SourcesNotFound(f"network file {str(f)!r} does not exist")
        found["osm"] = [Path(f).resolve() for f in networks]

    step("checksums")
    manifest_sources = source_manifest(found, Path(sources))
    src_hash = _hash(*(m["sha256"] for m in manifest_sources), BUILD_SCHEMA, __version__)

    step("boundaries")
    boroughs = A.read_boroughs(found["boroughs"])
    lsoas = A.read_lsoas(found["lsoas"], boroughs)
    lsoas21 = census2021.read_lsoas21(found.get("lsoas21", []), boroughs)
    msoas21 = census2021.msoas_from_lsoas(lsoas21)
    lookup21 = census2021.read_lookup(found.get("lsoa_lookup21", []))
    lsoa_tree = shapely.STRtree(lsoas.geometry.values)

    step("postcodes")
    cp_raw = A.read_codepoint_raw(found["codepoint"], found["codepoint_headers"])
    cp = A.read_codepoint(found["codepoint"], found["codepoint_headers"], boroughs, raw=cp_raw)
    outside_pcs = A.outside_postcodes(cp_raw, boroughs)
    del cp_raw
    ons = A.read_ons_lookup(found["ons_lookup"])
    cp = cp.merge(ons, on="postcode", how="left")
    cp["lsoa_code"] = cp["lsoa_code"].astype(object)
    miss = cp["lsoa_code"].isna()
    if miss.any():
        cp.loc[miss, "lsoa_code"] = net.lsoa_of(
            lsoas, lsoa_tree, cp.loc[miss, "easting"], cp.loc[miss, "northing"]
        )
    cp["district"] = cp["postcode"].str.split(" ").str[0]
    cp["sector"] = cp["postcode"].str[:-2]
    parts = [
        _postcode_entries(cp),
        _area_units(cp, "sector", "postcode_sector"),
        _area_units(cp, "district", "postcode_district"),
    ]
    districts = parts[2].set_index("name")

    step("streets")
    ps = A.read_postcode_streets(found["postcode_streets"], keep=set(cp["postcode"]))
    streets, points = _street_entries(ps, cp)

    step("network")
    fill_files = [] if networks else found.get("osm_london", [])
    lines = fill.read_network(found["osm"], fill_files, boroughs)
    seam_junctions = len(lines.attrs.get("seams", ()))
    blocks = net.build_blocks(lines, boroughs)
    blocks = blocks[blocks["borough"].notna()].reset_index(drop=True)
    osm_streets, osm_points = _osm_street_entries(blocks, streets)
    streets = pd.concat([streets, osm_streets], ignore_index=True)
    if len(osm_points):
        points = pd.concat([points, osm_points], ignore_index=True)

    step("junctions")
    netj = net.network_junctions(blocks)
    junctions = _junction_entries(netj, points)
    street_names = dict(zip(streets["name"].map(_cached_norm), streets["name"], strict=False))
    junctions["name"] = _junction_display(junctions, street_names)
    parts += [streets, junctions]

    step("places")
    osm_rows, parks = osm_layers.read_all([*found.get("osm_london", []), *found["osm"]])
    pois = places.locate(places.point_rows(found, osm_rows), boroughs, lsoas, lsoa_tree, cp)
    parts.append(_bus_stop_junctions(pois, pois["variants"], streets, junctions))
    areas = A.read_wikipedia_areas(found["wikipedia_areas"])
    pois = places.finish(pois, places.wikipedia_areas(areas, districts, boroughs))
    park_polys = places.park_layer(parks, pois)
    parts += [pois.drop(columns=["variants", "_park"], errors="ignore")]
    parts.append(places.borough_entries(boroughs))

    step("keys")
    entries = pd.concat(parts, ignore_index=True)
    entries = entries.drop_duplicates("entry_id")
    pcs = entries["entry_type"].isin(["postcode", "postcode_sector", "postcode_district"])
    # a postcode's key is its lower-case form (what normalise_name gives, without the cost)
    entries["key"] = np.where(
        pcs, entries["name"].astype(str).str.lower(), entries["name"].map(_cached_norm)
    )
    _fill_lsoa_district(entries, lsoas, lsoa_tree, cp)
    entries["extent_m"] = street_extent(entries, blocks, _cached_norm)
    lon, lat = to_wgs(entries["easting"], entries["northing"])
    entries["lon"] = lon
    entries["lat"] = lat
    for c in ("street_a", "street_b"):
        if c not in entries:
            entries[c] = None
    entries = entries[ENTRY_COLUMNS].sort_values(["entry_type", "entry_id"]).reset_index(drop=True)
    for c in ("easting", "northing", "lat", "lon", "precision_m", "extent_m"):
        entries[c] = entries[c].astype(float)
    for c in (
        "entry_id",
        "entry_type",
        "name",
        "key",
        "borough",
        "lsoa_code",
        "district",
        "source",
        "category",
        "street_a",
        "street_b",
    ):
        entries[c] = entries[c].astype("string")
    keys = _keys(entries, pois)

    step("write")
    stats_counts = entries["entry_type"].value_counts().reindex(ENTRY_TYPES, fill_value=0)
    coverage = _coverage(blocks, boroughs, cp)
    built_at = datetime.now(UTC)
    version = built_at.strftime("%Y%m%dT%H%M%SZ") + "-" + src_hash[:8]
    out.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(out)
    final = out / version
    k = 1
    while final.exists():
        k += 1
        final = out / f"{version}-{k}"
    version = final.name
    tmp = out / f".building-{version}-{os.getpid()}"
    try:
        tmp.mkdir()
        entries.to_parquet(tmp / "entries.parquet", index=False)
        keys.to_parquet(tmp / "keys.parquet", index=False)
        sp = points[["entry_id", "easting", "northing", "postcode"]].astype(
            {"entry_id": "string", "postcode": "string", "easting": float, "northing": float}
        )
        sp.to_parquet(tmp / "street_points.parquet", index=False)
        outside_pcs.to_parquet(tmp / "outside_postcodes.parquet", index=False)
        blocks.to_parquet(tmp / "blocks.parquet", index=False)
        lsoas.to_parquet(tmp / "lsoas.parquet", index=False)
        lsoas21.to_parquet(tmp / "lsoas21.parquet", index=False)
        msoas21.to_parquet(tmp / "msoas21.parquet", index=False)
        lookup21.to_parquet(tmp / "lsoa11_to_21.parquet", index=False)
        boroughs.to_parquet(tmp / "boroughs.parquet", index=False)
        park_polys.to_parquet(tmp / "parks.parquet", index=False)
        (tmp / "ATTRIBUTION.txt").write_text(ATTRIBUTION, encoding="utf-8")
        manifest = {
            "version": version,
            "built_at": built_at.isoformat(timespec="seconds"),
            "istvhub_version": __version__,
            "build_schema": BUILD_SCHEMA,
            "sources_dir": str(Path(sources).resolve()),
            "sources": manifest_sources,
            "counts": {k: int(v) for k, v in stats_counts.items()},
            "keys": int(len(keys)),
            "street_points": int(len(points)),
            "outside_postcodes": int(len(outside_pcs)),
            "blocks": int(len(blocks)),
            "seam_junctions": int(seam_junctions),
            "parks": int(len(park_polys)),
            "statistical_areas": {
                "lsoa2011": int(len(lsoas)),
                "lsoa2021": int(len(lsoas21)),
                "msoa2021": int(len(msoas21)),
                "lsoa11_to_21_rows": int(len(lookup21)),
            },
            "build_seconds": round(time.perf_counter() - t0, 2),
            "network_coverage": coverage,
            "unresolved_aliases": keys.attrs.get("unresolved", []),
        }
        _write_json(tmp / "manifest.json", manifest)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_current(out, version)
    step("done")
    return final


def _remove_dead_partials(out: Path) -> None:
    """Remove ``.building-*`` directories left by builds that were killed (pid not alive)."""
    for p in out.glob(".building-*"):
        try:
            pid = int(p.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:
            pass


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def set_current(out: Path, version: str) -> None:
    """Point CURRENT at ``version`` atomically."""
    tmp = out / f".CURRENT.{os.getpid()}"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, out / "CURRENT")
