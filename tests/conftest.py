"""Shared fixtures: every store test runs on SQLite and on the PostgreSQL server (the splink
pattern: one abstract backend, the same tests on each), and a real gazetteer built once a session.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import hypothesis
import pytest
import sqlalchemy as sa

from istvhub.core.config import default_sources

# Correctness, not speed, is what tests assert: with several engineers' jobs or CI sharing two
# cores, hypothesis's per-example deadline only produces flaky failures. Speed is measured in
# benchmarks/ instead.
hypothesis.settings.register_profile("istvhub", deadline=None, print_blob=True)
hypothesis.settings.load_profile("istvhub")

PG_BASE = os.environ.get("ISTVHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[1]
SAMPLE_FEEDS = REPO / "sample_feeds"


def _pg_available() -> bool:
    try:
        eng = sa.create_engine(PG_BASE)
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


_PG_OK = _pg_available()


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    src = default_sources()
    if src is None or not src.is_dir():
        pytest.skip("open-data sources not found (set ISTVHUB_SOURCES)")
    return src


def _pg_url_with_fresh_schema() -> tuple[str, str]:
    """A database URL whose connections use a brand-new schema, so tests (and xdist workers)
    never see each other's tables; the URL carries the search_path, so subprocesses can use it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(PG_BASE)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    eng.dispose()
    return f"{PG_BASE}?options=-csearch_path%3D{schema}", schema


def _drop_pg_schema(schema: str) -> None:
    eng = sa.create_engine(PG_BASE)
    with eng.begin() as c:
        c.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'istvhub.db'}"
        return
    if not _PG_OK:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 in CI")
        pytest.skip("PostgreSQL not reachable")
    url, schema = _pg_url_with_fresh_schema()
    yield url
    _drop_pg_schema(schema)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ISTVHUB_HOME for the test."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("ISTVHUB_HOME", str(h))
    from istvhub.core.config import get_settings

    get_settings.cache_clear()
    yield h
    get_settings.cache_clear()


# --------------------------------------------------------------------------- gazetteer (issue 3)


def _gazetteer_cache_key(src: Path) -> str:
    """Hash of the source manifest (path, size, mtime), istvhub version, BUILD_SCHEMA and the
    gazetteer code + tables, so any change that alters the output rebuilds the cache."""
    import hashlib

    from istvhub import __version__
    from istvhub.core.config import GAZETTEER_TABLES_DIR
    from istvhub.gazetteer.build import BUILD_SCHEMA

    h = hashlib.sha256(f"{__version__}|{BUILD_SCHEMA}".encode())
    for p in sorted(q for q in src.rglob("*") if q.is_file()):
        st = p.stat()
        h.update(f"{p.relative_to(src)}|{st.st_size}|{st.st_mtime_ns}".encode())
    code = Path(__file__).resolve().parents[1] / "src" / "istvhub" / "gazetteer"
    for p in sorted([*code.glob("*.py"), *GAZETTEER_TABLES_DIR.glob("*.csv")]):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def gazetteer_home(sources_dir: Path) -> Path:
    """A real gazetteer built once (per source/code state) under tests/.cache and shared by
    xdist workers through a file lock; returns the home dir whose gazetteer/CURRENT is set."""
    import fcntl

    cache = REPO / "tests" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    home_dir = cache / f"gazetteer-{_gazetteer_cache_key(sources_dir)}"
    with open(cache / "gazetteer.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (home_dir / "gazetteer" / "CURRENT").is_file():
                import shutil
                import time

                from istvhub.gazetteer.build import build

                for old in cache.glob("gazetteer-*"):  # stale caches of older code, > 12 h old
                    if old.is_dir() and time.time() - old.stat().st_mtime > 12 * 3600:
                        shutil.rmtree(old, ignore_errors=True)
                build(sources=sources_dir, out=home_dir / "gazetteer")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return home_dir


# --------------------------------------------------------------------------- log capture (issue 8)
# Every log record emitted in this process during the whole suite is kept (message and any
# traceback text); each test's teardown checks the records emitted during it, and the session
# end checks the rest (collection, session fixtures). Each xdist worker checks its own records.
# A record fails when it holds a sample-feed location text, an API token or an NHS-number-like
# token (10 digits passing the modulus-11 check).
import logging as _logging  # noqa: E402
import re as _re  # noqa: E402


class _SuiteLogCapture(_logging.Handler):
    MAX = 200_000

    def __init__(self) -> None:
        super().__init__(level=_logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: _logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is still logged
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + _logging.Formatter().formatException(record.exc_info)
        if len(self.lines) < self.MAX:
            self.lines.append(f"{record.name}: {text}")


LOG_CAPTURE = _SuiteLogCapture()
_TOKEN_RE = _re.compile(r"istv_[A-Za-z0-9_\-]{30,}")


def _sample_location_texts() -> list[str]:
    import csv

    path = SAMPLE_FEEDS / "ground_truth.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        texts = {(r.get("text") or "").strip().lower() for r in csv.DictReader(fh)}
    return sorted(t for t in texts if len(t) >= 12 and " " in t)


_SAMPLE_TEXTS: list[str] | None = None


def log_leaks(lines: list[str]) -> list[str]:
    """What personal or secret material appears in ``lines`` (kinds, never the values)."""
    global _SAMPLE_TEXTS
    from istvhub.ingest.pii import _NHS_RE, is_valid_nhs_number

    if _SAMPLE_TEXTS is None:
        _SAMPLE_TEXTS = _sample_location_texts()
    out = []
    for i, line in enumerate(lines):
        low = line.lower()
        if _TOKEN_RE.search(line):
            out.append(f"line {i}: API token")
        if any(
            is_valid_nhs_number(m.group(1) + m.group(2) + m.group(3))
            for m in _NHS_RE.finditer(line)
        ):
            out.append(f"line {i}: NHS-number-like token")
        if any(t in low for t in _SAMPLE_TEXTS):
            out.append(f"line {i}: sample location text")
    return out


def pytest_configure(config: pytest.Config) -> None:
    root = _logging.getLogger()
    if LOG_CAPTURE not in root.handlers:
        root.addHandler(LOG_CAPTURE)
    lg = _logging.getLogger("istvhub")
    if lg.level == _logging.NOTSET:
        lg.setLevel(_logging.DEBUG)  # our own debug/info lines are checked too


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(request: pytest.FixtureRequest):
    """Fail the test whose run logged personal data, a token or a location text."""
    start = len(LOG_CAPTURE.lines)
    yield
    new = LOG_CAPTURE.lines[start:]
    leaks = log_leaks(new)
    if leaks:
        pytest.fail(f"log lines leaked: {'; '.join(leaks[:5])}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = log_leaks(LOG_CAPTURE.lines)
    if leaks and session.exitstatus == 0:
        import sys

        print(
            f"\nlog capture: {len(leaks)} leaking log lines: {'; '.join(leaks[:5])}",
            file=sys.stderr,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def log_capture():
    """The suite-wide capture handler and the leak checker: ``(handler, log_leaks)``."""
    return LOG_CAPTURE, log_leaks


# ------------------------------------------------------------------ the fast loop (issue 15.5)
#: what makes a test slow on this hub: the real gazetteer (loading and geocoding with it costs
#: seconds per test), a hub behind the API or the CLI in a subprocess (a store, users and sample
#: feeds per test), a notebook, a browser or a fresh venv
SLOW_FIXTURES = ("gazetteer_home",)
SLOW_MODULES = (
    "test_compliance_samples",
    "test_compliance_store",
    "test_concurrency",
    "test_crash_safety",
    "test_export_safety",
    "test_fuzz_adapters",
    "test_fuzz_api",
    "test_fuzz_geocode",
    "test_gazetteer",
    "test_gazetteer_osm",
    "test_hostile",
    "test_hotblocks_cli",
    "test_index_cache",
    "test_ingest",
    "test_migrations",
    "test_no_pii_in_logs",
    "test_notebooks_csp",
    "test_notebooks_mopac",
    "test_query_plans",
    "test_retention",
    "test_sample_feeds",
    "test_trust_ingest",
    "test_wheel",
)
SLOW_DIRS = ("api", "browser")
#: single tests measured over 10 s in the fast loop (``--durations``); every ``test_cli_*`` runs
#: the CLI in a subprocess and is slow too
SLOW_TESTS = (
    "test_snapped_block_is_the_nearest_and_within_50m",
    "test_network_coverage_grid_matches_exact_distance",
    "test_too_far_imprecise_outside_and_unlocated_are_not_snapped",
    "test_report_is_self_contained_and_lists_no_small_block",
    "test_sample_feeds_four_way_table_is_safe",
    "test_csv_reader_counts_every_violent_row",
    # hypothesis round trips of the date parsers (each 15-20 s under load): in the gate
    "test_datetimes_round_trip",
    "test_dates_round_trip",
    "test_ambiguous_day_month_follows_layout",
    "test_rag_follows_the_rules_for_any_month_pattern",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that needs one of :data:`SLOW_FIXTURES` (directly or through
    another fixture), lives in :data:`SLOW_MODULES` or under ``tests/api`` / ``tests/browser``,
    is one of :data:`SLOW_TESTS` or runs the CLI, so ``pytest -m "not slow"`` is the inner loop
    (docs/DEVELOPING.md) and the full run the gate."""
    for item in items:
        path = Path(str(item.fspath))
        names = getattr(item, "fixturenames", ())
        if (
            any(f in names for f in SLOW_FIXTURES)
            or path.stem in SLOW_MODULES
            or path.parent.name in SLOW_DIRS
            or getattr(item, "originalname", item.name) in SLOW_TESTS
            or item.name.startswith("test_cli")
        ):
            item.add_marker(pytest.mark.slow)
