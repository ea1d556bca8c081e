"""Readers for the point sources: stations, bus stops, cycle docks, venues, hospitals, schools
and GeoNames areas; each returns raw rows (:func:`istvhub.gazetteer.raw.raw_frame`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from istvhub.gazetteer.raw import display_case, raw_frame, to_bng


def _station_variants(name: str) -> list[str]:
    """'Hammersmith (Circle)' -> ['Hammersmith', 'Hammersmith station', ...]."""
    base = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
    return sorted({f"{name} station", base, f"{base} station"} - {name})


def read_stations(files: list[Path]) -> pd.DataFrame:
    if not files:
        return raw_frame()
    df = pd.read_csv(files[0], sep=";", dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["longitude"]), pd.to_numeric(df["latitude"]))
    names = df["name"].str.strip()
    variants = [_station_variants(x) for x in names]
    return raw_frame(
        entry_type="station",
        name=names.values,
        easting=e,
        northing=n,
        precision_m=100.0,
        source="stations",
        category=df["lines"].values,
        variants=variants,
    )


_BUS_JUNK = re.compile(r"<>|->|>\w*<|<\w*>|#|\[.*?\]|\bstop\s+[a-z0-9]{1,2}$", re.I)


def bus_stop_parts(name: str) -> list[str]:
    """'BRIXTON STN <> / BRIXTON ROAD' -> ['BRIXTON STN', 'BRIXTON ROAD']."""
    s = _BUS_JUNK.sub(" ", str(name))
    parts = [re.sub(r"\s+", " ", p).strip(" .,-") for p in re.split(r"/|\bopp\b|\bo/s\b", s)]
    return [p for p in parts if p]


def read_bus_stops(files: list[Path]) -> pd.DataFrame:
    if not files:
        return raw_frame()
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    e = pd.to_numeric(df["Location_Easting"], errors="coerce")
    n = pd.to_numeric(df["Location_Northing"], errors="coerce")
    ok = e.notna() & n.notna() & (e > 0) & (df["Stop_Name"].str.strip() != "")
    df, e, n = df[ok], e[ok], n[ok]
    parts = [bus_stop_parts(x) for x in df["Stop_Name"]]
    names = [
        display_case(" / ".join(p)) if p else display_case(x)
        for p, x in zip(parts, df["Stop_Name"], strict=True)
    ]
    variants = [p if len(p) > 1 else [] for p in parts]
    return raw_frame(
        entry_type="bus_stop",
        name=names,
        easting=e.values,
        northing=n.values,
        precision_m=50.0,
        source="tfl_bus_stops",
        category=df["Naptan_Atco"].values,
        variants=variants,
    )


def read_cycle_docks(files: list[Path]) -> pd.DataFrame:
    if not files:
        return raw_frame()
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["lon"]), pd.to_numeric(df["lat"]))
    names = df["name"].str.replace(r"\s+,", ",", regex=True).str.strip()
    variants = [[x.split(",")[0].strip()] for x in names]
    return raw_frame(
        entry_type="cycle_dock",
        name=names.values,
        easting=e,
        northing=n,
        precision_m=30.0,
        source="tfl_cycle_docks",
        category=None,
        variants=variants,
    )


def _points_geojson(f: Path) -> gpd.GeoDataFrame:
    g = pyogrio.read_dataframe(f)
    g = g[g.geometry.notna()]
    if g.crs is None:
        g = g.set_crs(4326)
    g = g.to_crs(27700)
    g["geometry"] = g.geometry.representative_point()
    return g


def _without_the(names: Iterable[str]) -> list[list[str]]:
    return [[x[4:]] if str(x).lower().startswith("the ") else [] for x in names]


def read_venues(files: list[Path]) -> pd.DataFrame:
    frames = []
    for f in files:
        g = _points_geojson(f)
        g = g[g["name"].notna() & (g["name"].astype(str).str.strip() != "")]
        cat = g.get("subcategory", g.get("category"))
        frames.append(
            raw_frame(
                entry_type="venue",
                name=g["name"].astype(str).str.strip().values,
                easting=g.geometry.x.values,
                northing=g.geometry.y.values,
                precision_m=30.0,
                source="venues",
                category=cat.astype(str).values if cat is not None else None,
                variants=_without_the(g["name"]),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else raw_frame()


def _hospital_variants(names: Iterable[object]) -> list[list[str]]:
    out = []
    for x in names:
        s = re.sub(r"\s*\(.*?\)\s*", " ", str(x)).strip()
        v = {s} if s != x else set()
        if s.lower().startswith("the "):
            v.add(s[4:])
        out.append(sorted(v))
    return out


def read_hospitals(cqc: list[Path], nhs: list[Path]) -> pd.DataFrame:
    frames = []
    for f in cqc:
        g = _points_geojson(f)
        frames.append(
            raw_frame(
                entry_type="hospital",
                name=g["hospital_name"].str.strip().values,
                easting=g.geometry.x.values,
                northing=g.geometry.y.values,
                precision_m=150.0,
                source="cqc",
                category=g["type"].values,
                variants=_hospital_variants(g["hospital_name"]),
            )
        )
    for f in nhs:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        # the published lat/lon, else the postcode's grid reference
        le, ln = to_bng(
            pd.to_numeric(df["Longitude"], errors="coerce"),
            pd.to_numeric(df["Latitude"], errors="coerce"),
        )
        ce = pd.to_numeric(df["cp_easting"], errors="coerce") if "cp_easting" in df else np.nan
        cn = pd.to_numeric(df["cp_northing"], errors="coerce") if "cp_northing" in df else np.nan
        e = np.where(np.isfinite(le), le, ce)
        n = np.where(np.isfinite(ln), ln, cn)
        names = df["OrganisationName"].str.strip()
        frames.append(
            raw_frame(
                entry_type="hospital",
                name=names.values,
                easting=e,
                northing=n,
                precision_m=150.0,
                source="nhs_ods",
                category=df["SubType"].values,
                variants=_hospital_variants(names),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else raw_frame()


def read_schools(files: list[Path]) -> pd.DataFrame:
    frames = []
    for f in files:
        g = _points_geojson(f)
        frames.append(
            raw_frame(
                entry_type="school",
                name=g["school_name"].str.strip().values,
                easting=g.geometry.x.values,
                northing=g.geometry.y.values,
                precision_m=100.0,
                source="ofsted",
                category=g["phase"].values,
                variants=_without_the(g["school_name"]),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else raw_frame()


def read_geonames(files: list[Path]) -> pd.DataFrame:
    if not files:
        return raw_frame()
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["lon"]), pd.to_numeric(df["lat"]))
    return raw_frame(
        entry_type="area",
        name=df["name"].str.strip().values,
        easting=e,
        northing=n,
        precision_m=1000.0,
        source="geonames",
        category=None,
        variants=[[] for _ in range(len(df))],
    )
