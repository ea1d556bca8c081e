"""Server-rendered pages: sign-in, upload + validation report, hot-block map, compliance grid.

The sign-in form checks the token and keeps it in an HttpOnly, SameSite=Strict cookie; the pages'
small scripts then call the same JSON API as everyone else (the API accepts the cookie or
``Authorization: Bearer``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from istvhub.api.deps import (
    COOKIE_NAME,
    StoreDep,
    UserDep,
    authenticate_limited,
)
from istvhub.api.geo import borough_outlines_geojson
from istvhub.api.ogc_collections import COLLECTIONS
from istvhub.api.pages_common import PageUser, borough_names, gate, render_page
from istvhub.compliance.service import report_from
from istvhub.records import WEAPONS

router = APIRouter(include_in_schema=False)
SESSION_SECONDS = 8 * 3600


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: PageUser) -> Response:
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    return render_page(request, "home.html", user, base_url=str(request.base_url))


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    return render_page(request, "signin.html", None)


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, store: StoreDep, token: Annotated[str, Form()]) -> Response:
    token = token.strip()
    user = authenticate_limited(request, store, token)
    if user is None:
        return render_page(
            request,
            "signin.html",
            None,
            status_code=401,
            error="That token is not valid (wrong, expired or revoked).",
        )
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(
        COOKIE_NAME,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


@router.post("/signout")
def signout() -> Response:
    resp = RedirectResponse("/signin", status_code=303)
    resp.delete_cookie(COOKIE_NAME, path="/")
    return resp


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if isinstance(gated := gate(request, user, ("ed_analyst", "admin")), Response):
        return gated
    user = gated
    deps = store.departments()
    if user.role != "admin":
        deps = deps[deps["ods_code"].isin(list(user.departments))]
    # the submissions list is drawn (and paged, and refreshed after each upload) by upload.js
    return render_page(request, "upload.html", user, departments=deps.to_dict("records"))


def map_words() -> dict[str, Any]:
    """Codes in words for the map page's filters (istvhub.labels)."""
    from istvhub.labels import DAY_WORDS, LOCATION_WORDS, WEAPON_WORDS

    return {"weapon_words": WEAPON_WORDS, "location_words": LOCATION_WORDS, "day_words": DAY_WORDS}


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if isinstance(gated := gate(request, user, ("csp_analyst", "mopac", "admin")), Response):
        return gated
    user = gated
    boroughs = list(user.boroughs) if user.role == "csp_analyst" else borough_names(request)
    from istvhub.api.scope import default_range

    # the layers' default window: the latest complete months, not one odd upload's month
    first, last = default_range(store) if len(store.submissions(current_only=True)) else ("", "")
    return render_page(
        request,
        "map.html",
        user,
        boroughs=boroughs,
        weapons=WEAPONS,
        **map_words(),
        period_from=first,
        period_to=last,
    )


@router.get("/boundaries/boroughs.geojson")
def boroughs_geojson(request: Request, user: UserDep) -> Response:
    """Borough outlines (our own open boundaries, simplified) for the map page."""
    return Response(
        borough_outlines_geojson(request.app.state.settings),
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get("/compliance-grid", response_class=HTMLResponse)
def compliance_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if isinstance(gated := gate(request, user, ("mopac", "admin")), Response):
        return gated
    user = gated
    from istvhub.api.compliance_view import RAG_WORDS, dashboard, month_words

    period_from = request.query_params.get("from") or None
    period_to = request.query_params.get("to") or None
    report = report_from(store, start=period_from, end=period_to)
    return render_page(
        request,
        "compliance.html",
        user,
        d=dashboard(report),
        rag_words=RAG_WORDS,
        month_words=month_words,
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for /favicon.ico on every page; answer it instead of a 404."""
    from fastapi.responses import FileResponse

    return FileResponse(
        Path(__file__).resolve().parents[1] / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: PageUser) -> Response:
    """Who you are signed in as and what you may see (the page behind /me)."""
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    return render_page(request, "account.html", user)


@router.get("/connect-qgis", response_class=HTMLResponse)
def qgis_page(request: Request, user: PageUser) -> Response:
    """How to add the hub's OGC API - Features layers to QGIS (and ArcGIS, GDAL)."""
    if isinstance(gated := gate(request, user, ("csp_analyst", "mopac", "admin")), Response):
        return gated
    user = gated
    base = str(request.base_url).rstrip("/")
    return render_page(
        request,
        "qgis.html",
        user,
        ogc_url=base + "/ogc",
        base_url=base,
        collections=[(k, v[2]) for k, v in COLLECTIONS.items()],
    )
