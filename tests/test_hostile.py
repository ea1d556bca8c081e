"""Hostile uploads (issue 8.1): every corpus file goes through the CLI (`istvhub ingest`) and the
API (`POST /submissions`) on SQLite and PostgreSQL. Rejections name the file (and the field when
one is to blame) and leave every table exactly as it was; the accepted oddities (UTF-16 with a
BOM, mixed encodings, formulas as text) are stored whole, formulas as inert text.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from _server import free_port
from istvhub.api import users
from istvhub.api.app import create_app
from istvhub.api.deps import open_app_store
from istvhub.core.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from make_corpus import CASES, CORPUS_DIR, FORMULAS, build  # noqa: E402

FEEDS = Path(__file__).resolve().parents[1] / "sample_feeds"
EARLIER = FEEDS / "RJ122" / "RJ122_2025-05.csv"  # stored first: "nothing changed" is not trivial
BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """Committed small files as they are; the big ones generated now (never committed)."""
    big = tmp_path_factory.mktemp("hostile-big")
    out = {}
    for c in CASES:
        if c.big:
            p = big / c.name
            p.write_bytes(build(c.name))
            out[c.name] = p
        else:
            out[c.name] = CORPUS_DIR / c.name
    return out


class Hub:
    def __init__(self, db_url: str, tmp_path: Path) -> None:
        home = tmp_path / "home"
        home.mkdir()
        self.settings = Settings(home=home, db=db_url)
        self.store = open_app_store(self.settings)
        self.token = users.add_user(self.store.engine, "admin-1", "admin")[1]
        self.app = create_app(self.settings)
        self.db_url = db_url

    def cli(self, *args: str) -> tuple[int, str]:
        """`istvhub ingest ...` through the real entry point (exit codes as users see them)."""
        from istvhub import cli

        runner = CliRunner()
        old = sys.argv
        sys.argv = ["istvhub", "ingest", "--db", self.db_url, "--no-geocode", *args]
        try:
            res = runner.invoke(_main_as_command(cli.main), [], catch_exceptions=False)
        finally:
            sys.argv = old
        return res.exit_code, res.output  # click 8.2+: stdout and stderr together

    def dump(self) -> dict:
        return self.store.dump_tables()


def _main_as_command(main):
    import click

    @click.command()
    def cmd() -> None:
        main()

    return cmd


@pytest.fixture
def hub(db_url: str, tmp_path: Path):
    h = Hub(db_url, tmp_path)
    code, out = h.cli(str(EARLIER))
    assert code == 0, out
    yield h
    h.store.dispose()


def _post(client: TestClient, hub: Hub, name: str, data: bytes, **form: str):
    return client.post(
        "/submissions",
        headers={"Authorization": f"Bearer {hub.token}"},
        files={"file": (name, data, "application/octet-stream")},
        data=form,
    )


REJECTS = [c.name for c in CASES if c.expect == "reject"]
STORES = [c.name for c in CASES if c.expect == "store"]


def test_committed_corpus_is_complete():
    """Every small case is committed; the big ones are not (a generator writes them)."""
    committed = {p.name for p in CORPUS_DIR.iterdir()}
    assert committed == {c.name for c in CASES if not c.big}
    assert max(p.stat().st_size for p in CORPUS_DIR.iterdir()) < 1_000_000


@pytest.mark.parametrize("name", REJECTS)
def test_hostile_file_rejected_by_cli_and_api_nothing_stored(hub, corpus, name):
    case = BY_NAME[name]
    path = corpus[name]
    before = hub.dump()
    opts = [a for k, v in case.form for a in (f"--{k}", v)]
    code, out = hub.cli(*opts, str(path))
    assert code == 2, out
    assert f"rejected: file {name!r}" in out
    if case.field:
        assert f"field {case.field!r}" in out
    assert "Traceback" not in out
    assert hub.dump() == before

    with TestClient(hub.app) as client:
        r = _post(client, hub, name, path.read_bytes(), **dict(case.form))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["file"] == name
    if case.field:
        assert body["field"] == case.field
    assert hub.dump() == before
    assert _files_under(hub.settings.home / "uploads") == []


@pytest.mark.parametrize("name", STORES)
def test_tolerated_oddities_are_stored_whole(hub, corpus, name):
    path = corpus[name]
    with TestClient(hub.app) as client:
        r = _post(client, hub, name, path.read_bytes())
    assert r.status_code == 201, r.text
    res = r.json()
    assert res["status"] == "stored" and res["department"] == "RJ122"
    assert res["period"] == "2025-06" and res["rows_total"] == 157
    texts = _texts(hub)
    assert not any("\ufffd" in t for t in texts)  # nothing mis-decoded
    if name == "mixed_encoding.csv":
        assert "o/s Café Nero" in texts and "opp Pâtisserie Valérie" in texts
    if name == "formulas.csv":
        # decision (docs/SECURITY.md): formula-looking text is stored verbatim, as inert text,
        # and neutralised by every CSV/XLSX writer (tests/test_export_safety.py)
        stored = set(texts)
        assert {f.strip() for f in FORMULAS} <= stored
    if name == "xlsx_formula_cells.xlsx":
        # formula cells are never read as formulas: only a cached value (none here)
        assert not any(t.startswith("=") or "HYPERLINK" in t for t in texts)
    # the CLI accepts the same bytes (it reaches the identical-version check)
    code, out = hub.cli(str(path))
    assert code == 0 and "unchanged" in out, out


def _texts(hub: Hub) -> list[str]:
    import sqlalchemy as sa

    from istvhub.store.schema import records

    with hub.store.engine.connect() as conn:
        return [t for (t,) in conn.execute(sa.select(records.c.location_text)) if t]


def _files_under(root: Path) -> list[str]:
    for _ in range(50):  # the temp dir is removed as the request unwinds
        found = [f for _, _, fs in os.walk(root) for f in fs] if root.exists() else []
        if not found:
            return []
        time.sleep(0.05)
    return found


HOSTILE_NAMES = [
    "../../../../etc/passwd.csv",
    "..\\..\\windows\\win.ini.csv",
    "RJ122 2025-06;rm -rf ~.csv",
    "$(touch pwned)`id`|nc x 1.csv",
    "/abs/path/RJ122.csv",
    "%2e%2e%2fRJ122.csv",
    "\u202eRJ122vsc.csv",
    "CON.csv",
    "." * 300 + ".csv",
]


def test_hostile_upload_filenames_are_sanitised_and_never_paths(hub, tmp_path):
    data = (FEEDS / "RJ122" / "RJ122_2025-06.csv").read_bytes()
    with TestClient(hub.app) as client:
        for i, name in enumerate(HOSTILE_NAMES):
            # vary one byte of a free-text cell so each upload is a new version, not "unchanged"
            body = data.replace(b"slapped", b"slapped" + b" " * (i + 1), 1)
            r = _post(client, hub, name, body)
            assert r.status_code in (201, 415), (name, r.text)
            if r.status_code == 201:
                stored = r.json()["submission"]["source_filename"]
                assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", stored), stored
                assert ".." not in stored.replace("...", "") and "/" not in stored
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()
    assert _files_under(hub.settings.home / "uploads") == []


def test_cli_file_named_with_shell_metacharacters(hub, tmp_path):
    """The CLI takes the name as an argument, never through a shell: it is stored as text."""
    name = "RJ122_2025-06;$(touch pwned)`id`.csv"
    p = tmp_path / name
    p.write_bytes((FEEDS / "RJ122" / "RJ122_2025-06.csv").read_bytes())
    code, out = hub.cli(str(p))
    assert code == 0, out
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()


def test_cli_refuses_a_2gb_file_before_reading_it(hub, tmp_path):
    big = tmp_path / "RJ122_2025-06.csv"
    with open(big, "wb") as fh:  # sparse: 2 GB long, no disk used
        fh.truncate(2 << 30)
    before = hub.dump()
    code, out = hub.cli(str(big))
    assert code == 2 and "byte limit" in out and "RJ122_2025-06.csv" in out
    assert hub.dump() == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_stops_a_2gb_stream_at_the_limit(hub):
    """A 2 GB chunked upload (no Content-Length) to a real server on loopback: the server answers
    413 as soon as the limit is passed and closes the connection, so the client stops sending
    a few MB after the limit; nothing is stored and no partial file is left."""
    import uvicorn

    limit = 8 * 1024 * 1024
    hub.app.state.max_upload_bytes = limit
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(hub.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    before = hub.dump()
    sent = [0]

    def body():
        yield (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n"
        )
        chunk = (EARLIER.read_bytes() * 64)[: 1 << 20]
        while sent[0] < 2 << 30:
            sent[0] += len(chunk)
            yield chunk

    status = None
    try:
        r = httpx.post(
            f"http://127.0.0.1:{port}/submissions",
            content=body(),
            timeout=60,
            headers={
                "content-type": "multipart/form-data; boundary=XyZ",
                "Authorization": f"Bearer {hub.token}",
            },
        )
        status = r.status_code
    except httpx.TransportError:
        status = "closed"  # the server hung up while we were still sending: also a stop
    finally:
        srv.should_exit = True
        th.join(10)
    assert status in (413, "closed")
    assert sent[0] < limit + 64 * 1024 * 1024, sent[0]  # stopped early, not 2 GB later
    assert hub.dump() == before
    assert _files_under(hub.settings.home / "uploads") == []

    # a declared Content-Length over the limit is refused before a byte of the body is read
    with TestClient(hub.app) as client:
        r = client.post(
            "/submissions",
            content=b"x" * 10,
            headers={
                "content-type": "multipart/form-data; boundary=XyZ",
                "content-length": str(2 << 30),
                "Authorization": f"Bearer {hub.token}",
            },
        )
    assert r.status_code in (413, 400)


def test_limits_are_settings(monkeypatch):
    """Each limit is read from ISTVHUB_<NAME> when a file is read: tightening one rejects an
    ordinary extract, naming the setting."""
    from istvhub._errors import FileRejected
    from istvhub.ingest.layouts import vocabulary
    from istvhub.ingest.readers import ReadLimits, read_table

    data = (FEEDS / "RJ122" / "RJ122_2025-06.csv").read_bytes()
    assert len(read_table(data, "ok.csv", vocabulary(None)).frame) == 157
    for var, value in (
        ("ISTVHUB_MAX_COLUMNS", "10"),
        ("ISTVHUB_MAX_LINE_BYTES", "50"),
        ("ISTVHUB_MAX_CELL_CHARS", "8"),
        ("ISTVHUB_MAX_FILE_BYTES", "1000"),
    ):
        monkeypatch.setenv(var, value)
        assert getattr(ReadLimits.from_env(), var.removeprefix("ISTVHUB_").lower()) == int(value)
        with pytest.raises(FileRejected, match=var):
            read_table(data, "ok.csv", vocabulary(None))
        monkeypatch.delenv(var)
