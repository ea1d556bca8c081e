"""Loading: department points, extra named places, junction index, gazetteer tables, the
full index (``build_index``) and a gazetteer whose point tables load only when asked for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istvhub._errors import GazetteerNotBuilt
from istvhub.core.config import DATA_DIR, GAZETTEER_TABLES_DIR
from istvhub.gazetteer.load import Gazetteer
from istvhub.gazetteer.normalise import normalise_name
from istvhub.geocode.candidates import PlaceIndex


def load_departments(path: Path | None = None) -> dict[str, tuple[float, float, str | None]]:
    """ODS code -> (easting, northing, borough) from the department registry."""
    p = path or DATA_DIR / "departments.csv"
    if not p.exists():
        return {}
    d = pd.read_csv(p, dtype={"ods_code": str})
    out = {}
    for r in d.itertuples():
        e, n = getattr(r, "easting", None), getattr(r, "northing", None)
        if e is not None and n is not None and not (pd.isna(e) or pd.isna(n)):
            out[str(r.ods_code).upper()] = (float(e), float(n), getattr(r, "borough", None))
    return out


def extra_places(entries: pd.DataFrame) -> pd.DataFrame:
    """Named places missing from the open sources (London prisons, landmarks), placed at their
    postcode's point in the gazetteer: data/gazetteer/geocode_places.csv."""
    p = GAZETTEER_TABLES_DIR / "geocode_places.csv"
    if not p.exists():
        return entries.iloc[0:0]
    t = pd.read_csv(p, dtype=str)
    pcs = entries[entries["entry_type"].isin(["postcode", "postcode_sector"])]
    pcs = pcs.assign(_pc=pcs["name"].astype(str).str.replace(" ", "").str.upper())
    t["_pc"] = t["postcode"].str.replace(" ", "").str.upper()
    m = t.merge(pcs.drop(columns=["name", "key", "entry_type"]), on="_pc", how="inner")
    if m.empty:
        return entries.iloc[0:0]
    m["key"] = m["name"].map(normalise_name)
    m["name"] = m["name"].str.title()
    m["entry_type"] = m["entry_type"].fillna("venue")
    m["precision_m"] = np.where(m["entry_type"] == "area", 800.0, 100.0)
    m["entry_id"] = [f"geocode_places:{i}" for i in range(len(m))]
    return m[[c for c in entries.columns if c in m.columns]]


def junction_index(ix: PlaceIndex) -> dict[frozenset[str], list[int]]:
    out: dict[frozenset[str], list[int]] = {}
    e = ix.entries
    if "street_a" not in e or "street_b" not in e:
        return out
    rows = np.flatnonzero(ix.etype == "junction")
    sa = e["street_a"].astype("object").to_numpy(dtype=object)[rows]
    sb = e["street_b"].astype("object").to_numpy(dtype=object)[rows]
    norm: dict[str, str] = {}
    for i, a, b in zip(rows, sa, sb, strict=True):
        if isinstance(a, str) and isinstance(b, str):
            ka = norm.get(a) or norm.setdefault(a, normalise_name(a))
            kb = norm.get(b) or norm.setdefault(b, normalise_name(b))
            out.setdefault(frozenset((ka, kb)), []).append(int(i))
    return out


def build_index(
    entries: pd.DataFrame,
    keys: pd.DataFrame | None = None,
    street_points: pd.DataFrame | None = None,
) -> PlaceIndex:
    """The full PlaceIndex of a gazetteer's tables: its entries plus the extra named places,
    with the junction index (what ``index_cache`` saves)."""
    extra = extra_places(entries)
    if len(extra):
        entries = pd.concat(
            [entries, extra.astype(entries.dtypes.to_dict(), errors="ignore")],
            ignore_index=True,
        )
    index = PlaceIndex(entries, keys, street_points)
    index.junctions = junction_index(index)
    return index


class LazyGazetteer(Gazetteer):
    """``istvhub.gazetteer.load.Gazetteer`` with entries, keys and street points read on first
    use: with the index cached, the geocoder needs only the layers it snaps to (lazy already)."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.version = manifest.get("version", path.name)

    def __getattr__(self, name: str) -> Any:  # reached only while the table is not read yet
        if name in _LAZY_TABLES:
            v = pd.read_parquet(self.path / f"{name}.parquet")
            setattr(self, name, v)
            return v
        raise AttributeError(name)


_LAZY_TABLES = ("entries", "keys", "street_points")


def lazy_gazetteer(vdir: Path) -> LazyGazetteer:
    """The gazetteer version at ``vdir`` (checked complete as ``gazetteer.load`` checks it)."""
    for f in (
        "manifest.json",
        *(f"{t}.parquet" for t in _LAZY_TABLES),
        "blocks.parquet",
        "lsoas.parquet",
        "boroughs.parquet",
    ):
        if not (vdir / f).is_file():
            raise GazetteerNotBuilt(f"gazetteer version {vdir.name!r} lacks {f}")
    manifest = json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
    return LazyGazetteer(vdir, manifest)


def tables_of(gaz: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """entries, keys, street_points from a loaded Gazetteer (attributes or its directory)."""

    def get(name: str) -> pd.DataFrame | None:
        v = getattr(gaz, name, None)
        if isinstance(v, pd.DataFrame):
            return v
        for attr in ("path", "dir", "directory", "root", "version_dir"):
            d = getattr(gaz, attr, None)
            if d is not None and (Path(d) / f"{name}.parquet").exists():
                return pd.read_parquet(Path(d) / f"{name}.parquet")
        return None

    entries = get("entries")
    if entries is None:
        raise GazetteerNotBuilt("the gazetteer has no entries table")
    return entries, get("keys"), get("street_points")
