"""The batch path (issue 16) stores what the one-file path stores and reports what it reports,
file by file, on SQLite and PostgreSQL: the sample feeds of every layout, a file with bad rows
(quarantined, warned, PII scrubbed), two versions of one month, an identical re-upload, and
refused files, each failing alone with its own reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from istvhub.ingest.batch import extract_paths, ingest_many, ingest_paths
from istvhub.ingest.core import ingest_file
from istvhub.store import open_store

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_feeds"
FIX = REPO / "tests" / "fixtures" / "ingest"
ARRIVED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def _with_bad_rows(src: Path) -> bytes:
    """An MDS month with rows the adapter must quarantine or warn about: an impossible arrival
    date, a date in another month, a duplicated row, an e-mail address in the free text."""
    lines = src.read_text(encoding="utf-8").splitlines()
    head, rows = lines[0].split(","), lines[1:]
    arr = next(i for i, h in enumerate(head) if "arrival" in h.lower() and "date" in h.lower())
    txt = next(i for i, h in enumerate(head) if "location" in h.lower() and "desc" in h.lower())

    def edit(line: str, col: int, value: str) -> str:
        cells = line.split(",")
        cells[col] = value
        return ",".join(cells)

    rows[2] = edit(rows[2], arr, "31/02/2025")
    rows[4] = edit(rows[4], arr, "2024-01-15")
    rows[6] = edit(rows[6], txt, "outside the pub ring jo.bloggs@example.com")
    rows.append(rows[8])
    return ("\n".join([lines[0], *rows]) + "\n").encode()


def _files(tmp: Path) -> list[Path]:
    """Every sample feed layout, months out of order, and the awkward cases."""
    picked: list[Path] = []
    for dept in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        months = sorted(dept.glob("*.csv")) + sorted(dept.glob("*.xlsx"))
        picked += months[:3]
    bad = tmp / "RJ122_2025-09.csv"
    bad.write_bytes(_with_bad_rows(sorted((SAMPLES / "RJ122").glob("RJ122_2025-0*.csv"))[0]))
    picked.append(bad)
    picked += [
        FIX / "RJZ01_ecds_pii_2025-04.csv",  # refused: an NHS number column
        FIX / "RJ122_mds_2025-03.csv",  # refused: 3 rows would replace the month's 169
        FIX / "RJ122_mds_2025-03.csv",  # refused again: drops most of the month's rows
        SAMPLES / "R1H12" / "R1H12_2025-01.csv",  # identical: unchanged
        FIX / "RQXM1_pas_2025-05.csv",
        SAMPLES / "RJZ01" / "RJZ01_2025-06.csv",
        SAMPLES / "RJZ01" / "RJZ01_2025-06_v2.csv",  # a second version of the same month
    ]
    nil = tmp / "RJ122_2025-11.csv"  # a nil return (header only): the one-file path
    nil.write_text((FIX / "RJ122_mds_2025-03.csv").read_text().splitlines()[0] + "\n")
    picked.append(nil)
    empty = tmp / "RJ701_2025-01.csv"  # refused: not a table
    empty.write_bytes(b"\x00\x01garbage")
    picked.append(empty)
    return picked


def _report(res) -> dict:
    d = res.as_dict(with_issues=True)
    d.pop("submission_id")
    return d


def _stored(st) -> dict[str, pd.DataFrame]:
    subs = st.submissions().drop(columns=["submission_id"], errors="ignore")
    subs = subs.sort_values(["department", "period", "version"]).reset_index(drop=True)
    recs = st.current_records()
    recs = recs.drop(columns=[c for c in ("id", "submission_id") if c in recs.columns])
    recs = recs.sort_values(["department", "period", "source_row"]).reset_index(drop=True)
    q = st.quarantine().drop(columns=["submission_id", "id"], errors="ignore")
    q = q.sort_values(list(q.columns)).reset_index(drop=True)
    return {"submissions": subs, "records": recs, "quarantine": q}


@pytest.mark.slow
def test_batch_matches_one_file_path(db_url, tmp_path, monkeypatch):
    import istvhub.ingest.batch as batch

    monkeypatch.setattr(batch, "BATCH_FILES", 7)  # several batches, groups across batches
    alone: list[str] = []
    one_file = batch._one
    monkeypatch.setattr(
        batch, "_one", lambda data, name, *a: alone.append(name) or one_file(data, name, *a)
    )
    files = _files(tmp_path)
    one_url = db_url
    one = open_store(one_url)
    kw = {"geocode": False, "received_at": ARRIVED}
    singles = [ingest_file(f, one, **kw) for f in files]
    want = _stored(one)
    one.dispose()

    many_dir = tmp_path / "batch.db"
    many_url = f"sqlite:///{many_dir}" if db_url.startswith("sqlite") else None
    if many_url is None:  # a second fresh PostgreSQL schema: the same server, another store
        from conftest import _drop_pg_schema, _pg_url_with_fresh_schema

        many_url, schema = _pg_url_with_fresh_schema()
    try:
        many = open_store(many_url)
        batched = ingest_paths(files, many, **kw)
        got = _stored(many)
        many.dispose()
    finally:
        if not many_url.startswith("sqlite"):
            _drop_pg_schema(schema)
    # only what the batch cannot adapt went alone: the refusals before adapting, the nil return
    assert sorted(alone) == ["RJ122_2025-11.csv", "RJ701_2025-01.csv", "RJZ01_ecds_pii_2025-04.csv"]
    statuses = [r.status for r in singles]
    assert {"stored", "rejected", "unchanged"} <= set(statuses)
    assert any(r.rows_quarantined for r in singles) and any(r.pii_scrubbed for r in singles)
    assert any(r.warning_counts() for r in singles)
    assert len(batched) == len(singles)
    for a, b in zip(singles, batched, strict=True):
        assert _report(b) == _report(a), a.file
        assert b.report_rows() == a.report_rows()
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_directory_expands_to_its_extracts(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "b.xlsx").write_bytes(b"")
    (tmp_path / "notes.md").write_text("not an extract")
    (tmp_path / "sub").mkdir()
    got = extract_paths([tmp_path, FIX / "RQXM1_pas_2025-05.csv"])
    assert [p.name for p in got] == ["a.csv", "b.xlsx", "RQXM1_pas_2025-05.csv"]


def test_bad_file_in_a_group_fails_alone(tmp_path):
    """Months of one layout adapted together: the refused one (another department's code in
    its name) is refused with its reason, the others are stored."""
    st = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    months = sorted((SAMPLES / "RJ122").glob("RJ122_2025-0*.csv"))[:4]
    items = [(p.name, p.read_bytes()) for p in months]
    items[1] = ("RJ122_2025-13.csv", items[1][1])  # contradicts nothing, still its own month
    items[2] = (items[2][0], items[2][1].replace(b"RJ122", b"RJZ01"))  # site != file name
    res = ingest_many(items, st, geocode=False)
    assert [r.status for r in res] == ["stored", "stored", "rejected", "stored"]
    assert items[2][0] in res[2].message
    subs = st.submissions()
    assert len(subs) == 3 and set(subs["department"]) == {"RJ122"}
    st.dispose()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "istvhub", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env=dict(os.environ),
    )


def test_cli_directory_batch_prints_and_reports_as_one_at_a_time(tmp_path):
    """``istvhub ingest DIR``: the batch path's output, report CSV and exit code are those of
    ``--one-at-a-time`` (the file with bad rows warned, the refused file named, exit 2)."""
    d = tmp_path / "extracts"
    d.mkdir()
    for p in sorted((SAMPLES / "RJ122").glob("RJ122_2025-0*.csv"))[:3]:
        shutil.copy(p, d / p.name)
    (d / "RJ122_2025-09.csv").write_bytes(
        _with_bad_rows(sorted((SAMPLES / "RJ122").glob("RJ122_2025-0*.csv"))[3])
    )
    shutil.copy(FIX / "RJZ01_ecds_pii_2025-04.csv", d)
    out = {}
    for mode in ("batch", "one"):
        db = f"sqlite:///{tmp_path / (mode + '.db')}"
        extra = ["--one-at-a-time"] if mode == "one" else []
        rep = tmp_path / f"{mode}.csv"
        res = _cli("ingest", str(d), "--db", db, "--no-geocode", "--report", str(rep), *extra)
        out[mode] = (res.returncode, res.stdout, res.stderr, rep.read_text())
    assert out["batch"] == out["one"]
    code, stdout, stderr, report = out["batch"]
    assert code == 2 and "RJZ01_ecds_pii_2025-04.csv" in stderr and "1 of 5" in stderr
    assert stdout.count("stored: RJ122_") == 4 and "quarantined 3" in stdout
    assert "Row " in report and "(line " in report


class _PlaceGeocoder:
    """Locates texts naming a pub or a park (lat/lon from the text's length), the rest
    unmatched: enough to see geocode columns and counts travel with each file's records."""

    version = "test-gaz-2"

    def geocode_frame(self, df, text_col="location_text", department_col="department"):
        from istvhub.records import GEOCODE_COLUMNS

        out = pd.DataFrame(index=df.index, columns=list(GEOCODE_COLUMNS))
        txt = df[text_col].fillna("")
        hit = txt.str.contains("pub|park", case=False)
        out["geo_status"] = ["located" if h else "unmatched" for h in hit]
        out["lat"] = [51.5 + len(t) / 1e4 if h else None for t, h in zip(txt, hit, strict=True)]
        out["lon"] = [-0.1 if h else None for h in hit]
        return out


def test_batch_geocodes_each_file_as_alone(db_url, tmp_path):
    months = sorted((SAMPLES / "RYJ01").glob("RYJ01_2025-0*.csv"))[:3]
    stores = {}
    for mode in ("one", "batch"):
        url = db_url if mode == "one" else f"sqlite:///{tmp_path / 'g.db'}"
        st = open_store(url)
        kw = {"geocoder": _PlaceGeocoder(), "received_at": ARRIVED}
        if mode == "one":
            res = [ingest_file(p, st, **kw) for p in months]
        else:
            res = ingest_paths(months, st, **kw)
        cur = st.current_records().sort_values(["period", "source_row"]).reset_index(drop=True)
        stores[mode] = (res, cur.drop(columns=["id", "submission_id", "geocoded_at"]))
        st.dispose()
    one, batched = stores["one"][0], stores["batch"][0]
    assert all(r.located for r in one) and [r.located for r in batched] == [r.located for r in one]
    assert [_report(r) for r in batched] == [_report(r) for r in one]
    pd.testing.assert_frame_equal(stores["batch"][1], stores["one"][1], check_dtype=False)


def test_period_of_iso_shortcut_agrees_with_the_date_parser(monkeypatch):
    """An ISO period cell (2025-01-01) is read without pandas: the same month, or None, as the
    slow path gives, for valid and impossible dates and years either side of its range."""
    import re

    import istvhub.ingest.fileplan as F

    period_of = F.period_of.__wrapped__
    cells = [
        f"{y}-{m:02d}-{d:02d}"
        for y in (1899, 1900, 1989, 1990, 2024, 2025, 2099, 2100, 2999)
        for m in (0, 1, 2, 9, 12, 13)
        for d in (0, 1, 15, 28, 29, 30, 31, 32)
    ]
    fast = {c: period_of(c) for c in cells}
    monkeypatch.setattr(F, "_ISO_DATE", re.compile(r"(?!)"))  # the shortcut never matches
    slow = {c: period_of(c) for c in cells}
    assert fast == slow
    assert fast["2025-02-28"] == "2025-02" and fast["2025-02-30"] is None


def test_group_that_fails_to_adapt_goes_one_at_a_time(tmp_path, monkeypatch):
    """Adapting a group raising (whatever the cause) stops nothing: its files are ingested
    alone, with the results the one-file path gives."""
    import istvhub.ingest.batch as batch

    def broken(*_a, **_k):
        raise ValueError("simulated failure")

    monkeypatch.setattr(batch, "adapt_group", broken)
    months = sorted((SAMPLES / "RJZ01").glob("RJZ01_2025-0*.csv"))[:3]
    st = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    res = ingest_paths(months, st, geocode=False, received_at=ARRIVED)
    ref = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    want = [ingest_file(p, ref, geocode=False, received_at=ARRIVED) for p in months]
    assert [r.status for r in res] == ["stored"] * 3
    assert [_report(r) for r in res] == [_report(r) for r in want]
    st.dispose()
    ref.dispose()
