"""/users: admin-only user management (the same functions as `istvhub users`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from istvhub.api import users as users_mod
from istvhub.api.deps import AdminDep, StoreDep, UserDep, audit
from istvhub.api.scope import wants_page
from istvhub.api.words import api_words

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    role: str
    departments: list[str] = []
    boroughs: list[str] = []
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class NewUserOut(BaseModel):
    name: str
    role: str
    departments: list[str]
    boroughs: list[str]
    token: str = Field(description="shown once; only its SHA-256 is stored")


@router.get("/me", response_model=None)
def me(user: UserDep, request: Request) -> dict[str, Any] | RedirectResponse:
    """Who the token belongs to and what it may see (a browser is shown /account)."""
    if wants_page(request):
        return RedirectResponse("/account", status_code=303)
    return user.as_dict()


@router.get("/users", response_model=None)
def list_users(
    _: AdminDep, store: StoreDep, request: Request
) -> list[dict[str, Any]] | RedirectResponse:
    """Every user, role, scope and live-token count (a browser is shown /admin/users)."""
    if wants_page(request):
        return RedirectResponse("/admin/users", status_code=303)
    return users_mod.list_users(store)


@router.post("/users", status_code=201)
def add_user(body: NewUser, admin: AdminDep, store: StoreDep, request: Request) -> NewUserOut:
    known = None
    if body.boroughs:
        import json

        from istvhub._errors import SourcesNotFound
        from istvhub.api.geo import borough_outlines_geojson

        try:
            fc = json.loads(borough_outlines_geojson(request.app.state.settings))
            known = [f["properties"]["name"] for f in fc["features"]]
        except SourcesNotFound:
            known = None
    try:
        user, token = users_mod.add_user(
            store,
            body.name,
            body.role,
            departments=body.departments,
            boroughs=body.boroughs,
            expires_days=body.expires_days,
            known_boroughs=known,
        )
    except users_mod.UserError as exc:
        raise HTTPException(422, api_words(str(exc))) from exc
    audit(store, admin, "users.add", f"user={user.name} role={user.role}", request)
    return NewUserOut(token=token, **user.as_dict())


@router.delete("/users/{name}")
def revoke_user(name: str, admin: AdminDep, store: StoreDep, request: Request) -> dict[str, Any]:
    try:
        n = users_mod.revoke_user(store, name)
    except users_mod.UserError as exc:
        raise HTTPException(404, api_words(str(exc))) from exc
    audit(store, admin, "users.revoke", f"user={name}", request)
    return {"name": name, "revoked_tokens": n}


class RotateOut(BaseModel):
    name: str
    revoked_tokens: int
    token: str = Field(description="shown once; only its SHA-256 is stored")


@router.post("/users/{name}/token", status_code=201)
def rotate(
    name: str,
    admin: AdminDep,
    store: StoreDep,
    request: Request,
    expires_days: Annotated[int | None, Query(ge=1, le=3650)] = None,
) -> RotateOut:
    """Rotate a user's token: every live token is revoked and one new token is returned once."""
    try:
        token, n = users_mod.rotate_token(store, name, expires_days)
    except users_mod.UserError as exc:
        raise HTTPException(404, api_words(str(exc))) from exc
    audit(store, admin, "users.rotate", f"user={name} revoked={n}", request)
    return RotateOut(name=name, revoked_tokens=n, token=token)


@router.get("/audit", tags=["audit"])
def audit_log(
    _: AdminDep,
    store: StoreDep,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    action: str | None = None,
) -> list[dict[str, Any]]:
    """The append-only audit log (who, what, when, from where), oldest first: admin only.
    Page with ``after_id`` = the last ``id`` seen."""
    from istvhub.store.repos import audit

    rows = audit.page(store, after_id=after_id, limit=limit, action=action)
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows
    ]
