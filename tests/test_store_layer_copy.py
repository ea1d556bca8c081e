"""The layer read's PostgreSQL COPY path (issue 16) gives the frame the row-by-row read gives:
same rows, order, values and dtypes, on text that CSV makes awkward (commas, quotes, line
breaks, non-ASCII, empty strings beside NULLs), missing dates/times/points, and columns with no
value at all. On SQLite the row-by-row read is the only path and must still answer."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from istvhub.hotblocks.service import LAYER_READ_COLUMNS
from istvhub.store import open_store
from istvhub.store.repos import layers as layers_repo
from istvhub.store.repos.layers import ReadScope, layer_records

NAMES = ["High Street", 'Bar "Nine", Soho', "Line\nbreak Road", "Église Walk", "", None]


def _records(dept: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    located = rng.random(n) > 0.2
    east = np.where(located, rng.uniform(525000, 535000, n), np.nan)
    north = np.where(located, rng.uniform(175000, 185000, n), np.nan)
    day = rng.integers(1, 29, n)
    known = rng.random(n) > 0.3
    return pd.DataFrame(
        {
            "record_id": [f"lc{seed}-{i:05d}" for i in range(n)],
            "department": dept,
            "period": "2024-06",
            "source_row": np.arange(1, n + 1),
            "arrival_at": [
                dt.datetime(2024, 6, int(d), int(h), int(m), int(s))
                for d, h, m, s in zip(
                    day,
                    rng.integers(0, 24, n),
                    rng.integers(0, 60, n),
                    rng.integers(0, 60, n),
                    strict=True,
                )
            ],
            "incident_date": [
                dt.date(2024, 6, int(d)) if k else None for d, k in zip(day, known, strict=True)
            ],
            "incident_time": [
                dt.time(int(h), int(m)) if k else None
                for h, m, k in zip(
                    rng.integers(0, 24, n), rng.integers(0, 60, n), known, strict=True
                )
            ],
            "location_text": "outside the test shop",
            "location_type": rng.choice(["street", "licensed_premises", "park"], n),
            "weapon": rng.choice(["sharp", "blunt", "body_part"], n),
            "age_band": "18-24",
            "sex": "male",
            "geo_status": np.where(located, "located", "unknown"),
            "match_type": [
                rng.choice(["venue", "street", "postcode"]) if x else None for x in located
            ],
            "easting": east,
            "northing": north,
            "lat": np.where(located, 51.5 + (north - 180000) / 111000, np.nan),
            "lon": np.where(located, -0.12 + (east - 530000) / 69000, np.nan),
            "precision_m": np.where(located, rng.choice([10.0, 150.0, 1234.5678901234], n), np.nan),
            "matched_name": [NAMES[i] for i in rng.integers(0, len(NAMES), n)],
            "lsoa_code": [f"E0100{i:04d}" if x else None for i, x in enumerate(located)],
            "borough": [rng.choice(["Lambeth", "Camden"]) if x else None for x in located],
        }
    )


def _rowwise(monkeypatch: pytest.MonkeyPatch, *args, **kw) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(layers_repo, "copy_select", lambda *a: None)
        return layer_records(*args, **kw)


def test_copy_read_equals_the_row_by_row_read(db_url, monkeypatch):
    store = open_store(db_url)
    calls: list[bool] = []
    real = layers_repo.copy_select

    def spy(*a):
        out = real(*a)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(layers_repo, "copy_select", spy)
    try:
        for dept, seed in (("RJ122", 1), ("RAL01", 2)):
            store.store_submission(
                department=dept,
                period="2024-06",
                file_sha256=hashlib.sha256(dept.encode()).hexdigest(),
                source_filename="lc.csv",
                adapter="test",
                records=_records(dept, 700, seed),
            )
        cols = list(LAYER_READ_COLUMNS)
        scope = ReadScope(boroughs=("lambeth",), codes={"lsoa_code": ("E01000005", "E01000007")})
        for kw in (
            {},
            {"scope": scope, "weapons": ("sharp", "blunt")},
            {"departments": ("ral01",), "location_types": ("park",)},
        ):
            got = layer_records(store, cols, period_from="2024-06", period_to="2024-06", **kw)
            want = _rowwise(
                monkeypatch, store, cols, period_from="2024-06", period_to="2024-06", **kw
            )
            assert len(got) > 50
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert (got["matched_name"] == "").any() and got["matched_name"].isna().any()
        assert got["lsoa21_code"].isna().all()  # a column with no value at all
        none = layer_records(store, cols, period_from="2025-01", period_to="2025-01")
        assert none.empty and list(none.columns) == cols
        assert calls[:3] == [db_url.startswith("postgresql")] * 3
    finally:
        store.dispose()
