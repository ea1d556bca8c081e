"""The installation secret: created once, private, shared by concurrent workers."""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
from pathlib import Path

import pytest

from istvhub.core import secrets as sec


def _create(home: str, q: mp.Queue) -> None:
    q.put(sec.installation_secret(Path(home)).hex())


def test_concurrent_first_use_agrees_on_one_private_secret(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_create, args=(str(tmp_path), q)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    seen = {q.get(timeout=5) for _ in procs}
    assert len(seen) == 1
    f = tmp_path / "secret.key"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert f.read_bytes().hex() in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no temp files left


def test_digest_is_keyed_and_separated_by_purpose(tmp_path: Path, monkeypatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    d_a = sec.keyed_digest("record_id", "RJ122|A1", home=a)
    assert d_a == sec.keyed_digest("record_id", "RJ122|A1", home=a)
    assert d_a != sec.keyed_digest("cell_key", "RJ122|A1", home=a)
    assert d_a != sec.keyed_digest("record_id", "RJ122|A1", home=b)  # another installation
    monkeypatch.setenv("ISTVHUB_SECRET_FILE", str(a / "secret.key"))
    assert sec.keyed_digest("record_id", "RJ122|A1") == d_a


def test_truncated_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_bytes(b"short")
    os.chmod(tmp_path / "secret.key", 0o600)
    with pytest.raises(RuntimeError, match="too short"):
        sec.installation_secret(tmp_path)
