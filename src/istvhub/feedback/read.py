"""Read one department's records for one month (the IO edge): only the columns the sheet needs."""

from __future__ import annotations

import pandas as pd

from istvhub.store.repos import Db
from istvhub.store.repos.departments import department_name
from istvhub.store.repos.departments import known_department as _known
from istvhub.store.repos.records import department_month

COLUMNS = ("department", "location_text", "geo_status", "match_type", "reason")


def read_department_month(db: Db, department: str, period: str) -> tuple[pd.DataFrame, str]:
    """(records of the current version of ``department`` / ``period``, department name)."""
    df = department_month(db, department, period, COLUMNS)
    return df, department_name(db, department) or ""


def known_department(db: Db, department: str) -> bool:
    return _known(db, department)
