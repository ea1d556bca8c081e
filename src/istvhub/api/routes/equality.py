"""/equality: disclosure-controlled equality breakdowns (issue 9.3), as the CLI makes them.

Rules: a CSP analyst gets only their own boroughs (another borough or a department -> 403);
MOPAC and admin get London, any borough or any department; an ED analyst gets only their own
department. Everyone gets suppressed counts only (no raw option exists here).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from istvhub.api.deps import StoreDep, require
from istvhub.api.scope import default_range, scoped_boroughs
from istvhub.api.users import User
from istvhub.core.periods import PERIOD_PATTERN, month_add
from istvhub.equality.render import render
from istvhub.equality.service import build_table

router = APIRouter(tags=["analyst products"])

EqualityReader = Annotated[User, Depends(require("csp_analyst", "mopac", "admin", "ed_analyst"))]


def scope_for(
    user: User, boroughs: list[str], department: str | None
) -> tuple[tuple[str, ...], str | None]:
    """(boroughs, department) the request may cover for this user; 403 outside their scope."""
    if user.role == "csp_analyst":
        if department:
            raise HTTPException(403, "field 'department': CSP analysts get borough breakdowns")
        scoped = scoped_boroughs(user, boroughs)
        if not scoped:
            raise HTTPException(403, "field 'borough': no borough is assigned to you")
        return scoped, None
    if user.role == "ed_analyst":
        if boroughs:
            raise HTTPException(403, "field 'borough': ED analysts get their own department")
        own = set(user.departments)
        if department is None:
            if len(own) != 1:
                raise HTTPException(422, "field 'department': name one of your departments")
            return (), next(iter(own))
        if department.strip().upper() not in own:
            raise HTTPException(403, "field 'department': not one of your departments")
        return (), department.strip().upper()
    return tuple(boroughs), department


@router.get("/equality", response_model=None)
async def equality(
    request: Request,
    user: EqualityReader,
    store: StoreDep,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD_PATTERN)] = None,
    to: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    borough: Annotated[list[str] | None, Query()] = None,
    department: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,12}$")] = None,
    by: Annotated[str | None, Query(max_length=80)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|html)$")] = "json",
    area: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Counts by age band x sex x weapon x location type (``by`` picks dimensions), with every
    margin, primary and secondary suppression; json|csv|html."""
    boroughs, dept = scope_for(user, [b for b in (borough or []) if b.strip()], department)
    if boroughs and dept:
        raise HTTPException(422, "field 'department': give a borough or a department, not both")
    start, end = (from_, to) if from_ and to else default_range(store)
    if from_ and not to:
        end = max(from_, end)
        start = from_
    elif to and not from_:
        start, end = month_add(to, -11), to
    t = await run_in_threadpool(
        build_table,
        store,
        start=start,
        end=end,
        by=by,
        boroughs=boroughs,
        department=dept,
        home=request.app.state.settings.home,
        areas21=tuple(a for a in (area or []) if a.strip()),  # within the user's scope above
    )
    if format == "html":
        return HTMLResponse(render(t, "html"))
    if format == "csv":
        return Response(
            render(t, "csv"),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="equality_{start}_{end}.csv"'},
        )
    cells = t.frame.astype(object).where(t.frame.notna(), None).to_dict(orient="records")
    return JSONResponse(
        {
            "scope": t.scope,
            "from": t.start,
            "to": t.end,
            "by": list(t.by),
            "rule": t.rule.name,
            "rule_label": t.rule.label,
            "notes": t.notes,
            "cells": cells,
        }
    )
