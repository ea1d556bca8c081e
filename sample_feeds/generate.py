"""Generate the sample ISTV feeds, their manifest and the geocoding ground truth (fixed seed).

Why synthetic feeds: real ED extracts are health data and can never sit in a public repo. These
files reproduce what departments really send (five layouts, BOMs, cp1252, Excel dates, title rows,
non-assault ECDS rows) and the faults the hub must meet (PII columns, bad dates, a re-upload, a late
month, a missing month), while every free-text location is built from REAL London open data
(Code-Point Open postcodes, HM Land Registry street names, OSM/GLA venues, stations, bus stops,
GeoNames places) so the geocoder is evaluated against true coordinates (``ground_truth.csv``).
Patients are invented; the only "identifiers" are fake NHS numbers generated here (valid mod-11
checksum, never issued) in the one file that must be rejected.

Run: ``python sample_feeds/generate.py [--sources DIR] [--out sample_feeds]`` (about 10 s).
The layouts are specified in ``sample_feeds/LAYOUTS.md``; this script follows them exactly.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEED = 20250131
YEAR = 2025
PERIODS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]

TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@dataclass(frozen=True)
class Dept:
    ods: str
    adapter: str
    ext: str
    volume: int  # mean assault records per month
    first_period: str = "2025-01"
    skip: tuple[str, ...] = ()


DEPTS = [
    Dept("RJ122", "istv_mds", "csv", 150),  # St Thomas' (Lambeth), BOM
    Dept("R1H12", "istv_mds", "csv", 165),  # Royal London (Tower Hamlets)
    Dept("RJZ01", "ecds", "csv", 150),  # King's College (Lambeth)
    Dept("RYJ01", "ecds", "csv", 110),  # St Mary's (Westminster)
    Dept("RQXM1", "legacy_pas", "csv", 105),  # Homerton (Hackney)
    Dept("R1K12", "ucc_xlsx", "xlsx", 70, first_period="2025-04"),  # Central Middx UCC, joins Apr
    Dept("RJ701", "mapping:rj701_symphony", "txt", 120, skip=("2025-10",)),  # St George's
]
BOM_DEPTS = {"RJ122"}

# Faults (department, period) -> what; each is written into manifest.csv `note`.
PII_FILE = ("RYJ01", "2025-03")  # extra file `_pii` with identifying columns, sent first
BAD_DATES = ("RJ122", "2025-07")  # some rows with impossible dates -> quarantined
REUPLOAD = ("RJZ01", "2025-06")  # `_v2` file supersedes the first
LATE = ("R1H12", "2025-09")  # received after the 20th of the following month
MISSING = ("RJ701", "2025-10")  # never sent

VENUE_KINDS = (
    "Pub",
    "Nightclub",
    "Music venue",
    "Cafe",
    "Theatre",
    "Cinema",
    "Arts centre",
    "Skate park",
)
CATEGORY_WEIGHTS = {
    "home": 0.20,
    "unknown": 0.13,
    "outside_area": 0.025,
    "postcode": 0.08,
    "venue": 0.17,
    "station": 0.085,
    "street": 0.17,
    "junction": 0.09,
    "area": 0.05,
}
TYPO_P = 0.25  # of texts that name a place: about 15% of all texts carry a misspelling
TOLERANCE = {"postcode": 100, "venue": 150, "station": 150, "junction": 150, "area": 1500}

# ---------------------------------------------------------------------------------------------
# Code lists written into the feeds (documented in LAYOUTS.md; the adapters' code files must
# contain them).
WEAPONS = ("body_part", "sharp", "blunt", "glass", "firearm", "other", "unknown")
LOCTYPES = (
    "street",
    "licensed_premises",
    "home",
    "workplace",
    "school",
    "transport",
    "other",
    "unknown",
)
MDS_METHOD = {
    "body_part": "01",
    "sharp": "02",
    "blunt": "03",
    "glass": "04",
    "firearm": "05",
    "other": "06",
    "unknown": "99",
}
MDS_LOC = {
    "street": "01",
    "licensed_premises": "02",
    "home": "03",
    "workplace": "04",
    "school": "05",
    "transport": "06",
    "other": "07",
    "unknown": "99",
}
MDS_METHOD_DESC = {
    "body_part": "Body part",
    "sharp": "Knife or sharp object",
    "blunt": "Blunt object",
    "glass": "Bottle or glass",
    "firearm": "Firearm",
    "other": "Other",
    "unknown": "Not known",
}
PAS_METHOD = {
    "body_part": "BP",
    "sharp": "KN",
    "blunt": "BL",
    "glass": "GL",
    "firearm": "FA",
    "other": "OT",
    "unknown": "NK",
}
PAS_LOC = {
    "street": "ST",
    "licensed_premises": "LP",
    "home": "HO",
    "workplace": "WP",
    "school": "SC",
    "transport": "TR",
    "other": "OT",
    "unknown": "NK",
}
UCC_PLACE = {
    "street": "Street / park",
    "licensed_premises": "Pub, bar or club",
    "home": "Home",
    "workplace": "Work",
    "school": "School or college",
    "transport": "Bus, train or tube",
    "other": "Other",
    "unknown": "Don't know",
}
UCC_WHAT = {
    "body_part": "Fists / feet",
    "sharp": "Knife",
    "blunt": "Blunt object (bat, stick)",
    "glass": "Bottle / glass",
    "firearm": "Gun",
    "other": "Something else",
    "unknown": "Not known",
}
MAP_MECH = {
    "body_part": "PUNCH/KICK",
    "sharp": "KNIFE",
    "blunt": "BLUNT",
    "glass": "GLASS",
    "firearm": "GUN",
    "other": "OTHER",
    "unknown": "UNK",
}
MAP_PLACE = {
    "street": "STREET",
    "licensed_premises": "PUB/CLUB",
    "home": "HOME",
    "workplace": "WORK",
    "school": "SCHOOL",
    "transport": "TRANSPORT",
    "other": "OTHER",
    "unknown": "UNK",
}
# ECDS SNOMED CT concept ids (International edition; see LAYOUTS.md for meanings and sources).
SCT_ASSAULT = "52684005"
SCT_NON_ASSAULT = ("418019003", "276853009")  # accidental event; self inflicted injury
SCT_MECH = {
    "body_part": "1055294009",
    "blunt": "1055294009",
    "sharp": "425322008",
    "glass": "1162998008",
    "firearm": "283545005",
    "other": "261665006",
    "unknown": "261665006",
}
SCT_PLACE = {
    "street": "257710009",
    "licensed_premises": "257674002",
    "home": "264362003",
    "workplace": "285141008",
    "school": "257698009",
    "transport": "74964007",
    "other": "74964007",
    "unknown": "261665006",
}
AGE_BANDS = ("0-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown")
AGE_P = (0.03, 0.05, 0.27, 0.28, 0.17, 0.11, 0.05, 0.02, 0.02)
AGE_RANGE = {
    "0-15": (11, 15),
    "16-17": (16, 17),
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, 84),
}

# ---------------------------------------------------------------------------------------------
# Text rendering: how receptionists type.
ABBREV = {
    "ROAD": "rd",
    "STREET": "st",
    "LANE": "ln",
    "AVENUE": "ave",
    "GARDENS": "gdns",
    "PLACE": "pl",
    "SQUARE": "sq",
    "CRESCENT": "cres",
    "CLOSE": "cl",
    "DRIVE": "dr",
    "GROVE": "gr",
    "HILL": "hl",
    "PARADE": "pde",
    "TERRACE": "terr",
    "ESTATE": "est",
    "BROADWAY": "bdwy",
    "HIGH STREET": "high st",
    "JUNCTION": "jct",
    "STATION": "stn",
    "PARK": "pk",
    "COURT": "ct",
    "GREEN": "grn",
}
HOME_TEXTS = (
    "home",
    "Home",
    "HOME",
    "at home",
    "pt's home",
    "pts home",
    "patients flat",
    "patient's home",
    "own home",
    "home address",
    "friends house",
    "friend's flat",
    "partners flat",
    "pt's flat",
    "at home - DV",
    "his flat",
    "her flat",
    "mums house",
    "home (DV)",
    "in the house",
    "residence",
    "hostel room",
    "at home address",
)
UNKNOWN_TEXTS = (
    "u/k",
    "n/k",
    "na",
    "N/A",
    "- -",
    "nfa",
    "NFA",
    "refused",
    "unknown",
    "not known",
    "Not stated",
    "pt unable to say",
    "cant remember",
    "in custody",
    "?",
    "",
    "",
    "",
    "declined",
    "pt wont say",
    "at work",
    "at school",
    "on the bus",
    "police custody",
)
OUTSIDE_FREE = (
    "on holiday in spain",
    "brighton",
    "in birmingham",
    "ibiza",
    "manchester",
    "southend seafront",
    "in kent",
    "glastonbury festival",
    "on holiday abroad",
    "luton town centre",
    "reading festival",
    "essex",
)
SLANG = {
    "McDonald's": "maccys",
    "Starbucks": "starbs",
    "Caffè Nero": "nero",
    "Costa": "costa",
    "Wetherspoon": "spoons",
    "Pret A Manger": "pret",
    "All Bar One": "all bar 1",
}


def fake_nhs_number(rng: np.random.Generator) -> str:
    """A 10-digit number that passes the NHS mod-11 check (never a real issued number: the 999
    range is reserved for testing)."""
    while True:
        digits = [9, 9, 9] + [int(d) for d in rng.integers(0, 10, 6)]
        total = sum(d * (10 - i) for i, d in enumerate(digits))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits + [check]))


def nhs_checksum_ok(num: str) -> bool:
    d = [int(c) for c in num if c.isdigit()]
    if len(d) != 10:
        return False
    check = 11 - sum(x * (10 - i) for i, x in enumerate(d[:9])) % 11
    return (0 if check == 11 else check) == d[9] and check != 10


# ---------------------------------------------------------------------------------------------
# Source data
@dataclass
class Sources:
    cp: pd.DataFrame  # postcode, pc_nospace, e, n, london, district
    streets: pd.DataFrame  # street (upper), e, n, spread, district, npc
    street_pc: pd.DataFrame  # postcode points with their (usable) street
    venues: pd.DataFrame  # name, sub, e, n, lat, lon
    stations: pd.DataFrame  # name, e, n, lat, lon
    stops: pd.DataFrame  # name, e, n
    areas: pd.DataFrame  # name, e, n, lat, lon
    depts: pd.DataFrame  # ods_code, name, easting, northing
    venue_xy: dict[str, np.ndarray] = field(default_factory=dict)  # name -> all its points


def load_sources(src: Path) -> Sources:
    cp_cols = ["postcode", "pq", "e", "n", "cy", "rh", "lh", "cc", "dc", "wc"]
    parts = []
    for f in sorted((src / "postcodes/codepoint-open/Data/CSV").glob("*.csv")):
        parts.append(
            pd.read_csv(
                f,
                header=None,
                names=cp_cols,
                usecols=["postcode", "e", "n", "dc"],
                dtype={"postcode": str, "dc": str},
            )
        )
    cp = pd.concat(parts, ignore_index=True)
    cp["postcode"] = cp["postcode"].str.split().str.join(" ")
    cp = cp[(cp["e"] > 0) & (cp["n"] > 0)].drop_duplicates("postcode").reset_index(drop=True)
    cp["london"] = cp["dc"].fillna("").str.startswith("E09")
    cp["district"] = cp["postcode"].str.split(" ").str[0]

    ps = pd.read_csv(src / "streets/postcode-streets/postcode_streets_london_areas.csv", dtype=str)
    ps["postcode"] = ps["postcode"].str.split().str.join(" ")
    ps = ps.dropna(subset=["street"]).merge(
        cp[["postcode", "e", "n", "london", "district"]], on="postcode"
    )
    ps = ps[ps["london"]]
    ps["street"] = ps["street"].str.upper().str.strip()
    # one street under its spelling variants ("ST ANN'S HILL" / "ST ANNS HILL"): key without
    # punctuation, shown as its most frequent spelling
    ps["skey"] = ps["street"].str.replace(r"[^A-Z ]", "", regex=True).str.split().str.join(" ")
    var = ps.groupby(["skey", "street"]).size().rename("k").reset_index()
    var = var.sort_values(["skey", "k", "street"], ascending=[True, False, True])
    shown = dict(
        zip(var.drop_duplicates("skey")["skey"], var.drop_duplicates("skey")["street"], strict=True)
    )
    ps["street"] = ps["skey"].map(shown)
    g = ps.groupby("street")
    st = g.agg(e=("e", "mean"), n=("n", "mean"), npc=("postcode", "size")).reset_index()
    dc = ps.groupby(["street", "district"]).size().rename("k").reset_index()
    dc = dc.sort_values(["street", "k", "district"], ascending=[True, False, True])
    st = st.merge(dc.drop_duplicates("street")[["street", "district"]], on="street")
    ps = ps.merge(st[["street", "e", "n"]].rename(columns={"e": "ce", "n": "cn"}), on="street")
    ps["d"] = np.hypot(ps["e"] - ps["ce"], ps["n"] - ps["cn"])
    st = st.merge(ps.groupby("street")["d"].max().rename("spread").reset_index(), on="street")
    # usable = a London street name that is in effect unique (all its postcodes within 1.2 km),
    # with a real name (not "FLAT ...", digits) and at least two postcodes
    ok = (st["spread"] <= 1200) & (st["npc"] >= 2) & st["street"].str.match(r"^[A-Z][A-Z' .-]+$")
    st = st[ok].reset_index(drop=True)
    street_pc = ps[ps["street"].isin(st["street"])][["postcode", "street", "e", "n"]]

    vj = json.loads((src / "venues/london_venues.geojson").read_text(encoding="utf-8"))
    rows = []
    for f in vj["features"]:
        p = f["properties"]
        if not p.get("name") or f["geometry"] is None:
            continue
        lon, lat = f["geometry"]["coordinates"][:2]
        rows.append((p["name"].strip(), p.get("subcategory") or "", lat, lon))
    venues = pd.DataFrame(rows, columns=["name", "sub", "lat", "lon"])
    venues["e"], venues["n"] = TO_BNG.transform(venues["lon"].to_numpy(), venues["lat"].to_numpy())

    stn = pd.read_csv(src / "transport/london_stations.csv", sep=";")
    stations = (
        stn[["name", "latitude", "longitude"]]
        .rename(columns={"latitude": "lat", "longitude": "lon"})
        .drop_duplicates("name")
    )
    stations["e"], stations["n"] = TO_BNG.transform(
        stations["lon"].to_numpy(), stations["lat"].to_numpy()
    )

    bs = pd.read_csv(src / "transport/tfl_bus_stops.csv", dtype={"Stop_Name": str})
    stops = bs[["Stop_Name", "Location_Easting", "Location_Northing"]].dropna()
    stops.columns = ["name", "e", "n"]
    stops = stops[~stops["name"].str.contains(r"[<>/#]|\d", regex=True)]

    gn = pd.read_csv(src / "places/geonames_cities1000_london.csv")
    areas = gn[["name", "lat", "lon"]].drop_duplicates("name")
    # not an "area": the whole city or a borough-sized name would make a 1.5 km tolerance a lie
    areas = areas[~areas["name"].isin(["London", "City of London", "City of Westminster"])].copy()
    areas["e"], areas["n"] = TO_BNG.transform(areas["lon"].to_numpy(), areas["lat"].to_numpy())

    depts = pd.read_csv(REPO / "src/istvhub/data/departments.csv", dtype=str)
    depts["easting"] = depts["easting"].astype(float)
    depts["northing"] = depts["northing"].astype(float)
    names = venues["name"].to_numpy(dtype=object)
    order = np.argsort(names, kind="stable")
    xy = venues[["e", "n"]].to_numpy()[order]
    uniq, starts = np.unique(names[order], return_index=True)
    venue_xy = dict(zip(uniq, np.split(xy, starts[1:]), strict=True))
    return Sources(
        cp,
        st,
        street_pc,
        venues,
        stations.reset_index(drop=True),
        stops.reset_index(drop=True),
        areas.reset_index(drop=True),
        depts,
        venue_xy,
    )


# ---------------------------------------------------------------------------------------------
@dataclass
class Place:
    category: str
    text: str
    source_name: str = ""
    e: float | None = None
    n: float | None = None
    tol: int | None = None
    loctype: str = "street"
    cafe: bool = False
    typo: bool = False


@dataclass
class Pools:
    """Candidates near one department, each with a sampling weight falling with distance."""

    pc: pd.DataFrame
    streets: pd.DataFrame
    junctions: pd.DataFrame
    venues: pd.DataFrame
    stations: pd.DataFrame
    stops: pd.DataFrame
    areas: pd.DataFrame
    outside_pc: pd.DataFrame
    outside_streets: pd.DataFrame = field(default_factory=pd.DataFrame)


def _near(df: pd.DataFrame, e0: float, n0: float, radius: float) -> pd.DataFrame:
    d = np.hypot(df["e"].to_numpy() - e0, df["n"].to_numpy() - n0)
    out = df[d <= radius].copy()
    dd = d[d <= radius]
    out["w"] = np.exp(-dd / 2500.0) + 0.02  # mostly within a few km
    return out


def _junctions(street_pc: pd.DataFrame, cell: float = 60.0, maxd: float = 45.0) -> pd.DataFrame:
    """Pairs of (usable) streets whose postcode points come within `maxd` metres: a junction."""
    p = street_pc.reset_index(drop=True)
    p = p.assign(cx=(p["e"] // cell).astype(int), cy=(p["n"] // cell).astype(int), i=p.index)
    found = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            q = p.assign(cx=p["cx"] + dx, cy=p["cy"] + dy)
            m = p.merge(q, on=["cx", "cy"], suffixes=("_a", "_b"))
            m = m[m["street_a"] < m["street_b"]]
            m = m.assign(d=np.hypot(m["e_a"] - m["e_b"], m["n_a"] - m["n_b"]))
            found.append(
                m[m["d"] <= maxd][["street_a", "street_b", "e_a", "n_a", "e_b", "n_b", "d"]]
            )
    j = pd.concat(found, ignore_index=True).sort_values(["street_a", "street_b", "d"])
    j = j.drop_duplicates(["street_a", "street_b"]).reset_index(drop=True)
    j["e"] = (j["e_a"] + j["e_b"]) / 2
    j["n"] = (j["n_a"] + j["n_b"]) / 2
    return j[["street_a", "street_b", "e", "n"]]


def build_pools(s: Sources, ods: str) -> Pools:
    row = s.depts[s.depts["ods_code"] == ods].iloc[0]
    e0, n0 = row["easting"], row["northing"]
    lpc = s.cp[s.cp["london"]]
    pc = _near(lpc, e0, n0, 7000)
    streets = _near(s.streets, e0, n0, 7000)
    spc = s.street_pc[s.street_pc["street"].isin(streets["street"])]
    junctions = _near(_junctions(spc), e0, n0, 7000)
    # venues whose name is unique within 3 km (so name + district resolves) or a chain we can
    # pin with the street it stands on
    v = _near(s.venues, e0, n0, 7000)
    # places people go out to, with a name a receptionist would write (no monuments, no
    # "19:20", no 60-character gallery names)
    v = v[
        v["sub"].isin(VENUE_KINDS)
        & v["name"].str.count(r"[A-Za-z]").ge(3)
        & v["name"].str.len().le(32)
    ]
    by_name = s.venue_xy
    cnt, cnt1k, cnt_all = [], [], []
    for name, ve, vn in zip(v["name"], v["e"], v["n"], strict=True):
        xy = by_name[name]
        dd = np.hypot(xy[:, 0] - ve, xy[:, 1] - vn)
        cnt.append(int((dd <= 3000).sum()))
        cnt1k.append(int((dd <= 1000).sum()))
        cnt_all.append(len(xy))
    v["dup3k"] = cnt
    v["dup1k"] = cnt1k
    v["dup_all"] = cnt_all
    # nearest usable street to each venue (for "costa on acre ln") and its postcode district
    vpts = shapely.points(v["e"].to_numpy(), v["n"].to_numpy())
    k_st, d_st = _nearest(spc["e"].to_numpy(), spc["n"].to_numpy(), vpts)
    v["street"] = spc["street"].to_numpy()[k_st]
    v["street_d"] = d_st
    k_pc, _ = _nearest(pc["e"].to_numpy(), pc["n"].to_numpy(), vpts)
    v["district"] = pc["district"].to_numpy()[k_pc]
    # unique within 3 km (name + district resolves), or a chain pinned by the street it stands
    # on with no other branch within 1 km
    v = v[(v["dup3k"] == 1) | ((v["street_d"] <= 80) & (v["dup1k"] == 1))]
    # stations: a name with a bracketed line ("Edgware Road (Circle)") is not what people type
    stations = _near(s.stations, e0, n0, 7000)
    stations = stations[~stations["name"].str.contains("(", regex=False)]
    # bus stops named after a usable street: "bus stop X rd" locates to that street
    stops = _near(s.stops, e0, n0, 5000)
    stops = stops.assign(street=stops["name"].str.upper().str.strip()).merge(
        streets[["street", "spread"]], on="street"
    )
    areas = _near(s.areas, e0, n0, 9000)
    if "outside" not in _CACHE:  # the same for every department: build (and sample) it once
        _CACHE["outside"] = s.cp[~s.cp["london"]].assign(w=1.0)
    out = _CACHE["outside"]
    return Pools(pc, streets, junctions, v, stations, stops, areas, out)


class _Sampler:
    """Weighted draws from a candidate table without touching pandas per draw."""

    def __init__(self, df: pd.DataFrame):
        self.cols = {c: df[c].to_numpy(dtype=object) for c in df.columns}
        w = df["w"].to_numpy(dtype=float)
        self.cdf = np.cumsum(w / w.sum())

    def draw(self, rng: np.random.Generator) -> dict:
        k = int(np.searchsorted(self.cdf, rng.random(), side="right"))
        k = min(k, len(self.cdf) - 1)
        return {c: v[k] for c, v in self.cols.items()}


_SAMPLERS: dict[int, tuple[pd.DataFrame, _Sampler]] = {}
_CACHE: dict[str, pd.DataFrame] = {}


def _sampler(df: pd.DataFrame) -> _Sampler:
    hit = _SAMPLERS.get(id(df))
    if hit is None or hit[0] is not df:
        hit = (df, _Sampler(df))
        _SAMPLERS[id(df)] = hit
    return hit[1]


def _nearest(xs: np.ndarray, ys: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of, and distance to, the nearest of the points (xs, ys) for each geometry in pts."""
    tree = shapely.STRtree(shapely.points(xs, ys))
    idx, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    k = np.zeros(len(pts), dtype=int)
    d = np.full(len(pts), 1e9)
    k[idx[0]] = idx[1]
    d[idx[0]] = dist
    return k, d


# ---------------------------------------------------------------------------------------------
class Renderer:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def r(self) -> float:
        return float(self.rng.random())

    def choice(self, seq):
        return seq[int(self.rng.integers(0, len(seq)))]

    def case(self, text: str) -> str:
        x = self.r()
        if x < 0.58:
            return text.lower()
        if x < 0.83:
            return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))
        return text.upper()

    def street(self, name: str, abbrev_p: float = 0.55) -> str:
        words = name.upper()
        if self.r() < abbrev_p:
            for full in ("HIGH STREET",):
                words = words.replace(full, ABBREV[full].upper())
            parts = words.split(" ")
            if len(parts) > 1 and parts[-1] in ABBREV:
                parts[-1] = ABBREV[parts[-1]].upper()
            words = " ".join(parts)
        return words

    def typo(self, text: str) -> str:
        words = text.split(" ")
        idx = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not idx:
            return text
        i = self.choice(idx)
        w = words[i]
        k = int(self.rng.integers(1, len(w) - 1))
        kind = self.choice(("swap", "drop", "double", "vowel"))
        if kind == "swap":
            w = w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]
        elif kind == "drop":
            w = w[:k] + w[k + 1 :]
        elif kind == "double":
            w = w[:k] + w[k] + w[k:]
        else:
            vowels = "aeiou"
            pos = [j for j, c in enumerate(w) if c.lower() in vowels and j > 0]
            if pos:
                j = self.choice(pos)
                rep = self.choice([v for v in vowels if v != w[j].lower()])
                w = w[:j] + (rep.upper() if w[j].isupper() else rep) + w[j + 1 :]
        words[i] = w
        return " ".join(words)

    def postcode(self, pc: str) -> str:
        x = self.r()
        if x < 0.3:
            pc = pc.replace(" ", "")
        if self.r() < 0.4:
            pc = pc.lower()
        return pc


def make_place(cat: str, pools: Pools, s: Sources, R: Renderer) -> Place:
    rng = R.rng

    def pick(df: pd.DataFrame) -> dict:
        return _sampler(df).draw(rng)

    if cat == "home":
        return Place("home", R.choice(HOME_TEXTS), loctype="home")
    if cat == "unknown":
        t = R.choice(UNKNOWN_TEXTS)
        lt = {"at work": "workplace", "at school": "school", "on the bus": "transport"}.get(
            t, "unknown"
        )
        return Place("unknown", t, loctype=lt)
    if cat == "outside_area":
        if R.r() < 0.5:
            return Place("outside_area", R.choice(OUTSIDE_FREE), loctype="other")
        p = pick(pools.outside_pc)
        return Place(
            "outside_area",
            R.postcode(p["postcode"]),
            p["postcode"],
            p["e"],
            p["n"],
            100,
            loctype="street",
        )
    if cat == "postcode":
        p = pick(pools.pc)
        pre = R.choice(("", "", "", "", "o/s ", "nr ", "outside "))
        return Place(
            "postcode",
            pre + R.postcode(p["postcode"]),
            p["postcode"],
            p["e"],
            p["n"],
            TOLERANCE["postcode"],
            loctype="street",
        )
    if cat == "street":
        p = pick(pools.streets)
        txt = R.case(R.street(p["street"]))
        if R.r() < 0.35:
            txt += " " + (p["district"].lower() if R.r() < 0.6 else p["district"])
        pre = R.choice(("", "", "", "on ", "in ", "o/s shops ", "nr ", "alley off "))
        tol = int(max(500, round(p["spread"] / 50) * 50))
        return Place("street", pre + txt, p["street"], p["e"], p["n"], tol, loctype="street")
    if cat == "junction":
        p = pick(pools.junctions)
        a, b = R.case(R.street(p["street_a"])), R.case(R.street(p["street_b"]))
        if R.r() < 0.5:
            a, b = b, a
        form = R.choice(
            (
                "{a} / {b}",
                "jct {a} / {b}",
                "corner of {a} & {b}",
                "{a} j/w {b}",
                "junction of {a} and {b}",
                "{a}/{b}",
                "jct of {a} + {b}",
                "{a} jw {b}",
            )
        )
        return Place(
            "junction",
            form.format(a=a, b=b),
            f"{p['street_a']} / {p['street_b']}",
            p["e"],
            p["n"],
            TOLERANCE["junction"],
            loctype="street",
        )
    if cat == "venue":
        p = pick(pools.venues)
        name = p["name"]
        lt = "licensed_premises" if p["sub"] in ("Pub", "Nightclub", "Music venue") else "other"
        shown = SLANG.get(name, name) if R.r() < 0.6 else name
        dist = str(p["district"])
        if p["dup3k"] > 1 or (p["dup_all"] > 1 and R.r() < 0.4) or R.r() < 0.2:
            street = R.case(R.street(p["street"]))
            txt = f"{R.case(shown)} {R.choice(('on', 'in', ','))} {street}".replace(" ,", ",")
        else:
            art = (
                "the "
                if p["sub"] == "Pub" and not name.lower().startswith("the ") and R.r() < 0.5
                else ""
            )
            txt = R.case(art + shown)
            if p["dup_all"] > 1 or R.r() < 0.6:  # a name found elsewhere in London needs it
                txt += " " + (dist.lower() if R.r() < 0.5 else dist)
        pre = R.choice(("", "", "o/s ", "outside ", "in ", "opp ", "nr ", "at "))
        return Place(
            "venue",
            pre + txt,
            name,
            p["e"],
            p["n"],
            TOLERANCE["venue"],
            loctype=lt,
            cafe=p["sub"] == "Cafe",
        )
    if cat == "station":
        if R.r() < 0.12 and len(pools.stops):
            # a bus stop named after its street: located at street precision (the stop is on
            # that street; the tolerance is the street's)
            p = pick(pools.stops)
            txt = R.choice(
                ("bus stop ", "at bus stop ", "bus stop on ", "at bus stop on ")
            ) + R.case(R.street(p["name"]))
            tol = int(max(500, round(p["spread"] / 50) * 50))
            return Place("street", txt, p["street"], p["e"], p["n"], tol, loctype="transport")
        p = pick(pools.stations)
        nm = str(p["name"])
        nm_t = nm.replace("Junction", "Jct") if R.r() < 0.5 else nm
        suffix = R.choice((" stn", " station", " tube", " tube stn", " overground", " stn", ""))
        pre = R.choice(("", "o/s ", "outside ", "nr ", "at ", "in ", "opp "))
        return Place(
            "station",
            pre + R.case(nm_t + suffix),
            nm,
            p["e"],
            p["n"],
            TOLERANCE["station"],
            loctype="transport",
        )
    if cat == "area":
        p = pick(pools.areas)
        form = R.choice(
            (
                "{a}",
                "in {a}",
                "{a} area",
                "nr {a}",
                "somewhere in {a}",
                "{a} town centre",
                "street in {a}",
            )
        )
        return Place(
            "area",
            form.format(a=R.case(str(p["name"]))),
            str(p["name"]),
            p["e"],
            p["n"],
            TOLERANCE["area"],
            loctype="street",
        )
    raise ValueError(cat)


def weapon_for(place: Place, rng: np.random.Generator) -> str:
    if place.loctype == "licensed_premises":
        p = (0.45, 0.08, 0.05, 0.30, 0.00, 0.04, 0.08)
    elif place.loctype == "home":
        p = (0.55, 0.14, 0.14, 0.04, 0.00, 0.05, 0.08)
    elif place.category == "unknown":
        p = (0.45, 0.12, 0.10, 0.05, 0.01, 0.05, 0.22)
    else:
        p = (0.52, 0.18, 0.12, 0.06, 0.02, 0.04, 0.06)
    return WEAPONS[int(rng.choice(len(WEAPONS), p=p))]


WEAPON_TEXT = {
    "body_part": (
        "punched",
        "kicked",
        "fist",
        "punched and kicked",
        "headbutt",
        "stamped on",
        "bitten",
        "slapped",
    ),
    "sharp": ("knife", "stabbed", "kitchen knife", "machete", "blade", "screwdriver"),
    "blunt": ("bat", "hammer", "metal pole", "brick", "stick", "chair"),
    "glass": ("bottle", "glass", "glassed", "pint glass", "broken bottle"),
    "firearm": ("gun", "shot", "air rifle"),
    "other": ("dog", "fire extinguisher", "car", "scalded", "acid"),
    "unknown": ("", "n/k", "unknown"),
}


# ---------------------------------------------------------------------------------------------
@dataclass
class Rec:
    key: str
    arrival: datetime
    inc_date: date | None
    inc_time: str | None  # "HH:MM" or None (unknown)
    place: Place
    weapon: str
    weapon_text: str
    age_band: str
    age: int | None
    sex: str  # male/female/unknown
    fault: str = ""
    intent: str = SCT_ASSAULT


def month_records(d: Dept, period: str, s: Sources, pools: Pools, R: Renderer) -> list[Rec]:
    rng = R.rng
    y, m = map(int, period.split("-"))
    ndays = calendar.monthrange(y, m)[1]
    n = int(np.clip(rng.normal(d.volume, d.volume * 0.12), 60, 200))
    cats = list(CATEGORY_WEIGHTS)
    cw = np.array(list(CATEGORY_WEIGHTS.values()))
    cw = cw / cw.sum()
    hours_p = np.array(
        [6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 7], dtype=float
    )
    hours_p /= hours_p.sum()
    recs = []
    for i in range(n):
        day = int(rng.integers(1, ndays + 1))
        hh = int(rng.choice(24, p=hours_p))
        arrival = datetime(y, m, day, hh, int(rng.integers(0, 60)))
        place = None
        while place is None:
            cat = cats[int(rng.choice(len(cats), p=cw))]
            place = make_place(cat, pools, s, R)
            if place.category not in ("home", "unknown", "postcode") and R.r() < TYPO_P:
                typo = R.typo(place.text)
                place.typo = typo != place.text
                place.text = typo
            if d.adapter == "legacy_pas":
                try:
                    place.text.encode("cp1252")
                except UnicodeEncodeError:
                    place = None
        lag = timedelta(minutes=int(rng.integers(20, 600)))
        month_start = datetime(y, m, 1)
        if arrival - lag < month_start:  # keep the incident inside the month, before arrival
            lag = (arrival - month_start) / 2
        inc = arrival - lag
        inc_date: date | None = inc.date()
        inc_time: str | None = inc.strftime("%H:%M")
        x = R.r()
        if x < 0.08:
            inc_date, inc_time = None, None
        elif x < 0.28:
            inc_time = None
        weapon = weapon_for(place, rng)
        wt = R.choice(WEAPON_TEXT[weapon])
        band = AGE_BANDS[int(rng.choice(len(AGE_BANDS), p=AGE_P))]
        age = (
            None
            if band == "unknown"
            else int(
                rng.integers(*AGE_RANGE[band])
                if AGE_RANGE[band][0] < AGE_RANGE[band][1]
                else AGE_RANGE[band][0]
            )
        )
        if age is not None and band != "65+":
            age = min(age, AGE_RANGE[band][1])
        sx = R.r()
        sex = "male" if sx < 0.72 else ("female" if sx < 0.97 else "unknown")
        recs.append(Rec(f"{i:04d}", arrival, inc_date, inc_time, place, weapon, wt, band, age, sex))
    recs.sort(key=lambda r: (r.arrival, r.key))
    return recs


# ---------------------------------------------------------------------------------------------
# Writers: each returns the bytes of the file (so re-generation is byte-identical).
SEX_NHS = {"male": "1", "female": "2", "unknown": "9"}


def _csv_bytes(
    header: list[str],
    rows: list[list[str]],
    sep: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    trailing_blank: int = 0,
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    for _ in range(trailing_blank):
        w.writerow([""] * len(header))
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def mds_key(ods: str, period: str, k: str) -> str:
    return f"{ods}{period[2:4]}{period[5:]}{k}"


def write_istv_mds(d: Dept, period: str, recs: list[Rec], rng) -> tuple[bytes, list[str]]:
    y, m = map(int, period.split("-"))
    start = f"{period}-01"
    end = f"{period}-{calendar.monthrange(y, m)[1]:02d}"
    use_desc = d.ods == "R1H12"  # this site writes descriptions, mixed case, instead of codes
    header = [
        "Site_Code_of_Treatment",
        "Reporting_Period_Start_Date",
        "Reporting_Period_End_Date",
        "Attendance_Identifier",
        "Arrival_Date",
        "Arrival_Time",
        "Assault_Date",
        "Assault_Time",
        "Assault_Method_Code",
        "Assault_Method_Other_Description",
        "Assault_Location_Type_Code",
        "Assault_Location_Description",
        "Age_Band",
        "Sex",
    ]
    rows, keys = [], []
    for r in recs:
        key = "A" + mds_key("", period, r.key)
        keys.append(key)
        method = MDS_METHOD_DESC[r.weapon] if use_desc else MDS_METHOD[r.weapon]
        if use_desc and rng.random() < 0.3:
            method = method.upper()
        loc = MDS_LOC[r.place.loctype]
        arr_date = r.arrival.strftime("%Y-%m-%d")
        if r.fault == "bad_date":
            arr_date = {
                0: f"{period}-32",
                1: f"{y}-13-{r.arrival.day:02d}",
                2: "31/02/2025",
                3: "not recorded",
            }[int(r.key) % 4]
        rows.append(
            [
                d.ods,
                start,
                end,
                key,
                arr_date,
                r.arrival.strftime("%H:%M"),
                r.inc_date.isoformat() if r.inc_date else "",
                r.inc_time or ("00:00" if r.inc_date else ""),
                method,
                r.weapon_text,
                loc,
                r.place.text,
                r.age_band,
                SEX_NHS[r.sex],
            ]
        )
    return _csv_bytes(header, rows, bom=d.ods in BOM_DEPTS), keys


def write_ecds(
    d: Dept, period: str, recs: list[Rec], rng, pii: bool = False
) -> tuple[bytes, list[str]]:
    header = [
        "EC_Ident",
        "Site_Code_of_Treatment",
        "EC_Department_Type",
        "Der_EC_Arrival_Date_Time",
        "EC_Injury_Date",
        "EC_Injury_Time",
        "EC_Injury_Intent_SNOMED_CT",
        "EC_Injury_Mechanism_SNOMED_CT",
        "EC_Place_Of_Injury_SNOMED_CT",
        "Assault_Location_Description",
        "Age_At_Arrival",
        "Sex",
    ]
    if pii:
        header += ["NHS_Number", "Patient_Name", "Date_Of_Birth", "Patient_Postcode"]
    rows, keys = [], []
    y = int(period[:4])
    prng = np.random.default_rng(SEED + 7)  # PII values independent of the main stream
    for r in recs:
        key = str(700000000 + int(period[5:]) * 100000 + int(r.key) * 7 + (hash_ods(d.ods) % 7))
        keys.append(key)
        assault = r.intent == SCT_ASSAULT
        sexcode = SEX_NHS[r.sex] if r.sex != "unknown" else ("X" if int(r.key) % 2 else "0")
        row = [
            key,
            d.ods,
            "01",
            r.arrival.strftime("%Y-%m-%d %H:%M:%S"),
            r.inc_date.isoformat() if r.inc_date else "",
            (r.inc_time + ":00") if r.inc_time else "",
            r.intent,
            SCT_MECH[r.weapon] if assault else "",
            SCT_PLACE[r.place.loctype],
            r.place.text if assault else "",
            "" if r.age is None else str(r.age),
            sexcode,
        ]
        if pii:
            age = r.age if r.age is not None else 30
            dob = date(y - age, int(prng.integers(1, 13)), int(prng.integers(1, 29)))
            first = ("Aaron", "Beth", "Chidi", "Dana", "Eilidh", "Femi", "Grace", "Hamza")
            last = ("Okafor", "Smith", "Nowak", "Patel", "Jones", "Begum", "Murphy", "Silva")
            row += [
                fake_nhs_number(prng),
                f"{first[int(prng.integers(0, 8))]} {last[int(prng.integers(0, 8))]}",
                dob.strftime("%d/%m/%Y"),
                "SW1A 1AA",
            ]
        rows.append(row)
    return _csv_bytes(header, rows), keys


def hash_ods(ods: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(ods))


def write_pas(d: Dept, period: str, recs: list[Rec], rng) -> tuple[bytes, list[str]]:
    header = [
        "AttendanceRef",
        "AttendanceDate",
        "AttendanceTime",
        "IncidentDate",
        "IncidentTime",
        "AssaultMethod",
        "AssaultMethodDesc",
        "AssaultLocationType",
        "AssaultLocDesc",
        "AgeBand",
        "Sex",
    ]
    lower = int(period[5:]) % 3 == 0  # some months the PAS writes lower-case codes
    rows, keys = [], []
    for r in recs:
        key = f"AE{period[2:4]}{period[5:]}{r.key}"
        keys.append(key)
        meth, loc = PAS_METHOD[r.weapon], PAS_LOC[r.place.loctype]
        if lower:
            meth, loc = meth.lower(), loc.lower()
        rows.append(
            [
                key,
                r.arrival.strftime("%d/%m/%Y"),
                r.arrival.strftime("%H:%M"),
                r.inc_date.strftime("%d/%m/%Y") if r.inc_date else "",
                r.inc_time or "",
                meth,
                r.weapon_text,
                loc,
                r.place.text,
                r.age_band if r.age_band != "unknown" else "",
                {"male": "M", "female": "F", "unknown": "U"}[r.sex],
            ]
        )
    return _csv_bytes(header, rows, sep=";", encoding="cp1252", trailing_blank=3), keys


def excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


def write_ucc(
    d: Dept, period: str, recs: list[Rec], rng, site_name: str
) -> tuple[bytes, list[str]]:
    from openpyxl import Workbook

    serial = int(period[5:]) % 2 == 0  # even months: dates as Excel serial numbers
    wb = Workbook()
    ws = wb.active
    ws.title = "Assaults"
    ws.append([f"Assault attendances - {site_name}"])
    ws.append([])
    ws.append(
        [
            "Ref",
            "Date seen",
            "Time seen",
            "Date of incident",
            "Time of incident",
            "Where did it happen",
            "Type of place",
            "What with",
            "Age group",
            "Gender",
        ]
    )
    keys = []
    for r in recs:
        key = f"UCC/{period[2:4]}/{period[5:]}{r.key}"
        keys.append(key)
        seen = (
            excel_serial(r.arrival.date())
            if serial
            else datetime.combine(r.arrival.date(), datetime.min.time())
        )
        inc = None
        if r.inc_date:
            inc = (
                excel_serial(r.inc_date)
                if serial
                else datetime.combine(r.inc_date, datetime.min.time())
            )
        ws.append(
            [
                key,
                seen,
                r.arrival.strftime("%H:%M"),
                inc,
                r.inc_time or "",
                r.place.text,
                UCC_PLACE[r.place.loctype],
                UCC_WHAT[r.weapon],
                r.age_band if r.age_band != "unknown" else "Not known",
                {"male": "Male", "female": "Female", "unknown": "Not known"}[r.sex],
            ]
        )
        if not serial:
            ws.cell(ws.max_row, 2).number_format = "dd/mm/yyyy"
            if inc is not None:
                ws.cell(ws.max_row, 4).number_format = "dd/mm/yyyy"
    fixed = datetime(YEAR, 1, 1)
    wb.properties.creator = "istvhub sample generator"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip_times(buf.getvalue()), keys


def _fix_zip_times(data: bytes) -> bytes:
    """Rewrite the XLSX zip with fixed entry timestamps so regeneration is byte-identical."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            content = re.sub(
                rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                b'<dcterms:modified xsi:type="dcterms:W3CDTF">2025-01-01T00:00:00Z'
                b"</dcterms:modified>",
                content,
            )
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, content)
    return out.getvalue()


def write_mapping(d: Dept, period: str, recs: list[Rec], rng) -> tuple[bytes, list[str]]:
    header = [
        "AttendNo",
        "SiteODS",
        "ArrivedAt",
        "InjuredAt",
        "Mechanism",
        "PlaceCategory",
        "IncidentLocation",
        "AgeYrs",
        "Gender",
    ]
    rows, keys = [], []
    for r in recs:
        key = f"SG-{period[2:4]}{period[5:]}-{r.key}"
        keys.append(key)
        if r.inc_date is None:
            inj = ""
        elif r.inc_time is None:
            inj = r.inc_date.strftime("%d-%b-%Y")
        else:
            inj = f"{r.inc_date.strftime('%d-%b-%Y')} {r.inc_time}"
        rows.append(
            [
                key,
                d.ods,
                r.arrival.strftime("%d-%b-%Y %H:%M"),
                inj,
                MAP_MECH[r.weapon],
                MAP_PLACE[r.place.loctype],
                r.place.text,
                "" if r.age is None else str(r.age),
                {"male": "M", "female": "F", "unknown": "U"}[r.sex],
            ]
        )
    return _csv_bytes(header, rows, sep="|"), keys


# ---------------------------------------------------------------------------------------------
def received_at(
    period: str, rng: np.random.Generator, late: bool = False, day: int | None = None
) -> datetime:
    y, m = map(int, period.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    dd = (
        day
        if day is not None
        else (int(rng.integers(21, 29)) if late else int(rng.integers(2, 10)))
    )
    return datetime(
        y, m, dd, int(rng.integers(8, 18)), int(rng.integers(0, 60)), int(rng.integers(0, 60))
    )


def generate(src: Path, out: Path) -> dict[str, int]:
    _SAMPLERS.clear()
    _CACHE.clear()
    s = load_sources(src)
    rng = np.random.default_rng(SEED)
    R = Renderer(rng)
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []
    truth: list[dict] = []
    site_names = dict(zip(s.depts["ods_code"], s.depts["name"], strict=True))

    for d in DEPTS:
        pools = build_pools(s, d.ods)
        ddir = out / d.ods
        ddir.mkdir(exist_ok=True)
        for old in sorted(ddir.glob(f"{d.ods}_*")):
            old.unlink()
        for period in PERIODS:
            if period < d.first_period:
                continue
            recs = month_records(d, period, s, pools, R)
            if (d.ods, period) == MISSING:
                continue  # generated (keeps the random stream stable) but never sent
            if d.adapter == "ecds":
                # non-assault ECDS rows: injuries of other intent, skipped by the adapter
                extra = month_records(d, period, s, pools, R)[: max(8, len(recs) // 6)]
                for j, r in enumerate(extra):
                    r.key = f"{9000 + j:04d}"
                    r.intent = SCT_NON_ASSAULT[j % 2]
                    r.place = Place("unknown", "", loctype=r.place.loctype)
                allrecs = sorted(recs + extra, key=lambda r: (r.arrival, r.key))
            else:
                allrecs = recs
            if (d.ods, period) == BAD_DATES:
                for r in recs[5::23][:6]:
                    r.fault = "bad_date"
            versions = [("", allrecs, received_at(period, rng, late=(d.ods, period) == LATE), "")]
            if (d.ods, period) == LATE:
                versions[0] = ("", allrecs, versions[0][2], "late: received after the 20th")
            if (d.ods, period) == BAD_DATES:
                versions[0] = (
                    "",
                    allrecs,
                    versions[0][2],
                    "bad dates: 6 rows with impossible Arrival_Date -> quarantined",
                )
            if (d.ods, period) == PII_FILE:
                first = received_at(period, rng, day=3)
                versions.insert(
                    0,
                    (
                        "_pii",
                        allrecs,
                        first,
                        "PII columns (NHS_Number, Patient_Name, Date_Of_Birth, "
                        "Patient_Postcode): must be rejected whole",
                    ),
                )
                versions[1] = (
                    "",
                    allrecs,
                    received_at(period, rng, day=8),
                    "clean re-send after the PII rejection",
                )
            if (d.ods, period) == REUPLOAD:
                v2 = [r for r in allrecs]
                drop = {r.key for r in recs[3::31][:4]}
                v2 = [r for r in v2 if r.key not in drop]
                for r in recs[10::29][:4]:  # corrected location text in v2
                    nr = Rec(**{**r.__dict__})
                    nr.place = make_place("street", pools, s, R)
                    v2 = [nr if x.key == r.key else x for x in v2]
                add = month_records(d, period, s, pools, R)[:3]
                for j, r in enumerate(add):
                    r.key = f"{8000 + j:04d}"
                v2 = sorted(v2 + add, key=lambda r: (r.arrival, r.key))
                versions[0] = ("", allrecs, received_at(period, rng, day=5), "")
                versions.append(
                    (
                        "_v2",
                        v2,
                        received_at(period, rng, day=17),
                        "re-upload: supersedes the first file (4 rows removed, "
                        "4 locations corrected, 3 rows added)",
                    )
                )
            for suffix, rs, rec_at, note in versions:
                fname = f"{d.ods}_{period}{suffix}.{d.ext}"
                pii = suffix == "_pii"
                if d.adapter == "istv_mds":
                    data, keys = write_istv_mds(d, period, rs, rng)
                elif d.adapter == "ecds":
                    data, keys = write_ecds(d, period, rs, rng, pii=pii)
                elif d.adapter == "legacy_pas":
                    data, keys = write_pas(d, period, rs, rng)
                elif d.adapter == "ucc_xlsx":
                    data, keys = write_ucc(d, period, rs, rng, site_names[d.ods])
                else:
                    data, keys = write_mapping(d, period, rs, rng)
                (ddir / fname).write_bytes(data)
                rel = f"{d.ods}/{fname}"
                manifest.append(
                    {
                        "file": rel,
                        "department": d.ods,
                        "period": period,
                        "adapter": d.adapter,
                        "received_at": rec_at.isoformat(timespec="seconds"),
                        "note": note,
                    }
                )
                if pii:
                    continue  # rejected whole: its rows are not records
                for r, key in zip(rs, keys, strict=True):
                    if r.intent != SCT_ASSAULT:
                        continue
                    p = r.place
                    lat = lon = None
                    if p.e is not None:
                        lon, lat = TO_WGS.transform(p.e, p.n)
                    truth.append(
                        {
                            "file": rel,
                            "department": d.ods,
                            "period": period,
                            "source_key": key,
                            "text": p.text,
                            "category": p.category,
                            "source_name": p.source_name,
                            "location_type": p.loctype,
                            "weapon": r.weapon,
                            "lat": "" if lat is None else f"{lat:.6f}",
                            "lon": "" if lon is None else f"{lon:.6f}",
                            "easting": "" if p.e is None else f"{p.e:.0f}",
                            "northing": "" if p.n is None else f"{p.n:.0f}",
                            "tol_m": "" if p.tol is None else str(p.tol),
                            "fault": r.fault,
                            "typo": "1" if p.typo else "",
                        }
                    )
    manifest.sort(key=lambda m: (m["department"], m["period"], m["received_at"]))
    with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(
            fh,
            fieldnames=["file", "department", "period", "adapter", "received_at", "note"],
            lineterminator="\n",
        )
        w.writeheader()
        w.writerows(manifest)
    tcols = [
        "file",
        "department",
        "period",
        "source_key",
        "text",
        "category",
        "source_name",
        "location_type",
        "weapon",
        "lat",
        "lon",
        "easting",
        "northing",
        "tol_m",
        "fault",
        "typo",
    ]
    with (out / "ground_truth.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=tcols, lineterminator="\n")
        w.writeheader()
        w.writerows(truth)
    expect = {"home": "home", "unknown": "unknown", "outside_area": "outside_area"}
    seen: set[str] = set()
    dev = []
    for t in truth:
        if not t["text"].strip() or t["text"] in seen:
            continue
        seen.add(t["text"])
        dev.append(
            {
                "text": t["text"],
                "lat": t["lat"],
                "lon": t["lon"],
                "tol_m": t["tol_m"],
                "expect": expect.get(t["category"], "located"),
            }
        )
    with (out / "geocode_dev.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(
            fh, fieldnames=["text", "lat", "lon", "tol_m", "expect"], lineterminator="\n"
        )
        w.writeheader()
        w.writerows(dev)
    return {"files": len(manifest), "records": len(truth), "dev": len(dev)}


def default_sources() -> Path:
    env = os.environ.get("ISTVHUB_SOURCES")
    return Path(env) if env else REPO.parent / "shared" / "gazetteer-sources"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, default=default_sources())
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    stats = generate(args.sources, args.out)
    print(
        f"wrote {stats['files']} files, {stats['records']} ground-truth records, "
        f"{stats['dev']} geocode_dev rows to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
