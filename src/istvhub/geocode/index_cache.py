"""The geocoder's index, built once per gazetteer version and code version, saved beside the
gazetteer, and read back in a fraction of the time building it takes.

Building the ``PlaceIndex`` (key dictionaries, 3-gram tables, street points, the junction index)
from the parquet tables costs 3-5 CPU seconds and every CLI call, ingest worker and API worker paid
it (issue 12.7). The built index is a handful of numpy arrays and dictionaries; this module saves
that state in ``<version dir>/geocode-index-<key>.pkl`` and loads it back. The key hashes the
gazetteer version's manifest and table files, every module of ``istvhub.geocode`` and
``istvhub.gazetteer``, the hand-kept tables and the library versions, so a change to any of them
builds a new index rather than reusing one that no longer matches the code (tests/test_index_cache
proves the loaded index gives every output column the built one gives).

Reading is fast because of the layout, not the file format: a dictionary of 100k small arrays
unpickles at ~5 µs an array, so such dictionaries are saved as one flat array plus offsets and
rebuilt as read-only views (~0.2 µs each); object columns with few distinct values (entry type,
borough) are saved as codes into their distinct values. Anything else is pickled as it is. The
tables a class names in ``DEFERRED`` (those few texts need: the entries frame, the junction and
one-deletion indexes) are saved as pickled blobs and read as bytes; the object unpickles one on
first use (``Deferred.value``), which takes about half the load time off every process.

Several processes may load at once: writers take a lock file, write a temporary file and rename
it into place, so a reader sees the old file, the new one, or none. A version directory that
cannot be written (a read-only mount) only means the index is built in memory each time. The
file is trusted as the gazetteer is: it sits in the same directory and is written by the hub.
``ISTVHUB_GEOCODE_INDEX_CACHE=0`` turns it off.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the saved layout changes
PREFIX = "geocode-index-"
#: unused cache files (other code versions) older than this are removed when a new one is written
STALE_S = 30 * 60
#: the gazetteer files the index is built from (their size and mtime enter the key)
SOURCE_FILES = ("manifest.json", "entries.parquet", "keys.parquet", "street_points.parquet")


def enabled() -> bool:
    return os.environ.get("ISTVHUB_GEOCODE_INDEX_CACHE", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


# ------------------------------------------------------------------------------------ the key
def _code_digest() -> str:
    """Every source file the index depends on, and the libraries that pickle it."""
    import pandas as pd
    import pyarrow as pa

    from istvhub import __version__
    from istvhub.core.config import GAZETTEER_TABLES_DIR, PACKAGE_DIR

    h = hashlib.sha256(
        f"{FORMAT}|{__version__}|{sys.version_info[:2]}|{np.__version__}|{pd.__version__}|"
        f"{pa.__version__}".encode()
    )
    files = [
        *sorted((PACKAGE_DIR / "geocode").glob("*.py")),
        *sorted((PACKAGE_DIR / "gazetteer").glob("*.py")),
        *sorted(Path(GAZETTEER_TABLES_DIR).glob("*.csv")),
    ]
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(vdir: Path) -> str:
    """The key of the index for gazetteer version directory ``vdir`` under the running code."""
    h = hashlib.sha256(_code_digest().encode())
    h.update(str(vdir.resolve()).encode())
    for name in SOURCE_FILES:
        p = vdir / name
        if p.is_file():
            st = p.stat()
            h.update(f"{name}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update((vdir / "manifest.json").read_bytes() if (vdir / "manifest.json").is_file() else b"")
    return h.hexdigest()[:20]


def cache_path(vdir: Path) -> Path:
    return vdir / f"{PREFIX}{cache_key(vdir)}.pkl"


# ------------------------------------------------------------------------------ the layout
def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def pack(v: Any) -> tuple[str, Any]:
    """A value in a layout that unpickles fast (see the module docstring)."""
    if isinstance(v, np.ndarray) and v.dtype == object and v.ndim == 1 and len(v) > 1000:
        seen: dict[Any, int] = {}
        try:
            codes = np.fromiter((seen.setdefault(x, len(seen)) for x in v), np.int64, len(v))
        except TypeError:  # unhashable elements
            return "raw", v
        if len(seen) <= len(v) // 2:
            uniq = np.empty(len(seen), dtype=object)
            uniq[:] = list(seen)
            return "codes", (codes.astype(np.int32), uniq)
        return "raw", v
    if isinstance(v, dict) and len(v) > 100:
        vals = list(v.values())
        if all(isinstance(a, np.ndarray) for a in vals):
            dt, tail = vals[0].dtype, vals[0].shape[1:]
            if all(a.dtype == dt and a.shape[1:] == tail and a.ndim >= 1 for a in vals):
                offs = np.cumsum([0] + [len(a) for a in vals]).tolist()
                flat = np.concatenate(vals) if vals else np.empty((0, *tail), dt)
                return "csr", (_keys_out(v), flat, offs)
        if all(type(a) is list and all(type(i) is int for i in a) for a in vals):
            offs = np.cumsum([0] + [len(a) for a in vals]).tolist()
            flat_l = [i for a in vals for i in a]
            return "csrlist", (_keys_out(v), flat_l, offs)
    return "raw", v


def _keys_out(d: dict[Any, Any]) -> tuple[str, list[Any]]:
    ks = list(d)
    if ks and all(type(k) is frozenset for k in ks):
        return "frozenset", [tuple(k) for k in ks]
    return "plain", ks


def _keys_in(kind: str, ks: list[Any]) -> list[Any]:
    return [frozenset(k) for k in ks] if kind == "frozenset" else ks


def _bounds(offs: list[int]) -> zip[tuple[int, int]]:
    return zip(offs[:-1], offs[1:], strict=True)


class Deferred:
    """A table kept as its pickled bytes until first use (see ``DEFERRED`` in the docstring)."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def value(self) -> Any:
        gc_was = gc.isenabled()
        gc.disable()
        try:
            return unpack(*pickle.loads(self.blob))
        finally:
            if gc_was:
                gc.enable()


def unpack(kind: str, payload: Any) -> Any:
    if kind == "blob":
        return Deferred(payload)
    if kind == "codes":
        codes, uniq = payload
        return uniq[codes]
    if kind == "csr":
        (kk, ks), flat, offs = payload
        flat = _readonly(flat)
        return dict(zip(_keys_in(kk, ks), [flat[a:b] for a, b in _bounds(offs)], strict=True))
    if kind == "csrlist":
        (kk, ks), flat_l, offs = payload
        return dict(zip(_keys_in(kk, ks), [flat_l[a:b] for a, b in _bounds(offs)], strict=True))
    return payload


# --------------------------------------------------------------------------- load and save
@contextmanager
def _lock(vdir: Path) -> Iterator[None]:
    """An exclusive lock on ``vdir/geocode-index.lock`` where the platform and directory allow."""
    try:
        import fcntl

        fh = open(vdir / f"{PREFIX}lock", "a")  # noqa: SIM115 - held for the block
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        with suppress(OSError):
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def read(path: Path) -> Any | None:
    """The saved index at ``path`` (None when absent or unreadable)."""
    gc_was = gc.isenabled()
    gc.disable()  # millions of new objects, none cyclic: collecting on the way costs half the read
    try:
        with open(path, "rb") as fh:
            head = pickle.load(fh)
            if not isinstance(head, dict) or head.get("format") != FORMAT:
                return None
            cls = head["cls"]
            state = {k: unpack(kind, p) for k, (kind, p) in pickle.load(fh).items()}
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged cache file is rebuilt, never fatal
        log.warning("geocoder index cache unreadable (%s): rebuilding it", type(exc).__name__)
        return None
    finally:
        if gc_was:
            gc.enable()
    with suppress(OSError):
        os.utime(path)  # marks it as in use for the stale-file sweep
    obj = cls.__new__(cls)
    obj.__setstate__(state)
    return obj


def write(path: Path, obj: Any) -> bool:
    """Save ``obj``'s state atomically at ``path``; False when the directory is not writable."""
    deferred = set(getattr(type(obj), "DEFERRED", ()))
    state = {
        k: ("blob", pickle.dumps(pack(v), protocol=5)) if k in deferred else pack(v)
        for k, v in obj.__getstate__().items()
    }
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".tmp", dir=path.parent)
        os.chmod(tmp, 0o644)  # readable like the gazetteer files beside it (mkstemp: 0600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"format": FORMAT, "cls": type(obj)}, fh, protocol=5)
            pickle.dump(state, fh, protocol=5)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        log.info("geocoder index cache not written (%s): building it each load", type(exc).__name__)
        return False
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
    _sweep(path)
    return True


def _sweep(keep: Path) -> None:
    now = time.time()
    for p in keep.parent.glob(f"{PREFIX}*.pkl"):
        if p != keep:
            with suppress(OSError):
                if now - p.stat().st_mtime > STALE_S:
                    p.unlink()


def load_or_build(vdir: Path, build: Callable[[], Any]) -> tuple[Any, str]:
    """(index, how) for gazetteer version ``vdir``: read from the cache file, or built by
    ``build()`` (and saved for the next process). ``how`` is "cached", "built" or "uncached"."""
    if not enabled():
        return build(), "uncached"
    path = cache_path(vdir)
    obj = read(path)
    if obj is not None:
        return obj, "cached"
    with _lock(vdir):
        obj = read(path)  # another process may have built it while this one waited
        if obj is not None:
            return obj, "cached"
        obj = build()
        write(path, obj)
    return obj, "built"
