"""Ingest one upload: read -> PII guard -> adapt -> (geocode) -> store in one transaction.

The CLI and the API both call :func:`ingest_file` / :func:`ingest_bytes`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from istvhub._errors import (
    ConfirmationRequired,
    FileRejected,
    IstvhubError,
    NeedsMapping,
    UnknownDepartment,
)
from istvhub.core.periods import is_period, period_in_name
from istvhub.ingest import identity
from istvhub.ingest.adapters import SLICE_ROWS, Issue, adapt_slices
from istvhub.ingest.layouts import Layout, detect_layout, get_layout, vocabulary
from istvhub.ingest.mapping import (
    department_layout,
    parse_mapping,
    propose_mapping,
    still_missing,
)
from istvhub.ingest.pii import check_headers
from istvhub.ingest.readers import read_table
from istvhub.ingest.recognise import ITEM_WORDS, recognise
from istvhub.ingest.tally import Tally as _Tally
from istvhub.records import GEOCODE_COLUMNS
from istvhub.store import Store, StreamTotals

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class IngestResult:
    file: str
    status: str  # stored | unchanged | rejected | needs_mapping
    adapter: str | None = None
    department: str | None = None
    period: str | None = None
    version: int | None = None
    submission_id: int | None = None
    superseded_version: int | None = None
    rows_total: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    pii_scrubbed: int = 0
    geocoded: int = 0
    message: str = ""
    file_sha256: str | None = None
    replaces: str | None = None  # what this version supersedes, in words
    located: int = 0  # geocoded texts placed on the map
    #: per ISTV item: the column it came from and the value mappings applied (issue 17.3)
    items: list[dict[str, Any]] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)  # needs_mapping: what to map
    proposed_mapping: str | None = None  # needs_mapping: the TOML to accept or edit
    mapping_saved: str | None = None  # the accepted mapping stored for the department
    header_line: int = 1  # the header's line (CSV) or sheet row (XLSX) in the file
    issues: list[Issue] = field(default_factory=list)
    #: data row -> the line it starts on, for the rows with issues (quoted cells may hold line
    #: breaks and blank lines are skipped, so row N is not always line header_line + N)
    row_lines: dict[int, int] = field(default_factory=dict, repr=False)

    def as_dict(self, with_issues: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d.pop("row_lines")
        d["warning_counts"] = self.warning_counts()
        if with_issues:
            d["issues"] = [{**asdict(i), "line": self.line_of(i.row)} for i in self.issues]
        else:
            d.pop("issues")
        return d

    def line_of(self, row: int) -> int | None:
        """The line in the uploaded file of 1-based data row ``row`` (None: not a row)."""
        if row <= 0:
            return None
        return self.row_lines.get(row, self.header_line + row)

    def number_lines(self, lines: Any, header_line: int) -> None:
        """Fill :attr:`row_lines` for the rows named by issues (``lines`` from the reader)."""
        from istvhub.ingest.readers import physical_line

        self.header_line = header_line
        self.row_lines = {
            i.row: physical_line(lines, header_line, i.row) for i in self.issues if i.row > 0
        }

    def report_rows(self) -> list[dict[str, Any]]:
        """Row-level report (file,row,field,reason): never a cell value."""
        if self.status in ("rejected", "needs_mapping"):
            return [{"file": self.file, "row": "", "field": "", "reason": self.message}]
        return [
            {
                "file": self.file,
                "row": i.row,
                "field": i.field,
                "reason": ("" if i.quarantined else "warning: ") + self._where(i.row) + i.reason,
            }
            for i in self.issues
        ]

    def _where(self, row: int) -> str:
        if row <= 0:
            return ""
        return f"Row {row} (line {self.line_of(row)} in your file): "

    def warning_counts(self) -> dict[str, int]:
        """Each kind of row-level warning (every coercion is one) and how many rows it hit."""
        out: dict[str, int] = {}
        for i in self.issues:
            if not i.quarantined and i.row > 0:
                key = f"{i.field}: {i.reason}"
                out[key] = out.get(key, 0) + 1
        return out


def department_from_filename(filename: str, known: set[str]) -> str | None:
    """A registered ODS code named in the file name (``RQXM1_2025-01.csv``), when exactly one
    is: extracts without a site column are usually named after their site."""
    toks = {t.upper() for t in re.split(r"[^A-Za-z0-9]+", Path(filename).stem) if t}
    hits = toks & known
    return hits.pop() if len(hits) == 1 else None


def department_from_text(lines: list[str], aliases: dict[str, str]) -> str | None:
    """A registered department named in title rows ("Assault attendances - <site name>")."""
    from istvhub.ingest.parsing import norm_text

    text = f" {norm_text(' '.join(lines))} "
    if not text.strip():
        return None
    hits = {code for name, code in aliases.items() if len(name) >= 8 and f" {name} " in text}
    return hits.pop() if len(hits) == 1 else None


def department_aliases(store: Store) -> dict[str, str]:
    """Normalised registry names -> ODS code ("st thomas hospital" -> RJ122)."""
    from istvhub.ingest.parsing import norm_text

    deps = store.departments()
    out: dict[str, str] = {}
    for code, name in zip(deps["ods_code"], deps["name"], strict=True):
        if name:
            n = norm_text(str(name).replace("'", ""))
            out[n] = code
            out[norm_text(str(name))] = code
        out[norm_text(code)] = code
    return out


def choose_layout(headers: list[str], adapter: str | None) -> Layout:
    if adapter:
        return get_layout(adapter)
    layout, _score = detect_layout(headers)
    return layout


class RecordGeocoder(Protocol):
    """What ingest needs of a geocoder (``istvhub.geocode.Geocoder`` is one); the caller wires it,
    so ingest does not depend on the geocode stage."""

    def geocode_frame(
        self, df: pd.DataFrame, text_col: str = ..., department_col: str | None = ...
    ) -> pd.DataFrame: ...


def _geocode_records(
    df: pd.DataFrame, geocoder: RecordGeocoder | None
) -> tuple[pd.DataFrame, int, str | None]:
    """Geocode records with the caller's geocoder; ingest works without one.

    Returns (frame with geocode columns added, number geocoded, warning or None).
    """
    if df.empty or geocoder is None:
        return df, 0, None
    texts = int(df["location_text"].notna().sum())  # "geocoded N" counts texts, not rows
    try:
        res = geocoder.geocode_frame(df, text_col="location_text", department_col="department")
    except IstvhubError as exc:
        return df, 0, f"geocoding skipped: {exc}"
    except Exception as exc:  # the record is stored ungeocoded; `istvhub geocode --stored` redoes
        log.warning("geocoding failed: %s", type(exc).__name__)
        return df, 0, f"geocoding skipped ({type(exc).__name__}); run istvhub geocode --stored"
    out = df  # the caller's own frame: columns added in place, not on a copy of every record
    for c in GEOCODE_COLUMNS:
        if c in res.columns:
            out[c] = res[c].values
    version = getattr(geocoder, "version", None)
    out["gazetteer_version"] = str(version) if version else None
    out["geocoded_at"] = datetime.now(UTC)
    return out, texts, None


class _SliceGeocoder:
    """Geocodes each slice of records with the caller's geocoder (or passes them through),
    summing what the report says: texts geocoded, records located, the first warning."""

    def __init__(self, geocoder: RecordGeocoder | None, step: Progress) -> None:
        self.geocoder, self.step = geocoder, step
        self.geocoded = self.located = 0
        self.warning: str | None = None
        self._said = False

    def __call__(self, records: pd.DataFrame) -> pd.DataFrame:
        if self.geocoder is None:
            return records
        if not self._said:
            self.step("geocode")
            self._said = True
        records, n, warn = _geocode_records(records, self.geocoder)
        self.geocoded += n
        self.warning = self.warning or warn
        if "geo_status" in records.columns:
            self.located += int((records["geo_status"] == "located").sum())
        return records


def ingest_bytes(
    data: bytes,
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
    keys record ids (default: ``ISTVHUB_SECRET_FILE`` or the settings' home).
    """
    step = progress or (lambda _s: None)
    sha = hashlib.sha256(data).hexdigest()
    step("read")
    layout_hint = get_layout(adapter) if adapter else None
    table = read_table(
        data,
        filename,
        vocabulary(layout_hint),
        encoding=layout_hint.encoding if layout_hint else None,
        allow_empty=True,
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
    unchanged = _unchanged(store, head.department, head.period, sha, filename)
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
    geo = _SliceGeocoder(geocoder if geocode else None, step)
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


def department_hint(
    option: str | None, from_name: str | None, table: Any, layout: Layout
) -> str | None:
    """The department a file is for, before adapting it: the option, the file name or title
    rows, else a site column holding one code (to find the department's accepted mapping)."""
    if option or from_name:
        return (option or from_name or "").strip().upper()
    col = layout.map_columns(table.headers).get("department")
    if col is None:
        return layout.constants.get("department")
    vals = {v.strip().upper() for v in table.frame[col].head(500) if v and v.strip()}
    return vals.pop() if len(vals) == 1 else None


def period_from_filename(filename: str) -> str | None:
    """YYYY-MM named in a file name (``RJ122_2025-03.csv``, ``rj122-202503.csv``)."""
    return period_in_name(Path(filename).stem)


def _unchanged(
    store: Store, department: str, period: str, sha: str, filename: str
) -> tuple[int | None, str] | None:
    """(version, message) when the file is byte-identical to the current version."""
    if store.current_sha256(department, period) != sha:
        return None
    sub = store.submissions(department, current_only=True)
    sub = sub[sub["period"] == period]
    if not len(sub):
        return None
    version = int(sub["version"].iloc[0])
    when = pd.Timestamp(sub["received_at"].iloc[0])
    return version, (
        f"{filename}: identical to version {version} of {department} {period} received on "
        f"{when:%Y-%m-%d}; nothing changed"
    )


NIL_ADAPTER = "nil"


def ingest_nil(
    store: Store,
    *,
    department: str,
    period: str,
    uploaded_by: str | None = None,
    received_at: datetime | None = None,
    filename: str | None = None,
    file_sha256: str | None = None,
) -> IngestResult:
    """Record a nil return: the department had no assaults in ``period`` ("received, 0
    records"). Compliance counts it received (and on time when it is)."""
    from istvhub.ingest import plausibility
    from istvhub.ingest.adapters import DEPT_RE
    from istvhub.records import RECORD_COLUMNS

    name = filename or f"nil return {department} {period}"
    department = department.strip().upper()
    if not DEPT_RE.match(department):
        raise FileRejected("department code is not an ODS site code", file=name, field="department")
    if department not in store.department_codes():
        raise UnknownDepartment(
            "department is not in the registry of ISTV departments", file=name, field="department"
        )
    if not is_period(period):
        raise FileRejected("period must be YYYY-MM", file=name, field="period")
    plausibility.check_period(period, file=name, field="period")
    sha = file_sha256 or hashlib.sha256(f"nil\x1f{department}\x1f{period}".encode()).hexdigest()
    result = IngestResult(
        file=name, status="stored", adapter=NIL_ADAPTER, department=department, period=period
    )
    unchanged = _unchanged(store, department, period, sha, name)
    if unchanged is not None:
        result.status, result.version, result.message = "unchanged", *unchanged
        return result
    prev = identity.previous_version(store, department, period)
    if prev is not None and prev.same_month and prev.rows > 0:
        raise ConfirmationRequired(
            f"{department} {period} version {prev.version} holds {prev.rows} records; a nil "
            "return would replace them with none. Upload a corrected file instead",
            file=name,
            field="period",
        )
    sr = store.store_submission(
        department=department,
        period=period,
        file_sha256=sha,
        source_filename=name,
        adapter=NIL_ADAPTER,
        records=pd.DataFrame(columns=[*RECORD_COLUMNS, "source_row"]),
        rows_total=0,
        uploaded_by=uploaded_by,
        received_at=received_at,
    )
    result.status, result.version = sr.status, sr.version
    result.submission_id, result.superseded_version = sr.submission_id, sr.superseded_version
    result.message = f"{name}: received {department} {period}, 0 records (nil return)"
    if sr.superseded_version:
        result.message += f"; supersedes version {sr.superseded_version}"
    return result


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
        data = Path(path).read_bytes()
    except OSError as exc:
        return IngestResult(
            file=name,
            status="rejected",
            message=str(FileRejected(f"cannot read file ({type(exc).__name__})", file=name)),
        )
    try:
        return ingest_bytes(data, name, store, **kw)
    except NeedsMapping as exc:
        return IngestResult(
            file=name,
            status="needs_mapping",
            message=str(exc),
            file_sha256=hashlib.sha256(data).hexdigest(),
            missing_items=exc.missing,
            proposed_mapping=exc.proposal,
        )
    except FileRejected as exc:
        return IngestResult(
            file=name,
            status="rejected",
            message=str(exc),
            file_sha256=hashlib.sha256(data).hexdigest(),
        )
