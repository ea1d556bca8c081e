"""Nil returns ("received, 0 records") and the byte-identical re-upload check they share with
every upload."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd

from istvhub._errors import ConfirmationRequired, FileRejected, UnknownDepartment
from istvhub.core.periods import is_period
from istvhub.ingest import identity
from istvhub.ingest.result import IngestResult
from istvhub.store import Store


def unchanged_version(
    store: Store, department: str, period: str, sha: str, filename: str
) -> tuple[int | None, str] | None:
    """(version, message) when the file is byte-identical to the current version."""
    if store.current_sha256(department, period) != sha:
        return None
    sub = store.submissions(department, current_only=True)
    sub = sub[sub["period"] == period]
    if not len(sub):
        return None
    version = int(sub["version"].iloc[0])
    when = pd.Timestamp(sub["received_at"].iloc[0])
    return version, (
        f"{filename}: identical to version {version} of {department} {period} received on "
        f"{when:%Y-%m-%d}; nothing changed"
    )


NIL_ADAPTER = "nil"


def ingest_nil(
    store: Store,
    *,
    department: str,
    period: str,
    uploaded_by: str | None = None,
    received_at: datetime | None = None,
    filename: str | None = None,
    file_sha256: str | None = None,
) -> IngestResult:
    """Record a nil return: the department had no assaults in ``period`` ("received, 0
    records"). Compliance counts it received (and on time when it is)."""
    from istvhub.ingest import plausibility
    from istvhub.ingest.adapters import DEPT_RE
    from istvhub.records import RECORD_COLUMNS

    name = filename or f"nil return {department} {period}"
    department = department.strip().upper()
    if not DEPT_RE.match(department):
        raise FileRejected("department code is not an ODS site code", file=name, field="department")
    if department not in store.department_codes():
        raise UnknownDepartment(
            "department is not in the registry of ISTV departments", file=name, field="department"
        )
    if not is_period(period):
        raise FileRejected("period must be YYYY-MM", file=name, field="period")
    plausibility.check_period(period, file=name, field="period")
    sha = file_sha256 or hashlib.sha256(f"nil\x1f{department}\x1f{period}".encode()).hexdigest()
    result = IngestResult(
        file=name, status="stored", adapter=NIL_ADAPTER, department=department, period=period
    )
    unchanged = unchanged_version(store, department, period, sha, name)
    if unchanged is not None:
        result.status, result.version, result.message = "unchanged", *unchanged
        return result
    prev = identity.previous_version(store, department, period)
    if prev is not None and prev.same_month and prev.rows > 0:
        raise ConfirmationRequired(
            f"{department} {period} version {prev.version} holds {prev.rows} records; a nil "
            "return would replace them with none. Upload a corrected file instead",
            file=name,
            field="period",
        )
    sr = store.store_submission(
        department=department,
        period=period,
        file_sha256=sha,
        source_filename=name,
        adapter=NIL_ADAPTER,
        records=pd.DataFrame(columns=[*RECORD_COLUMNS, "source_row"]),
        rows_total=0,
        uploaded_by=uploaded_by,
        received_at=received_at,
    )
    result.status, result.version = sr.status, sr.version
    result.submission_id, result.superseded_version = sr.submission_id, sr.superseded_version
    result.message = f"{name}: received {department} {period}, 0 records (nil return)"
    if sr.superseded_version:
        result.message += f"; supersedes version {sr.superseded_version}"
    return result
