"""Streaming multipart upload: the file goes to disk chunk by chunk and the size limit is enforced
while it streams (413 as soon as it is passed), so a huge upload never sits in memory or on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls", ".tsv")
MAX_TEXT_FIELD = 1024
#: form fields allowed to be longer: an accepted mapping TOML (issue 17)
LONG_FIELDS = {"mapping": 64 * 1024}
#: a refused oversized upload closes the connection, so the server stops reading the rest of it
_CLOSE = {"Connection": "close"}


#: a per-request upload directory is named ``<pid>-<random>`` so start-up can tell orphans
_PREFIX_RE = re.compile(r"^(\d+)-")
#: directories of a live worker older than this are orphans too (a request never lasts a day)
MAX_AGE_S = 24 * 3600


@contextmanager
def upload_dir(home: Path) -> Iterator[Path]:
    """A private directory (0700, in ``<home>/uploads``, itself 0700) for one request's file,
    removed when the request ends, whether it was stored, rejected or failed."""
    root = Path(home) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    d = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))  # mkdtemp: mode 0700
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_uploads(home: Path) -> int:
    """Remove what a crashed or killed worker left in ``<home>/uploads`` (called at start-up):
    directories of processes that no longer run, anything older than a day, any loose file.
    Returns how many entries were removed."""
    root = Path(home) / "uploads"
    if not root.is_dir():
        return 0
    n = 0
    now = time.time()
    for p in root.iterdir():
        m = _PREFIX_RE.match(p.name)
        try:
            old = now - p.lstat().st_mtime > MAX_AGE_S
        except OSError:
            continue
        pid = int(m.group(1)) if m is not None else None
        in_flight = pid is not None and pid != os.getpid() and _alive(pid)
        if p.is_dir() and not p.is_symlink() and in_flight and not old:
            continue  # another live worker's request
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        n += 1
    return n


def sanitize_filename(name: str | None) -> str:
    """A safe base name: no directories, no control or shell characters, bounded length."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = _SAFE.sub("_", name).strip("._")
    if not name:
        name = "upload.csv"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:80] or "upload"
    return f"{stem}.{suffix[:8]}" if suffix else stem


@dataclass
class UploadForm:
    """What the form carried: one file saved at ``path`` and small text fields."""

    path: Path | None = None
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedUpload:
    """A form that passed the checks: the file is on disk, so path and name are always set (the
    routes need not re-check what :func:`receive_upload` already refused)."""

    path: Path
    filename: str
    size: int
    fields: dict[str, str]


class _FormSink:
    """The multipart parser's callbacks: headers of each part, the file streamed to disk (its
    size checked as it grows), small text fields kept in memory (their length checked)."""

    def __init__(self, form: UploadForm, dest_dir: Path, max_bytes: int, file_field: str) -> None:
        self.form, self.dest_dir, self.max_bytes, self.file_field = (
            form,
            dest_dir,
            max_bytes,
            file_field,
        )
        self.too_big = False
        self.bad_field = False
        self.fh: Any = None
        self.on_part_begin()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.hname, self.hval = b"", b""
        self.name: str | None = None
        self.fh = None
        self.text = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.hval += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.hname.decode("latin-1").lower()] = self.hval
        self.hname, self.hval = b"", b""

    def on_headers_finished(self) -> None:
        _, p = parse_options_header(self.headers.get("content-disposition", b""))
        self.name = p.get(b"name", b"").decode("utf-8", "replace")
        if self.name != self.file_field or b"filename" not in p:
            return
        if self.form.path is not None:
            self.bad_field = True
            return
        fname = sanitize_filename(p[b"filename"].decode("utf-8", "replace"))
        self.form.filename = fname
        self.form.path = self.dest_dir / fname
        fd = os.open(self.form.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self.fh = os.fdopen(fd, "wb")  # closed in on_part_end / close

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.fh is not None:
            self.form.size += end - start
            if self.form.size > self.max_bytes:
                self.too_big = True
                return
            self.fh.write(data[start:end])
        elif self.name:
            self.text += data[start:end]
            if len(self.text) > LONG_FIELDS.get(str(self.name), MAX_TEXT_FIELD):
                self.bad_field = True

    def on_part_end(self) -> None:
        if self.fh is not None:
            self.close()
        elif self.name and self.name != self.file_field:
            self.form.fields[self.name] = self.text.decode("utf-8", "replace").strip()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _too_big(max_bytes: int) -> HTTPException:
    return HTTPException(413, f"upload larger than the {max_bytes} byte limit", headers=_CLOSE)


def _boundary(request: Request, max_bytes: int) -> bytes:
    """The multipart boundary, refusing a body that is not a form or declares too many bytes."""
    mime, params = parse_options_header(request.headers.get("content-type", ""))
    if mime != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(415, "expected multipart/form-data with a file field")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise _too_big(max_bytes)
    return bytes(params[b"boundary"])


def _check_file(form: UploadForm, file_field: str) -> ReceivedUpload:
    if form.path is None or form.filename is None:
        raise HTTPException(422, f"form field {file_field!r}: no file uploaded")
    if form.size == 0:
        raise HTTPException(422, f"file {form.filename!r}: empty upload")
    if not form.filename.lower().endswith(ALLOWED_SUFFIXES):
        raise HTTPException(
            415, f"file {form.filename!r}: expected one of " + ", ".join(ALLOWED_SUFFIXES)
        )
    return ReceivedUpload(form.path, form.filename, form.size, form.fields)


async def receive_upload(
    request: Request, dest_dir: Path, max_bytes: int, file_field: str = "file"
) -> ReceivedUpload:
    """Parse a multipart/form-data request body, streaming ``file_field`` into ``dest_dir``."""
    boundary = _boundary(request, max_bytes)
    form = UploadForm()
    sink = _FormSink(form, dest_dir, max_bytes, file_field)
    parser = MultipartParser(boundary, sink.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if sink.too_big:
                raise _too_big(max_bytes)
            if sink.bad_field:
                raise HTTPException(422, "form field too long or more than one file")
        parser.finalize()
    except FormParserError as exc:  # a malformed body is the client's error, not a 500
        raise HTTPException(400, "malformed multipart/form-data body") from exc
    finally:
        sink.close()
    if sink.too_big or (form.path is not None and form.size > max_bytes):
        raise _too_big(max_bytes)
    return _check_file(form, file_field)
