"""Derive ``src/istvhub/data/departments.csv`` (the department registry) from the shared open data.

Why a script: the registry is data the hub trusts (uploads from an unknown site code are rejected),
so it must be reproducible from published sources, not typed in. The only hand-kept part is the
list below: which sites are London's Type 1 EDs and which urgent treatment / walk-in centres are
registered, with their ODS site codes (NHS ODS), and a postcode for any site the health files lack.

Sources (``--sources``, default ``$ISTVHUB_SOURCES`` or ``../shared/gazetteer-sources``):
  1. ``health/nhs_choices_hospitals_london_2014.csv`` (NHS website / ODS: OrganisationCode, name,
     Latitude/Longitude), looked up by ODS code;
  2. ``health/cqc_london_hospitals.geojson`` (CQC care directory), looked up by hospital name, for
     sites the NHS file lacks (the CQC file carries no ODS codes);
  3. Code-Point Open (OS) at the site's real postcode, for sites in neither file.
Borough = the ``london_boroughs.gpkg`` polygon containing the site (EPSG:27700 point-in-polygon),
so names match the boundary file exactly. Easting/northing from lat/lon with pyproj (EPSG:4326 ->
EPSG:27700), or the other way round for Code-Point placements.

Run: ``python scripts/build_registry.py [--sources DIR] [--out src/istvhub/data/departments.csv]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import geopandas as gpd
from pyproj import Transformer
from shapely.geometry import Point

from istvhub.store.registry import DEPARTMENT_COLUMNS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "istvhub" / "data" / "departments.csv"
COLUMNS = DEPARTMENT_COLUMNS  # the columns the store reads the registry by

# (ods_code, dept_type, display name or None to take the source's, CQC name to match or None,
#  postcode if in neither health file or None, sharing_since)
# Type 01 = consultant-led 24h ED; 03 = urgent treatment centre; 04 = walk-in centre (NHS DD
# "Emergency care department type"). Codes are the NHS ODS site codes as the NHS website lists them.
SITES: list[tuple[str, str, str | None, str | None, str | None, str]] = [
    ("RJ122", "01", "St Thomas' Hospital", None, None, ""),
    ("RJZ01", "01", "King's College Hospital", None, None, ""),
    ("RJZ30", "01", None, None, None, ""),
    ("RJ701", "01", "St George's Hospital", None, None, ""),
    ("R1H12", "01", "The Royal London Hospital", "The Royal London Hospital", None, ""),
    ("RRV03", "01", None, None, None, ""),
    ("RYJ01", "01", "St Mary's Hospital", None, None, ""),
    ("RYJ02", "01", None, None, None, ""),
    ("RQM01", "01", None, None, None, ""),
    ("RFW01", "01", None, None, None, ""),
    ("R1K01", "01", None, None, None, ""),
    ("RAS01", "01", None, None, None, ""),
    ("R1K04", "01", None, None, None, ""),
    ("RAL01", "01", None, None, None, ""),
    ("RKEQ4", "01", None, None, None, ""),
    ("RAPNM", "01", None, None, None, ""),
    ("RAL26", "01", None, None, None, ""),
    ("RQXM1", "01", None, None, None, ""),
    ("R1HNH", "01", "Newham University Hospital", None, None, ""),
    ("R1HKH", "01", None, None, None, ""),
    ("RF4QH", "01", "Queen's Hospital, Romford", None, None, ""),
    ("RF4DG", "01", None, None, None, ""),
    ("RJ224", "01", None, None, None, ""),
    ("RJ231", "01", "Queen Elizabeth Hospital, Woolwich", None, None, ""),
    ("RJ611", "01", None, None, None, ""),
    ("RVR05", "01", None, None, None, ""),
    ("RAX01", "01", None, None, None, ""),
    # Urgent treatment centres (03) and walk-in centres (04): optional ISTV sharers.
    ("R1K12", "03", "Central Middlesex Urgent Care Centre", None, None, "2025-04"),
    ("R1K14", "03", "Ealing Hospital Urgent Care Centre", None, None, ""),
    ("RALC7", "03", "Chase Farm Hospital Urgent Treatment Centre", None, None, ""),
    ("RPGHF", "03", "Queen Mary's Hospital Sidcup Urgent Treatment Centre", None, None, ""),
    ("RF4PP", "03", "Barking Hospital Urgent Treatment Centre", None, None, ""),
    ("RAX05", "04", "Teddington Memorial Hospital Walk-in Centre", None, None, ""),
    ("R1K21", "04", "Edgware Community Hospital Walk-in Centre", None, None, ""),
    # A site in neither health file goes here with its postcode (4th field None, 5th the postcode):
    # it is placed at that postcode's Code-Point Open point and `source` says so.
]

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def default_sources() -> Path:
    env = os.environ.get("ISTVHUB_SOURCES")
    return Path(env) if env else REPO.parent / "shared" / "gazetteer-sources"


def load_nhs(src: Path) -> dict[str, dict[str, str]]:
    path = src / "health" / "nhs_choices_hospitals_london_2014.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["OrganisationCode"]: r for r in csv.DictReader(fh)}


def load_cqc(src: Path) -> dict[str, tuple[float, float, str]]:
    path = src / "health" / "cqc_london_hospitals.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[float, float, str]] = {}
    for f in data["features"]:
        lon, lat = f["geometry"]["coordinates"][:2]
        out.setdefault(f["properties"]["hospital_name"], (lat, lon, f["properties"]["postcode"]))
    return out


def codepoint_lookup(src: Path, postcode: str) -> tuple[int, int]:
    """Easting/northing of a unit postcode from Code-Point Open (OS layout, no header)."""
    area = "".join(ch for ch in postcode.split()[0] if ch.isalpha()).lower()
    path = src / "postcodes" / "codepoint-open" / "Data" / "CSV" / f"{area}.csv"
    want = " ".join(postcode.upper().split())
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if " ".join(row[0].split()) == want:
                return int(row[2]), int(row[3])
    raise SystemExit(f"postcode {want} not found in {path.name}")


def build(src: Path) -> list[dict[str, str]]:
    nhs = load_nhs(src)
    cqc = load_cqc(src)
    boroughs = gpd.read_file(src / "boundaries" / "london_boroughs.gpkg")[["name", "geometry"]]
    rows = []
    for ods, dtype, name, cqc_name, postcode, since in SITES:
        if postcode:
            e, n = codepoint_lookup(src, postcode)
            lon, lat = TO_WGS.transform(e, n)
            source = f"Code-Point Open May 2025 at {postcode} (site not in the health files)"
            name = name or ods
        elif cqc_name:
            lat, lon, pc = cqc[cqc_name]
            e, n = TO_BNG.transform(lon, lat)
            source = f"CQC care directory (cqc_london_hospitals.geojson, {pc}); ODS code hand-kept"
            name = name or cqc_name
        else:
            r = nhs[ods]
            lat, lon = float(r["Latitude"]), float(r["Longitude"])
            e, n = TO_BNG.transform(lon, lat)
            pc = r["Postcode"]
            source = f"NHS website/ODS 2014 (nhs_choices_hospitals_london_2014.csv, {pc})"
            name = name or r["OrganisationName"].strip()
        hit = boroughs[boroughs.contains(Point(e, n))]
        if len(hit) != 1:
            raise SystemExit(f"{ods}: site not inside exactly one London borough")
        rows.append(
            {
                "ods_code": ods,
                "name": name,
                "dept_type": dtype,
                "borough": hit.iloc[0]["name"],
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
                "easting": f"{e:.0f}",
                "northing": f"{n:.0f}",
                "sharing_since": since,
                "source": source,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, default=default_sources())
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows = build(args.sources)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} departments to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
