"""Build the gazetteer: sources -> ``<out>/<version>/`` (Parquet files + manifest), then point
``<out>/CURRENT`` at it.

The new version is written to a hidden temporary directory and renamed into place; CURRENT is
replaced atomically (write temp + ``os.replace``) only after that, so a killed or failed build
leaves the previous gazetteer in use. The file formats are the contract in docs/DEVELOPING.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub import __version__
from istvhub._errors import SourcesNotFound
from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.gazetteer import census2021
from istvhub.gazetteer import network as net
from istvhub.gazetteer import sources as S
from istvhub.gazetteer.normalise import normalise_name

#: Bump when the files or their meaning change (also keys the test cache).
BUILD_SCHEMA = 1

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
#: Approximate junctions from postcode points: streets whose points come this close.
POSTCODE_JUNCTION_M = 60.0
NETWORK_JUNCTION_PRECISION_M = 30.0
POSTCODE_JUNCTION_PRECISION_M = 150.0

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

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- helpers


def _nearest_district(
    tree: shapely.STRtree, districts: np.ndarray, pts: np.ndarray, within_m: float = 3000.0
) -> np.ndarray:
    """Postcode district of the nearest unit postcode (None beyond ``within_m``).

    ``query_nearest`` without ``max_distance`` is several times faster here; the distance is
    checked afterwards."""
    out = np.full(len(pts), None, dtype=object)
    if len(pts) == 0:
        return out
    pi, ci = tree.query_nearest(pts, all_matches=False)
    d = shapely.distance(pts[pi], tree.geometries[ci])
    ok = d <= within_m
    out[pi[ok]] = districts[ci[ok]]
    return out


def _hash(*parts: object, n: int = 12) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


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

            return int(pyogrio.read_info(path, layer=S._line_layer(path))["features"])
        except Exception:  # noqa: BLE001 - a count is informative only
            return None
    return None


def source_manifest(found: dict[str, list[Path]], root: Path) -> list[dict]:
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


def load_aliases(path: Path | None = None) -> pd.DataFrame:
    """The hand-kept alias table: alias, target_type, target_name, target_borough, note."""
    p = path or GAZETTEER_TABLES_DIR / "aliases.csv"
    if not p.exists():
        return pd.DataFrame(columns=["alias", "target_type", "target_name", "target_borough"])
    return pd.read_csv(p, dtype=str, keep_default_na=False, comment=None)


def _nearest_spread(e: np.ndarray, n: np.ndarray, gid: np.ndarray, ngroups: int):
    """Per group: index of the member point nearest the group mean, and the farthest distance
    of any member from it (the street's or sector's spread)."""
    df = pd.DataFrame({"g": gid, "e": e, "n": n})
    me = df.groupby("g")["e"].transform("mean").to_numpy()
    mn = df.groupby("g")["n"].transform("mean").to_numpy()
    d0 = np.hypot(e - me, n - mn)
    rep = pd.Series(d0).groupby(gid).idxmin().reindex(range(ngroups)).to_numpy()
    re_, rn = e[rep][gid], n[rep][gid]
    spread = pd.Series(np.hypot(e - re_, n - rn)).groupby(gid).max().reindex(range(ngroups))
    return rep, spread.to_numpy()


def _group_mode(gid: np.ndarray, values: pd.Series) -> pd.Series:
    """Most common value per group (ties: the smallest value), vectorised."""
    df = pd.DataFrame({"g": gid, "v": values.to_numpy()})
    c = df.groupby(["g", "v"], sort=True).size().rename("n").reset_index()
    c = c.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable")
    return c.drop_duplicates("g").set_index("g")["v"]


def _mode(s: pd.Series):
    m = s.mode()
    return m.iloc[0] if len(m) else None


# --------------------------------------------------------------------------- stages


def _postcode_entries(cp: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "entry_id": "postcode:" + cp["postcode"].str.replace(" ", "", regex=False),
            "entry_type": "postcode",
            "name": cp["postcode"],
            "easting": cp["easting"],
            "northing": cp["northing"],
            "precision_m": np.where(cp["quality"] <= 10, 25.0, 100.0),
            "borough": cp["borough"],
            "lsoa_code": cp["lsoa_code"],
            "district": cp["district"],
            "source": "codepoint",
            "category": None,
        }
    )
    return out


def _area_units(cp: pd.DataFrame, col: str, etype: str) -> pd.DataFrame:
    """Postcode sectors / districts: centroid of their units, spread as precision."""
    g = cp.groupby(col, sort=True)
    cen = g[["easting", "northing"]].mean()
    boro = g["borough"].agg(_mode)
    tmp = cp[[col, "easting", "northing"]].merge(
        cen.add_suffix("_c"), left_on=col, right_index=True, how="left"
    )
    d = np.hypot(tmp["easting"] - tmp["easting_c"], tmp["northing"] - tmp["northing_c"])
    spread = d.groupby(tmp[col]).quantile(0.9)
    out = pd.DataFrame(
        {
            "entry_id": etype + ":" + cen.index.str.replace(" ", "", regex=False),
            "entry_type": etype,
            "name": cen.index,
            "easting": cen["easting"].to_numpy(),
            "northing": cen["northing"].to_numpy(),
            "precision_m": np.maximum(spread.reindex(cen.index).to_numpy(), 100.0),
            "borough": boro.reindex(cen.index).to_numpy(),
            "lsoa_code": None,
            "district": [x.split(" ")[0] for x in cen.index],
            "source": "codepoint",
            "category": None,
        }
    )
    return out.reset_index(drop=True)


def _street_entries(ps: pd.DataFrame, cp: pd.DataFrame):
    """(street entries, street points) from postcode -> street joined to unit points."""
    sp = ps.merge(
        cp[["postcode", "easting", "northing", "borough", "district", "lsoa_code"]],
        on="postcode",
        how="inner",
    )
    sp["key"] = sp["street"].map(_cached_norm)
    sp = sp[sp["key"] != ""].sort_values(["borough", "key", "postcode"]).reset_index(drop=True)
    gid_s = sp.groupby(["key", "borough"], sort=True).ngroup().to_numpy()
    ng = int(gid_s.max()) + 1 if len(gid_s) else 0
    rep, spread = _nearest_spread(sp["easting"].to_numpy(), sp["northing"].to_numpy(), gid_s, ng)
    first = sp.groupby(gid_s).first()
    display = _group_mode(gid_s, sp["street"]).map(S.display_case)
    district = _group_mode(gid_s, sp["district"])
    ids = ["street:" + _hash(k, b) for k, b in zip(first["key"], first["borough"], strict=True)]
    streets = pd.DataFrame(
        {
            "entry_id": ids,
            "entry_type": "street",
            "name": display.to_numpy(),
            "easting": sp["easting"].to_numpy()[rep],
            "northing": sp["northing"].to_numpy()[rep],
            "precision_m": np.maximum(spread + 25.0, 50.0),
            "borough": first["borough"].to_numpy(),
            "lsoa_code": sp["lsoa_code"].to_numpy()[rep],
            "district": district.to_numpy(),
            "source": "postcode_streets",
            "category": None,
        }
    )
    points = pd.DataFrame(
        {
            "entry_id": np.asarray(ids, dtype=object)[gid_s],
            "easting": sp["easting"].to_numpy(),
            "northing": sp["northing"].to_numpy(),
            "postcode": sp["postcode"].to_numpy(),
            "key": sp["key"].to_numpy(),
            "borough": sp["borough"].to_numpy(),
        }
    )
    return streets, points


_NORM_CACHE: dict[str, str] = {}


def _cached_norm(s: str) -> str:
    r = _NORM_CACHE.get(s)
    if r is None:
        r = _NORM_CACHE[s] = normalise_name(s)
    return r


def _osm_street_entries(blocks: gpd.GeoDataFrame, streets: pd.DataFrame):
    """Streets the network names but the postcode table lacks (e.g. City alleys)."""
    if blocks.empty:
        return streets.iloc[:0], pd.DataFrame()
    have = set(zip(streets["name"].map(_cached_norm), streets["borough"], strict=True))
    b = blocks[(blocks["names_key"] != "") & blocks["borough"].notna()].copy()
    b["key"] = b["name"].map(_cached_norm)
    b = b[[(k, bo) not in have for k, bo in zip(b["key"], b["borough"], strict=True)]]
    b = b[b["key"] != ""]
    if b.empty:
        return streets.iloc[:0], pd.DataFrame()
    mid = shapely.line_interpolate_point(b.geometry.values, 0.5, normalized=True)
    b["e"] = shapely.get_x(mid)
    b["n"] = shapely.get_y(mid)
    b = b.sort_values(["borough", "key", "block_id"]).reset_index(drop=True)
    gid = b.groupby(["key", "borough"], sort=True).ngroup().to_numpy()
    ng = int(gid.max()) + 1
    rep, spread = _nearest_spread(b["e"].to_numpy(), b["n"].to_numpy(), gid, ng)
    first = b.groupby(gid).first()
    ids = ["street:" + _hash(k, bo) for k, bo in zip(first["key"], first["borough"], strict=True)]
    half = b.groupby(gid)["length_m"].max().to_numpy() / 2
    ent = pd.DataFrame(
        {
            "entry_id": ids,
            "entry_type": "street",
            "name": first["name"].to_numpy(),
            "easting": b["e"].to_numpy()[rep],
            "northing": b["n"].to_numpy()[rep],
            "precision_m": np.maximum(spread + half, 30.0),
            "borough": first["borough"].to_numpy(),
            "lsoa_code": None,
            "district": None,
            "source": "osm",
            "category": None,
        }
    )
    pts = pd.DataFrame(
        {
            "entry_id": np.asarray(ids, dtype=object)[gid],
            "easting": b["e"],
            "northing": b["n"],
            "postcode": None,
            "key": b["key"],
            "borough": b["borough"],
        }
    )
    return ent, pts


def _junction_entries(netj: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Network junctions (precise) + approximate junctions where two streets' points in the
    same borough come within POSTCODE_JUNCTION_M (bounded: an STRtree radius query)."""
    rows = []
    for r in netj.itertuples(index=False):
        rows.append(
            (
                "junction",
                f"{r.name_a} / {r.name_b}",
                r.easting,
                r.northing,
                NETWORK_JUNCTION_PRECISION_M,
                r.borough,
                "osm",
                r.street_a,
                r.street_b,
            )
        )
    net_pairs = set(zip(netj["street_a"], netj["street_b"], netj["borough"], strict=True))
    if len(points):
        pts = points.drop_duplicates(["entry_id", "easting", "northing"]).reset_index(drop=True)
        geoms = shapely.points(pts["easting"].to_numpy(), pts["northing"].to_numpy())
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="dwithin", distance=POSTCODE_JUNCTION_M)
        keep = i < j
        i, j = i[keep], j[keep]
        ent = pts["entry_id"].to_numpy()
        bor = pts["borough"].to_numpy()
        keep = (ent[i] != ent[j]) & (bor[i] == bor[j])
        i, j = i[keep], j[keep]
        key = pts["key"].to_numpy()
        ka, kb = key[i], key[j]
        swap = ka > kb
        a = np.where(swap, kb, ka)
        b = np.where(swap, ka, kb)
        e = pts["easting"].to_numpy()
        n = pts["northing"].to_numpy()
        cand = pd.DataFrame(
            {
                "a": a,
                "b": b,
                "borough": bor[i],
                "d": np.hypot(e[i] - e[j], n[i] - n[j]),
                "e": (e[i] + e[j]) / 2,
                "n": (n[i] + n[j]) / 2,
            }
        )
        cand = cand[cand["a"] != cand["b"]]
        best = cand.sort_values(["a", "b", "borough", "d", "e", "n"]).drop_duplicates(
            ["a", "b", "borough"]
        )
        for r in best.itertuples(index=False):
            if (r.a, r.b, r.borough) in net_pairs:
                continue
            rows.append(
                (
                    "junction",
                    f"{r.a.title()} / {r.b.title()}",
                    r.e,
                    r.n,
                    POSTCODE_JUNCTION_PRECISION_M + r.d / 2,
                    r.borough,
                    "postcode_streets",
                    r.a,
                    r.b,
                )
            )
    df = pd.DataFrame(
        rows,
        columns=[
            "entry_type",
            "name",
            "easting",
            "northing",
            "precision_m",
            "borough",
            "source",
            "street_a",
            "street_b",
        ],
    )
    df["entry_id"] = [
        "junction:" + _hash(a, b, bo, round(e), round(n))
        for a, b, bo, e, n in zip(
            df["street_a"],
            df["street_b"],
            df["borough"],
            df["easting"],
            df["northing"],
            strict=True,
        )
    ]
    df["category"] = None
    df["lsoa_code"] = None
    df["district"] = None
    return df


BUS_STOP_JUNCTION_PRECISION_M = 100.0


def _bus_stop_junctions(
    pois: pd.DataFrame, variants: pd.Series, streets: pd.DataFrame, junctions: pd.DataFrame
) -> pd.DataFrame:
    """Bus stops named 'X / Y' where X and Y are both streets of the stop's borough give the
    junctions that postcode points miss (a main road's postcodes often stop short of the
    corner). Pairs already known from the network or postcode points are left alone."""
    street_keys = set(zip(streets["name"].map(_cached_norm), streets["borough"], strict=True))
    have = set(zip(junctions["street_a"], junctions["street_b"], junctions["borough"], strict=True))
    names = dict(zip(streets["name"].map(_cached_norm), streets["name"], strict=False))
    is_bus = (pois["entry_type"] == "bus_stop").to_numpy()
    rows = []
    for e, n, bo, vs in zip(
        pois.loc[is_bus, "easting"],
        pois.loc[is_bus, "northing"],
        pois.loc[is_bus, "borough"],
        variants[is_bus],
        strict=True,
    ):
        if not vs or len(vs) != 2:
            continue
        a, b = sorted(_cached_norm(v) for v in vs)
        if a == b or (a, bo) not in street_keys or (b, bo) not in street_keys or (a, b, bo) in have:
            continue
        rows.append((a, b, bo, e, n))
    df = pd.DataFrame(rows, columns=["street_a", "street_b", "borough", "easting", "northing"])
    # the stops on both sides of the road (same pair) -> one junction between them
    df = df.groupby(["street_a", "street_b", "borough"], as_index=False, sort=True)[
        ["easting", "northing"]
    ].mean()
    df["entry_type"] = "junction"
    df["name"] = [
        f"{names.get(a, a.title())} / {names.get(b, b.title())}"
        for a, b in zip(df["street_a"], df["street_b"], strict=True)
    ]
    df["precision_m"] = BUS_STOP_JUNCTION_PRECISION_M
    df["source"] = "tfl_bus_stops"
    df["entry_id"] = [
        "junction:" + _hash(a, b, bo, round(e), round(n))
        for a, b, bo, e, n in zip(
            df["street_a"],
            df["street_b"],
            df["borough"],
            df["easting"],
            df["northing"],
            strict=True,
        )
    ]
    for c in ("category", "lsoa_code", "district"):
        df[c] = None
    return df


def _junction_display(df: pd.DataFrame, street_names: dict[str, str]) -> pd.Series:
    return pd.Series(
        [
            f"{street_names.get(a, a.title())} / {street_names.get(b, b.title())}"
            for a, b in zip(df["street_a"], df["street_b"], strict=True)
        ],
        index=df.index,
    )


def _borough_name_map(boroughs: gpd.GeoDataFrame) -> dict[str, str]:
    m = {normalise_name(n): n for n in boroughs["name"]}
    m["city"] = "City of London"
    m["city of westminster"] = "Westminster"
    return m


#: Same type and name closer than this is one place (the same pub in two source layers, a
#: hospital in CQC and NHS data, the bus stops on both sides of a road).
DEDUPE_M = {
    "venue": 60.0,
    "school": 60.0,
    "cycle_dock": 30.0,
    "bus_stop": 150.0,
    "station": 400.0,
    "hospital": 400.0,
    "area": 300.0,
}


def _dedupe_near(df: pd.DataFrame, radius: dict[str, float]) -> pd.DataFrame:
    """Drop later rows of the same type and key within the type's radius of an earlier one."""
    dup_keys = df.duplicated(["entry_type", "key"], keep=False)
    if not dup_keys.any():
        return df
    drop: set[int] = set()
    sub = df[dup_keys]
    for (etype, _), g in sub.groupby(["entry_type", "key"], sort=False):
        within_m = radius.get(etype, 100.0)
        kept: list[tuple[float, float]] = []
        for idx, e, n in zip(g.index, g["easting"], g["northing"], strict=True):
            if any((e - ke) ** 2 + (n - kn) ** 2 < within_m**2 for ke, kn in kept):
                drop.add(idx)
            else:
                kept.append((e, n))
    return df.drop(index=list(drop))


# --------------------------------------------------------------------------- build


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
    found = S.find_sources(sources)
    if networks:
        for f in networks:
            if not Path(f).is_file():
                raise SourcesNotFound(f"network file {str(f)!r} does not exist")
        found["osm"] = [Path(f).resolve() for f in networks]

    step("checksums")
    manifest_sources = source_manifest(found, Path(sources))
    src_hash = _hash(*(m["sha256"] for m in manifest_sources), BUILD_SCHEMA, __version__)

    step("boundaries")
    boroughs = S.read_boroughs(found["boroughs"])
    lsoas = S.read_lsoas(found["lsoas"], boroughs)
    lsoas21 = census2021.read_lsoas21(found.get("lsoas21", []), boroughs)
    msoas21 = census2021.msoas_from_lsoas(lsoas21)
    lookup21 = census2021.read_lookup(found.get("lsoa_lookup21", []))
    lsoa_tree = shapely.STRtree(lsoas.geometry.values)

    step("postcodes")
    cp = S.read_codepoint(found["codepoint"], found["codepoint_headers"], boroughs)
    ons = S.read_ons_lookup(found["ons_lookup"])
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
    ps = S.read_postcode_streets(found["postcode_streets"], keep=set(cp["postcode"]))
    streets, points = _street_entries(ps, cp)

    step("network")
    lines = net.read_all_lines(found["osm"])
    blocks = net.build_blocks(lines, boroughs)
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
    pois = pd.concat(
        [
            S.read_stations(found["stations"]),
            S.read_bus_stops(found["bus_stops"]),
            S.read_cycle_docks(found["cycle_docks"]),
            S.read_venues(found["venues"]),
            S.read_hospitals(found["cqc_hospitals"], found["nhs_hospitals"]),
            S.read_schools(found["schools"]),
            S.read_geonames(found["geonames"]),
        ],
        ignore_index=True,
    )
    variants = pois.pop("variants")
    pois["easting"] = pois["easting"].astype(float)
    pois["northing"] = pois["northing"].astype(float)
    pois = pois[np.isfinite(pois["easting"]) & np.isfinite(pois["northing"])]
    variants = variants.loc[pois.index]
    pts = shapely.points(pois["easting"].to_numpy(), pois["northing"].to_numpy())
    pois["borough"] = net._borough_of_points(pts, boroughs)
    pois["lsoa_code"] = net.lsoa_of(lsoas, lsoa_tree, pois["easting"], pois["northing"])
    cp_tree = shapely.STRtree(shapely.points(cp["easting"].to_numpy(), cp["northing"].to_numpy()))
    pois["district"] = _nearest_district(cp_tree, cp["district"].to_numpy(), pts)
    keep = pois["borough"].notna().to_numpy()
    pois, variants = pois[keep], variants[keep]
    bus_junctions = _bus_stop_junctions(pois, variants, streets, junctions)
    parts.append(bus_junctions)

    # named areas at their postcode district; boroughs at a point inside
    bmap = _borough_name_map(boroughs)
    areas = S.read_wikipedia_areas(found["wikipedia_areas"])
    arows = []
    for r in areas.itertuples(index=False):
        d = str(r.postcode_district).split(",")[0].strip().upper()
        if d not in districts.index:
            continue
        bo = bmap.get(normalise_name(str(r.borough).split(",")[0]))
        dd = districts.loc[d]
        arows.append(
            (
                "area",
                str(r.area).strip(),
                dd["easting"],
                dd["northing"],
                float(dd["precision_m"]),
                bo or dd["borough"],
                None,
                d,
                "wikipedia",
                None,
            )
        )
    area_df = pd.DataFrame(
        arows,
        columns=[
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
        ],
    )
    rp = boroughs.geometry.representative_point()
    boro_df = pd.DataFrame(
        {
            "entry_id": "borough:" + boroughs["gss_code"],
            "entry_type": "borough",
            "name": boroughs["name"],
            "easting": rp.x.to_numpy(),
            "northing": rp.y.to_numpy(),
            "precision_m": np.sqrt(boroughs.geometry.area.to_numpy() / np.pi),
            "borough": boroughs["name"],
            "lsoa_code": None,
            "district": None,
            "source": "boroughs",
            "category": boroughs["gss_code"],
        }
    )
    pois = pd.concat([pois, area_df], ignore_index=True)
    variants = pd.concat(
        [
            variants.reset_index(drop=True),
            pd.Series([[] for _ in range(len(area_df))], dtype=object),
        ],
        ignore_index=True,
    )
    pois["key"] = pois["name"].map(_cached_norm)
    pois["variants"] = variants.to_numpy()
    pois = pois[pois["key"] != ""]
    pois = _dedupe_near(pois.reset_index(drop=True), DEDUPE_M)
    pois["entry_id"] = [
        f"{t}:" + _hash(s, k, round(e), round(n))
        for t, s, k, e, n in zip(
            pois["entry_type"],
            pois["source"],
            pois["key"],
            pois["easting"],
            pois["northing"],
            strict=True,
        )
    ]
    pois = pois.drop_duplicates("entry_id")
    parts += [pois.drop(columns=["variants"]), boro_df]

    step("keys")
    entries = pd.concat(parts, ignore_index=True)
    entries = entries.drop_duplicates("entry_id")
    pcs = entries["entry_type"].isin(["postcode", "postcode_sector", "postcode_district"])
    # a postcode's key is its lower-case form (what normalise_name gives, without the cost)
    entries["key"] = np.where(
        pcs, entries["name"].astype(str).str.lower(), entries["name"].map(_cached_norm)
    )
    _fill_lsoa_district(entries, lsoas, lsoa_tree, cp)
    lon, lat = S.to_wgs(entries["easting"], entries["northing"])
    entries["lon"] = lon
    entries["lat"] = lat
    for c in ("street_a", "street_b"):
        if c not in entries:
            entries[c] = None
    entries = entries[ENTRY_COLUMNS].sort_values(["entry_type", "entry_id"]).reset_index(drop=True)
    for c in ("easting", "northing", "lat", "lon", "precision_m"):
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
    coverage = _coverage(blocks, boroughs)
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
        blocks.to_parquet(tmp / "blocks.parquet", index=False)
        lsoas.to_parquet(tmp / "lsoas.parquet", index=False)
        lsoas21.to_parquet(tmp / "lsoas21.parquet", index=False)
        msoas21.to_parquet(tmp / "msoas21.parquet", index=False)
        lookup21.to_parquet(tmp / "lsoa11_to_21.parquet", index=False)
        boroughs.to_parquet(tmp / "boroughs.parquet", index=False)
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
            "blocks": int(len(blocks)),
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


def _fill_lsoa_district(entries: pd.DataFrame, lsoas, lsoa_tree, cp: pd.DataFrame) -> None:
    """LSOA by point-in-polygon and postcode district of the nearest unit, where missing."""
    miss = entries["lsoa_code"].isna() & ~entries["entry_type"].isin(
        ["postcode_sector", "postcode_district", "borough"]
    )
    if miss.any():
        entries.loc[miss, "lsoa_code"] = net.lsoa_of(
            lsoas, lsoa_tree, entries.loc[miss, "easting"], entries.loc[miss, "northing"]
        )
    miss = entries["district"].isna() & (entries["entry_type"] != "borough")
    if miss.any():
        tree = shapely.STRtree(shapely.points(cp["easting"].to_numpy(), cp["northing"].to_numpy()))
        pts = shapely.points(
            entries.loc[miss, "easting"].to_numpy(float),
            entries.loc[miss, "northing"].to_numpy(float),
        )
        entries.loc[miss, "district"] = _nearest_district(tree, cp["district"].to_numpy(), pts)


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


def _coverage(blocks: gpd.GeoDataFrame, boroughs: gpd.GeoDataFrame) -> dict:
    by = blocks.groupby("borough")["length_m"].agg(["count", "sum"]) if len(blocks) else None
    with_blocks = {}
    if by is not None:
        for b, r in by.iterrows():
            with_blocks[str(b)] = {
                "blocks": int(r["count"]),
                "km": round(float(r["sum"]) / 1000, 1),
            }
    return {
        "boroughs_with_blocks": with_blocks,
        "boroughs_without_network": sorted(set(boroughs["name"]) - set(with_blocks)),
        "note": "street blocks exist only where a line source covers the borough; "
        "supply a full OSM extract (--network) for all of London",
    }


def _keys(entries: pd.DataFrame, pois: pd.DataFrame) -> pd.DataFrame:
    """Search keys: every entry's own key, variants (names without 'the', '<x> station',
    bus stop parts, postcode without space), and aliases from data/gazetteer/aliases.csv."""
    frames = [
        pd.DataFrame({"entry_id": entries["entry_id"], "key": entries["key"], "key_kind": "name"})
    ]
    vid, vkey = [], []
    for eid, key, vs in zip(pois["entry_id"], pois["key"], pois["variants"], strict=True):
        for v in vs or ():
            k = _cached_norm(v)
            if k and k != key:
                vid.append(eid)
                vkey.append(k)
    pcs = entries[entries["entry_type"].isin(["postcode", "postcode_sector"])]
    vid += pcs["entry_id"].tolist()
    vkey += pcs["key"].str.replace(" ", "", regex=False).tolist()
    frames.append(pd.DataFrame({"entry_id": vid, "key": vkey, "key_kind": "variant"}))
    aliases = load_aliases()
    unresolved = []
    if len(aliases):
        idx = entries.set_index(["entry_type", "key"])[["entry_id", "borough"]].sort_index()
        aid, akey = [], []
        for r in aliases.itertuples(index=False):
            tk = (r.target_type, normalise_name(r.target_name))
            if tk not in idx.index:
                unresolved.append(r.alias)
                continue
            hits = idx.loc[[tk]]
            if getattr(r, "target_borough", ""):
                hits = hits[hits["borough"] == r.target_borough]
            if hits.empty:
                unresolved.append(r.alias)
                continue
            for eid in hits["entry_id"]:
                aid.append(eid)
                akey.append(normalise_name(r.alias))
        frames.append(pd.DataFrame({"entry_id": aid, "key": akey, "key_kind": "alias"}))
    keys = pd.concat(frames, ignore_index=True).drop_duplicates(["entry_id", "key"])
    keys = keys[keys["key"].str.len() > 0].astype("string").reset_index(drop=True)
    keys.attrs["unresolved"] = unresolved
    return keys
