"""CLI commands of this stage (registered by ``istvhub.cli``): ``ingest`` and ``submissions``."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from istvhub._errors import FileRejected, IstvhubError
from istvhub.exportsafety import neutralise_rows
from istvhub.geocode.shared import shared_geocoder
from istvhub.ingest.core import IngestResult, ingest_file, ingest_nil
from istvhub.store import Store


def _arrival(received_at: str | None) -> datetime | None:
    """``--received-at`` as an aware time (naive = Europe/London); None = now."""
    if not received_at:
        return None
    try:
        arrived = datetime.fromisoformat(received_at)
    except ValueError:
        raise IstvhubError("field 'received-at': expected an ISO date-time") from None
    if arrived.tzinfo is None:
        arrived = arrived.replace(tzinfo=ZoneInfo("Europe/London"))
    return arrived


def _nil_return(
    store: Store, department: str | None, period: str | None, uploaded_by: str | None, arrived
) -> IngestResult:
    """``--nil``: record the month as received with 0 records (a refusal is a rejected result)."""
    try:
        return ingest_nil(
            store,
            department=department,
            period=period,
            uploaded_by=uploaded_by,
            received_at=arrived,
        )
    except FileRejected as exc:
        return IngestResult(file="nil return", status="rejected", message=str(exc))


def _ingest_files(
    files: list[Path],
    store: Store,
    *,
    quiet: bool,
    accept: bool = False,
    mapping_file: Path | None = None,
    batch: bool = True,
    **kw: Any,
) -> list[IngestResult]:
    """Ingest each file in turn, with a progress bar when there is a lot to do. Several files
    (unless ``batch`` is off or a mapping is being accepted) go by the batch path: the files of
    one layout adapted in one pass, each still stored and reported as its own upload."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    big = sum(f.stat().st_size for f in files if f.is_file()) > 2_000_000 or len(files) > 3
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not big or quiet,
    ) as prog:
        task = prog.add_task("ingest", total=len(files) * 4, step="")
        if batch and len(files) > 1 and not accept and mapping_file is None:
            from istvhub.ingest.batch import ingest_paths

            def done(res: IngestResult) -> None:
                prog.update(task, advance=4, description=res.file, step=res.status)

            results = ingest_paths(files, store, on_result=done, **kw)
            return [_keep_proposal(f, r, None) for f, r in zip(files, results, strict=True)]
        for f in files:
            prog.update(task, description=f.name)

            def step(name: str) -> None:
                prog.update(task, advance=1, step=name)  # noqa: B023

            results.append(_ingest_one(f, store, step, accept, mapping_file, kw))
    return results


def _ingest_one(
    f: Path, store: Store, step: Any, accept: bool, mapping_file: Path | None, kw: dict
) -> IngestResult:
    """One file; a held file's proposal is written beside it (FILE.mapping.toml). With
    ``accept`` that file (edited or not) is the mapping, else the proposal as made."""
    path = mapping_file if mapping_file is not None else f.with_name(f.name + ".mapping.toml")
    text = path.read_text(encoding="utf-8") if accept and path.is_file() else None
    res = ingest_file(f, store, progress=step, mapping=text, **kw)
    if res.status == "needs_mapping" and accept and text is None and res.proposed_mapping:
        res = ingest_file(f, store, progress=step, mapping=res.proposed_mapping, **kw)
    return _keep_proposal(f, res, mapping_file)


def _keep_proposal(f: Path, res: IngestResult, mapping_file: Path | None) -> IngestResult:
    """A held file's proposed mapping, written beside it (FILE.mapping.toml)."""
    path = mapping_file if mapping_file is not None else f.with_name(f.name + ".mapping.toml")
    if res.status == "needs_mapping" and res.proposed_mapping:
        try:
            path.write_text(res.proposed_mapping, encoding="utf-8")
        except OSError:
            path = Path.cwd() / path.name
            path.write_text(res.proposed_mapping, encoding="utf-8")
        res.message += f"; proposed mapping written to {path}"
    return res


def _write_report(report: Path, results: list[IngestResult]) -> None:
    """The row-level report CSV (file, row, field, reason; never a value)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    with open(report, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "row", "field", "reason"])
        w.writeheader()
        for r in results:
            w.writerows(neutralise_rows(r.report_rows()))


def _print_results(results: list[IngestResult], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2, default=str))
    for r in results:
        if r.status == "rejected":
            typer.echo(f"istvhub: rejected: {r.message}", err=True)
        elif r.status == "needs_mapping":
            typer.echo(f"istvhub: held: {r.message}", err=True)
        elif not as_json:
            typer.echo(
                f"{r.status}: {r.file} -> {r.department} {r.period} v{r.version} "
                f"[{r.adapter}] accepted {r.rows_accepted}, quarantined "
                f"{r.rows_quarantined}, skipped {r.rows_skipped}, PII scrubbed "
                f"{r.pii_scrubbed}"
                + (f", geocoded {r.geocoded}" if r.geocoded else "")
                + (f" ({r.message})" if r.status == "unchanged" else "")
                + (f"; replaces {r.replaces}" if r.replaces else "")
                + ("; nil return, 0 records" if r.adapter == "nil" else "")
                + (f"; mapping kept for {r.mapping_saved}" if r.mapping_saved else "")
            )
            from istvhub.ingest.report import item_lines

            for line in item_lines(r.items):
                typer.echo(f"  {line}")
            for what, n in r.warning_counts().items():
                typer.echo(f"  warning, {n} row(s): {what}")
            for i in r.issues:
                if i.row == 0:  # file-level: an ISTV item no column was recognised for
                    typer.echo(f"istvhub: warning: {r.file}: {i.field}: {i.reason}", err=True)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the top-level app."""

    @app.command("ingest")
    def ingest_cmd(
        files: list[Path] = typer.Argument(None, help="CSV or XLSX extracts to ingest."),
        department: str | None = typer.Option(None, "--department", help="ODS site code."),
        period: str | None = typer.Option(None, "--period", help="Submission month YYYY-MM."),
        adapter: str | None = typer.Option(
            None,
            "--adapter",
            help="Force a layout: istv_mds, ecds, ucc_xlsx, legacy_pas, "
            "generic, mapping:<name> or mapping:<file.toml>. Default: detect from the header.",
        ),
        db: str | None = typer.Option(
            None, "--db", help="Database URL (default ISTVHUB_DB or SQLite under ISTVHUB_HOME)."
        ),
        report: Path | None = typer.Option(
            None, "--report", help="Write the row-level report CSV here."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
        no_geocode: bool = typer.Option(
            False, "--no-geocode", help="Store without geocoding (geocode later)."
        ),
        uploaded_by: str | None = typer.Option(None, "--uploaded-by", hidden=True),
        received_at: str | None = typer.Option(
            None,
            "--received-at",
            help="When the file arrived, ISO date-time (default now; "
            "naive = Europe/London), for back-filling history.",
        ),
        nil: bool = typer.Option(
            False,
            "--nil",
            help="Record a nil return (no assaults that month: received, 0 records) for "
            "--department and --period, without a file.",
        ),
        confirm_replace: bool = typer.Option(
            False,
            "--confirm-replace",
            help="Allow a new version that drops most rows or changes layout from the "
            "department's previous month.",
        ),
        accept_mapping: bool = typer.Option(
            False,
            "--accept-mapping",
            help="Accept the mapping proposed for a file held as needs mapping (FILE.mapping.toml "
            "beside it, edited or not, or --mapping), keep it for the department and ingest.",
        ),
        mapping_file: Path | None = typer.Option(
            None, "--mapping", help="The mapping TOML to accept (default FILE.mapping.toml)."
        ),
        one_at_a_time: bool = typer.Option(
            False,
            "--one-at-a-time",
            help="Adapt each file on its own (default: several files of one layout are adapted "
            "together, each still stored and reported as its own upload). A directory stands "
            "for its CSV/XLSX/TXT/TSV files.",
        ),
    ) -> None:
        """Ingest ED extracts: exit 0 when stored (even with quarantined rows), 2 if rejected,
        3 if held as needs mapping (nothing stored; a mapping TOML is proposed beside the file)."""
        from istvhub._errors import FileRejected
        from istvhub.core.config import get_settings
        from istvhub.store import open_store

        settings = get_settings()
        arrived = _arrival(received_at)
        if nil:
            if files or not department or not period:
                raise FileRejected("--nil takes --department and --period and no file")
        elif not files:
            raise FileRejected("give one or more files to ingest (or --nil)")
        from istvhub.ingest.batch import extract_paths

        files = extract_paths(files or [])
        if not nil and not files:
            raise FileRejected("no CSV, XLSX, TXT or TSV extracts in the given directory")
        store = open_store(db or settings.db_url)
        try:
            if nil:
                results = [_nil_return(store, department, period, uploaded_by, arrived)]
            else:
                # one loaded geocoder for every file (the CLI wires the stages)
                geocoder = None if no_geocode else shared_geocoder(settings.home, store.url)
                results = _ingest_files(
                    files,
                    store,
                    quiet=as_json,
                    accept=accept_mapping,
                    mapping_file=mapping_file,
                    batch=not one_at_a_time,
                    department=department,
                    period=period,
                    adapter=adapter,
                    geocoder=geocoder,
                    home=settings.home,
                    uploaded_by=uploaded_by,
                    received_at=arrived,
                    confirm_replace=confirm_replace,
                )
        finally:
            store.dispose()
        if report is not None:
            _write_report(report, results)
        _print_results(results, as_json)
        rejected = [r for r in results if r.status == "rejected"]
        held = [r for r in results if r.status == "needs_mapping"]
        if held and not rejected:
            from istvhub._errors import NeedsMapping

            raise NeedsMapping(  # exit code 3
                f"{len(held)} of {len(results)} file(s) held as needs mapping; nothing from "
                "them was stored",
                file=None,
                missing=sorted({m for r in held for m in r.missing_items}),
                proposal="",
            )
        if rejected:
            # an IstvhubError: the CLI entry point maps it to exit code 2 (typer.Exit codes are
            # swallowed under standalone_mode=False)
            raise FileRejected(
                f"{len(rejected)} of {len(results)} file(s) rejected; nothing from them was stored"
            )

    @app.command("rekey-records")
    def rekey_cmd(
        db: str | None = typer.Option(None, "--db", help="Database URL."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Count, change nothing."),
    ) -> None:
        """Replace release-0.1 record ids (unkeyed hashes, reversible when a row key was an NHS
        number) with ids keyed by this installation's secret. Safe to run again."""
        from istvhub.core.config import get_settings
        from istvhub.ingest.rekey import rekey_records
        from istvhub.store import open_store

        settings = get_settings()
        store = open_store(db or settings.db_url)
        try:
            n = rekey_records(store, home=settings.home, dry_run=dry_run)
        finally:
            store.dispose()
        verb = "would rekey" if dry_run else "rekeyed"
        typer.echo(f"{verb} {n} record id(s)")

    @app.command("submissions")
    def submissions_cmd(
        department: str | None = typer.Option(None, "--department", help="ODS site code."),
        db: str | None = typer.Option(None, "--db", help="Database URL."),
        as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        """List stored submissions (every version; status current or superseded)."""
        from rich.console import Console
        from rich.table import Table

        from istvhub.core.config import get_settings
        from istvhub.store import open_store

        store = open_store(db or get_settings().db_url)
        df = store.submissions(department)
        store.dispose()
        if as_json:
            typer.echo(df.to_json(orient="records", date_format="iso", indent=2))
            return
        cols = [
            "department",
            "period",
            "version",
            "status",
            "received_at",
            "adapter",
            "rows_accepted",
            "rows_quarantined",
            "rows_skipped",
            "pii_scrubbed",
            "source_filename",
        ]
        t = Table(title=f"{len(df)} submissions")
        for c in cols:
            t.add_column(c)
        for row in df[cols].itertuples(index=False):
            t.add_row(*[str(v) for v in row])
        Console(file=sys.stdout, width=200).print(t)
