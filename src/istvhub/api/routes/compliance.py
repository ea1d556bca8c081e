"""/compliance: the department x month sharing grid for MOPAC (and admin), as the CLI renders it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from istvhub.api.deps import StoreDep, require
from istvhub.api.users import User
from istvhub.compliance.render import render
from istvhub.compliance.report import Report
from istvhub.compliance.service import report_from
from istvhub.core.periods import PERIOD_PATTERN

router = APIRouter(tags=["compliance"])

ComplianceReader = Annotated[User, Depends(require("mopac", "admin"))]
Period = Annotated[str | None, Query(pattern=PERIOD_PATTERN)]


def compliance_report_for(
    store: Any, start: str | None, end: str | None, departments: list[str] | None = None
) -> Report:
    """The compliance report on the app's store (its pool is reused); the pages call it too."""
    return report_from(store, start=start, end=end, departments=departments)


@router.get("/compliance", response_model=None)
def compliance(
    _: ComplianceReader,
    store: StoreDep,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD_PATTERN)] = None,
    to: Period = None,
    department: Annotated[list[str] | None, Query()] = None,
    format: Annotated[str, Query(pattern="^(json|csv|html)$")] = "json",
) -> Response:
    """Sharing compliance per department and month (RAG), London summary line; json|csv|html."""
    report = compliance_report_for(store, from_, to, department)
    if format == "json":
        return JSONResponse(report.to_dict())
    if format == "html":
        return HTMLResponse(render(report, "html"))
    name = f"compliance-{report.start}-{report.end}.csv"
    return Response(
        render(report, "csv"),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
