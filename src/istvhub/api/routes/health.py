"""GET /health: the one unauthenticated endpoint (for load balancers and Docker healthchecks)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from istvhub import __version__
from istvhub.api.deps import StoreDep
from istvhub.store.repos import ping

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> JSONResponse:
    """Says whether the database answers; reveals nothing else."""
    if ping(store):
        return JSONResponse({"status": "ok", "version": __version__, "database": "ok"})
    return JSONResponse(
        {"status": "degraded", "version": __version__, "database": "unreachable"},
        status_code=503,
    )
