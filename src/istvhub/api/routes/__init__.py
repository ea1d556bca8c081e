"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from istvhub.api.routes import health, users

ROUTERS = [health.router, users.router]
