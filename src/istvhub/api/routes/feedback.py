"""/feedback: the monthly location-recording sheet for ONE department (issue 9.4).

It lists record-level free text, so only that department's own ED analysts (and administrators)
may have it; every request is written to the audit log (department and month, never text).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from istvhub.api.deps import StoreDep, audit, require
from istvhub.api.users import User
from istvhub.core.periods import PERIOD_PATTERN
from istvhub.feedback.render import render
from istvhub.feedback.service import build_sheet

router = APIRouter(tags=["analyst products"])

FeedbackReader = Annotated[User, Depends(require("ed_analyst", "admin"))]


@router.get("/feedback", response_model=None)
async def feedback(
    request: Request,
    user: FeedbackReader,
    store: StoreDep,
    period: Annotated[str, Query(pattern=PERIOD_PATTERN)],
    department: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,12}$")] = None,
    format: Annotated[str, Query(pattern="^(json|csv|html)$")] = "html",
    top: Annotated[int, Query(ge=1, le=500)] = 25,
) -> Response:
    """Share of texts located, the commonest texts that failed, and what to record instead."""
    dept = department.strip().upper() if department else None
    if user.role == "ed_analyst":
        own = set(user.departments)
        if dept is None:
            if len(own) != 1:
                raise HTTPException(422, "field 'department': name one of your departments")
            dept = next(iter(own))
        elif dept not in own:
            raise HTTPException(403, "field 'department': not one of your departments")
    elif dept is None:
        raise HTTPException(422, "field 'department': required")
    audit(store, user, "feedback", json.dumps({"department": dept, "period": period}), request)
    sheet = await run_in_threadpool(build_sheet, store, dept, period, top=top)
    if format == "html":
        return HTMLResponse(render(sheet, "html"))
    if format == "csv":
        return Response(
            render(sheet, "csv"),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="feedback_{dept}_{period}.csv"'},
        )
    return JSONResponse(
        {
            "department": sheet.department,
            "department_name": sheet.department_name,
            "period": sheet.period,
            "summary": sheet.summary,
            "notes": sheet.notes,
            "texts": sheet.texts.to_dict(orient="records"),
        }
    )
