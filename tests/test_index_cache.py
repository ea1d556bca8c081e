"""The geocoder index cache (issue 12.7): an index read back from its cache file is the index the
gazetteer builds, table for table, and geocodes every development text to the same output in
every column; the file is keyed by gazetteer and code, written atomically by one of several
processes, and a damaged or unwritable one never stops a load.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.geocode import index_cache
from istvhub.records import GEOCODE_COLUMNS

REPO = Path(__file__).resolve().parents[1]


def _same(a: object, b: object, where: str) -> None:
    """Deep equality of index state: arrays by dtype, shape and elements (None/NaN equal to
    themselves), dicts by keys in order and values, frames and indexes by pandas' own check."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)  # type: ignore[arg-type]
    elif isinstance(a, pd.Index):
        assert a.equals(b), where
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        if a.dtype == object:
            for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
                assert x == y or (x is None and y is None) or _both_nan(x, y), f"{where}[{i}]"
        else:
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict)
        assert list(a) == list(b), f"{where}: keys differ"
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b or _both_nan(a, b), where


def _both_nan(x: object, y: object) -> bool:
    return isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)


@pytest.fixture(scope="module")
def built_and_cached(gazetteer_home: Path):
    """(index built from the gazetteer tables, index read back from a fresh cache file)."""
    from istvhub.gazetteer.load import resolve_version_dir
    from istvhub.geocode.tables import build_index, lazy_gazetteer, tables_of

    vdir = resolve_version_dir(gazetteer_home)
    built = build_index(*tables_of(lazy_gazetteer(vdir)))
    path = vdir / f"{index_cache.PREFIX}test-{os.getpid()}.pkl"
    try:
        assert index_cache.write(path, built)
        cached = index_cache.read(path)
    finally:
        path.unlink(missing_ok=True)
    assert cached is not None
    return vdir, built, cached


def test_cached_index_has_every_table_of_the_built_one(built_and_cached) -> None:
    _, built, cached = built_and_cached
    a, b = built.__getstate__(), cached.__getstate__()
    assert sorted(a) == sorted(b)
    assert len(a["by_key"]) > 50_000 and len(a["street_pts"]) > 10_000  # the real gazetteer
    for name in a:
        _same(a[name], b[name], name)
    # the memos start empty and work
    assert cached.correct_token("brixtn") == built.correct_token("brixtn")
    assert cached.near_words("balham") == built.near_words("balham")


def test_cached_index_geocodes_every_dev_text_the_same(built_and_cached) -> None:
    """Every text of sample_feeds/geocode_dev.csv, and every (text, department) of the sample
    feeds' ground truth, through a Geocoder on each index: all output columns equal."""
    from istvhub.geocode import Geocoder
    from istvhub.geocode.tables import lazy_gazetteer

    vdir, built, cached = built_and_cached
    dev = pd.read_csv(REPO / "sample_feeds" / "geocode_dev.csv", dtype=str)
    gt = pd.read_csv(REPO / "sample_feeds" / "ground_truth.csv", dtype=str)
    frame = pd.concat(
        [
            pd.DataFrame({"location_text": dev["text"], "department": None}),
            gt[["text", "department"]].rename(columns={"text": "location_text"}),
        ],
        ignore_index=True,
    ).drop_duplicates()
    assert len(frame) > 10_000
    out = []
    for ix in (built, cached):
        geo = Geocoder(ix.entries, index=ix, gazetteer=lazy_gazetteer(vdir))
        out.append(geo.geocode_frame(frame))
    assert list(out[0].columns) == list(GEOCODE_COLUMNS)
    assert (out[0]["geo_status"] == "located").sum() > 0.5 * len(frame)
    pd.testing.assert_frame_equal(out[0], out[1])


def test_load_uses_the_cache_file_and_rebuilds_a_damaged_one(
    gazetteer_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from istvhub.gazetteer.load import resolve_version_dir
    from istvhub.geocode import geocoder

    vdir = resolve_version_dir(gazetteer_home)
    path = index_cache.cache_path(vdir)
    geocoder._LOADED.clear()
    first = geocoder.Geocoder.load(gazetteer_home)
    assert path.is_file()
    hows: list[str] = []
    real = index_cache.load_or_build

    def spy(v: Path, build):  # type: ignore[no-untyped-def]
        idx, how = real(v, build)
        hows.append(how)
        return idx, how

    monkeypatch.setattr(index_cache, "load_or_build", spy)
    geocoder._LOADED.clear()
    again = geocoder.Geocoder.load(gazetteer_home)
    assert hows == ["cached"]
    text = "outside the ritzy, brixton"
    assert again.geocode(text) == first.geocode(text)
    # a truncated file (a crash of an older writer, a full disk) is rebuilt, not fatal
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    geocoder._LOADED.clear()
    rebuilt = geocoder.Geocoder.load(gazetteer_home)
    assert hows[-1] == "built"
    assert rebuilt.geocode(text) == first.geocode(text)
    assert index_cache.read(path) is not None  # and written whole again
    geocoder._LOADED.clear()


def test_unwritable_directory_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **k: object):  # type: ignore[no-untyped-def]
        raise PermissionError("read-only")

    monkeypatch.setattr(index_cache.tempfile, "mkstemp", refuse)
    (tmp_path / "manifest.json").write_text("{}")
    obj, how = index_cache.load_or_build(tmp_path, lambda: _Box({"built": True}))
    assert (obj.__dict__, how) == ({"built": True}, "built")
    assert not list(tmp_path.glob(f"{index_cache.PREFIX}*.pkl"))
    monkeypatch.setenv("ISTVHUB_GEOCODE_INDEX_CACHE", "0")
    assert index_cache.load_or_build(tmp_path, lambda: 1) == (1, "uncached")


def test_key_follows_the_gazetteer_files(tmp_path: Path) -> None:
    for name in index_cache.SOURCE_FILES:
        (tmp_path / name).write_text("x")
    k0 = index_cache.cache_key(tmp_path)
    assert index_cache.cache_key(tmp_path) == k0
    st_ = (tmp_path / "entries.parquet").stat()
    os.utime(tmp_path / "entries.parquet", ns=(st_.st_atime_ns, st_.st_mtime_ns + 10**9))
    k1 = index_cache.cache_key(tmp_path)
    assert k1 != k0
    (tmp_path / "manifest.json").write_text('{"version": "other"}')
    assert index_cache.cache_key(tmp_path) not in (k0, k1)


def test_stale_files_of_other_code_versions_are_swept(tmp_path: Path) -> None:
    old = tmp_path / f"{index_cache.PREFIX}old.pkl"
    recent = tmp_path / f"{index_cache.PREFIX}recent.pkl"
    for p in (old, recent):
        p.write_bytes(b"x")
    t = old.stat().st_mtime - index_cache.STALE_S - 60
    os.utime(old, (t, t))
    assert index_cache.write(tmp_path / f"{index_cache.PREFIX}new.pkl", _Box({"a": 1}))
    assert not old.exists() and recent.exists()


class _Box:
    """The smallest object with the PlaceIndex state protocol."""

    def __init__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def __getstate__(self) -> dict[str, object]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)


_WORKER = """
import sys
from pathlib import Path
from istvhub.geocode import index_cache
sys.path.insert(0, {tests!r})
from test_index_cache import _Box
def build():
    return _Box({{"rows": {{f"k{{i}}": list(range(i % 7)) for i in range(5000)}}}})
obj, how = index_cache.load_or_build(Path(sys.argv[1]), build)
print(how, sum(len(v) for v in obj.rows.values()))
"""


def test_processes_loading_at_once_build_once(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    code = _WORKER.format(tests=str(Path(__file__).parent))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    expect = str(sum(i % 7 for i in range(5000)))
    assert sorted(o[0] for o in outs) == ["built", "cached", "cached"]
    assert all(o[1] == expect for o in outs)
    assert len(list(tmp_path.glob(f"{index_cache.PREFIX}*.pkl"))) == 1
    assert not list(tmp_path.glob(".*tmp"))


# ------------------------------------------------------------------ the layout, by property
_arrays = st.lists(st.integers(-(2**40), 2**40), max_size=6).map(
    lambda v: np.asarray(v, dtype=np.int64)
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _arrays, min_size=0, max_size=300))
def test_dict_of_arrays_round_trips(d: dict[str, np.ndarray]) -> None:
    kind, payload = index_cache.pack(d)
    back = index_cache.unpack(kind, payload)
    _same(d, back, "dict")
    if kind == "csr":
        assert all(not v.flags.writeable for v in back.values())  # an in-place edit raises


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["street", "venue", "É 1"]), st.just(math.nan)),
        min_size=1001,
        max_size=1500,
    )
)
def test_object_column_round_trips(values: list[object]) -> None:
    a = np.empty(len(values), dtype=object)
    a[:] = values
    kind, payload = index_cache.pack(a)
    assert kind == "codes"
    _same(a, index_cache.unpack(kind, payload), "column")


@settings(max_examples=20, deadline=None)
@given(
    st.dictionaries(
        st.frozensets(st.text(max_size=4), min_size=1, max_size=2),
        st.lists(st.integers(0, 10**6), max_size=4),
        min_size=101,
        max_size=200,
    )
)
def test_junction_style_dict_round_trips(d: dict[frozenset[str], list[int]]) -> None:
    kind, payload = index_cache.pack(d)
    assert kind == "csrlist"
    _same(d, index_cache.unpack(kind, payload), "junctions")


def test_deferred_tables_are_read_on_first_use_only(built_and_cached) -> None:
    """The tables few texts need stay bytes after a load (so loading skips them) and, once
    asked for, are the tables the gazetteer builds."""
    vdir, built, _ = built_and_cached
    path = vdir / f"{index_cache.PREFIX}test-deferred-{os.getpid()}.pkl"
    try:
        assert index_cache.write(path, built)
        fresh = index_cache.read(path)
    finally:
        path.unlink(missing_ok=True)
    assert fresh is not None
    names = type(built).DEFERRED
    assert not any(n in vars(fresh) for n in names)
    assert all(fresh.has_table(n) for n in names)
    # a text naming a junction reads the junction index, and nothing else of them
    assert fresh.junctions == built.junctions
    assert "junctions" in vars(fresh) and "entries" not in vars(fresh)
    for n in names:
        _same(getattr(built, n), getattr(fresh, n), n)
    assert not fresh.__dict__["_lazy"]
