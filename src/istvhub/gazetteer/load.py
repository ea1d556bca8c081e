"""Load a built gazetteer read-only: ``load(home) -> Gazetteer``.

The point tables load eagerly (they are what the geocoder searches); the polygon and line
layers (blocks, LSOAs, boroughs) and their STRtrees load on first use, so a load stays well
under 2 seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from istvhub._errors import GazetteerNotBuilt
from istvhub.gazetteer import census2021
from istvhub.gazetteer import network as net


def resolve_version_dir(home_or_dir: Path | str | None = None) -> Path:
    """Accepts ISTVHUB_HOME (has gazetteer/CURRENT), the gazetteer dir (has CURRENT) or a
    version dir (has manifest.json); None means the configured home."""
    if home_or_dir is None:
        from istvhub.core.config import get_settings

        home_or_dir = get_settings().home
    p = Path(home_or_dir)
    if (p / "manifest.json").is_file():
        return p
    for gdir in (p / "gazetteer", p):
        cur = gdir / "CURRENT"
        if cur.is_file():
            version = cur.read_text(encoding="utf-8").strip()
            vdir = gdir / version
            if version and (vdir / "manifest.json").is_file():
                return vdir
            raise GazetteerNotBuilt(f"gazetteer CURRENT names missing version {version!r}")
    raise GazetteerNotBuilt(f"no gazetteer under {str(p)!r}: run 'istvhub gazetteer build' first")


@dataclass
class Gazetteer:
    """A loaded gazetteer version (see docs/DEVELOPING.md for the columns)."""

    path: Path
    version: str
    manifest: dict[str, Any]
    entries: pd.DataFrame
    keys: pd.DataFrame
    street_points: pd.DataFrame

    @cached_property
    def blocks(self) -> gpd.GeoDataFrame:
        """The street blocks; ``attrs["parks"]`` carries the park polygons, so that every
        hot-block assignment given these blocks can put a park's records on its edge."""
        b = gpd.read_parquet(self.path / "blocks.parquet")
        b.attrs["parks"] = self.parks
        return b

    @cached_property
    def parks(self) -> gpd.GeoDataFrame:
        """Park and common polygons (entry_id, name, category, borough, area_m2; EPSG:27700)."""
        p = self.path / "parks.parquet"
        if p.is_file():
            return gpd.read_parquet(p)
        return gpd.GeoDataFrame({"entry_id": [], "name": []}, geometry=[], crs=27700)

    @cached_property
    def lsoas(self) -> gpd.GeoDataFrame:
        return gpd.read_parquet(self.path / "lsoas.parquet")

    @cached_property
    def lsoas21(self) -> gpd.GeoDataFrame:
        """LSOA 2021 polygons (empty for a gazetteer built without the Census 2021 files)."""
        return _optional_geo(self.path / "lsoas21.parquet", census2021.LSOA21_COLUMNS)

    @cached_property
    def msoas21(self) -> gpd.GeoDataFrame:
        return _optional_geo(self.path / "msoas21.parquet", census2021.MSOA21_COLUMNS)

    @cached_property
    def lsoa_lookup21(self) -> pd.DataFrame:
        """ONS exact-fit LSOA 2011 -> 2021 rows: lsoa_code, lsoa21_code, change (U/S/M)."""
        p = self.path / "lsoa11_to_21.parquet"
        if not p.is_file():
            return census2021.read_lookup([])
        return pd.read_parquet(p)

    @cached_property
    def lsoas21_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.lsoas21.geometry.values)

    def areas21_of(self, easting: ArrayLike, northing: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(LSOA 2021, MSOA 2021) code of each point (None outside London)."""
        return census2021.areas21_of(self.lsoas21, self.lsoas21_tree, easting, northing)

    @cached_property
    def boroughs(self) -> gpd.GeoDataFrame:
        return gpd.read_parquet(self.path / "boroughs.parquet")

    @cached_property
    def blocks_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.blocks.geometry.values)

    @cached_property
    def lsoas_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.lsoas.geometry.values)

    @property
    def coverage(self) -> dict[str, Any]:
        """Which boroughs the street network covers (blocks exist only there)."""
        cov: dict[str, Any] = self.manifest.get("network_coverage", {})
        return cov

    def snap_to_blocks(
        self,
        easting: ArrayLike,
        northing: ArrayLike,
        max_distance_m: float = 50.0,
        street_keys: Sequence[object] | None = None,
    ) -> np.ndarray:
        """Block id of the nearest block within ``max_distance_m`` (None if none); with
        ``street_keys``, only blocks carrying that street name (see network.snap_to_blocks)."""
        return net.snap_to_blocks(
            self.blocks, self.blocks_tree, easting, northing, max_distance_m, street_keys
        )

    def lsoa_of(self, easting: ArrayLike, northing: ArrayLike) -> np.ndarray:
        """LSOA 2011 code of each point (None outside London)."""
        return net.lsoa_of(self.lsoas, self.lsoas_tree, easting, northing)

    def borough_of(self, easting: ArrayLike, northing: ArrayLike) -> np.ndarray:
        """Borough name of each point (None outside London)."""
        pts = shapely.points(np.asarray(easting, float), np.asarray(northing, float))
        return net._borough_of_points(pts, self.boroughs)


def _optional_geo(path: Path, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    if path.is_file():
        return gpd.read_parquet(path)
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=27700)


def load(home_or_dir: Path | str | None = None) -> Gazetteer:
    """Load the CURRENT gazetteer under ``home_or_dir`` (raise GazetteerNotBuilt if none)."""
    vdir = resolve_version_dir(home_or_dir)
    manifest = json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
    for f in (
        "entries.parquet",
        "keys.parquet",
        "street_points.parquet",
        "blocks.parquet",
        "lsoas.parquet",
        "boroughs.parquet",
    ):
        if not (vdir / f).is_file():
            raise GazetteerNotBuilt(f"gazetteer version {vdir.name!r} lacks {f}")
    return Gazetteer(
        path=vdir,
        version=manifest.get("version", vdir.name),
        manifest=manifest,
        entries=pd.read_parquet(vdir / "entries.parquet"),
        keys=pd.read_parquet(vdir / "keys.parquet"),
        street_points=pd.read_parquet(vdir / "street_points.parquet"),
    )
