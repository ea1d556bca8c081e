"""The canonical ISTV record and the geocode result: the contract every stage shares.

ISTV minimum data set (ISB 1594 / DCB1594) reduced to what the hub needs, plus two coarse
equality fields (age band, sex). Nothing else about the patient is ever kept: no name, date of
birth, NHS number, patient postcode or address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from istvhub.core.periods import PERIOD_PATTERN

LOCATION_TYPES = (
    "street",
    "licensed_premises",
    "home",
    "workplace",
    "school",
    "transport",
    "other",
    "unknown",
)
WEAPONS = ("body_part", "sharp", "blunt", "glass", "firearm", "other", "unknown")
AGE_BANDS = ("0-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown")
SEXES = ("male", "female", "other", "unknown")

LocationType = Literal[
    "street", "licensed_premises", "home", "workplace", "school", "transport", "other", "unknown"
]
Weapon = Literal["body_part", "sharp", "blunt", "glass", "firearm", "other", "unknown"]
AgeBand = Literal["0-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"]
Sex = Literal["male", "female", "other", "unknown"]

#: Columns of a canonical record, in order (the ``records`` table adds storage columns).
RECORD_COLUMNS = (
    "record_id",
    "department",
    "period",
    "arrival_at",
    "incident_date",
    "incident_time",
    "location_text",
    "location_type",
    "weapon",
    "weapon_text",
    "age_band",
    "sex",
)

GEO_STATUSES = ("located", "home", "unknown", "outside_area", "ambiguous", "unmatched")
MATCH_TYPES = (
    "postcode",
    "postcode_sector",
    "postcode_district",
    "junction",
    "venue",
    "station",
    "street",
    "area",
    "borough",
)
#: Exactly the result columns of the geocoder (issue 4, point 3): a contract with analysts' scripts.
GEOCODE_COLUMNS = (
    "geo_status",
    "match_type",
    "lat",
    "lon",
    "easting",
    "northing",
    "precision_m",
    "confidence",
    "matched_name",
    "lsoa_code",
    "borough",
    "block_id",
    "reason",
    # Census 2021 areas (issue 19), beside lsoa_code (2011); added after the original contract
    "lsoa21_code",
    "msoa21_code",
)


def legacy_record_id(department: str, source_key: str) -> str:
    """The unkeyed id of release 0.1 (a truncated SHA-256): reversible by brute force when the
    key is an NHS number, so never stored any more; only the input of :func:`make_record_id`
    and of ``istvhub rekey-records``."""
    h = hashlib.sha256(f"{department.upper()}\x1f{source_key}".encode()).hexdigest()
    return h[:24]


#: length of a stored (keyed) record id; release-0.1 ids have 24 characters
RECORD_ID_CHARS = 32


def keyed_record_id(legacy_id: str, *, home: Path | None = None) -> str:
    """HMAC of a legacy id under the installation secret (``istvhub.core.secrets``)."""
    from istvhub.core.secrets import keyed_digest

    return keyed_digest("record_id", legacy_id, home=home).hex()[:RECORD_ID_CHARS]


def record_id_maker(home: Path | None = None) -> Callable[[str, str], str]:
    """``make_record_id`` for a whole file: the secret is read and the HMAC keyed once (the
    same ids as :func:`make_record_id`, several times faster on 100,000 rows)."""
    import hmac

    from istvhub.core.secrets import installation_secret

    base = hmac.new(installation_secret(home), b"record_id\x00", hashlib.sha256)

    def make(department: str, source_key: str) -> str:
        h = base.copy()
        h.update(legacy_record_id(department, source_key).encode())
        return h.hexdigest()[:RECORD_ID_CHARS]

    return make


def make_record_id(department: str, source_key: str, *, home: Path | None = None) -> str:
    """Stable id: the same department + source row key always gives the same id, so a re-upload of
    a month keeps its records' ids (and their corrections, joins and audit trail). Keyed with
    the installation secret: without the secret file no one can test a guessed row key."""
    return keyed_record_id(legacy_record_id(department, source_key), home=home)


class IstvRecord(BaseModel):
    """One ED attendance for assault, as the hub stores it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str = Field(min_length=8, max_length=64)
    department: str = Field(min_length=3, max_length=12, pattern=r"^[A-Z0-9]+$")
    period: str = Field(pattern=PERIOD_PATTERN)
    arrival_at: datetime
    incident_date: date | None = None
    incident_time: time | None = None
    location_text: str | None = Field(default=None, max_length=255)
    location_type: LocationType = "unknown"
    weapon: Weapon = "unknown"
    weapon_text: str | None = Field(default=None, max_length=255)
    age_band: AgeBand = "unknown"
    sex: Sex = "unknown"
