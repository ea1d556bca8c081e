"""Typed FastAPI dependencies: settings, store, the calling user, and role guards.

Every route declares who may call it with ``Depends(require(...))`` so the rules live in one
place and the tests can try to break each one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from istvhub.api.security import FailedAuthLimiter, token_from_authorization
from istvhub.api.users import User, authenticate
from istvhub.core.config import Settings
from istvhub.store import Store

COOKIE_NAME = "istvhub_token"
_bearer = HTTPBearer(auto_error=False, description="API token from `istvhub users add`")
_store_lock = threading.Lock()


def open_app_store(settings: Settings) -> Store:
    """Open the store (creates tables, loads the registry) and make sure our tables exist."""
    from istvhub.store import open_store
    from istvhub.store.repos.users import ensure_tables

    store = open_store(settings.db_url)
    ensure_tables(store)  # no-op when the store's schema step already made them
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def ensure_store(app: Any) -> Store:
    """One store (one engine, one pool) per app, opened on first use."""
    if getattr(app.state, "store", None) is None:
        with _store_lock:
            if getattr(app.state, "store", None) is None:
                app.state.store = open_app_store(app.state.settings)
    store: Store = app.state.store
    return store


def get_store(request: Request) -> Store:
    return ensure_store(request.app)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


#: failed-auth limit per client address and worker (see ``FailedAuthLimiter``)
AUTH_FAIL_LIMIT, AUTH_FAIL_WINDOW_S = 20, 60.0


def auth_limiter(app: Any) -> FailedAuthLimiter:
    """The app's failed-auth limiter (``app.state.auth_limiter`` may be set to change limits)."""
    lim = getattr(app.state, "auth_limiter", None)
    if lim is None:
        with _store_lock:
            lim = getattr(app.state, "auth_limiter", None)
            if lim is None:
                lim = app.state.auth_limiter = FailedAuthLimiter(
                    AUTH_FAIL_LIMIT, AUTH_FAIL_WINDOW_S
                )
    return lim


def authenticate_limited(request: Request, store: Any, token: str | None) -> User | None:
    """``authenticate`` behind the failed-auth limit: 429 while the client is blocked; a
    presented token that does not authenticate counts as a failure (no token does not)."""
    if not token:
        return None
    lim = auth_limiter(request.app)
    client = client_of(request)
    wait = lim.retry_after(client)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-in attempts; try again later",
            headers={"Retry-After": str(wait)},
        )
    user = authenticate(store, token)
    if user is None:
        lim.failed(client)
    return user


def current_user(
    request: Request,
    store: StoreDep,
    _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # for OpenAPI
) -> User:
    """The user behind ``Authorization: Bearer <token>``, HTTP Basic with the token as the
    password (QGIS, ArcGIS, GDAL), or the sign-in cookie of the pages."""
    token = presented_token(request)
    user = authenticate_limited(request, store, token)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing, invalid, expired or revoked token",
            headers={"WWW-Authenticate": challenge(request)},
        )
    return user


#: paths GIS clients call: their 401 also offers Basic, so a client that waits for a challenge
#: (rather than sending credentials up front, as QGIS does) knows to send them. Elsewhere only
#: Bearer, so a page's script never makes the browser pop up a password dialog.
GIS_PREFIXES = ("/ogc", "/layers")


def challenge(request: Request) -> str:
    if request.url.path.startswith(GIS_PREFIXES):
        return 'Bearer, Basic realm="istvhub", charset="UTF-8"'
    return "Bearer"


def presented_token(request: Request) -> str | None:
    """The token the request carries: the Authorization header (Bearer or Basic), else the
    pages' cookie."""
    header = request.headers.get("authorization")
    if header:
        return token_from_authorization(header)
    return request.cookies.get(COOKIE_NAME)


UserDep = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Callable[..., User]:
    """A dependency that lets only ``roles`` through (403 for everyone else)."""

    def guard(user: UserDep) -> User:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {user.role!r} may not use this endpoint"
            )
        return user

    guard.__name__ = f"require_{'_'.join(roles)}"
    return guard


AdminDep = Annotated[User, Depends(require("admin"))]


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit(store: Any, user: User, action: str, detail: str, request: Request | None = None) -> None:
    """Write an audit row through the store (who, what, from where)."""
    store.audit(user.name, action, detail, client=client_of(request) if request else None)


#: who may read the hot-block layers (/layers, /map, /ogc): CSP analysts (own boroughs), MOPAC
#: and administrators
LayerReader = Annotated[User, Depends(require("csp_analyst", "mopac", "admin"))]
