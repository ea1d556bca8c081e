"""Read police.uk street-level crime (monthly CSV download or API JSON), violence only.

CSV columns (data.police.uk "street" files): ``Crime ID, Month, Reported by, Falls within,
Longitude, Latitude, Location, LSOA code, LSOA name, Crime type, Last outcome category,
Context``; violence is ``Violence and sexual offences`` (``Violent crime`` before May 2013). API
JSON (``/api/crimes-street/...``): a list of crimes, violence is ``category == "violent-crime"``.

Police points are anonymised: each crime is moved to one of a fixed set of map points ("On or
near <street>"), so a point says "somewhere near here", not where it happened.

A crime present in two files (overlapping API extracts, or a CSV and a JSON of the same month)
is counted once. Each row is keyed by its persistent id (the CSV's Crime ID) and its occurrence
number within its file: police.uk lists some crimes twice under one persistent id (two rows,
two API ids), and both rows count, as they do in police.uk's own figures. Rows without a
persistent id are keyed by the API id (JSON) or file and row (CSV).
Errors name the file, row and field, never a value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub._errors import FileRejected
from istvhub.core.periods import PERIOD_RE

CSV_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
CSV_VIOLENCE = ("Violence and sexual offences", "Violent crime")
API_VIOLENCE = ("violent-crime",)
#: What the readers return, one row per violent crime.
POLICE_COLUMNS = ("crime_key", "month", "lon", "lat", "street", "lsoa_code", "source")
_MONTH = PERIOD_RE
_ON_OR_NEAR = re.compile(r"^\s*on or near\s+", re.IGNORECASE)


class PoliceFileRejected(FileRejected):
    """A police.uk file cannot be read (names file, row, field; never a value)."""


def street_of(location: pd.Series) -> pd.Series:
    """``"On or near Marsh Wall"`` -> ``"Marsh Wall"`` (the snap point's street, if it is one)."""
    s = location.astype("string").str.replace(_ON_OR_NEAR, "", regex=True).str.strip()
    return s.where((s.str.len() > 0) & (s.str.lower() != "no location"))


def _finish(df: pd.DataFrame, name: str) -> pd.DataFrame:
    bad = ~df["month"].astype("string").str.match(_MONTH).fillna(False)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise PoliceFileRejected(
            "expected YYYY-MM", file=name, row=int(df["_row"].iloc[row - 1]), field="Month"
        )
    for c in ("lon", "lat"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    out = df[list(POLICE_COLUMNS)].reset_index(drop=True)
    return out


def read_police_csv(path: Path | str) -> pd.DataFrame:
    """Violent crimes of one police.uk street-level CSV."""
    p = Path(path)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PoliceFileRejected(f"not a readable CSV ({type(exc).__name__})", file=p.name) from exc
    cols = {c.strip(): c for c in raw.columns}
    for need in ("Month", "Longitude", "Latitude", "Location", "Crime type"):
        if need not in cols:
            raise PoliceFileRejected("required police.uk column missing", file=p.name, field=need)
    raw = raw.rename(columns={v: k for k, v in cols.items()})
    raw["_row"] = np.arange(1, len(raw) + 1)
    v = raw[raw["Crime type"].str.strip().isin(CSV_VIOLENCE)]
    cid = v["Crime ID"].str.strip() if "Crime ID" in v else pd.Series("", index=v.index)
    df = pd.DataFrame(
        {
            "crime_key": cid.where(cid != "", "csv:" + p.name + ":" + v["_row"].astype(str)),
            "month": v["Month"].str.strip(),
            "lon": v["Longitude"].str.strip(),
            "lat": v["Latitude"].str.strip(),
            "street": street_of(v["Location"]),
            "lsoa_code": (
                v["LSOA code"].str.strip().replace("", None) if "LSOA code" in v else None
            ),
            "source": p.name,
            "_row": v["_row"],
        }
    )
    return _finish(_occurrence_keys(df), p.name)


def _occurrence_keys(df: pd.DataFrame) -> pd.DataFrame:
    """``<persistent id>#<k>``: the k-th row of that id in this file (k from 0)."""
    k = df.groupby("crime_key", sort=False).cumcount().astype(str)
    df["crime_key"] = df["crime_key"].astype(str) + "#" + k
    return df


def read_police_json(path: Path | str) -> pd.DataFrame:
    """Violent crimes of one police.uk API response (``crimes-street`` / ``crimes-at-location``)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoliceFileRejected(
            f"not police.uk API JSON ({type(exc).__name__})", file=p.name
        ) from exc
    if not isinstance(data, list):
        raise PoliceFileRejected("expected a JSON list of crimes", file=p.name)
    rows = []
    for i, c in enumerate(data, start=1):
        if not isinstance(c, dict) or "category" not in c or "month" not in c:
            raise PoliceFileRejected(
                "not a police.uk crime object", file=p.name, row=i, field="category"
            )
        if c["category"] not in API_VIOLENCE:
            continue
        loc = c.get("location") or {}
        street = (loc.get("street") or {}).get("name")
        key = c.get("persistent_id") or f"api:{c.get('id')}"
        rows.append(
            (key, c["month"], loc.get("longitude"), loc.get("latitude"), street, None, p.name, i)
        )
    df = pd.DataFrame(rows, columns=[*POLICE_COLUMNS, "_row"])
    df["street"] = street_of(df["street"]) if len(df) else df["street"]
    return _finish(_occurrence_keys(df), p.name)


def read_police(paths: list[Path | str]) -> pd.DataFrame:
    """Violent crimes of several files (``.json`` API responses, else CSV), each counted once."""
    if not paths:
        raise PoliceFileRejected("no police.uk file given", field="--police")
    frames = []
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise PoliceFileRejected("file not found", file=p.name, field="--police")
        head = p.read_bytes()[:64].lstrip()
        is_json = p.suffix.lower() == ".json" or head[:1] in (b"[", b"{")
        frames.append(read_police_json(p) if is_json else read_police_csv(p))
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates("crime_key", keep="first").reset_index(drop=True)
