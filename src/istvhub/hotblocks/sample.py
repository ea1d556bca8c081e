"""Real-shaped inputs for tests, the benchmark and the notebook, without a built gazetteer.

``blocks_from_osm_edges`` reads the OSMnx-style Westminster edges file (already split junction
to junction) into the gazetteer's block shape (block_id, name, names_key, highway, borough,
length_m, geometry in EPSG:27700). ``synthetic_records`` makes located records (no free text,
no personal data) over that network with the geocode columns of ``records.GEOCODE_COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer.normalise import normalise_name

EDGES = Path("streets/osm/westminster_drive_edges.geojson")


def _as_list(v: object) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str):
        return [v]
    if not isinstance(v, Iterable):  # what list(v) raised, naming the value
        raise TypeError(f"OSM edge tag: expected text or a list, got {v!r}")
    return [str(x) for x in list(v)]


def blocks_from_osm_edges(sources: Path, borough: str = "Westminster") -> gpd.GeoDataFrame:
    """Westminster street blocks in the gazetteer's block shape (EPSG:27700)."""
    g = gpd.read_file(Path(sources) / EDGES).to_crs(27700)
    names = [_as_list(v) for v in g["name"]]
    hw = [_as_list(v) for v in g["highway"]]
    ids = (g["u"].astype(str) + "_" + g["v"].astype(str)).to_numpy(dtype=object)
    dup = pd.Series(ids).groupby(ids).cumcount().to_numpy()
    block_id = [f"w{a}_{d}" for a, d in zip(ids, dup, strict=True)]
    out = gpd.GeoDataFrame(
        {
            "block_id": block_id,
            "name": [" / ".join(n) if n else None for n in names],
            "names_key": [
                "|".join(sorted({normalise_name(x) for x in n})) if n else None for n in names
            ],
            "highway": [h[0] if h else None for h in hw],
            "borough": borough,
            "length_m": shapely.length(g.geometry.values),
        },
        geometry=g.geometry.values,
        crs=27700,
    )
    return out


def synthetic_records(
    blocks: gpd.GeoDataFrame,
    n: int,
    *,
    seed: int = 7,
    periods: tuple[str, ...] = ("2024-01", "2024-02", "2024-03"),
    departments: tuple[str, ...] = ("RAL01", "RJ122"),
    hot_share: float = 0.5,
) -> pd.DataFrame:
    """``n`` located, postcode-precision records near the blocks, concentrated so that about
    ``hot_share`` of them fall on 2% of the blocks (as street violence does)."""
    rng = np.random.default_rng(seed)
    nb = len(blocks)
    hot = rng.choice(nb, size=max(1, nb // 50), replace=False)
    pick = np.where(rng.random(n) < hot_share, rng.choice(hot, size=n), rng.integers(0, nb, n))
    geoms = blocks.geometry.values[pick]
    pos = shapely.line_interpolate_point(geoms, rng.random(n), normalized=True)
    ang = rng.uniform(0, 2 * np.pi, n)
    off = rng.uniform(0, 12, n)
    x = shapely.get_x(pos) + off * np.cos(ang)
    y = shapely.get_y(pos) + off * np.sin(ang)
    from istvhub.hotblocks.assign import _TO_WGS84

    lon, lat = _TO_WGS84.transform(x, y)
    day = rng.integers(1, 28, n)
    per = rng.choice(np.array(periods, dtype=object), n)
    hour = rng.integers(0, 24, n)
    arrival = pd.to_datetime(
        [f"{p}-{d:02d} {h:02d}:30" for p, d, h in zip(per, day, hour, strict=True)]
    )
    return pd.DataFrame(
        {
            "record_id": [f"syn{i:08d}" for i in range(n)],
            "department": rng.choice(np.array(departments, dtype=object), n),
            "period": per,
            "arrival_at": arrival,
            "incident_date": arrival.date,
            "incident_time": (arrival - pd.Timedelta(minutes=20)).time,
            "location_type": rng.choice(
                np.array(["street", "licensed_premises", "transport"], dtype=object), n
            ),
            "weapon": rng.choice(np.array(["body_part", "sharp", "glass"], dtype=object), n),
            "geo_status": "located",
            "match_type": "postcode",
            "lat": lat,
            "lon": lon,
            "easting": x,
            "northing": y,
            "precision_m": 30.0,
            "confidence": 0.9,
            "matched_name": None,
            "lsoa_code": None,
            "borough": blocks["borough"].to_numpy()[pick],
            "block_id": None,
        }
    )


def westminster_lsoas(sources: Path) -> gpd.GeoDataFrame:
    """Westminster's real LSOA 2011 polygons (lsoa_code, lsoa_name, EPSG:27700)."""
    g = gpd.read_file(Path(sources) / "boundaries" / "lsoa2011" / "E09000033.json").to_crs(27700)
    return g.rename(columns={"LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name"})[
        ["lsoa_code", "lsoa_name", "geometry"]
    ]


def write_mini_gazetteer(sources: Path, home: Path, version: str = "test-westminster") -> Path:
    """A gazetteer version holding only what hot blocks reads (Westminster blocks, LSOAs, all
    borough outlines; empty point tables), for tests that must not wait for a full build."""
    import json

    vdir = Path(home) / "gazetteer" / version
    vdir.mkdir(parents=True, exist_ok=True)
    blocks_from_osm_edges(sources).to_parquet(vdir / "blocks.parquet")
    westminster_lsoas(sources).to_parquet(vdir / "lsoas.parquet")
    bor = gpd.read_file(Path(sources) / "boundaries" / "london_boroughs.gpkg")
    bor[["name", "gss_code", "geometry"]].to_crs(27700).to_parquet(vdir / "boroughs.parquet")
    for f in ("entries", "keys", "street_points"):
        pd.DataFrame({"key": pd.Series([], dtype="string")}).to_parquet(vdir / f"{f}.parquet")
    (vdir / "manifest.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    (Path(home) / "gazetteer" / "CURRENT").write_text(version, encoding="utf-8")
    return vdir
