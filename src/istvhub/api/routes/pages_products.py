"""Pages for the analyst products: equality breakdowns, location-recording feedback, and the
comparison with police data, each inside the site's header and navigation.

Each page calls the same endpoint function as the API (same scope rules, same suppression, same
audit) and shows the body of the report it renders; a refusal is shown in words on the page.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from istvhub._errors import IstvhubError
from istvhub.api.deps import StoreDep
from istvhub.api.pages_common import PageUser, borough_names, gate, render_page
from istvhub.api.users import User
from istvhub.core.periods import PERIOD_RE

router = APIRouter(include_in_schema=False)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_PERIOD = PERIOD_RE
#: the equality page's choices of breakdown (the API's ``by``), in words
BREAKDOWNS = {
    "age_band,sex": "Age band by sex",
    "weapon,sex": "Weapon by sex",
    "age_band,weapon": "Age band by weapon",
    "location_type,sex": "Place by sex",
    "location_type,weapon": "Place by weapon",
}


def report_body(html: str) -> str:
    """The inside of a rendered report's ``<body>`` (our own escaped output), without its
    standalone page's heading styles: the site's stylesheet styles it under ``.report``."""
    m = _BODY.search(html)
    return m.group(1) if m else html


def _period(value: str | None) -> str | None:
    v = (value or "").strip()
    return v if _PERIOD.match(v) else None


def _words(exc: Exception) -> str:
    detail = exc.detail if isinstance(exc, HTTPException) else str(exc)
    return str(detail).replace("field 'department': ", "").replace("field 'borough': ", "")


def _borough_choices(request: Request, user: User) -> list[str]:
    if user.role == "csp_analyst":
        return list(user.boroughs)
    try:
        return borough_names(request)
    except IstvhubError:
        return []


@router.get("/equality-table", response_class=HTMLResponse)
async def equality_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    """Assaults by age band, sex, weapon and place, with primary and secondary suppression."""
    roles = ("csp_analyst", "mopac", "admin", "ed_analyst")
    if isinstance(gated := gate(request, user, roles), Response):
        return gated
    user = gated
    from istvhub.api.routes.equality import equality

    q = request.query_params
    by = q.get("by") if q.get("by") in BREAKDOWNS else "age_band,sex"
    scope = (q.get("scope") or "").strip()
    borough = [scope[2:]] if scope.startswith("b:") else None
    department = scope[2:] if scope.startswith("d:") else None
    body, error = "", ""
    try:
        resp = await equality(
            request,
            user,
            store,
            from_=_period(q.get("from")),
            to=_period(q.get("to")),
            borough=borough,
            department=department,
            by=by,
            format="html",
            area=None,
        )
        body = report_body(bytes(resp.body).decode())
    except (HTTPException, IstvhubError) as exc:
        error = _words(exc)
    depts: list[str] = list(user.departments)
    if user.role in ("mopac", "admin"):
        depts = sorted(str(d) for d in store.departments()["ods_code"])
    return render_page(
        request,
        "equality.html",
        user,
        body=body,
        error=error,
        by=by,
        breakdowns=BREAKDOWNS,
        scope=scope,
        boroughs=_borough_choices(request, user) if user.role != "ed_analyst" else [],
        departments=depts if user.role != "csp_analyst" else [],
        period_from=_period(q.get("from")) or "",
        period_to=_period(q.get("to")) or "",
    )


def _latest_period(store: Any, department: str) -> str | None:
    subs = store.submissions(department, current_only=True)
    return str(subs["period"].max()) if len(subs) else None


@router.get("/feedback-sheet", response_class=HTMLResponse)
async def feedback_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    """One department's location-recording sheet for one month (record text: own ED only)."""
    if isinstance(gated := gate(request, user, ("ed_analyst", "admin")), Response):
        return gated
    user = gated
    from istvhub.api.routes.feedback import feedback

    q = request.query_params
    if user.role == "admin":
        depts = sorted(str(d) for d in store.submissions(current_only=True)["department"].unique())
    else:
        depts = list(user.departments)
    department = (q.get("department") or "").strip().upper() or (depts[0] if depts else "")
    period = _period(q.get("period")) or (_latest_period(store, department) if department else None)
    body, error = "", ""
    if not department:
        error = "No department has sent an extract yet."
    elif period is None:
        error = f"{department} has not sent an extract yet: there is nothing to give feedback on."
    else:
        try:
            resp = await feedback(
                request, user, store, period=period, department=department, format="html", top=25
            )
            body = report_body(bytes(resp.body).decode())
        except (HTTPException, IstvhubError) as exc:
            error = _words(exc)
    return render_page(
        request,
        "feedback.html",
        user,
        body=body,
        error=error,
        departments=depts,
        department=department,
        period=period or "",
    )


@router.get("/compare-police", response_class=HTMLResponse)
def compare_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    """The form for the comparison; compare.js fetches the report from /compare and shows it."""
    if isinstance(gated := gate(request, user, ("csp_analyst", "mopac", "admin")), Response):
        return gated
    user = gated
    from istvhub.api.scope import default_range

    pdir = request.app.state.settings.home / "police"
    configured = pdir.is_dir() and any(
        p.suffix in (".csv", ".json") for p in pdir.iterdir() if p.is_file()
    )
    first, last = default_range(store) if len(store.submissions(current_only=True)) else ("", "")
    return render_page(
        request,
        "compare.html",
        user,
        configured=configured,
        boroughs=_borough_choices(request, user),
        period_from=first,
        period_to=last,
    )
