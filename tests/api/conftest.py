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

# St Thomas' is "our" ED; King's College Hospital is another ED. Our CSP analyst covers
# Westminster (the borough with a full street network in the sources), not Camden.
OWN_DEPT, OTHER_DEPT = "RJ122", "RJZ01"
OWN_BOROUGH, OTHER_BOROUGH = "Westminster", "Camden"


@dataclass
class Hub:  # noqa: D101
    client: TestClient
    store: object
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """Authorization header for one of the fixture users."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _make_home(tmp_path: Path, gazetteer_home: Path | None) -> Path:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    if gazetteer_home is not None:  # the real gazetteer, shared read-only; caches stay per test
        (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer", target_is_directory=True)
    return home


@pytest.fixture
def hub(db_url: str, tmp_path: Path):
    yield from _hub(db_url, tmp_path, None)


@pytest.fixture
def geo_hub(db_url: str, tmp_path: Path, gazetteer_home: Path):
    """A hub whose home has the real gazetteer (for layers, OGC, geocoding)."""
    yield from _hub(db_url, tmp_path, gazetteer_home)


def _hub(db_url: str, tmp_path: Path, gazetteer_home: Path | None):
    settings = Settings(home=_make_home(tmp_path, gazetteer_home), db=db_url)
    store = open_app_store(settings)
    h = Hub(client=None, store=store, settings=settings)  # type: ignore[arg-type]
    eng = store.engine
    h.tokens["ed"] = users.add_user(eng, "ed-own", "ed_analyst", departments=[OWN_DEPT])[1]
    h.tokens["ed_other"] = users.add_user(eng, "ed-other", "ed_analyst", departments=[OTHER_DEPT])[
        1
    ]
    h.tokens["csp"] = users.add_user(eng, "csp-lambeth", "csp_analyst", boroughs=[OWN_BOROUGH])[1]
    h.tokens["mopac"] = users.add_user(eng, "mopac-1", "mopac")[1]
    h.tokens["admin"] = users.add_user(eng, "admin-1", "admin")[1]
    app = create_app(settings)
    with TestClient(app) as client:
        h.client = client
        yield h
    store.dispose()


# --------------------------------------------------------------------------- located records

#: (borough, number of records) per seeded block: a busy block, a middling one (published,
#: perturbed by its cell key), a quiet one (1-7: not listed), and a block in another borough.
SEED = (("Westminster", 20), ("Westminster", 12), ("Westminster", 3), ("Camden", 15))


@dataclass
class Seeded:
    hub: Hub
    blocks: list[dict]  # block_id, name, borough, n


def seed_located(hub: Hub, gazetteer_home: Path, period: str = "2025-06") -> Seeded:
    """Store geocoded records at the midpoints of real blocks (through the store contract)."""
    import hashlib

    import geopandas as gpd
    import pandas as pd

    from istvhub.gazetteer import load
    from istvhub.records import make_record_id

    g = load(gazetteer_home)
    b = g.blocks
    b = b[(b["length_m"] > 60) & b["name"].notna() & (b["name"].astype(str) != "")]
    chosen: list[dict] = []
    used: set[str] = set()
    for borough, n in SEED:
        cand = b[(b["borough"] == borough) & ~b["name"].isin(used)].sort_values("block_id")
        row = cand.iloc[len(chosen) * 7 % len(cand)]
        used.add(row["name"])
        chosen.append(
            {
                "block_id": str(row["block_id"]),
                "name": str(row["name"]),
                "borough": borough,
                "n": n,
                "geom": row.geometry,
            }
        )
    rows = []
    for blk in chosen:
        mid = blk["geom"].interpolate(0.5, normalized=True)
        ll = gpd.GeoSeries([mid], crs=27700).to_crs(4326).iloc[0]
        for i in range(blk["n"]):
            key = f"{blk['block_id']}-{i}"
            rows.append(
                {
                    "record_id": make_record_id(OWN_DEPT, key),
                    "department": OWN_DEPT,
                    "period": period,
                    "source_row": len(rows) + 1,
                    "arrival_at": pd.Timestamp(f"{period}-1{i % 9} 2{i % 4}:15"),
                    "incident_date": None,
                    "incident_time": None,
                    "location_text": None,
                    "location_type": "street",
                    "weapon": "sharp" if i % 2 else "body_part",
                    "weapon_text": None,
                    "age_band": "18-24",
                    "sex": "male",
                    "geo_status": "located",
                    "match_type": "junction",
                    "lat": ll.y,
                    "lon": ll.x,
                    "easting": mid.x,
                    "northing": mid.y,
                    "precision_m": 10.0,
                    "confidence": 0.95,
                    "matched_name": blk["name"],
                    "lsoa_code": None,
                    "borough": blk["borough"],
                    "block_id": blk["block_id"],
                    "reason": "seeded",
                    "gazetteer_version": g.version,
                }
            )
    df = pd.DataFrame(rows)
    hub.store.store_submission(
        department=OWN_DEPT,
        period=period,
        file_sha256=hashlib.sha256(period.encode()).hexdigest(),
        source_filename="seeded.csv",
        adapter="test",
        records=df,
        uploaded_by="test",
    )
    return Seeded(hub, chosen)


@pytest.fixture
def seeded(geo_hub: Hub, gazetteer_home: Path) -> Seeded:
    return seed_located(geo_hub, gazetteer_home)


@pytest.fixture
def seed_more(gazetteer_home: Path):
    """Seed another month: ``seed_more(hub, "2025-07")``."""
    return lambda hub, period: seed_located(hub, gazetteer_home, period=period)
