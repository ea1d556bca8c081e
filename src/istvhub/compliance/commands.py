"""CLI commands of this stage (registered by ``istvhub.cli``).

``istvhub compliance [--from YYYY-MM] [--to YYYY-MM] [--department ODS]...
--format table|csv|json|html [--output PATH] [--db URL]``
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from istvhub.compliance.rules import ComplianceError


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the top-level app."""

    @app.command("compliance")
    def compliance(
        from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
        to: Annotated[
            str | None,
            typer.Option("--to", help="Last month, YYYY-MM (default: latest month received)."),
        ] = None,
        department: Annotated[
            list[str] | None,
            typer.Option("--department", help="ODS code; repeat for several (default: all)."),
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | html")] = "table",
        output: Annotated[
            Path | None,
            typer.Option("--output", help="Write to this file instead of the terminal."),
        ] = None,
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                help="Database URL (default: ISTVHUB_DB or the SQLite file in ISTVHUB_HOME).",
            ),
        ] = None,
        rules: Annotated[
            Path | None,
            typer.Option(
                "--rules", help="Compliance rules TOML (default: the shipped compliance.toml)."
            ),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Judge deadlines as at this ISO time (default: now).", hidden=True
            ),
        ] = None,
    ) -> None:
        """Sharing compliance per department and month: on time, complete, geocodable (RAG)."""
        from istvhub.compliance.render import FORMATS, render, table_width, to_rich_table
        from istvhub.compliance.service import build_report
        from istvhub.core.config import get_settings

        if fmt not in FORMATS:
            raise ComplianceError(f"field 'format': expected one of {', '.join(FORMATS)}")
        now = None
        if as_of:
            try:
                now = datetime.fromisoformat(as_of)
            except ValueError:
                raise ComplianceError("field 'as-of': expected an ISO date-time") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
        url = db or get_settings().db_url
        report = build_report(
            url, start=from_, end=to, departments=department, rules_path=rules, now=now
        )
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(render(report, fmt), encoding="utf-8")
            typer.echo(f"{report.summary['line']}; wrote {output}")
            return
        if fmt == "table":
            from rich.console import Console

            con = Console()
            con.width = max(con.width, table_width(report))
            con.print(to_rich_table(report))
        else:
            typer.echo(render(report, fmt), nl=False)
