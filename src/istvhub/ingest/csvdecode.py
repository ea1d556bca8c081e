"""The encoding of a CSV upload: validated in 1 MiB steps without building its text, reported
as it arrived (utf-8, utf-8-sig, utf-16, cp1252, mixed) and transcoded to UTF-8 once when it is
not UTF-8 already (issue 14 point 7). Split from :mod:`istvhub.ingest.csvread`, which re-exports
these names.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from istvhub._errors import FileRejected

_STEP = 1 << 20

#: a well-formed UTF-8 multi-byte sequence (2-4 bytes)
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _valid_utf8(data: bytes | memoryview) -> bool:
    """Whether ``data`` is UTF-8, checked in steps so no text of the whole file is built."""
    dec = codecs.getincrementaldecoder("utf-8")()
    mv = memoryview(data)
    try:
        for i in range(0, len(mv), _STEP):
            dec.decode(mv[i : i + _STEP])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def plain_utf8_file(path: Path, encoding: str | None = None) -> str | None:
    """The encoding :func:`to_utf8` would report for the file when it would return the file's
    bytes unchanged and nothing later would refuse or rewrite them (valid UTF-8, no NUL, not
    blank, LF or CRLF line ends): then it can be parsed from disk, a step at a time, and is
    never held whole (issue 14 point 7). None: read it into memory as before."""
    try:
        if encoding and codecs.lookup(encoding).name != "utf-8":
            return None
    except LookupError:
        return None
    dec = codecs.getincrementaldecoder("utf-8")()
    content = False
    with open(path, "rb") as f:
        head = f.read(65536)
        if b"\r" in head and b"\n" not in head:  # normalise_newlines would rewrite it
            return None
        bom = head.startswith(b"\xef\xbb\xbf")
        f.seek(0)
        try:
            while step := f.read(_STEP):
                if b"\x00" in step:
                    return None
                content = content or bool(step.strip())
                dec.decode(step)
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    if not content:
        return None
    return encoding or ("utf-8-sig" if bom else "utf-8")


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _looks_utf16(data: bytes) -> bool:
    """NULs on every other byte of mostly-ASCII text: UTF-16 saved without a BOM."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    return bool(head) and (even.count(0) > 0.4 * len(even) or odd.count(0) > 0.4 * len(odd))


def to_utf8(data: bytes, file: str, encoding: str | None = None) -> tuple[bytes, str]:
    """(the file as UTF-8 bytes, the encoding it arrived in: utf-8, utf-8-sig, utf-16, cp1252,
    mixed or the layout's own). UTF-8 input is returned as is (BOM kept: pandas skips it)."""
    if encoding:
        try:
            if codecs.lookup(encoding).name == "utf-8":
                if not _valid_utf8(data):
                    raise UnicodeDecodeError("utf-8", b"", 0, 1, "invalid")
                return data, encoding
            return data.decode(encoding).encode("utf-8"), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileRejected(f"file is not valid {encoding}", file=file) from exc
    if data.startswith(b"\xef\xbb\xbf") and _valid_utf8(memoryview(data)[3:]):
        return data, "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileRejected(
                "file starts with a UTF-16 byte-order mark but is not valid "
                "UTF-16: save it again as UTF-8 CSV",
                file=file,
            ) from exc
    if b"\x00" in data:
        if _looks_utf16(data):
            raise FileRejected(
                "file looks like UTF-16 without a byte-order mark: save it again as UTF-8 CSV",
                file=file,
            )
        raise FileRejected("file is binary (NUL bytes), not CSV text", file=file)
    if _valid_utf8(data):
        return data, "utf-8"
    if _UTF8_MULTIBYTE.search(data):
        # lines pasted together from a UTF-8 and a Windows-1252 export: decode each line alone
        text = "".join(_decode_line(ln) for ln in data.splitlines(keepends=True))
        return text.encode("utf-8"), "mixed"
    return data.decode("cp1252", errors="replace").encode("utf-8"), "cp1252"


def decode(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """The upload as text (small files and the lenient path only; see :func:`to_utf8`)."""
    raw, enc = to_utf8(data, file, encoding)
    return raw.decode("utf-8-sig"), enc


def normalise_newlines(data: bytes) -> bytes:
    """Old Mac exports end lines with a lone CR: make them LF so lines can be measured."""
    head = data[:65536]
    if b"\r" in head and b"\n" not in head:
        return data.replace(b"\r", b"\n")
    return data
