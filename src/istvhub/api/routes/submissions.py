"""/submissions: ED uploads through the same ingest path as `istvhub ingest`, and their reports.

Rules: an ED analyst uploads and reads only their own departments (other departments' submissions
are 404, as if they did not exist); admin sees all; CSP analysts and MOPAC never see submissions
or records (403).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from istvhub.api.deps import StoreDep, audit, require
from istvhub.api.upload import receive_upload
from istvhub.api.users import User

router = APIRouter(tags=["submissions"])

UploaderDep = Annotated[User, Depends(require("ed_analyst", "admin"))]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
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
    out = {}
    for k in SUBMISSION_FIELDS:
        v = row.get(k)
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
    return hit.iloc[0].to_dict()


def run_ingest(
    store: Any,
    path,
    *,
    filename: str,
    department: str | None,
    period: str | None,
    adapter: str | None,
    uploaded_by: str,
    home,
) -> dict[str, Any]:
    """Call the ingest stage exactly as the CLI does (read, adapt, PII guard, validate, geocode
    when a gazetteer is built, store in one transaction). A rejection raises FileRejected (422)."""
    from istvhub.geocode.shared import shared_geocoder
    from istvhub.ingest.core import ingest_bytes

    result = ingest_bytes(
        path.read_bytes(),
        filename,
        store,
        department=department,
        period=period,
        adapter=adapter,
        geocoder=shared_geocoder(home, store.url),  # loaded once per worker, not per upload
        uploaded_by=uploaded_by,
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
                        "period": {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
                        "adapter": {
                            "type": "string",
                            "description": "force a layout (default: detected)",
                        },
                    },
                }
            }
        },
    }
}


@router.post("/submissions", status_code=201, openapi_extra=UPLOAD_FORM)
async def upload(request: Request, user: UploaderDep, store: StoreDep) -> dict:
    """Upload one monthly extract (multipart field ``file``; optional ``department``, ``period``,
    ``adapter``). Streams to disk; 413 past the size limit; 422 with file/row/field when the whole
    file is rejected (nothing stored)."""
    settings = request.app.state.settings
    limit = getattr(request.app.state, "max_upload_bytes", DEFAULT_MAX_UPLOAD)
    tmp_root = settings.home / "uploads"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        from pathlib import Path

        form = await receive_upload(request, Path(tmp), limit)
        department = (form.fields.get("department") or "").strip().upper() or None
        period = (form.fields.get("period") or "").strip() or None
        adapter = (form.fields.get("adapter") or "").strip() or None
        if department is not None and not _DEPT.match(department):
            raise HTTPException(422, "field 'department': not an ODS code")
        if period is not None and not _PERIOD.match(period):
            raise HTTPException(422, "field 'period': expected YYYY-MM")
        if user.role == "ed_analyst":
            if department is None:
                if len(user.departments) != 1:
                    raise HTTPException(422, "field 'department': required (you cover several)")
                department = user.departments[0]
            elif department not in user.departments:
                raise HTTPException(403, "field 'department': not one of your departments")
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
    return summary


@router.get("/submissions")
def list_submissions(
    user: UploaderDep, store: StoreDep, department: str | None = None, current_only: bool = False
) -> list[dict]:
    """Submissions of the caller's departments (admin: all), newest version last."""
    if department is not None:
        department = department.upper()
        if not _visible(user, department):
            raise HTTPException(403, "field 'department': not one of your departments")
    df = store.submissions(department, current_only=current_only)
    if user.role != "admin":
        df = df[df["department"].isin(list(user.departments))]
    return [_jsonable(r) for r in df.to_dict("records")]


@router.get("/submissions/{submission_id}")
def get_submission(
    submission_id: int, user: UploaderDep, store: StoreDep, request: Request
) -> dict:
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
) -> dict | Response:
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
) -> dict:
    """Record-level rows: only for an ED analyst's own department (and admin)."""
    import sqlalchemy as sa

    from istvhub.store.schema import records as rt

    _submission(store, submission_id, user)
    audit(
        store,
        user,
        "submissions.records",
        f"submission={submission_id} offset={offset} limit={limit}",
        request,
    )
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(rt)
            .where(rt.c.submission_id == submission_id)
            .order_by(rt.c.source_row)
            .limit(limit)
            .offset(offset)
        ).mappings()
        out = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in rows
        ]
    return {"submission_id": submission_id, "offset": offset, "records": out}
