"""Harm-weighted, time-decayed hot blocks: the decay arithmetic by hand (stepwise, both
boundaries), the weapon table, and scores ADDED beside counts with the same suppression."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from istvhub.disclosure.rules import get_rule
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import BlockIndex, assign
from istvhub.hotblocks.harm import (
    HarmError,
    add_harm,
    load_harm_table,
    month_index,
    record_harm,
)
from istvhub.hotblocks.sample import blocks_from_osm_edges
from istvhub.records import WEAPONS

NHS = get_rule("nhs_hes")
T = load_harm_table()


def _recs(rows):
    return pd.DataFrame(rows, columns=["weapon", "period", "arrival_at", "incident_date"])


def test_table_covers_every_weapon_and_orders_severity():
    assert set(WEAPONS) <= set(T.weights)
    top = sorted(T.weights, key=T.weights.get, reverse=True)[:2]
    assert set(top) == {"firearm", "sharp"}
    assert min(T.weights, key=T.weights.get) == "body_part"
    assert T.factor == pytest.approx(2 / 3) and T.period_months == 12


@pytest.mark.parametrize(
    ("month", "factor"),
    [
        ("2024-12", 1.0),  # age 0
        ("2024-01", 1.0),  # age 11: no full year yet
        ("2023-12", 2 / 3),  # age 12: the first step
        ("2023-01", 2 / 3),  # age 23: still one step
        ("2022-12", 4 / 9),  # age 24: (2/3)^2
        ("2021-12", 8 / 27),  # age 36
    ],
)
def test_stepwise_decay_boundaries(month, factor):
    r = _recs([("sharp", month, f"{month}-15 10:00", None)])
    got = record_harm(r, "2024-12", T).iloc[0]
    assert got == pytest.approx(8.0 * factor)


def test_incident_date_wins_over_arrival_and_period():
    # assaulted on 31 Dec 2022, arrived 1 Jan 2023 (January's extract): 24 months before as-of
    r = _recs(
        [
            ("body_part", "2023-01", "2023-01-01 00:30", "2022-12-31"),
            ("body_part", "2023-01", "2023-01-01 00:30", None),
            ("body_part", "2023-01", None, None),
        ]
    )
    got = record_harm(r, "2024-12", T).tolist()
    assert got == pytest.approx([4 / 9, 2 / 3, 2 / 3])


def test_future_incidents_do_not_grow_and_bad_as_of_is_named():
    r = _recs([("firearm", "2025-03", "2025-03-01 10:00", None)])
    assert record_harm(r, "2024-12", T).iloc[0] == pytest.approx(10.0)
    with pytest.raises(HarmError, match="--as-of"):
        record_harm(r, "2024-13", T)


@given(st.integers(0, 400))
def test_decay_is_a_third_less_per_full_year(age):
    ref = "2030-06"
    total = month_index(ref) - age
    month = f"{total // 12:04d}-{total % 12 + 1:02d}"
    r = _recs([("body_part", month, None, None)])
    assert record_harm(r, ref, T).iloc[0] == pytest.approx((2 / 3) ** (age // 12))


# ------------------------------------------------------------------ scores beside counts


@pytest.fixture(scope="module")
def blocks(sources_dir):
    return blocks_from_osm_edges(sources_dir)


def _on_block(geom, n, weapon, month):
    mid = shapely.line_interpolate_point(geom, 0.5, normalized=True)
    return [
        {
            "record_id": f"{weapon}-{month}-{mid.x:.0f}-{i}",
            "department": "RJ122",
            "period": "2024-12",
            "arrival_at": f"{month}-10 22:00",
            "incident_date": None,
            "incident_time": None,
            "weapon": weapon,
            "location_type": "street",
            "geo_status": "located",
            "match_type": "postcode",
            "lat": None,
            "lon": None,
            "easting": mid.x,
            "northing": mid.y,
            "precision_m": 10.0,
            "matched_name": None,
            "lsoa_code": None,
            "borough": "Westminster",
        }
        for i in range(n)
    ]


def test_harm_is_added_not_replacing_and_follows_suppression(blocks):
    long = blocks[blocks["length_m"] > 120].sort_values("block_id")
    a, c, b = long.iloc[0], long.iloc[40], long.iloc[80]
    rows = (
        _on_block(a.geometry, 10, "sharp", "2024-11")  # 10 x 8
        + _on_block(a.geometry, 10, "body_part", "2022-12")  # 10 x 1 x 4/9
        + _on_block(c.geometry, 12, "firearm", "2024-12")
        + _on_block(b.geometry, 3, "sharp", "2024-12")
    )
    recs = pd.DataFrame(rows)
    index = BlockIndex(blocks)
    f = Filters(period_from="2024-12", period_to="2024-12")
    plain = build_layers(recs, index, f, NHS)
    layers = add_harm(build_layers(recs, index, f, NHS), recs, index, f, as_of="2024-12")
    bl = layers.blocks.set_index("block_id")
    # two-way streets carry two blocks on one line: take the block each group really snapped to
    got = assign(recs.iloc[[0, 20, 32]], index).blocks["block_id"].tolist()
    a, c, b = (pd.Series({"block_id": x}) for x in got)
    # counts untouched, harm alongside
    pd.testing.assert_series_equal(plain.blocks["count"], layers.blocks["count"])
    assert "count" in layers.blocks and "harm_score" in layers.blocks
    assert bl.at[a.block_id, "count"] == 20
    # 80 + 4.44, scaled by the block's cell-key perturbation (20 +- 2 of 20) -> nearest 5
    assert bl.at[a.block_id, "harm_score"] in (75.0, 80.0, 85.0, 90.0, 95.0)
    # b (3) is not listed at all (as if empty); c (12) is published, perturbed by its cell key
    # and rounded, with its score beside it
    assert b.block_id not in bl.index
    assert bl.at[c.block_id, "count"] in (10, 15) and pd.notna(bl.at[c.block_id, "harm_score"])
    hx = layers.hexes
    assert hx.loc[~hx["suppressed"], "harm_score"].notna().all()
    assert hx.loc[hx["suppressed"], "harm_score"].isna().all()
    assert (hx["harm_score"].dropna() % 5 == 0).all()
    kv = dict(zip(layers.summary["key"], layers.summary["value"], strict=True))
    assert kv["harm_as_of"] == "2024-12" and kv["harm_table"] == T.name


def _hotblocks_cli():
    """The hot-blocks CLI test's store filler (tests/ is not a package)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "_hotblocks_cli_helpers", Path(__file__).with_name("test_hotblocks_cli.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_harm_flag(db_url, home, sources_dir, tmp_path):
    from istvhub.cli import app
    from istvhub.hotblocks.sample import write_mini_gazetteer

    fill_store = _hotblocks_cli().fill_store

    write_mini_gazetteer(sources_dir, home)
    fill_store(db_url, sources_dir, n=600)
    outs = {}
    for tag, extra in (("plain", []), ("harm", ["--harm", "--as-of", "2025-02"])):
        out = tmp_path / f"{tag}.csv"
        res = CliRunner().invoke(
            app,
            [
                "hotblocks",
                "--from",
                "2024-01",
                "--to",
                "2024-02",
                "--format",
                "csv",
                "--output",
                str(out),
                "--db",
                db_url,
                *extra,
            ],
        )
        assert res.exit_code == 0, (res.output, res.exception)
        outs[tag] = pd.read_csv(out)
    plain, harm = outs["plain"], outs["harm"]
    assert "harm_score" not in plain and "harm_score" in harm
    pd.testing.assert_series_equal(plain["count"], harm["count"])
    assert harm.loc[harm["suppressed"], "harm_score"].isna().all()
    assert harm.loc[~harm["suppressed"], "harm_score"].notna().all()
    res = CliRunner().invoke(
        app,
        [
            "hotblocks",
            "--from",
            "2024-01",
            "--to",
            "2024-02",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x.csv"),
            "--db",
            db_url,
            "--harm",
            "--as-of",
            "2025-1",
        ],
    )
    assert res.exit_code != 0
