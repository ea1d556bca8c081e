"""/users: admin-only user management (the same functions as `istvhub users`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from istvhub.api import users as users_mod
from istvhub.api.deps import AdminDep, StoreDep, UserDep, audit

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


@router.get("/me")
def me(user: UserDep) -> dict:
    """Who the token belongs to and what it may see."""
    return user.as_dict()


@router.get("/users")
def list_users(_: AdminDep, store: StoreDep) -> list[dict]:
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
        raise HTTPException(422, str(exc)) from exc
    audit(store, admin, "users.add", f"user={user.name} role={user.role}", request)
    return NewUserOut(token=token, **user.as_dict())


@router.delete("/users/{name}")
def revoke_user(name: str, admin: AdminDep, store: StoreDep, request: Request) -> dict:
    try:
        n = users_mod.revoke_user(store, name)
    except users_mod.UserError as exc:
        raise HTTPException(404, str(exc)) from exc
    audit(store, admin, "users.revoke", f"user={name}", request)
    return {"name": name, "revoked_tokens": n}


@router.get("/audit", tags=["audit"])
def audit_log(
    _: AdminDep,
    store: StoreDep,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    action: str | None = None,
) -> list[dict]:
    """The append-only audit log (who, what, when, from where), oldest first: admin only.
    Page with ``after_id`` = the last ``id`` seen."""
    from istvhub.store.repos import audit

    rows = audit.page(store, after_id=after_id, limit=limit, action=action)
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows
    ]
