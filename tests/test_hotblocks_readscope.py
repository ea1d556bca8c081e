"""Borough pushdown (issue 16): a borough-filtered build reads only the records that can reach
the borough's units, and publishes exactly what the build over every record publishes.

Records are placed on real gazetteer entries in and around Lambeth (repeated, as postcodes and
venues repeat in real extracts), so blocks cross the listing threshold and many records sit
across a borough boundary from the block they snap onto: a plain ``borough =`` filter would
drop those.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from istvhub.disclosure.rules import get_rule
from istvhub.gazetteer import load
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import BlockIndex, assign
from istvhub.hotblocks.service import LAYER_READ_COLUMNS, layer_input, read_layer_records
from istvhub.store import open_store

MATCH = {"junction": "junction", "street": "street", "venue": "venue", "postcode": "postcode"}
LAYERS = ("blocks", "hexes", "lsoas", "summary", "concentration", "lsoas21", "msoas21")


@pytest.fixture(scope="module")
def gz(gazetteer_home):
    return load(gazetteer_home)


@pytest.fixture(scope="module")
def index(gz):
    return BlockIndex(gz.blocks)


def _records(gz, index) -> pd.DataFrame:
    """~4,000 records on real entries: most within 3 km of Lambeth's blocks, repeated 1-15
    times each, the rest one each anywhere in London; some not located."""
    rng = np.random.default_rng(16)
    lam = index.geoms[(index.blocks["borough"] == "Lambeth").to_numpy()]
    import shapely

    x0, y0, x1, y1 = shapely.total_bounds(lam)
    e = gz.entries[gz.entries["easting"].notna()]
    near = e["easting"].between(x0 - 3000, x1 + 3000) & e["northing"].between(y0 - 3000, y1 + 3000)
    parts = []
    for etype, mt in MATCH.items():
        for pool, n, reps in ((e[near], 100, (1, 16)), (e[~near], 120, (1, 2))):
            pool = pool[pool["entry_type"] == etype]
            take = pool.iloc[rng.choice(len(pool), size=min(n, len(pool)), replace=False)]
            take = take.loc[take.index.repeat(rng.integers(*reps, size=len(take)))]
            parts.append(
                pd.DataFrame(
                    {
                        "geo_status": "located",
                        "match_type": mt,
                        **{c: take[c].to_numpy() for c in ("easting", "northing", "lat", "lon")},
                        "precision_m": take["precision_m"].to_numpy(),
                        "matched_name": take["name"].to_numpy(),
                        "lsoa_code": take["lsoa_code"].to_numpy(),
                        "borough": take["borough"].to_numpy(),
                    }
                )
            )
    recs = pd.concat(parts, ignore_index=True)
    unknown = rng.random(len(recs)) < 0.05
    recs.loc[unknown, ["geo_status", "match_type", "easting", "northing", "lat", "lon"]] = None
    recs.loc[unknown, "geo_status"] = "unknown"
    n = len(recs)
    recs["record_id"] = [f"rs{i:06d}" for i in range(n)]
    recs["department"] = "RJ122"
    recs["period"] = "2024-06"
    recs["arrival_at"] = pd.Timestamp("2024-06-01 18:00") + pd.to_timedelta(
        rng.integers(0, 29 * 24 * 60, size=n), unit="min"
    )
    recs["location_text"] = "outside the test shop"
    recs["location_type"] = "street"
    recs["age_band"] = "18-24"
    recs["sex"] = "male"
    recs["weapon"] = rng.choice(["sharp", "body_part", "blunt"], size=n)
    recs["source_row"] = np.arange(1, n + 1)
    return recs


def _across(df: pd.DataFrame, on: np.ndarray, borough: str, weapons: tuple[str, ...]) -> int:
    """How many of the records ``on`` (index labels) were geocoded to another borough."""
    hit = df.loc[on]
    hit = hit[hit["borough"] != borough]
    return len(hit[hit["weapon"].isin(weapons)] if weapons else hit)


def _same(a, b) -> None:
    for name in LAYERS:
        x, y = getattr(a, name), getattr(b, name)
        if name == "summary":  # build time and timestamp differ between two builds
            x, y = x[x["section"] != "build"], y[y["section"] != "build"]
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True))


def test_borough_pushdown_reads_less_and_publishes_the_same(gz, index, gazetteer_home, db_url):
    recs = _records(gz, index)
    store = open_store(db_url)
    try:
        store.store_submission(
            department="RJ122",
            period="2024-06",
            file_sha256=hashlib.sha256(b"readscope").hexdigest(),
            source_filename="rs.csv",
            adapter="test",
            records=recs,
        )
        full = layer_input(
            store.current_records(
                period_from="2024-06", period_to="2024-06", columns=LAYER_READ_COLUMNS
            ),
            gazetteer_home,
        )
        a = assign(full, index, gz.lsoas)
        areas21 = {"lsoas21": gz.lsoas21, "msoas21": gz.msoas21}
        listed = crossing = 0
        for borough, res, weapons in (
            ("Lambeth", 9, ()),
            ("Southwark", 8, ("sharp",)),
            ("Southwark", 10, ()),
            ("City of London", 9, ()),
            ("Westminster", 9, ()),
        ):
            f = Filters("2024-06", "2024-06", boroughs=(borough,), h3_res=res, weapons=weapons)
            part = read_layer_records(store, f, index, gz.lsoas, areas21, gazetteer_home)
            assert len(part) < len(full)
            # records geocoded to another borough that snap onto this borough's blocks are read
            mine = set(index.blocks.loc[index.blocks["borough"] == borough, "block_id"])
            on_mine = a.blocks.loc[a.blocks["block_id"].isin(mine), "record"].unique()
            ap = assign(part, index, gz.lsoas)
            on_part = ap.blocks.loc[ap.blocks["block_id"].isin(mine), "record"].unique()

            n_full = _across(full, on_mine, borough, weapons)
            assert _across(part, on_part, borough, weapons) == n_full
            crossing += n_full
            kw = {"lsoas": gz.lsoas, "gazetteer_version": gz.version, "areas21": areas21}
            whole = build_layers(full, index, f, get_rule(None), **kw)
            _same(whole, build_layers(part, index, f, get_rule(None), **kw))
            listed += len(whole.blocks) + len(whole.hexes)
        assert listed > 0, "the fixture must list some units, or equality proves nothing"
        assert crossing > 0, "the fixture must put records across a boundary"
    finally:
        store.dispose()
