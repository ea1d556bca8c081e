"""Readers for the area sources: borough and LSOA boundaries, Code-Point postcode units, the
ONS postcode -> LSOA lookup, postcode -> street pairs (aggregated or raw Price Paid) and the
Wikipedia list of named areas. Each takes its publisher's own layout; output is EPSG:27700."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from istvhub._errors import SourcesNotFound
from istvhub.gazetteer.raw import canon_postcode


def read_boroughs(files: list[Path]) -> gpd.GeoDataFrame:
    """The 33 boroughs: name, gss_code, geometry (EPSG:27700)."""
    g = gpd.read_file(files[0]).to_crs(27700)
    cols = {c.lower(): c for c in g.columns}
    name = cols.get("name") or cols.get("lad_name") or cols.get("lad11nm")
    code = cols.get("gss_code") or cols.get("lad_code") or cols.get("lad11cd")
    if not name or not code:
        raise SourcesNotFound(f"{files[0].name}: needs name and gss_code columns")
    out = gpd.GeoDataFrame(
        {"name": g[name].astype(str), "gss_code": g[code].astype(str)},
        geometry=g.geometry.values,
        crs=27700,
    )
    out = out[out["gss_code"].str.startswith("E09")].sort_values("gss_code")
    return out.reset_index(drop=True)


def read_lsoas(files: list[Path], boroughs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """LSOA polygons from one GeoJSON per borough (file named by the borough's GSS code)."""
    code2name = dict(zip(boroughs["gss_code"], boroughs["name"], strict=True))
    parts = []
    for f in files:
        g = pyogrio.read_dataframe(f)
        cols = {c.lower(): c for c in g.columns}
        g = gpd.GeoDataFrame(
            {
                "lsoa_code": g[cols.get("lsoa11cd", "LSOA11CD")].astype(str),
                "lsoa_name": g[cols.get("lsoa11nm", "LSOA11NM")].astype(str),
                "borough": code2name.get(f.stem.split(".")[0]),
            },
            geometry=g.geometry.values,
            crs=g.crs or 4326,
        ).to_crs(27700)
        parts.append(g)
    if not parts:
        return gpd.GeoDataFrame(
            {"lsoa_code": [], "lsoa_name": [], "borough": []}, geometry=[], crs=27700
        )
    out = pd.concat(parts, ignore_index=True)
    out["geometry"] = out.geometry.make_valid()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=27700)


def read_codepoint(
    files: list[Path],
    header_file: list[Path],
    boroughs: gpd.GeoDataFrame,
    raw: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Code-Point Open units in London boroughs: postcode, easting, northing, borough, quality
    (from ``raw``, the files as read by :func:`read_codepoint_raw`, when given)."""
    df = read_codepoint_raw(files, header_file) if raw is None else raw
    code2name = dict(zip(boroughs["gss_code"], boroughs["name"], strict=True))
    df = df[df["Admin_district_code"].isin(code2name)]
    out = pd.DataFrame(
        {
            "postcode": canon_postcode(df["Postcode"]).values,
            "easting": pd.to_numeric(df["Eastings"]).astype(float).values,
            "northing": pd.to_numeric(df["Northings"]).astype(float).values,
            "borough": df["Admin_district_code"].map(code2name).values,
            "quality": pd.to_numeric(df["Positional_quality_indicator"]).values,
        }
    )
    out = out[(out["easting"] > 0) & (out["quality"] < 90)]
    return out.drop_duplicates("postcode").reset_index(drop=True)


def outside_postcodes(raw: pd.DataFrame, boroughs: gpd.GeoDataFrame) -> pd.DataFrame:
    """The Code-Point units outside the London boroughs, as geocoder keys ("kt47js"): a
    postcode of Epsom in a sector London shares is *outside area*, not a typo of a London
    unit (the geocoder cannot tell them apart from London's units alone)."""
    df = raw[~raw["Admin_district_code"].isin(set(boroughs["gss_code"]))]
    keys = canon_postcode(df["Postcode"]).str.replace(" ", "", regex=False).str.lower()
    return pd.DataFrame({"postcode": keys.drop_duplicates().astype("string").values})


def read_codepoint_raw(files: list[Path], header_file: list[Path]) -> pd.DataFrame:
    """Every Code-Point Open unit in ``files`` (Postcode, quality, Eastings, Northings,
    Admin_district_code as text)."""
    if header_file:
        with header_file[0].open(encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        names = [h.strip() for h in rows[-1]]  # second line holds the long names
    else:
        names = [
            "Postcode",
            "Positional_quality_indicator",
            "Eastings",
            "Northings",
            "Country_code",
            "NHS_regional_HA_code",
            "NHS_HA_code",
            "Admin_county_code",
            "Admin_district_code",
            "Admin_ward_code",
        ]
    frames = []
    for f in files:
        df = pd.read_csv(
            f,
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
            usecols=[
                "Postcode",
                "Positional_quality_indicator",
                "Eastings",
                "Northings",
                "Admin_district_code",
            ],
        )
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def read_ons_lookup(files: list[Path]) -> pd.DataFrame:
    """postcode -> lsoa11cd from the ONS lookup (live and terminated postcodes)."""
    if not files:
        return pd.DataFrame(
            {"postcode": pd.Series(dtype="string"), "lsoa_code": pd.Series(dtype="string")}
        )
    frames = []
    for f in files:
        head = pd.read_csv(f, nrows=0, encoding="latin-1").columns
        low = {c.lower(): c for c in head}
        pc = low.get("pcds") or low.get("pcd7") or low.get("pcd")
        ls = low.get("lsoa11cd") or low.get("lsoa21cd") or low.get("lsoa11")
        if not pc or not ls:
            raise SourcesNotFound(f"{f.name}: needs pcds and lsoa11cd columns")
        df = pd.read_csv(f, usecols=[pc, ls], dtype=str, encoding="latin-1")
        frames.append(pd.DataFrame({"postcode": canon_postcode(df[pc]), "lsoa_code": df[ls]}))
    return pd.concat(frames, ignore_index=True).drop_duplicates("postcode")


# Raw HM Land Registry Price Paid layout (no header).
PRICE_PAID_COLUMNS = [
    "id",
    "price",
    "date",
    "postcode",
    "type",
    "new",
    "duration",
    "paon",
    "saon",
    "street",
    "locality",
    "town",
    "district",
    "county",
    "category",
    "status",
]


def _clean_postcode_streets(df: pd.DataFrame, keep: set[str] | None) -> pd.DataFrame:
    df = df[(df["postcode"].str.len() >= 5) & (df["street"].str.strip() != "")]
    df = pd.DataFrame(
        {
            "postcode": canon_postcode(df["postcode"]).values,
            "street": df["street"].str.strip().str.upper().values,
        }
    )
    if keep is not None:
        df = df[df["postcode"].isin(keep)]
    return df.drop_duplicates()


def read_postcode_streets(
    files: list[Path], keep: set[str] | None = None, chunksize: int = 1_000_000
) -> pd.DataFrame:
    """postcode -> street name, from the aggregated table or the raw Price Paid CSV.

    Read in chunks, keeping only postcodes in ``keep`` (the London units) and distinct pairs,
    so the complete Price Paid file (~30 million sales) is read in bounded memory."""
    frames = []
    for f in files:
        with f.open(encoding="utf-8", errors="replace") as fh:
            first = next(csv.reader(fh), [])
        lowered = [c.strip().lower() for c in first]
        if "postcode" in lowered and "street" in lowered:
            reader = pd.read_csv(
                f,
                dtype=str,
                keep_default_na=False,
                chunksize=chunksize,
                usecols=lambda c: c.strip().lower() in ("postcode", "street"),
            )
        elif len(first) == len(PRICE_PAID_COLUMNS):
            reader = pd.read_csv(
                f,
                header=None,
                names=PRICE_PAID_COLUMNS,
                dtype=str,
                keep_default_na=False,
                usecols=["postcode", "street"],
                chunksize=chunksize,
            )
        else:
            raise SourcesNotFound(
                f"{f.name}: neither a postcode,street table nor the Price Paid layout"
            )
        with reader:
            for chunk in reader:
                chunk.columns = [c.strip().lower() for c in chunk.columns]
                frames.append(_clean_postcode_streets(chunk[["postcode", "street"]], keep))
    if not frames:
        return pd.DataFrame(
            {"postcode": pd.Series(dtype="string"), "street": pd.Series(dtype="string")}
        )
    return pd.concat(frames, ignore_index=True).drop_duplicates().reset_index(drop=True)


def read_wikipedia_areas(files: list[Path]) -> pd.DataFrame:
    """Named areas -> (name, borough, postcode district); placed later at the district."""
    if not files:
        return pd.DataFrame({"area": [], "borough": [], "postcode_district": []})
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    return df[["area", "borough", "postcode_district"]]
