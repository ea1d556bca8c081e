"""A second dev set from labels someone else wrote: police.uk "On or near ..." snap-point labels
with their coordinates, recast as ED text in several styles.

police.uk publishes each crime at an anonymised snap point with a label: "On or near Marsh
Wall" (a street), a station name ("Canning Town (dlr)"), or a bare kind of place ("On or near
Supermarket"), which names no place and is expected *unknown*. The files are read from a path
(``$ISTVHUB_POLICE_SAMPLE`` or ``../shared/police-uk-sample``), never copied into the repo.

Tolerance: a snap point lies on or beside the street, anywhere along it, while the geocoder
answers one point for the street, so streets get 500 m (the dev set's street tolerance) and
numbered roads 1,500 m; a station named with a station word 300 m, a bare station name 1,000 m
(the area of the same name is an acceptable reading of "Blackwall").
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from istvhub.core.config import REPO_DIR

_STREET_SHORT = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "lane": "ln",
    "close": "cl",
    "place": "pl",
    "square": "sq",
    "gardens": "gdns",
}
_TAIL = ["{p} after argument", "fight on {p}", "{p} - hit by known person", "{p} late evening"]
_STATION_NAMES = re.compile(r"\s*\((dlr|tube|rail|station|underground|overground)\)\s*$", re.I)


def default_dir() -> Path | None:
    env = os.environ.get("ISTVHUB_POLICE_SAMPLE")
    if env:
        return Path(env)
    for base in (Path.cwd(), REPO_DIR):
        cand = base.parent / "shared" / "police-uk-sample"
        if cand.is_dir():
            return cand.resolve()
    return None


def extract_area(path: Path) -> str:
    """The area an extract was queried for, from its file name
    (``met_2014-08_canary_wharf_api.json`` -> "canary wharf"): the context an extract gives,
    as a department gives the ED's location."""
    m = re.match(r"^[a-z]+_\d{4}-\d{2}_(.+?)(?:_api)?$", Path(path).stem.lower())
    return (m.group(1) if m else Path(path).stem).replace("_", " ").strip()


def read_labels(directory: Path) -> pd.DataFrame:
    """Distinct (label, lat, lon) from every police.uk API JSON file in ``directory``, with the
    area of the first extract it came from (``area``)."""
    rows: dict[tuple[str, float, float], str] = {}
    for p in sorted(Path(directory).glob("*.json")):
        area = extract_area(p)
        for c in json.loads(p.read_text()):
            loc = c.get("location") or {}
            name = ((loc.get("street") or {}).get("name") or "").strip()
            if name and loc.get("latitude") and loc.get("longitude"):
                rows.setdefault((name, float(loc["latitude"]), float(loc["longitude"])), area)
    out = pd.DataFrame(sorted(rows), columns=["label", "lat", "lon"])
    out["area"] = [rows[k] for k in sorted(rows)]
    return out


#: police.uk's own words for a kind of place, used instead of a name (no place is named)
GENERIC = frozenset(
    "Supermarket|Nightclub|Parking Area|Petrol Station|Police Station|Shopping Area|"
    "Pedestrian Subway|Park/open Space|Theatre/concert Hall|Bus/coach Station|"
    "Conference/exhibition Centre|Further/higher Educational Building|Sports/recreation Area|"
    "Hospital|Airport/airfield|Prison|Church|Nursery|Sports Centre".split("|")
)


def kind_of(label: str) -> str:
    """street | road_number | station (police.uk labels without "On or near") | generic."""
    if not label.lower().startswith("on or near "):
        return "station"
    name = label[len("on or near ") :]
    if name in GENERIC:
        return "generic"
    if re.fullmatch(r"[AMB]\d+[A-Z]?", name):
        return "road_number"
    return "street"


def _abbrev(name: str) -> str:
    return " ".join(_STREET_SHORT.get(w.lower(), w) for w in name.split())


def recast(
    labels: pd.DataFrame,
    district_of: Callable[[float, float], str | None] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Each label in six ED styles: as published, bare lower case, "o/s ...", with the postcode
    district of its point, capitals with abbreviations, and a short narrative tail."""
    rng = random.Random(f"police:{seed}")
    out = []
    if "area" not in labels:
        labels = labels.assign(area=None)
    for label, lat, lon, area in labels[["label", "lat", "lon", "area"]].itertuples(index=False):
        kind = kind_of(label)
        name = label[len("on or near ") :] if label.lower().startswith("on or near ") else label
        name = _STATION_NAMES.sub("", name)
        dist = district_of(lat, lon) if district_of else None
        if kind == "station":
            styles = {
                "label": (label, 1000.0),
                "bare": (f"{name.lower()} station", 300.0),
                "outside": (f"o/s {name} dlr", 300.0),
                "district": (f"{name} stn {dist or ''}".strip(), 300.0),
                "caps": (f"{name.upper()} STN", 300.0),
                "narrative": (rng.choice(_TAIL).format(p=f"{name.lower()} station"), 300.0),
            }
        else:
            tol = 1500.0 if kind == "road_number" else 500.0
            styles = {
                "label": (label, tol),
                "bare": (name.lower(), tol),
                "outside": (f"o/s {name.lower()}", tol),
                "district": (f"{name} {dist or ''}".strip(), tol),
                "caps": (_abbrev(name).upper(), tol),
                "narrative": (rng.choice(_TAIL).format(p=name.lower()), tol),
            }
        expect = "unknown" if kind == "generic" else "located"
        for style, (text, tol) in styles.items():
            out.append(
                {
                    "text": text,
                    "lat": lat,
                    "lon": lon,
                    "tol_m": tol if expect == "located" else float("nan"),
                    "expect": expect,
                    "category": kind,
                    "style": style,
                    "area": area,
                    "department": None,
                }
            )
    return pd.DataFrame(out).drop_duplicates("text").reset_index(drop=True)


def with_extract_context(
    recast_labels: pd.DataFrame,
    departments: dict[str, tuple[float, float, str | None]],
    area_xy: Callable[[str], tuple[float, float] | None],
) -> pd.DataFrame:
    """The same texts with the context their extract gives: the department nearest the area the
    extract was queried for (located by the gazetteer itself, never by the labels' points), as
    an ED's records carry the ED's own department. Rows whose area is not found keep none."""
    dept_of: dict[str, str | None] = {}
    for area in recast_labels["area"].dropna().unique():
        xy = area_xy(str(area))
        dept_of[area] = (
            min(
                departments,
                key=lambda d: (departments[d][0] - xy[0]) ** 2 + (departments[d][1] - xy[1]) ** 2,
            )
            if xy and departments
            else None
        )
    out = recast_labels.copy()
    out["department"] = out["area"].map(lambda a: dept_of.get(a) if isinstance(a, str) else None)
    return out
