"""A hub (app + store + one user per role) on each backend, for the API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from istvhub.api import users
from istvhub.api.app import create_app
from istvhub.api.deps import open_app_store
from istvhub.core.config import Settings

# St Thomas' (Lambeth) is "our" ED; King's College Hospital (also Lambeth) is another ED;
# St Mary's (Westminster) is an ED in a borough our CSP analyst does not cover.
OWN_DEPT, OTHER_DEPT = "RJ122", "RJZ01"
OWN_BOROUGH, OTHER_BOROUGH = "Lambeth", "Westminster"


@dataclass
class Hub:
    client: TestClient
    store: object
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """Authorization header for one of the fixture users."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def hub(db_url: str, tmp_path: Path):
    settings = Settings(home=tmp_path / "home", db=db_url)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_app_store(settings)
    h = Hub(client=None, store=store, settings=settings)  # type: ignore[arg-type]
    eng = store.engine
    h.tokens["ed"] = users.add_user(eng, "ed-own", "ed_analyst", departments=[OWN_DEPT])[1]
    h.tokens["ed_other"] = users.add_user(eng, "ed-other", "ed_analyst",
                                          departments=[OTHER_DEPT])[1]
    h.tokens["csp"] = users.add_user(eng, "csp-lambeth", "csp_analyst",
                                     boroughs=[OWN_BOROUGH])[1]
    h.tokens["mopac"] = users.add_user(eng, "mopac-1", "mopac")[1]
    h.tokens["admin"] = users.add_user(eng, "admin-1", "admin")[1]
    app = create_app(settings)
    with TestClient(app) as client:
        h.client = client
        yield h
    store.dispose()
