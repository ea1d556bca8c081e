"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from istvhub.api.routes import (
    basemap,
    compliance,
    geocode,
    health,
    layers,
    ogc,
    pages,
    pages_products,
    submissions,
    users,
    users_pages,
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
    pages_products.router,
    users_pages.router,
]
