"""CLI commands of this stage (registered by ``istvhub.cli``): ``ingest`` and ``submissions``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer


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
    ) -> None:
        """Ingest ED extracts: exit 0 when stored (even with quarantined rows), 2 if rejected,
        3 if held as needs mapping (nothing stored; a mapping TOML is proposed beside the file)."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from istvhub.core.config import get_settings
        from istvhub.ingest.core import ingest_file
        from istvhub.store import open_store

        settings = get_settings()
        arrived = None
        if received_at:
            from datetime import datetime
            from zoneinfo import ZoneInfo

            from istvhub._errors import IstvhubError

            try:
                arrived = datetime.fromisoformat(received_at)
            except ValueError:
                raise IstvhubError("field 'received-at': expected an ISO date-time") from None
            if arrived.tzinfo is None:
                arrived = arrived.replace(tzinfo=ZoneInfo("Europe/London"))
        from istvhub._errors import FileRejected

        if nil:
            if files or not department or not period:
                raise FileRejected("--nil takes --department and --period and no file")
        elif not files:
            raise FileRejected("give one or more files to ingest (or --nil)")
        files = files or []
        store = open_store(db or settings.db_url)
        geocoder = None
        if (
            not no_geocode and not nil
        ):  # one loaded geocoder for every file (the CLI wires the stages)
            from istvhub.geocode.shared import shared_geocoder

            geocoder = shared_geocoder(settings.home, store.url)
        err = Console(stderr=True)
        results = []
        if nil:
            from istvhub.ingest.core import IngestResult, ingest_nil

            try:
                results.append(
                    ingest_nil(
                        store,
                        department=department,
                        period=period,
                        uploaded_by=uploaded_by,
                        received_at=arrived,
                    )
                )
            except FileRejected as exc:
                results.append(IngestResult(file="nil return", status="rejected", message=str(exc)))
        big = sum(f.stat().st_size for f in files if f.is_file()) > 2_000_000 or len(files) > 3
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[step]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not big or as_json,
        ) as prog:
            task = prog.add_task("ingest", total=len(files) * 4, step="")
            for f in files:
                prog.update(task, description=f.name)

                def step(name: str) -> None:
                    prog.update(task, advance=1, step=name)  # noqa: B023

                kw = dict(
                    department=department,
                    period=period,
                    adapter=adapter,
                    geocoder=geocoder,
                    home=settings.home,
                    uploaded_by=uploaded_by,
                    progress=step,
                    received_at=arrived,
                    confirm_replace=confirm_replace,
                )
                proposal_path = _proposal_path(f, mapping_file)
                text = None
                if accept_mapping and proposal_path.is_file():
                    text = proposal_path.read_text(encoding="utf-8")
                res = ingest_file(f, store, mapping=text, **kw)
                if res.status == "needs_mapping" and accept_mapping and text is None:
                    text = res.proposed_mapping
                    res = ingest_file(f, store, mapping=text, **kw)
                if res.status == "needs_mapping" and res.proposed_mapping:
                    res.message += f"; proposed mapping written to {_write(proposal_path, res)}"
                results.append(res)
        store.dispose()
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            with open(report, "w", newline="", encoding="utf-8") as fh:
                from istvhub.exportsafety import neutralise_rows

                w = csv.DictWriter(fh, fieldnames=["file", "row", "field", "reason"])
                w.writeheader()
                for r in results:
                    w.writerows(neutralise_rows(r.report_rows()))
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
                for i in r.issues:
                    if i.row == 0:  # file-level: an ISTV item no column was recognised for
                        typer.echo(f"istvhub: warning: {r.file}: {i.field}: {i.reason}", err=True)
        rejected = [r for r in results if r.status == "rejected"]
        held = [r for r in results if r.status == "needs_mapping"]
        if held and not rejected:
            from istvhub._errors import NeedsMapping

            raise NeedsMapping(
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

    def _proposal_path(f: Path, given: Path | None) -> Path:
        return given if given is not None else f.with_name(f.name + ".mapping.toml")

    def _write(path: Path, res) -> Path:
        """The proposal beside the file, else in the working directory."""
        try:
            path.write_text(res.proposed_mapping, encoding="utf-8")
            return path
        except OSError:
            alt = Path.cwd() / path.name
            alt.write_text(res.proposed_mapping, encoding="utf-8")
            return alt

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
