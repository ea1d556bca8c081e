"""What every server-rendered page shares: who is signed in (cookie or bearer), the templates,
the role gate and the borough names. The page route modules import it from here, never from
each other, so each page family can change on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from istvhub.api.deps import StoreDep, authenticate_limited, presented_token
from istvhub.api.geo import borough_outlines_geojson
from istvhub.api.users import User

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def page_user(request: Request, store: StoreDep) -> User | None:
    """The signed-in user, or None: a page redirects to /signin rather than answering 401."""
    return authenticate_limited(request, store, presented_token(request))


PageUser = Annotated[User | None, Depends(page_user)]


def render_page(
    request: Request, name: str, user: User | None, status_code: int = 200, **ctx: Any
) -> Response:
    """The template ``name`` with the user (for the header) and ``ctx``."""
    return templates.TemplateResponse(request, name, {"user": user, **ctx}, status_code=status_code)


def gate(request: Request, user: User | None, roles: tuple[str, ...]) -> User | Response:
    """A response that stops the page (sign in first, or forbidden), or the signed-in user to go
    on with (typed: the page then knows it has a user)."""
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    if user.role not in roles:
        return render_page(request, "forbidden.html", user, status_code=403)
    return user


def borough_names(request: Request) -> list[str]:
    """London's borough names, from the outlines the hub serves (raises without a gazetteer)."""
    fc = json.loads(borough_outlines_geojson(request.app.state.settings))
    return sorted(f["properties"]["name"] for f in fc["features"])
