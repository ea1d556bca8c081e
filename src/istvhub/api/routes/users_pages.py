"""User management pages for administrators: list, create, rotate a token, revoke.

Plain HTML forms posting to these routes (the sign-in cookie is SameSite=Strict, and a request
whose Origin is another site is refused). The same functions and the same audit actions as the
``/users`` API and the ``istvhub users`` commands; a new token is shown once, never stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from istvhub._errors import IstvhubError
from istvhub.api import users as users_mod
from istvhub.api.deps import StoreDep, audit
from istvhub.api.pages_common import PageUser, gate, render_page
from istvhub.api.users import ROLES, User
from istvhub.api.words import api_words
from istvhub.store import Store

router = APIRouter(include_in_schema=False)
ROLE_WORDS = {
    "ed_analyst": "ED analyst (uploads for their departments)",
    "csp_analyst": "CSP analyst (layers for their boroughs)",
    "mopac": "MOPAC (London-wide layers and compliance)",
    "admin": "Administrator (everything, incl. users)",
}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return origin.rstrip("/") == str(request.base_url).rstrip("/")


def _known_boroughs(request: Request) -> list[str]:
    from istvhub.api.geo import borough_outlines_geojson

    try:
        fc = json.loads(borough_outlines_geojson(request.app.state.settings))
    except IstvhubError:
        return []
    return sorted(f["properties"]["name"] for f in fc["features"])


def _render(
    request: Request, admin: User, store: Store, status_code: int = 200, **ctx: Any
) -> Response:
    resp = render_page(
        request,
        "users.html",
        admin,
        status_code=status_code,
        users=users_mod.list_users(store),
        roles=[(r, ROLE_WORDS.get(r, r)) for r in ROLES],
        departments=store.departments().to_dict("records"),
        boroughs=_known_boroughs(request),
        **ctx,
    )
    resp.headers["Cache-Control"] = "no-store"  # a page may hold a token shown once
    return resp


def _guard(request: Request, user: User | None) -> User | Response:
    """The signed-in administrator, or the page that stops the request (sign in, forbidden, or
    a form posted from another site)."""
    if isinstance(gated := gate(request, user, ("admin",)), Response):
        return gated
    if request.method == "POST" and not _same_origin(request):
        return render_page(request, "forbidden.html", gated, status_code=403)
    return gated


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if isinstance(guarded := _guard(request, user), Response):
        return guarded
    user = guarded
    return _render(request, user, store)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    user: PageUser,
    store: StoreDep,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    departments: Annotated[list[str] | None, Form()] = None,
    boroughs: Annotated[list[str] | None, Form()] = None,
    expires_days: Annotated[str, Form()] = "",
) -> Response:
    if isinstance(guarded := _guard(request, user), Response):
        return guarded
    user = guarded
    days = int(expires_days) if expires_days.strip().isdigit() else None
    try:
        new, token = users_mod.add_user(
            store,
            name,
            role,
            departments=[d for d in departments or [] if d],
            boroughs=[b for b in boroughs or [] if b],
            expires_days=days if days and days <= 3650 else None,
            known_boroughs=_known_boroughs(request) or None,
        )
    except users_mod.UserError as exc:
        msg = api_words(str(exc).split(": ", 1)[-1])
        msg = msg.replace("department/borough", "department or borough")
        return _render(request, user, store, status_code=422, error=f"Not created: {msg}")
    audit(store, user, "users.add", f"user={new.name} role={new.role}", request)
    return _render(request, user, store, token=token, token_for=new.name, action="created")


@router.post("/admin/users/{name}/rotate", response_class=HTMLResponse)
def rotate_user(request: Request, user: PageUser, store: StoreDep, name: str) -> Response:
    if isinstance(guarded := _guard(request, user), Response):
        return guarded
    user = guarded
    try:
        token, n = users_mod.rotate_token(store, name)
    except users_mod.UserError:
        return _render(request, user, store, status_code=404, error=f"No active user {name}.")
    audit(store, user, "users.rotate", f"user={name} revoked={n}", request)
    return _render(request, user, store, token=token, token_for=name, action="rotated")


@router.post("/admin/users/{name}/revoke", response_class=HTMLResponse)
def revoke(request: Request, user: PageUser, store: StoreDep, name: str) -> Response:
    if isinstance(guarded := _guard(request, user), Response):
        return guarded
    user = guarded
    try:
        n = users_mod.revoke_user(store, name)
    except users_mod.UserError:
        return _render(request, user, store, status_code=404, error=f"No user {name}.")
    audit(store, user, "users.revoke", f"user={name}", request)
    return _render(request, user, store, notice=f"{name} is revoked: {n} token(s) stopped working.")
