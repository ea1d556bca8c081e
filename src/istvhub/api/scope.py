"""What the routes share, so no route imports another for it: what a request may cover (a CSP
analyst's boroughs, the default window of months) and whether a person's browser is asking."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from istvhub.api.users import User
from istvhub.compliance.window import default_window


def scoped_boroughs(user: User, asked: list[str]) -> tuple[str, ...]:
    """The boroughs the request may cover: a CSP analyst only their own (403 otherwise)."""
    if user.role != "csp_analyst":
        return tuple(asked)
    if not asked:
        return tuple(user.boroughs)
    own = {b.lower(): b for b in user.boroughs}
    out = []
    for b in asked:
        if b.strip().lower() not in own:
            raise HTTPException(403, "field 'borough': not one of your boroughs")
        out.append(own[b.strip().lower()])
    return tuple(out)


def wants_page(request: Request) -> bool:
    """A person's browser navigating here (it asks for HTML first), not a script or a GIS
    client: the JSON endpoints a person might open (/me, /users, /ogc) then send them to the
    page that shows the same thing in words."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first in ("text/html", "application/xhtml+xml")


def default_range(store: Any) -> tuple[str, str]:
    """Last 12 months up to the latest complete month (:mod:`istvhub.compliance.window`): one
    odd upload does not move the map, the layers or the OGC items."""
    return default_window(store.submissions())
