"""What a request may cover, shared by every route that serves area data (layers, OGC, compare,
equality, the pages): a CSP analyst's boroughs, and the default window of months."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

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


def default_range(store: Any) -> tuple[str, str]:
    """Last 12 months up to the latest complete month (:mod:`istvhub.compliance.window`): one
    odd upload does not move the map, the layers or the OGC items."""
    return default_window(store.submissions())
