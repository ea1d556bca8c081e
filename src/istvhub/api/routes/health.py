"""GET /health: the one unauthenticated endpoint (for load balancers and Docker healthchecks)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from istvhub import __version__
from istvhub.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> JSONResponse:
    """Says whether the database answers; reveals nothing else."""
    try:
        with store.engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return JSONResponse({"status": "ok", "version": __version__, "database": "ok"})
    except sa.exc.DBAPIError:
        return JSONResponse(
            {"status": "degraded", "version": __version__, "database": "unreachable"},
            status_code=503,
        )
