"""Hot blocks on the real built gazetteer: records placed where the geocoder would place them
(real gazetteer entries: OSM junctions, streets, venues, Code-Point postcodes), then the CLI
against a real store and the real network."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.disclosure.rules import get_rule
from istvhub.gazetteer import load
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import BlockIndex, assign
from istvhub.store import open_store

MATCH = {"junction": "junction", "street": "street", "venue": "venue", "postcode": "postcode"}


@pytest.fixture(scope="module")
def gz(gazetteer_home):
    return load(gazetteer_home)


@pytest.fixture(scope="module")
def index(gz):
    return BlockIndex(gz.blocks)


def geocoded_like(gz, n_each: int = 150, seed: int = 3) -> pd.DataFrame:
    """Records located exactly as the geocoder locates them: on gazetteer entries."""
    e = gz.entries
    rng = np.random.default_rng(seed)
    parts = []
    for etype, mt in MATCH.items():
        pool = e[(e["entry_type"] == etype) & e["easting"].notna()]
        if etype == "junction":  # point-precision OSM junctions of the central network
            pool = pool[(pool["source"] == "osm") & (pool["precision_m"] <= 50)]
        take = pool.iloc[rng.choice(len(pool), size=min(n_each, len(pool)), replace=False)]
        parts.append(
            pd.DataFrame(
                {
                    "geo_status": "located",
                    "match_type": mt,
                    "easting": take["easting"].to_numpy(),
                    "northing": take["northing"].to_numpy(),
                    "lat": take["lat"].to_numpy(),
                    "lon": take["lon"].to_numpy(),
                    "precision_m": take["precision_m"].to_numpy(),
                    "matched_name": take["name"].to_numpy(),
                    "lsoa_code": take["lsoa_code"].to_numpy(),
                    "borough": take["borough"].to_numpy(),
                    "street_a": take["street_a"].to_numpy(),
                    "street_b": take["street_b"].to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_real_junctions_snap_only_to_their_own_streets(gz, index):
    recs = geocoded_like(gz)
    a = assign(recs, index)
    j = recs.index[recs["match_type"] == "junction"]
    snapped = a.blocks[a.blocks["record"].isin(j)].merge(
        gz.blocks[["block_id", "names_key"]], on="block_id"
    )
    assert len(snapped) >= 0.9 * len(j)  # OSM junctions sit on the network
    for r in snapped.itertuples():
        keys = set(r.names_key.split("|"))
        assert {recs.at[r.record, "street_a"], recs.at[r.record, "street_b"]} & keys


def test_real_street_matches_spread_over_their_blocks(gz, index):
    recs = geocoded_like(gz)
    a = assign(recs, index)
    s = recs.index[recs["match_type"] == "street"]
    spread = a.blocks[a.blocks["record"].isin(s)]
    assert spread.groupby("record")["weight"].sum().round(9).eq(1.0).all()
    from istvhub.gazetteer.normalise import normalise_name

    got = spread.merge(gz.blocks[["block_id", "names_key"]], on="block_id")
    for r in got.itertuples():
        assert normalise_name(recs.at[r.record, "matched_name"]) in r.names_key.split("|")
    # streets outside the network's boroughs are reported, not forced onto another street
    st = a.records.loc[s, "snap_status"].astype(str)
    assert set(st) <= {"spread", "street_not_in_network", "outside_network"}
    assert (st == "spread").any()


def test_layers_on_the_real_network_are_disclosure_controlled(gz, index):
    recs = geocoded_like(gz, n_each=400)
    recs["record_id"] = [f"gzl{i:06d}" for i in range(len(recs))]
    recs["period"] = "2024-05"
    recs["department"] = "RJ122"
    recs["arrival_at"] = pd.Timestamp("2024-05-04 23:10")
    for c in ("weapon", "location_type"):
        recs[c] = "unknown"
    layers = build_layers(
        recs,
        index,
        Filters("2024-05", "2024-05"),
        get_rule(),
        lsoas=gz.lsoas,
        gazetteer_version=gz.version,
    )
    for name in ("blocks", "hexes", "lsoas"):
        c = pd.to_numeric(getattr(layers, name)["count"], errors="coerce").dropna()
        assert not ((c >= 1) & (c <= 7)).any() and (c % 5 == 0).all()
    # postcodes all over London: many outside the network land in hexes/LSOAs but not blocks
    kv = dict(zip(layers.summary["key"], layers.summary["value"], strict=True))
    assert kv["located_not_on_block_outside_network"] not in ("0", "*")
    assert layers.lsoas["geometry"].notna().all()
    assert set(layers.blocks["borough"].dropna()) <= set(gz.blocks["borough"].dropna())


def test_cli_on_the_real_gazetteer(gz, gazetteer_home, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTVHUB_HOME", str(gazetteer_home))
    from istvhub.core.config import get_settings

    get_settings.cache_clear()
    recs = geocoded_like(gz, n_each=300, seed=8).drop(columns=["street_a", "street_b"])
    n = len(recs)
    recs["record_id"] = [f"gz{i:06d}" for i in range(n)]
    recs["department"] = "RJ122"
    recs["period"] = "2024-06"
    recs["arrival_at"] = pd.Timestamp("2024-06-07 22:40") + pd.to_timedelta(
        np.arange(n) % 300, unit="min"
    )
    recs["location_text"] = "opp the test kebab shop"
    for c, v in (
        ("location_type", "street"),
        ("weapon", "body_part"),
        ("age_band", "18-24"),
        ("sex", "female"),
    ):
        recs[c] = v
    recs["source_row"] = np.arange(1, n + 1)
    store = open_store(db_url)
    try:
        store.store_submission(
            department="RJ122",
            period="2024-06",
            file_sha256=hashlib.sha256(b"gz").hexdigest(),
            source_filename="gz.csv",
            adapter="test",
            records=recs,
        )
    finally:
        store.dispose()
    out = tmp_path / "west.gpkg"
    res = CliRunner().invoke(
        app,
        [
            "hotblocks",
            "--from",
            "2024-06",
            "--to",
            "2024-06",
            "--borough",
            "Westminster",
            "--format",
            "gpkg",
            "--output",
            str(out),
            "--report",
            str(tmp_path / "r.html"),
            "--db",
            db_url,
        ],
    )
    get_settings.cache_clear()
    assert res.exit_code == 0, (res.output, res.exception)
    blocks = pyogrio.read_dataframe(out, layer="blocks")
    # few records per block over London: blocks of 1-7 are left out, the rest are Westminster's
    assert set(blocks["borough"]) <= {"Westminster"}
    summary = pyogrio.read_dataframe(out, layer="summary")
    kv = dict(zip(summary["key"], summary["value"], strict=True))
    assert kv["gazetteer_version"] == gz.version and kv["boroughs"] == "Westminster"
    html = (tmp_path / "r.html").read_text()
    assert "kebab" not in html and "data:image/png;base64," in html


def test_imprecise_junctions_recover_the_real_osm_junction(gz, index):
    """Real OSM junctions moved 100 m off and given a postcode-like precision: the network's own
    junction of the two streets is found again for (nearly) all of them."""
    import shapely

    e = gz.entries
    j = e[(e["entry_type"] == "junction") & (e["source"] == "osm")].sample(400, random_state=2)
    rng = np.random.default_rng(0)
    ang = rng.uniform(0, 2 * np.pi, len(j))
    recs = pd.DataFrame(
        {
            "geo_status": "located",
            "match_type": "junction",
            "easting": j["easting"].to_numpy() + 100 * np.cos(ang),
            "northing": j["northing"].to_numpy() + 100 * np.sin(ang),
            "precision_m": 165.0,
            "matched_name": j["name"].to_numpy(),
            "lsoa_code": None,
        }
    )
    a = assign(recs, index)
    assert (a.records["snap_status"].astype(str) == "snapped").mean() > 0.9
    geom = gz.blocks.set_index("block_id").geometry
    got = a.blocks.set_index("record")["block_id"]
    nodes = shapely.points(j["easting"].to_numpy(), j["northing"].to_numpy())
    d = shapely.distance(nodes[got.index.to_numpy()], geom.loc[got.to_numpy()].values)
    assert np.median(d) < 1.0 and (d < 25).mean() > 0.95
