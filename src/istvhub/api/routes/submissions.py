"""/submissions: ED uploads through the same ingest path as `istvhub ingest`, and their reports.

Rules: an ED analyst uploads and reads only their own departments (other departments' submissions
are 404, as if they did not exist); admin sees all; CSP analysts and MOPAC never see submissions
or records (403).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from istvhub._errors import NeedsMapping
from istvhub.api.deps import StoreDep, audit, require
from istvhub.api.upload import receive_upload
from istvhub.api.users import User
from istvhub.api.words import api_words
from istvhub.core.periods import PERIOD_PATTERN, is_period
from istvhub.geocode.shared import shared_geocoder
from istvhub.ingest.core import ingest_bytes, ingest_nil
from istvhub.ingest.layouts import all_layouts

router = APIRouter(tags=["submissions"])

UploaderDep = Annotated[User, Depends(require("ed_analyst", "admin"))]
_DEPT = re.compile(r"^[A-Z0-9]{3,12}$")
#: default upload limit; override with ``app.state.max_upload_bytes``
DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
SUBMISSION_FIELDS = (
    "submission_id",
    "department",
    "period",
    "version",
    "status",
    "received_at",
    "file_sha256",
    "source_filename",
    "adapter",
    "rows_total",
    "rows_accepted",
    "rows_quarantined",
    "rows_skipped",
    "pii_scrubbed",
    "uploaded_by",
)


def _visible(user: User, department: str) -> bool:
    return user.role == "admin" or department in user.departments


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in SUBMISSION_FIELDS:
        v: Any = row.get(k)
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif hasattr(v, "item"):
            v = v.item()
        out[k] = v
    out["report"] = f"/submissions/{out['submission_id']}/report"
    return out


def _submission(store: Any, submission_id: int, user: User) -> dict[str, Any]:
    """The submission row if it exists AND the user may see it; otherwise 404 (no oracle)."""
    df = store.submissions()
    hit = df[df["submission_id"] == submission_id]
    if hit.empty or not _visible(user, str(hit.iloc[0]["department"])):
        raise HTTPException(404, "no such submission")
    row: dict[str, Any] = hit.iloc[0].to_dict()
    return row


def run_ingest(
    store: Any,
    path: Path,
    *,
    filename: str,
    department: str | None,
    period: str | None,
    adapter: str | None,
    uploaded_by: str,
    home: Path,
    confirm_replace: bool = False,
    mapping: str | None = None,
) -> dict[str, Any]:
    """Call the ingest stage exactly as the CLI does (read, adapt, PII guard, validate, geocode
    when a gazetteer is built, store in one transaction). A rejection raises FileRejected (422)."""
    result = ingest_bytes(
        path,  # the spooled upload: a large CSV is parsed from disk, never held whole
        filename,
        store,
        department=department,
        period=period,
        adapter=adapter,
        geocoder=shared_geocoder(home, store.url),  # loaded once per worker, not per upload
        home=home,
        uploaded_by=uploaded_by,
        confirm_replace=confirm_replace,
        mapping=mapping,
    )
    out = result.as_dict()
    out["issues"] = result.report_rows()
    return out


UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV or XLSX monthly extract",
                        },
                        "department": {
                            "type": "string",
                            "description": "ODS code (default: your department)",
                        },
                        "period": {"type": "string", "pattern": PERIOD_PATTERN},
                        "adapter": {
                            "type": "string",
                            "description": "force a registered layout by name (default: "
                            "detected); file paths are for the CLI only",
                        },
                        "mapping": {
                            "type": "string",
                            "description": "accept a mapping TOML (the one proposed when the "
                            "file was held as needs mapping, edited or not); kept for the "
                            "department and used for its next files with the same header",
                        },
                        "confirm_replace": {
                            "type": "boolean",
                            "description": "allow a version that drops most rows or changes "
                            "layout from the department's previous month",
                        },
                    },
                }
            }
        },
    }
}


def _registered_adapter(value: str | None) -> str | None:
    """A layout by its registered name only: the same 422 for any other value (a path, a
    missing file, a broken one), so the API never reads a server file nor says which exist."""
    if value is None:
        return None

    if value != "generic" and value not in {lay.name for lay in all_layouts()}:
        raise HTTPException(422, "field 'adapter': not a registered layout name")
    return value


def _own_department(user: User, department: str | None) -> str | None:
    if department is not None and not _DEPT.match(department):
        raise HTTPException(422, "field 'department': not an ODS code")
    if user.role == "ed_analyst":
        if department is None:
            if len(user.departments) != 1:
                raise HTTPException(422, "field 'department': required (you cover several)")
            department = user.departments[0]
        elif department not in user.departments:
            raise HTTPException(403, "field 'department': not one of your departments")
    return department


_TRUE = {"1", "true", "yes", "on"}


@router.post("/submissions", status_code=201, openapi_extra=UPLOAD_FORM, response_model=None)
async def upload(
    request: Request, user: UploaderDep, store: StoreDep
) -> dict[str, Any] | JSONResponse:
    """Upload one monthly extract (multipart field ``file``; optional ``department``, ``period``,
    ``adapter``, ``confirm_replace``, ``mapping``). A file whose key items have no confident
    column is held: 422 with ``status: needs_mapping``, ``missing_items`` and
    ``proposed_mapping`` (send it back as ``mapping`` to accept it). Streams to disk; 413 past
    the size limit; 422 with file/row/field when the whole file is rejected (nothing stored);
    409 when it would replace a month unconfirmed; 200 when identical to the current version
    (nothing changed)."""
    from istvhub.api.upload import upload_dir

    settings = request.app.state.settings
    limit = getattr(request.app.state, "max_upload_bytes", DEFAULT_MAX_UPLOAD)
    with upload_dir(settings.home) as tmp:
        form = await receive_upload(request, tmp, limit)
        department = (form.fields.get("department") or "").strip().upper() or None
        period = (form.fields.get("period") or "").strip() or None
        adapter = _registered_adapter((form.fields.get("adapter") or "").strip() or None)
        confirm = (form.fields.get("confirm_replace") or "").strip().lower() in _TRUE
        if period is not None and not is_period(period):
            raise HTTPException(422, "field 'period': expected YYYY-MM")
        department = _own_department(user, department)
        mapping = form.fields.get("mapping") or None
        try:
            summary = await run_in_threadpool(
                run_ingest,
                store,
                form.path,
                filename=form.filename,
                department=department,
                period=period,
                adapter=adapter,
                uploaded_by=user.name,
                home=settings.home,
                confirm_replace=confirm,
                mapping=mapping,
            )
        except NeedsMapping as exc:  # held: nothing stored; say what to map and propose it
            return JSONResponse(
                {
                    "status": "needs_mapping",
                    "detail": api_words(str(exc)),
                    "error": "NeedsMapping",
                    "file": exc.file,
                    "missing_items": exc.missing,
                    "proposed_mapping": exc.proposal,
                },
                status_code=422,
            )
    if (
        user.role == "ed_analyst"
        and str(summary.get("department", "")).upper() not in user.departments
    ):  # pragma: no cover - ingest enforces --department
        raise HTTPException(500, "ingest stored a department outside the uploader's scope")
    sid = summary.get("submission_id")
    if sid is not None:
        summary["report"] = f"/submissions/{sid}/report"
        summary["submission"] = _jsonable(_submission(store, int(sid), user))
    if summary.get("status") == "unchanged":
        return JSONResponse(summary, status_code=200)
    return summary


class NilReturn(BaseModel):
    """A month with no assaults: recorded as received with 0 records."""

    model_config = ConfigDict(extra="forbid")
    department: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{3,12}$")
    period: str = Field(pattern=PERIOD_PATTERN)


@router.post("/submissions/nil", status_code=201, response_model=None)
def nil_return(
    body: NilReturn, user: UploaderDep, store: StoreDep
) -> dict[str, Any] | JSONResponse:
    """Record a nil return for one department-month ("received, 0 records"): compliance counts
    it received, and on time when it is. 200 when already recorded."""
    department = _own_department(user, body.department.upper() if body.department else None)
    if department is None:
        raise HTTPException(422, "field 'department': required")
    res = ingest_nil(store, department=department, period=body.period, uploaded_by=user.name)
    out = res.as_dict()
    if res.submission_id is not None:
        out["submission"] = _jsonable(_submission(store, int(res.submission_id), user))
    if res.status == "unchanged":
        return JSONResponse(out, status_code=200)
    return out


@router.get("/submissions")
def list_submissions(
    user: UploaderDep, store: StoreDep, department: str | None = None, current_only: bool = False
) -> list[dict[str, Any]]:
    """Submissions of the caller's departments (admin: all), newest version last."""
    if department is not None:
        department = department.upper()
        if not _visible(user, department):
            raise HTTPException(403, "field 'department': not one of your departments")
    df = store.submissions(department, current_only=current_only)
    if user.role != "admin":
        df = df[df["department"].isin(list(user.departments))]
    return [_jsonable({str(k): v for k, v in r.items()}) for r in df.to_dict("records")]


@router.get("/submissions/{submission_id}")
def get_submission(
    submission_id: int, user: UploaderDep, store: StoreDep, request: Request
) -> dict[str, Any]:
    out = _jsonable(_submission(store, submission_id, user))
    audit(store, user, "submissions.read", f"submission={submission_id}", request)
    return out


@router.get("/submissions/{submission_id}/report", response_model=None)
def report(
    submission_id: int,
    user: UploaderDep,
    store: StoreDep,
    request: Request,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> dict[str, Any] | Response:
    """Row-level validation report: file, row, field, reason (never the cell value)."""
    sub = _submission(store, submission_id, user)
    audit(store, user, "submissions.report", f"submission={submission_id} format={format}", request)
    q = store.quarantine(submission_id)
    fname = str(sub["source_filename"])
    rows = [
        {
            "file": fname,
            "row": int(r["source_row"]),
            "field": None if r.get("field") is None else str(r["field"]),
            "reason": str(r["reason"]),
        }
        for r in q.to_dict("records")
    ]
    if format == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["file", "row", "field", "reason"])
        w.writeheader()
        from istvhub.exportsafety import neutralise_rows

        w.writerows(neutralise_rows(rows))
        return Response(
            buf.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="report-{submission_id}.csv"'},
        )
    return {"submission": _jsonable(sub), "issues": rows}


@router.get("/submissions/{submission_id}/records")
def records(
    submission_id: int,
    user: UploaderDep,
    store: StoreDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Record-level rows: only for an ED analyst's own department (and admin)."""
    from istvhub.store.repos.records import submission_page

    _submission(store, submission_id, user)
    audit(
        store,
        user,
        "submissions.records",
        f"submission={submission_id} offset={offset} limit={limit}",
        request,
    )
    out = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in submission_page(store, submission_id, limit=limit, offset=offset)
    ]
    return {"submission_id": submission_id, "offset": offset, "records": out}
