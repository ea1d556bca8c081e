"""The installation secret: the key behind every keyed hash the hub stores or publishes.

Record ids and the cell-key perturbation of published counts must not be computable by anyone
who only has the code and a guess (an unsalted hash of an NHS number is reversed in a second).
So each installation creates one random secret at first use and keeps it *outside* the
database: ``$ISTVHUB_SECRET_FILE`` if set, else ``<ISTVHUB_HOME>/secret.key`` (mode 0600). Every
worker of one installation must see the same file (a shared home directory or a mounted secret);
losing it changes future record ids and perturbations, so back it up with the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from istvhub.core.config import get_settings

SECRET_BYTES = 32


def secret_path(home: Path | None = None) -> Path:
    """Where this installation's secret lives (not necessarily created yet)."""
    env = os.environ.get("ISTVHUB_SECRET_FILE")
    if env:
        return Path(env)
    return Path(home or get_settings().home) / "secret.key"


def installation_secret(home: Path | None = None) -> bytes:
    """The secret, created on first use."""
    return _read_or_create(secret_path(home))


def _read_or_create(p: Path) -> bytes:
    """Written whole to a private temporary file (0600), then hard-linked into place, so a
    concurrent worker sees either no file or the complete one."""
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(SECRET_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, p)  # fails if another worker won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        data = p.read_bytes()
    if len(data) < 16:
        raise RuntimeError(f"installation secret {p} is too short; restore it from backup")
    return data


def keyed_digest(purpose: str, value: str, *, home: Path | None = None) -> bytes:
    """HMAC-SHA256 of ``value`` under the installation secret, separated by ``purpose`` so that
    a record id and a cell key of the same record are unrelated."""
    msg = purpose.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(_secret_at(str(secret_path(home))), msg, hashlib.sha256).digest()


def first_digest_bytes(purpose: str, values: list[str], *, home: Path | None = None) -> list[int]:
    """The first byte of :func:`keyed_digest` of each value: the secret is located once for
    the whole list and the HMAC state of the purpose prefix is reused (a layer build keys
    hundreds of thousands of records; resolving the secret's path per record cost most of it)."""
    base = hmac.new(_secret_at(str(secret_path(home))), purpose.encode() + b"\x00", hashlib.sha256)
    out = []
    for v in values:
        h = base.copy()
        h.update(v.encode("utf-8", "surrogatepass"))
        out.append(h.digest()[0])
    return out


@lru_cache(maxsize=8)
def _secret_at(path: str) -> bytes:
    """The secret read once per process and path (hashing millions of ids must not reread it)."""
    return _read_or_create(Path(path))
