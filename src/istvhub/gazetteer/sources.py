"""Readers for the open-data sources: each turns one published file (in its publisher's own
layout) into a frame of gazetteer rows in EPSG:27700.

Every reader returns the columns of :data:`RAW_COLUMNS` (missing ones are filled by the build):
``entry_type, name, easting, northing, precision_m, borough, lsoa_code, district, source,
category, variants`` where ``variants`` is a list of extra raw names searched as keys.
Files are found by glob under the sources directory so that a user's official full-size
downloads (e.g. every Code-Point area, the raw Price Paid CSV) drop in without renaming.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import Transformer

from istvhub._errors import SourcesNotFound

RAW_COLUMNS = [
    "entry_type",
    "name",
    "easting",
    "northing",
    "precision_m",
    "borough",
    "lsoa_code",
    "district",
    "source",
    "category",
    "variants",
]

#: Where each source lives under the sources directory (glob patterns; all matches).
SOURCE_GLOBS: dict[str, list[str]] = {
    "codepoint": [
        "postcodes/codepoint-open/Data/CSV/*.csv",
        "postcodes/**/Data/CSV/*.csv",
    ],  # e.g. codepo_gb/ as OS unzips it
    "codepoint_headers": [
        "postcodes/codepoint-open/Doc/Code-Point_Open_Column_Headers.csv",
        "postcodes/**/Code-Point_Open_Column_Headers.csv",
    ],
    "ons_lookup": ["postcodes/ons-lookup/*.csv"],
    "postcode_streets": ["streets/postcode-streets/*.csv", "streets/price-paid/*.csv"],
    "osm": [
        "streets/osm/*.geojson",
        "streets/osm/*.gpkg",
        "streets/osm/*.osm.pbf",
        "streets/osm/*.osm",
    ],
    # OpenStreetMap (OpenMapTiles, 2018) of west/central London: roads fill the gaps between
    # the OSM clips above; parks, POIs and places become entries (osm_layers.py)
    "osm_london": ["streets/osm-london-2018/*.gpkg"],
    "boroughs": ["boundaries/london_boroughs.gpkg"],
    "lsoas": ["boundaries/lsoa2011/*.json", "boundaries/lsoa2011/*.geojson"],
    # Census 2021 areas (optional: without them records carry 2011 codes only)
    "lsoas21": ["boundaries/census2021/*lsoa21*.gpkg"],
    "lsoa_lookup21": ["boundaries/census2021/*lsoa11_to_lsoa21*.csv"],
    "stations": ["transport/london_stations.csv"],
    "bus_stops": ["transport/tfl_bus_stops.csv"],
    "cycle_docks": ["transport/tfl_cycle_hire_docks*.csv"],
    "venues": ["venues/*.geojson"],
    "cqc_hospitals": ["health/cqc_*hospitals*.geojson"],
    "nhs_hospitals": ["health/nhs_*hospitals*.csv"],
    "schools": ["education/*schools*.geojson"],
    "wikipedia_areas": ["places/london_areas_wikipedia.csv"],
    "geonames": ["places/geonames*.csv"],
}

#: Sources without which no useful gazetteer can be built.
REQUIRED = ("codepoint", "boroughs", "postcode_streets")

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_WGS = Transformer.from_crs(27700, 4326, always_xy=True)


def find_sources(root: Path) -> dict[str, list[Path]]:
    """Source name -> files matching any of its globs under ``root`` (sorted, so builds are
    reproducible)."""
    if not root or not Path(root).is_dir():
        raise SourcesNotFound(f"sources directory {str(root)!r} does not exist")
    root = Path(root)
    found: dict[str, list[Path]] = {}
    for name, globs in SOURCE_GLOBS.items():
        files = {p.resolve() for g in globs for p in root.glob(g) if p.is_file()}
        found[name] = sorted(files)
    for name in REQUIRED:
        if not found[name]:
            raise SourcesNotFound(
                f"sources directory lacks {name} (looked for {SOURCE_GLOBS[name][0]})"
            )
    return found


def to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat arrays -> British National Grid easting/northing."""
    e, n = _TO_BNG.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(e), np.asarray(n)


def to_wgs(e, n) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing arrays -> (lon, lat)."""
    lon, lat = _TO_WGS.transform(np.asarray(e, dtype=float), np.asarray(n, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def canon_postcode(s: pd.Series) -> pd.Series:
    """'SW2  1AA', 'sw21aa' -> 'SW2 1AA' (outward, one space, inward)."""
    t = s.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return t.str[:-3] + " " + t.str[-3:]


_SMALL = {"and", "of", "the", "upon", "on", "in", "at", "by", "de", "le", "la"}


def display_case(name: str) -> str:
    """'COLDHARBOUR LANE' -> 'Coldharbour Lane'; 'ST. JOHN'S HILL' -> 'St. John's Hill'."""
    words = str(name).strip().lower().split()
    out = []
    for i, w in enumerate(words):
        if i > 0 and w in _SMALL:
            out.append(w)
        else:
            out.append(re.sub(r"(^|[-(/])([a-z])", lambda m: m.group(1) + m.group(2).upper(), w))
    return " ".join(out)


def _frame(**cols) -> pd.DataFrame:
    df = pd.DataFrame(cols)
    for c in RAW_COLUMNS:
        if c not in df:
            df[c] = None
    return df[RAW_COLUMNS]


# --------------------------------------------------------------------------- boundaries


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


# --------------------------------------------------------------------------- postcodes


def read_codepoint(
    files: list[Path], header_file: list[Path], boroughs: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Code-Point Open units in London boroughs: postcode, easting, northing, borough, quality."""
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
    df = pd.concat(frames, ignore_index=True)
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


# --------------------------------------------------------------------------- points of interest


def _station_variants(name: str) -> list[str]:
    """'Hammersmith (Circle)' -> ['Hammersmith', 'Hammersmith station', ...]."""
    base = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
    return sorted({f"{name} station", base, f"{base} station"} - {name})


def read_stations(files: list[Path]) -> pd.DataFrame:
    if not files:
        return _frame()
    df = pd.read_csv(files[0], sep=";", dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["longitude"]), pd.to_numeric(df["latitude"]))
    names = df["name"].str.strip()
    variants = [_station_variants(x) for x in names]
    return _frame(
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
        return _frame()
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
    return _frame(
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
        return _frame()
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["lon"]), pd.to_numeric(df["lat"]))
    names = df["name"].str.replace(r"\s+,", ",", regex=True).str.strip()
    variants = [[x.split(",")[0].strip()] for x in names]
    return _frame(
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


def _without_the(names) -> list[list[str]]:
    return [[x[4:]] if str(x).lower().startswith("the ") else [] for x in names]


def read_venues(files: list[Path]) -> pd.DataFrame:
    frames = []
    for f in files:
        g = _points_geojson(f)
        g = g[g["name"].notna() & (g["name"].astype(str).str.strip() != "")]
        cat = g.get("subcategory", g.get("category"))
        frames.append(
            _frame(
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
    return pd.concat(frames, ignore_index=True) if frames else _frame()


def _hospital_variants(names) -> list[list[str]]:
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
            _frame(
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
            _frame(
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
    return pd.concat(frames, ignore_index=True) if frames else _frame()


def read_schools(files: list[Path]) -> pd.DataFrame:
    frames = []
    for f in files:
        g = _points_geojson(f)
        frames.append(
            _frame(
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
    return pd.concat(frames, ignore_index=True) if frames else _frame()


def read_wikipedia_areas(files: list[Path]) -> pd.DataFrame:
    """Named areas -> (name, borough, postcode district); placed later at the district."""
    if not files:
        return pd.DataFrame({"area": [], "borough": [], "postcode_district": []})
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    return df[["area", "borough", "postcode_district"]]


def read_geonames(files: list[Path]) -> pd.DataFrame:
    if not files:
        return _frame()
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    e, n = to_bng(pd.to_numeric(df["lon"]), pd.to_numeric(df["lat"]))
    return _frame(
        entry_type="area",
        name=df["name"].str.strip().values,
        easting=e,
        northing=n,
        precision_m=1000.0,
        source="geonames",
        category=None,
        variants=[[] for _ in range(len(df))],
    )


# --------------------------------------------------------------------------- street lines

#: OSM highway values kept in the network (named paths and footways are kept too).
ROAD_CLASSES = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "pedestrian",
    "road",
    "busway",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}
NAMED_ONLY_CLASSES = {"service", "footway", "path", "steps", "cycleway", "track", "bridleway"}


#: OS Open Roads / OS MasterMap road classes -> the OSM highway value of the same rank.
OS_ROAD_CLASS = {
    "motorway": "motorway",
    "a road": "primary",
    "b road": "secondary",
    "classified unnumbered": "tertiary",
    "unclassified": "unclassified",
    "not classified": "residential",
    "unknown": "road",
}


#: OpenMapTiles transportation classes -> the OSM highway value of the same rank ("path"
#: takes its subclass: footway, cycleway, pedestrian, steps, ...).
OMT_CLASS = {"minor": "residential", "track": "track", "service": "service"}


def _line_layer(f: Path) -> str | int:
    """The road layer of a multi-layer file: 'road_link' (OS Open Roads), else the first
    layer of line geometries, else the first layer."""
    layers = pyogrio.list_layers(f)
    names = [str(n) for n, _ in layers]
    for want in ("road_link", "roadlink", "roads", "edges"):
        if want in [n.lower() for n in names]:
            return names[[n.lower() for n in names].index(want)]
    for n, gt in layers:
        if gt and "line" in str(gt).lower():
            return str(n)
    return 0


def _as_list(v) -> list[str]:
    """OSMnx writes merged ways' name/highway as lists (JSON arrays or their string form)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, list | tuple | np.ndarray):
        return [str(x) for x in v if x is not None and str(x) != ""]
    s = str(v).strip()
    if s.startswith("[") and s.endswith("]"):
        try:
            return [str(x) for x in json.loads(s) if x]
        except json.JSONDecodeError:
            return [x.strip(" '\"") for x in s[1:-1].split(",") if x.strip(" '\"")]
    return [s] if s else []


def read_lines(f: Path) -> gpd.GeoDataFrame:
    """One line source -> GeoDataFrame(names: list[str], highway: str, geometry) in EPSG:27700.

    Accepts GeoJSON/GeoPackage layers with a name column (name, or OS Open Roads' name1/name2
    and class), and OSM XML/PBF (layer 'lines', only highway ways)."""
    is_osm = f.name.endswith(".osm") or f.name.endswith(".osm.pbf")
    if is_osm:
        g = pyogrio.read_dataframe(
            f, layer="lines", columns=["name", "highway"], where="highway IS NOT NULL"
        )
    else:
        g = pyogrio.read_dataframe(f, layer=_line_layer(f))
    if g.crs is None:
        g = g.set_crs(4326)
    cols = {c.lower(): c for c in g.columns}
    name_cols = [cols[c] for c in ("name", "name_en", "name1", "name2", "road_name") if c in cols]
    hw_col = (
        cols.get("highway")
        or cols.get("class")
        or cols.get("road_class")
        or cols.get("road_classification")
    )
    names = [[] for _ in range(len(g))]
    for c in name_cols:
        for i, v in enumerate(g[c]):
            names[i].extend(x for x in _as_list(v) if x not in names[i])
    hws = [(_as_list(v) or [""])[0] for v in g[hw_col]] if hw_col else ["road"] * len(g)
    hws = [OS_ROAD_CLASS.get(h.lower(), h) for h in hws]
    if "subclass" in cols and hw_col == cols.get("class"):  # OpenMapTiles' roads layer
        sub = [(_as_list(v) or [""])[0].split(";")[0] for v in g[cols["subclass"]]]
        hws = [
            (s or "path") if h == "path" else OMT_CLASS.get(h, h)
            for h, s in zip(hws, sub, strict=True)
        ]
    out = gpd.GeoDataFrame(
        {"names": names, "highway": hws}, geometry=g.geometry.values, crs=g.crs
    ).to_crs(27700)
    out = out.explode(index_parts=False, ignore_index=True)
    out = out[out.geometry.geom_type == "LineString"]
    keep = [
        (h in ROAD_CLASSES) or (h in NAMED_ONLY_CLASSES and bool(n)) or (hw_col is None)
        for h, n in zip(out["highway"], out["names"], strict=True)
    ]
    return out[keep].reset_index(drop=True)
