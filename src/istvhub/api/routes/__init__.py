"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from istvhub.api.routes import compliance, health, submissions, users

ROUTERS = [health.router, users.router, submissions.router, compliance.router]
