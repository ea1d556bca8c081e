"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from istvhub.api.routes import (
    basemap,
    compliance,
    geocode,
    health,
    layers,
    ogc,
    pages,
    submissions,
    users,
)

ROUTERS = [
    health.router,
    users.router,
    submissions.router,
    geocode.router,
    layers.router,
    ogc.router,
    compliance.router,
    basemap.router,
    pages.router,
]
