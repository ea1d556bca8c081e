"""Geocoding at ingest, slice by slice, with the caller's geocoder (ingest does not depend on the
geocode stage): a failure leaves the records stored ungeocoded, never rejects the upload."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import pandas as pd

from istvhub._errors import IstvhubError
from istvhub.records import GEOCODE_COLUMNS

log = logging.getLogger("istvhub.ingest.core")
Progress = Callable[[str], None]


class RecordGeocoder(Protocol):
    """What ingest needs of a geocoder (``istvhub.geocode.Geocoder`` is one); the caller wires it,
    so ingest does not depend on the geocode stage."""

    def geocode_frame(
        self, df: pd.DataFrame, text_col: str = ..., department_col: str | None = ...
    ) -> pd.DataFrame: ...


def _geocode_records(
    df: pd.DataFrame, geocoder: RecordGeocoder | None
) -> tuple[pd.DataFrame, int, str | None]:
    """Geocode records with the caller's geocoder; ingest works without one.

    Returns (frame with geocode columns added, number geocoded, warning or None).
    """
    if df.empty or geocoder is None:
        return df, 0, None
    texts = int(df["location_text"].notna().sum())  # "geocoded N" counts texts, not rows
    try:
        res = geocoder.geocode_frame(df, text_col="location_text", department_col="department")
    except IstvhubError as exc:
        return df, 0, f"geocoding skipped: {exc}"
    except Exception as exc:  # the record is stored ungeocoded; `istvhub geocode --stored` redoes
        log.warning("geocoding failed: %s", type(exc).__name__)
        return df, 0, f"geocoding skipped ({type(exc).__name__}); run istvhub geocode --stored"
    out = df  # the caller's own frame: columns added in place, not on a copy of every record
    for c in GEOCODE_COLUMNS:
        if c in res.columns:
            out[c] = res[c].values
    version = getattr(geocoder, "version", None)
    out["gazetteer_version"] = str(version) if version else None
    out["geocoded_at"] = datetime.now(UTC)
    return out, texts, None


class SliceGeocoder:
    """Geocodes each slice of records with the caller's geocoder (or passes them through),
    summing what the report says: texts geocoded, records located, the first warning."""

    def __init__(self, geocoder: RecordGeocoder | None, step: Progress) -> None:
        self.geocoder, self.step = geocoder, step
        self.geocoded = self.located = 0
        self.warning: str | None = None
        self._said = False

    def __call__(self, records: pd.DataFrame) -> pd.DataFrame:
        if self.geocoder is None:
            return records
        if not self._said:
            self.step("geocode")
            self._said = True
        records, n, warn = _geocode_records(records, self.geocoder)
        self.geocoded += n
        self.warning = self.warning or warn
        if "geo_status" in records.columns:
            self.located += int((records["geo_status"] == "located").sum())
        return records
