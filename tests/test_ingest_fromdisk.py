"""A large CSV is parsed from the file on disk, never read into memory whole (issue 14 point
7): the stored records and the report are those of the same bytes ingested from memory, and a
file that is not plain UTF-8 (cp1252, old Mac line ends) is read into memory as before."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from istvhub.ingest import csvread, twopass
from istvhub.ingest.core import ingest_bytes, ingest_file
from istvhub.store import open_store

REPO = Path(__file__).resolve().parents[1]
RJ122_MARCH = (REPO / "sample_feeds" / "RJ122" / "RJ122_2025-03.csv").read_bytes()
NAME = "RJ122_2025-03.csv"
WHEN = datetime(2025, 4, 2, 9, 30)


def _awkward() -> str:
    """The sample month with a repeated row 100 rows later (a duplicate key), a quarantined
    arrival date and a quoted cell holding a line break (row and line numbers differ)."""
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    bad = rows[40].split(",")
    bad[4] = "2025-13-45"
    rows[40] = ",".join(bad)
    rows.insert(120, rows[10])
    cells = rows[60].split(",")
    cells[-1] = '"two\nlines"'
    rows[60] = ",".join(cells)
    return "\n".join([header, *rows]) + "\n"


VARIANTS = {
    "utf-8 with BOM": ("\ufeff" + _awkward()).encode(),
    "utf-8 CRLF": _awkward().replace("\n", "\r\n").encode(),
    "cp1252": _awkward().replace("Street", "Caf\u00e9 Street").encode("cp1252"),
    "old Mac line ends": _awkward().replace("\n", "\r").encode(),
}
ON_DISK = {"utf-8 with BOM", "utf-8 CRLF"}


def _outcome(st, res) -> tuple:
    d = {k: v for k, v in res.as_dict().items() if k not in ("submission_id",)}
    recs = st.current_records("RJ122").sort_values("record_id")
    return (
        d,
        res.report_rows(),
        recs["record_id"].tolist(),
        recs.drop(columns=[c for c in recs.columns if "submission" in c or c.endswith("_at")])
        .astype(str)
        .values.tolist(),
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_large_csv_from_disk_matches_bytes(db_url, home, tmp_path, monkeypatch, variant):
    monkeypatch.setattr(twopass, "TWO_PASS_BYTES", 0)  # every file counts as large
    monkeypatch.setattr(twopass, "TWO_PASS_CHUNK_ROWS", 30)
    monkeypatch.setattr(csvread, "READ_CHUNK_ROWS", 30)
    data = VARIANTS[variant]
    path = tmp_path / NAME
    path.write_bytes(data)
    mem = open_store(f"sqlite:///{tmp_path / 'mem.db'}")
    disk = open_store(db_url)
    try:
        a = ingest_bytes(data, NAME, mem, geocode=False, home=home, received_at=WHEN)
        if variant in ON_DISK:  # parsed from the file: its bytes are never read whole
            real = Path.read_bytes

            def guarded(self: Path) -> bytes:
                assert self != path, "the large CSV was read into memory"
                return real(self)

            monkeypatch.setattr(Path, "read_bytes", guarded)
        b = ingest_file(path, disk, geocode=False, home=home, received_at=WHEN)
        assert a.status == "stored" and a.rows_quarantined >= 1
        assert _outcome(mem, a) == _outcome(disk, b)
    finally:
        mem.dispose()
        disk.dispose()


def test_blank_or_binary_large_file_refused_as_before(home, tmp_path, monkeypatch):
    monkeypatch.setattr(twopass, "TWO_PASS_BYTES", 0)
    st = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        for name, data, why in [
            ("blank.csv", b" \n\n  \r\n", "file is empty"),
            ("nul.csv", RJ122_MARCH[:500] + b"\x00" + RJ122_MARCH[500:], "binary"),
        ]:
            p = tmp_path / name
            p.write_bytes(data)
            res = ingest_file(p, st, geocode=False, home=home)
            assert res.status == "rejected" and why in res.message
    finally:
        st.dispose()
