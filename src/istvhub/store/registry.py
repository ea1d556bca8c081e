"""The department registry: which CSV lists the departments, and its rows typed for the
``departments`` table (``Store.load_registry`` writes them)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from istvhub.core.config import DATA_DIR
from istvhub.store.rows import FLOAT_COLUMNS

#: The registry shipped with the package; ``ISTVHUB_DEPARTMENTS`` points elsewhere (tests, forks).
DEFAULT_REGISTRY = DATA_DIR / "departments.csv"
DEPARTMENT_COLUMNS = (
    "ods_code",
    "name",
    "dept_type",
    "borough",
    "lat",
    "lon",
    "easting",
    "northing",
    "sharing_since",
    "source",
)


def registry_path() -> Path:
    """The registry to load: ``$ISTVHUB_DEPARTMENTS``, else the one shipped with the package."""
    env = os.environ.get("ISTVHUB_DEPARTMENTS")
    return Path(env) if env else DEFAULT_REGISTRY


def read_registry(path: Path) -> list[dict[str, Any]]:
    """Rows of a department registry CSV, typed for the ``departments`` table."""
    rows: list[dict[str, Any]] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for col in DEPARTMENT_COLUMNS:
                val = (raw.get(col) or "").strip()
                if col in FLOAT_COLUMNS:
                    row[col] = float(val) if val else None
                else:
                    row[col] = val or None
            if not row["ods_code"]:
                continue
            row["ods_code"] = row["ods_code"].upper()
            row["name"] = row["name"] or row["ods_code"]
            row["dept_type"] = row["dept_type"] or "01"
            rows.append(row)
    return rows
