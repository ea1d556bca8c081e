"""`istvhub hotblocks` end to end: records in a real store (SQLite and PostgreSQL), the real
Westminster network, every output format, the report, and nothing record-level in any output."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, write_mini_gazetteer
from istvhub.store import open_store

FREE_TEXT = "o/s the test venue nr junction"  # must never reach an output


def fill_store(url: str, sources, n: int = 1500, seed: int = 5) -> pd.DataFrame:
    """Store located synthetic records (plus some unlocated ones) for two EDs and two months."""
    blocks = blocks_from_osm_edges(sources)
    recs = synthetic_records(
        blocks, n, seed=seed, periods=("2024-01", "2024-02"), departments=("RJ122", "RJZ01")
    )
    recs["location_text"] = FREE_TEXT
    recs["weapon_text"] = None
    recs["age_band"] = "25-34"
    recs["sex"] = "male"
    recs["block_id"] = None
    # a share of records that the geocoder could not place, for the "not located" counts
    k = len(recs) // 10
    recs.loc[
        recs.index[:k],
        ["geo_status", "easting", "northing", "lat", "lon", "match_type", "precision_m"],
    ] = ["home", None, None, None, None, None, None]
    store = open_store(url)
    try:
        for (dept, period), g in recs.groupby(["department", "period"]):
            g = g.reset_index(drop=True)
            g["source_row"] = g.index + 1
            store.store_submission(
                department=dept,
                period=period,
                file_sha256=hashlib.sha256(f"{dept}{period}".encode()).hexdigest(),
                source_filename=f"{dept}_{period}.csv",
                adapter="test",
                records=g,
            )
    finally:
        store.dispose()
    return recs


@pytest.fixture
def mini_home(home, sources_dir):
    write_mini_gazetteer(sources_dir, home)
    return home


def _run(args):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def test_cli_gpkg_and_report_from_the_store(db_url, mini_home, sources_dir, tmp_path):
    recs = fill_store(db_url, sources_dir)
    out = tmp_path / "hot.gpkg"
    rep = tmp_path / "hot.html"
    res = _run(
        [
            "hotblocks",
            "--from",
            "2024-01",
            "--to",
            "2024-02",
            "--format",
            "gpkg",
            "--output",
            str(out),
            "--report",
            str(rep),
            "--db",
            db_url,
        ]
    )
    assert "blocks" in res.output
    layers = {n: pyogrio.read_dataframe(out, layer=n) for n, _ in pyogrio.list_layers(out)}
    assert set(layers) == {
        *("blocks", "hexes", "lsoas", "lsoas21", "msoas21"),
        *("summary", "concentration"),
    }
    for name, df in layers.items():
        flat = df.drop(columns=[c for c in ("geometry",) if c in df.columns]).astype(str)
        assert not flat.apply(lambda s: s.str.contains("test venue", regex=False)).any().any()
        if "count" in df.columns:
            c = df["count"].dropna()
            assert not ((c >= 1) & (c <= 7)).any() and (c % 5 == 0).all(), name
        assert not {
            "location_text",
            "record_id",
            "arrival_at",
            "incident_time",
            "matched_name",
            "department",
        } & set(df.columns)
    kv = dict(zip(layers["summary"]["key"], layers["summary"]["value"], strict=True))
    total = len(recs)
    assert abs(int(kv["records_in_filter"]) - total) <= 2.5
    assert abs(int(kv["not_located_home"]) - total // 10) <= 2.5
    assert kv["rule"] == "nhs_hes" and "WARNING" not in kv
    assert kv["gazetteer_version"] == "test-westminster"
    assert layers["lsoas"]["lsoa_code"].str.match(r"^E01\d{6}$").all()
    assert len(layers["lsoas"]) > 10
    html = rep.read_text()
    assert "data:image/png;base64," in html and "Lorenz" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert FREE_TEXT not in html


def test_cli_filters_and_unsuppressed(db_url, mini_home, sources_dir, tmp_path):
    fill_store(db_url, sources_dir, n=800, seed=9)
    out = tmp_path / "raw.csv"
    res = _run(
        [
            "hotblocks",
            "--from",
            "2024-02",
            "--to",
            "2024-02",
            "--department",
            "RJ122",
            "--weapon",
            "sharp",
            "--hours",
            "22-04",
            "--days",
            "fri,sat",
            "--h3-res",
            "10",
            "--format",
            "csv",
            "--output",
            str(out),
            "--db",
            db_url,
            "--unsuppressed",
        ]
    )
    assert "UNSUPPRESSED" in res.output
    summ = pd.read_csv(tmp_path / "raw_summary.csv")
    kv = dict(zip(summ["key"], summ["value"].astype(str), strict=True))
    assert "UNSUPPRESSED" in kv["WARNING"]
    assert kv["departments"] == "RJ122" and kv["hours"] == "22:00-04:00"
    assert kv["days"] == "fri, sat" and kv["h3_res"] == "10"
    assert "arrival" in kv["time_basis"]
    hexes = pd.read_csv(tmp_path / "raw_hexes.csv")
    assert (hexes["h3_res"] == 10).all()


def test_cli_rejects_bad_options(mini_home, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "hotblocks",
            "--from",
            "2024-13",
            "--to",
            "2024-02",
            "--format",
            "gpkg",
            "--output",
            str(tmp_path / "x.gpkg"),
        ],
    )
    assert res.exit_code != 0
    assert "--from" in str(res.exception)
    res = CliRunner().invoke(
        app,
        [
            "hotblocks",
            "--from",
            "2024-01",
            "--to",
            "2024-02",
            "--format",
            "shp",
            "--output",
            str(tmp_path / "x.shp"),
        ],
    )
    assert res.exit_code != 0 and "--format" in str(res.exception)


def test_cli_refuses_time_filters_on_a_fine_query(db_url, mini_home, sources_dir, tmp_path):
    """The query rules (docs/DISCLOSURE.md): --days/--hours over one month, or at res 10, are
    refused with the option named and nothing written; --unsuppressed (admins) is not limited."""
    fill_store(db_url, sources_dir, n=300, seed=3)
    base = ["hotblocks", "--db", db_url, "--format", "csv"]
    for extra, option in (
        (["--from", "2024-02", "--to", "2024-02", "--days", "fri"], "--days"),
        (["--from", "2023-12", "--to", "2024-02", "--hours", "22-04", "--h3-res", "10"], "--h3"),
        (["--from", "2023-12", "--to", "2024-02", "--hours", "22-23"], "--hours"),
    ):
        out = tmp_path / f"{option.strip('-')}.csv"
        res = CliRunner().invoke(app, [*base, *extra, "--output", str(out)])
        assert res.exit_code != 0 and option in str(res.exception), extra
        assert not out.exists()
    ok = tmp_path / "ok.csv"
    _run([*base, "--from", "2024-01", "--to", "2024-03", "--days", "fri,sat", "--output", str(ok)])
    assert ok.is_file()
