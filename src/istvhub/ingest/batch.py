"""Ingest many files at once (issue 16): each file read and planned alone, the files of one
layout adapted in one pass (:mod:`istvhub.ingest.batchadapt`), then each department-month
checked and stored as its own version, in the order given.

Why: ten years of 200 departments is ~24,000 files of ~125 rows, and one file at a time costs
~1 s of fixed pandas work per file. The result of every file is what :func:`ingest_file` gives
for it alone (the same records, versions, report, warnings and refusals): a file this path does
not handle (a nil return, a mapping to accept, a large file, any refusal before adapting, or a
group whose adapting fails) is ingested alone by the one-file path, so it fails with its own
reason and never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from istvhub._errors import FileRejected, IstvhubError
from istvhub.ingest import identity
from istvhub.ingest.adapted import FLAG_COL, Adapted
from istvhub.ingest.adapters import SLICE_ROWS
from istvhub.ingest.batchadapt import Counted, ItemCounts, Member, adapt_group, file_head
from istvhub.ingest.core import choose_layout, ingest_file, ingest_or_refusal
from istvhub.ingest.fileplan import FilePlan, plan_file
from istvhub.ingest.hints import (
    department_aliases,
    department_from_filename,
    department_from_text,
    department_hint,
)
from istvhub.ingest.layouts import Layout, get_layout, vocabulary
from istvhub.ingest.mapping import department_layout
from istvhub.ingest.nil import unchanged_version
from istvhub.ingest.pii import check_headers
from istvhub.ingest.readers import RawTable, read_table
from istvhub.ingest.recognise import Recognition, recognise
from istvhub.ingest.result import IngestResult
from istvhub.ingest.slicegeo import SliceGeocoder
from istvhub.ingest.tally import Tally
from istvhub.records import record_id_maker
from istvhub.store import RecordColumns, Store, StreamTotals

log = logging.getLogger(__name__)

#: files adapted together at most (bounds the memory of one pass: ~125 rows a file)
BATCH_FILES = 200
#: larger files go by the one-file path, which reads a large CSV in two passes, never whole
BATCH_MAX_BYTES = 4_000_000
#: the extensions a directory given to ``istvhub ingest`` is searched for
EXTRACT_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")


@dataclass
class _Ready:
    """A file read and planned, waiting to be adapted with the others of its layout."""

    index: int
    name: str
    sha: str
    table: RawTable
    layout: Layout
    rec: Recognition
    cols: dict[str, str]
    plan: FilePlan
    head: Adapted
    by_name: str | None
    by_text: str | None

    def group(self) -> tuple[Any, ...]:
        """Files adapted together: the same layout, columns and per-file adapting choices."""
        own = self.plan.department if self.layout.name.startswith("mapping:") else None
        return (
            self.layout.name,
            own,
            tuple(self.table.headers),
            tuple(sorted(self.cols.items())),
            tuple(sorted(self.rec.weapon_flags.items())),
            self.table.encoding,
            self.plan.place_is_text,
        )


@dataclass
class _Converted:
    """One file's records as database values, and what geocoding them found."""

    records: RecordColumns
    geocoded: int
    located: int
    warning: str | None


def _one(data: bytes, name: str, store: Store, kw: dict[str, Any]) -> IngestResult:
    """One file by the one-file path, a refusal as a result (what :func:`ingest_file` does)."""
    return ingest_or_refusal(data, name, store, **kw)


class _Batch:
    """The state one batch shares: the registry, the options and the loaded lookups."""

    def __init__(self, store: Store, kw: dict[str, Any]) -> None:
        self.store, self.kw = store, kw
        self.known = store.department_codes()
        self.aliases = department_aliases(store)
        self.make_id = record_id_maker(kw.get("home"))
        self._layouts: dict[tuple[Any, ...], Layout | None] = {}

    def _department_layout(self, hint: str | None, headers: list[str]) -> Layout | None:
        key = (hint, tuple(headers))
        if key not in self._layouts:
            self._layouts[key] = department_layout(self.store, hint, headers)
        return self._layouts[key]

    def prepare(self, index: int, name: str, data: bytes) -> _Ready | None:
        """Read and plan one file, as ``ingest_bytes`` does up to adapting; None: the file
        goes by the one-file path (anything unusual, and every refusal)."""
        kw = self.kw
        adapter, department, period = kw.get("adapter"), kw.get("department"), kw.get("period")
        if kw.get("mapping") is not None or len(data) > BATCH_MAX_BYTES:
            return None
        try:
            hint_layout = get_layout(adapter) if adapter else None
            table = read_table(
                data,
                name,
                vocabulary(hint_layout),
                encoding=hint_layout.encoding if hint_layout else None,
                allow_empty=True,
            )
            if table.frame.empty or len(table.frame) > SLICE_ROWS:
                return None
            if getattr(table, "chunks", None) is not None:  # a two-pass read (a large file)
                return None
            check_headers(table.headers, name)
            layout = hint_layout or choose_layout(table.headers, None)
            by_name = department_from_filename(name, self.known)
            by_text = department_from_text(table.preamble, self.aliases)
            hint = department_hint(department, by_name or by_text, table, layout)
            if not adapter:
                layout = self._department_layout(hint, table.headers) or layout
            rec = recognise(table.headers, table.frame, layout)
            if layout.kind == "generic" and rec.missing_items():
                return None
            cols = dict(rec.columns)
            plan = plan_file(
                table.frame,
                cols,
                layout,
                file=name,
                department=department,
                period=period,
                aliases=self.aliases,
                fallback_department=by_name or by_text,
            )
            if plan.department not in self.known:
                return None
            identity.check_names(name, plan.department, by_name=by_name, by_text=by_text)
        except IstvhubError:
            return None
        if rec.weapon_flags and not {"weapon_code", "mechanism"} & set(cols):
            cols["weapon_code"] = FLAG_COL
        return _Ready(
            index,
            name,
            hashlib.sha256(data).hexdigest(),
            table,
            layout,
            rec,
            cols,
            plan,
            file_head(table, plan, cols, rec),
            by_name,
            by_text,
        )

    def convert(self, parts: list[Adapted]) -> list[_Converted]:
        """The records of a group geocoded and converted to database values at once (each
        ~40 ms of pandas calls per call, whatever the rows), then sliced back per file."""
        geocoder = self.kw.get("geocoder") if self.kw.get("geocode", True) else None
        sizes = [len(p.records) for p in parts]
        frames = [p.records for p in parts if len(p.records)] or [parts[0].records]
        recs = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        geo = SliceGeocoder(geocoder, _quiet)
        recs = geo(recs)
        conv = self.store.record_columns(recs)
        out, start = [], 0
        for n in sizes:
            mine = recs.iloc[start : start + n]
            done = geocoder is not None and geo.warning is None and n > 0
            located = int((mine["geo_status"] == "located").sum()) if done else 0
            out.append(
                _Converted(
                    conv.part(start, start + n),
                    int(mine["location_text"].notna().sum()) if done else 0,
                    located if "geo_status" in mine.columns else 0,
                    geo.warning if n > 0 else None,
                )
            )
            start += n
        return out

    def finish(
        self, r: _Ready, part: Adapted, conv: _Converted, counts: ItemCounts
    ) -> IngestResult:
        """Check and store one adapted file, as ``ingest_bytes`` does after adapting."""
        try:
            return self._finish(r, part, conv, counts)
        except FileRejected as exc:
            return IngestResult(file=r.name, status="rejected", message=str(exc), file_sha256=r.sha)

    def _finish(
        self, r: _Ready, part: Adapted, conv: _Converted, counts: ItemCounts
    ) -> IngestResult:
        kw, store, head, name = self.kw, self.store, r.head, r.name
        confirm = bool(kw.get("confirm_replace", False))
        result = IngestResult(
            file=name,
            status="stored",
            adapter=r.layout.name,
            department=head.department,
            period=head.period,
            rows_total=head.rows_total,
            rows_skipped=head.rows_skipped,
            file_sha256=r.sha,
            header_line=r.table.header_line,
        )
        unchanged = unchanged_version(store, head.department, head.period, r.sha, name)
        if unchanged is not None:
            same = Tally(head, r.table.frame, store, None, r.layout.name, True, name)
            same.items = Counted(head, counts)
            same.add(part)
            same.check()
            same.fill(result)
            result.number_lines(r.table.lines, r.table.header_line)
            result.status, result.version, result.message = "unchanged", *unchanged
            return result
        identity.check_layout_owner(store, name, head.department, r.layout.name, confirmed=confirm)
        prev = identity.previous_version(store, head.department, head.period)
        tally = Tally(head, r.table.frame, store, prev, r.layout.name, confirm, name)
        tally.items = Counted(head, counts)
        tally.add(part)
        tally.check()
        sr = store.store_submission(
            department=head.department,
            period=head.period,
            file_sha256=r.sha,
            source_filename=name,
            adapter=r.layout.name,
            records=conv.records,
            rows_total=head.rows_total,
            rows_skipped=head.rows_skipped,
            uploaded_by=kw.get("uploaded_by"),
            received_at=kw.get("received_at"),
            finish=lambda: StreamTotals(
                tally.quarantine(), head.rows_total, head.rows_skipped, tally.pii_scrubbed
            ),
        )
        tally.fill(result)
        result.number_lines(r.table.lines, result.header_line)
        result.geocoded, result.located = conv.geocoded, conv.located
        result.status, result.version = sr.status, sr.version
        result.submission_id, result.superseded_version = sr.submission_id, sr.superseded_version
        result.replaces = tally.replaces
        result.message = sr.message + (f"; replaces {result.replaces}" if result.replaces else "")
        result.message += f"; {conv.warning}" if conv.warning else ""
        return result


def _quiet(_step: str) -> None:
    return None


def ingest_many(
    files: Iterable[tuple[str, bytes]],
    store: Store,
    *,
    on_result: Callable[[IngestResult], None] | None = None,
    **kw: Any,
) -> list[IngestResult]:
    """Ingest (name, bytes) pairs with the options of :func:`ingest_bytes`; one result per file,
    in order, each what that file alone would give. ``BATCH_FILES`` are adapted at a time."""
    results: list[IngestResult] = []
    chunk: list[tuple[str, bytes]] = []
    for item in files:
        chunk.append(item)
        if len(chunk) >= BATCH_FILES:
            results += _ingest_chunk(chunk, store, kw, on_result)
            chunk = []
    if chunk:
        results += _ingest_chunk(chunk, store, kw, on_result)
    return results


def _ingest_chunk(
    chunk: list[tuple[str, bytes]],
    store: Store,
    kw: dict[str, Any],
    on_result: Callable[[IngestResult], None] | None,
) -> list[IngestResult]:
    batch = _Batch(store, kw)
    ready: list[_Ready | None] = [batch.prepare(i, n, d) for i, (n, d) in enumerate(chunk)]
    groups: dict[tuple[Any, ...], list[_Ready]] = {}
    for r in ready:
        if r is not None:
            groups.setdefault(r.group(), []).append(r)
    adapted: dict[int, tuple[Adapted, _Converted, ItemCounts]] = {}
    for members in groups.values():
        first = members[0]
        try:
            parts, counts = adapt_group(
                [Member(m.table.frame, m.plan) for m in members],
                first.layout,
                first.rec,
                first.cols,
                first.table.encoding,
                batch.make_id,
            )
            conv = batch.convert(parts)
        except Exception:  # noqa: BLE001  (an NHS-number row key, a bug): each file alone says
            log.warning("batch adapting failed (%s); its files go one at a time", len(members))
            continue
        adapted.update(
            (m.index, (p, c, n)) for m, p, c, n in zip(members, parts, conv, counts, strict=True)
        )
    out: list[IngestResult] = []
    for i, (name, data) in enumerate(chunk):
        r = ready[i]
        done = adapted.get(i)
        res = batch.finish(r, *done) if r is not None and done is not None else None
        if res is None:
            res = _one(data, name, store, kw)
        if on_result is not None:
            on_result(res)
        out.append(res)
    return out


def extract_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and each directory's extracts (sorted by name, not recursing)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                q for q in p.iterdir() if q.is_file() and q.suffix.lower() in EXTRACT_SUFFIXES
            )
        else:
            out.append(p)
    return out


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    *,
    on_result: Callable[[IngestResult], None] | None = None,
    **kw: Any,
) -> list[IngestResult]:
    """Ingest files from disk in batches; a file too large or unreadable goes by
    :func:`ingest_file` (refused before a byte is read, as there)."""
    from istvhub.ingest.readers import ReadLimits

    limit = ReadLimits.from_env().max_file_bytes
    plist = list(paths)
    results: list[IngestResult | None] = [None] * len(plist)
    pending: list[tuple[int, str, bytes]] = []

    def flush() -> None:
        done = ingest_many([(n, d) for _i, n, d in pending], store, **kw)
        for (i, _n, _d), res in zip(pending, done, strict=True):
            results[i] = res
            if on_result is not None:
                on_result(res)
        pending.clear()

    for i, p in enumerate(plist):
        try:
            ok = p.stat().st_size <= limit
            data = p.read_bytes() if ok else b""
        except OSError:
            ok = False
        if not ok:
            flush()  # keep the order of versions: earlier files first
            results[i] = ingest_file(p, store, **kw)
            if on_result is not None:
                on_result(results[i])  # type: ignore[arg-type]
            continue
        pending.append((i, p.name, data))
        if len(pending) >= BATCH_FILES:
            flush()
    flush()
    return [r for r in results if r is not None]
