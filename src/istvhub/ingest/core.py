"""Ingest one upload: read -> PII guard -> adapt -> (geocode) -> store in one transaction.

The CLI and the API both call :func:`ingest_file` / :func:`ingest_bytes`. The result type, the
department/period hints, slice geocoding and nil returns live in their own modules
(:mod:`~istvhub.ingest.result`, :mod:`~istvhub.ingest.hints`, :mod:`~istvhub.ingest.slicegeo`,
:mod:`~istvhub.ingest.nil`); their public names are importable from here as before.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from istvhub._errors import FileRejected, NeedsMapping, UnknownDepartment
from istvhub.ingest import identity, twopass
from istvhub.ingest.adapters import SLICE_ROWS, adapt_slices
from istvhub.ingest.csvread import Ragged
from istvhub.ingest.fileplan import plan_columns
from istvhub.ingest.hints import (  # noqa: F401  (re-exported: callers import them from here)
    department_aliases,
    department_from_filename,
    department_from_text,
    department_hint,
    period_from_filename,
)
from istvhub.ingest.layouts import Layout, detect_layout, get_layout, vocabulary
from istvhub.ingest.mapping import (
    department_layout,
    parse_mapping,
    propose_mapping,
    still_missing,
)
from istvhub.ingest.nil import ingest_nil, unchanged_version
from istvhub.ingest.pii import check_headers
from istvhub.ingest.readers import read_table
from istvhub.ingest.recognise import ITEM_WORDS, recognise
from istvhub.ingest.result import IngestResult
from istvhub.ingest.slicegeo import Progress, RecordGeocoder, SliceGeocoder
from istvhub.ingest.tally import Tally as _Tally
from istvhub.store import Store, StreamTotals

__all__ = [
    "IngestResult",
    "RecordGeocoder",
    "ingest_bytes",
    "ingest_file",
    "ingest_nil",
    "ingest_or_refusal",
]


def choose_layout(headers: list[str], adapter: str | None) -> Layout:
    if adapter:
        return get_layout(adapter)
    layout, _score = detect_layout(headers)
    return layout


def ingest_bytes(
    data: bytes | Path,
    filename: str,
    store: Store,
    *,
    department: str | None = None,
    period: str | None = None,
    adapter: str | None = None,
    geocode: bool = True,
    geocoder: RecordGeocoder | None = None,
    home: Path | None = None,
    uploaded_by: str | None = None,
    progress: Progress | None = None,
    received_at: datetime | None = None,
    confirm_replace: bool = False,
    mapping: str | None = None,
) -> IngestResult:
    """Ingest one file's bytes. Rejections raise :class:`FileRejected` (nothing stored).

    A header-only file is a nil return (the department had no assaults that month). A version
    that drops most rows or changes layout needs ``confirm_replace``
    (:class:`ConfirmationRequired` otherwise). ``home`` locates the installation secret that
    keys record ids (default: ``ISTVHUB_SECRET_FILE`` or the settings' home). ``data`` may be
    the path of a file on disk (the CLI's file, the API's spooled upload): a large CSV is then
    parsed from the file and never held in memory whole (issue 14 point 7).
    """
    kw = dict(locals())
    try:
        return _ingest(**kw, two_pass=True)
    except Ragged:  # a ragged row past the first rows of a large CSV: read it whole instead
        return _ingest(**kw, two_pass=False)


def _ingest(
    data: bytes | Path,
    filename: str,
    store: Store,
    *,
    department: str | None,
    period: str | None,
    adapter: str | None,
    geocode: bool,
    geocoder: RecordGeocoder | None,
    home: Path | None,
    uploaded_by: str | None,
    progress: Progress | None,
    received_at: datetime | None,
    confirm_replace: bool,
    mapping: str | None,
    two_pass: bool,
) -> IngestResult:
    """:func:`ingest_bytes`; ``two_pass``: a large CSV is parsed twice, never held whole
    (pass 1 the columns the file-level checks read, pass 2 every column a chunk at a time)."""
    step = progress or (lambda _s: None)
    sha = sha256_of(data)
    step("read")
    layout_hint = get_layout(adapter) if adapter else None
    table = read_table(
        data,
        filename,
        vocabulary(layout_hint),
        encoding=layout_hint.encoding if layout_hint else None,
        allow_empty=True,
        two_pass=two_pass,
    )
    check_headers(table.headers, filename)
    layout = layout_hint or choose_layout(table.headers, None)
    step("map")
    known = store.department_codes()
    aliases = department_aliases(store)
    by_name = department_from_filename(filename, known)
    by_text = department_from_text(table.preamble, aliases)
    if table.frame.empty and not table.bad_rows:
        dept = (department or by_name or by_text or "").strip().upper()
        per = period or period_from_filename(filename)
        if not dept or not per:
            raise FileRejected(
                "no data rows below the header: a nil return (no assaults that month) needs "
                "the department and period (--department/--period or in the file name)",
                file=filename,
                field="period" if dept else "department",
            )
        identity.check_names(filename, dept, by_name=by_name, by_text=by_text)
        return ingest_nil(
            store,
            department=dept,
            period=per,
            uploaded_by=uploaded_by,
            received_at=received_at,
            filename=filename,
            file_sha256=sha,
        )
    hint = department_hint(department, by_name or by_text, table, layout)
    mapping_name = None
    if mapping is not None:  # an analyst accepts (or edited) the proposed mapping
        layout, mapping_name = parse_mapping(mapping, table.headers, file=filename)
        left = still_missing(layout, table.headers, table.frame)
        if left:
            raise FileRejected(
                "the mapping leaves "
                + ", ".join(ITEM_WORDS[i] for i in left)
                + " without a column: give each a column or list it in `absent`",
                file=filename,
                field="mapping",
            )
    elif not adapter:
        layout = department_layout(store, hint, table.headers) or layout
    rec = recognise(table.headers, table.frame, layout)
    if layout.kind == "generic" and rec.missing_items():
        missing = rec.missing_items()
        raise NeedsMapping(
            "needs mapping: no confident column for "
            + ", ".join(ITEM_WORDS[i] for i in missing)
            + "; nothing was stored. Accept or edit the proposed mapping, then upload again "
            "with it (CLI: --accept-mapping)",
            file=filename,
            missing=missing,
            proposal=propose_mapping(
                table.headers, rec, department=hint, file=filename, frame=table.frame
            ),
        )
    # pass 1 of a two-pass read (the layout was recognised on the first rows)
    cols = dict(rec.columns)
    table.load_columns(plan_columns(cols, layout), filename, key=cols.get("source_key"))
    head, slices = adapt_slices(
        table,
        layout,
        file=filename,
        department=department,
        period=period,
        aliases=aliases,
        fallback_department=by_name or by_text,
        home=home,
        recognition=rec,
    )
    if head.department not in known:
        raise UnknownDepartment(
            "department is not in the registry of ISTV departments",
            file=filename,
            field="department",
        )
    identity.check_names(filename, head.department, by_name=by_name, by_text=by_text)
    result = IngestResult(
        file=filename,
        status="stored",
        adapter=layout.name,
        department=head.department,
        period=head.period,
        rows_total=head.rows_total,
        rows_skipped=head.rows_skipped,
        file_sha256=sha,
        header_line=table.header_line,
    )
    unchanged = unchanged_version(store, head.department, head.period, sha, filename)
    if unchanged is not None:  # the report still says what the file holds
        same = _Tally(head, table.frame, store, None, layout.name, True, filename)
        for p in slices:
            same.add(p)
        same.check()
        same.fill(result)
        result.number_lines(table.lines, table.header_line)
        result.status, result.version, result.message = "unchanged", *unchanged
        return result
    identity.check_layout_owner(
        store, filename, head.department, layout.name, confirmed=confirm_replace
    )
    prev = identity.previous_version(store, head.department, head.period)
    tally = _Tally(head, table.frame, store, prev, layout.name, confirm_replace, filename)
    geo = SliceGeocoder(geocoder if geocode else None, step)
    streamed = len(table.frame) > SLICE_ROWS
    if streamed:  # a large file: each slice adapted, geocoded and written, then dropped
        frames: Any = (geo(tally.add(p)) for p in slices)
    else:  # the usual month: every check before the transaction opens
        parts = [tally.add(p) for p in slices]
        tally.check()
        frames = [geo(p) for p in parts]
        del parts
    lines = table.lines
    del table  # the raw cells are read by the slices only

    def finish() -> StreamTotals:
        if streamed:
            tally.check()
        return StreamTotals(
            tally.quarantine(), head.rows_total, head.rows_skipped, tally.pii_scrubbed
        )

    step("store")
    sr = store.store_submission(
        department=head.department,
        period=head.period,
        file_sha256=sha,
        source_filename=filename,
        adapter=layout.name,
        records=frames,
        rows_total=head.rows_total,
        rows_skipped=head.rows_skipped,
        uploaded_by=uploaded_by,
        received_at=received_at,
        finish=finish,
    )
    tally.fill(result)
    result.number_lines(lines, result.header_line)
    result.geocoded, result.located = geo.geocoded, geo.located
    warn = geo.warning
    if mapping is not None and mapping_name and sr.status == "stored":
        from istvhub.store.mappings import save_mapping

        save_mapping(
            store,
            department=head.department,
            name=mapping_name,
            toml=mapping,
            accepted_by=uploaded_by,
        )
        result.mapping_saved = f"{head.department} {mapping_name}"
    result.status = sr.status
    result.version = sr.version
    result.submission_id = sr.submission_id
    result.superseded_version = sr.superseded_version
    result.replaces = tally.replaces
    result.message = sr.message + (f"; replaces {result.replaces}" if result.replaces else "")
    result.message += f"; {warn}" if warn else ""
    return result


def sha256_of(data: bytes | Path) -> str:
    """The hex SHA-256 of the bytes or of the file (read 1 MiB at a time)."""
    if not isinstance(data, Path):
        return hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with open(data, "rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


def ingest_file(path: Path, store: Store, **kw: Any) -> IngestResult:
    """Ingest a file from disk; a rejection comes back as a ``rejected`` result, not a raise."""
    from istvhub.ingest.readers import ReadLimits

    name = Path(path).name
    limit = ReadLimits.from_env().max_file_bytes
    try:
        if Path(path).stat().st_size > limit:  # checked before reading a byte of it
            return IngestResult(
                file=name,
                status="rejected",
                message=str(
                    FileRejected(
                        f"file larger than the {limit} byte limit (ISTVHUB_MAX_FILE_BYTES)",
                        file=name,
                    )
                ),
            )
        # a large file is parsed from disk (ingest_bytes), a small one read as before
        data: bytes | Path = Path(path)
        if Path(path).stat().st_size < twopass.TWO_PASS_BYTES:
            data = Path(path).read_bytes()
        else:
            with open(path, "rb"):  # unreadable: refused here, as a small file is
                pass
    except OSError as exc:
        return IngestResult(
            file=name,
            status="rejected",
            message=str(FileRejected(f"cannot read file ({type(exc).__name__})", file=name)),
        )
    return ingest_or_refusal(data, name, store, **kw)


def ingest_or_refusal(data: bytes | Path, name: str, store: Store, **kw: Any) -> IngestResult:
    """:func:`ingest_bytes`, with a refusal or a file held for mapping returned as a result,
    not raised: a run over many files reports each and goes on."""
    try:
        return ingest_bytes(data, name, store, **kw)
    except NeedsMapping as exc:
        return IngestResult(
            file=name,
            status="needs_mapping",
            message=str(exc),
            file_sha256=sha256_of(data),
            missing_items=exc.missing,
            proposed_mapping=exc.proposal,
        )
    except FileRejected as exc:
        return IngestResult(
            file=name,
            status="rejected",
            message=str(exc),
            file_sha256=sha256_of(data),
        )
