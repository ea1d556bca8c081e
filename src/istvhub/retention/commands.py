"""CLI: ``istvhub retention apply [--months N] [--dry-run] [--db URL]`` (administrators only:
there is no API route for retention)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``retention`` command group."""
    retention = typer.Typer(
        help="Retention of record-level data (default 24 months).", no_args_is_help=True
    )

    @retention.command("apply")
    def apply(
        months: Annotated[
            int | None,
            typer.Option(
                "--months",
                help="Keep this many months before the current one (default: data/retention.toml).",
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show what would be deleted; change nothing.")
        ] = False,
        db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    ) -> None:
        """Delete records older than the retention period, in one transaction; keep
        submissions, compliance statistics and published aggregates; write an audit entry."""
        from istvhub.core.config import get_settings
        from istvhub.retention.core import apply_retention
        from istvhub.store import open_store

        store = open_store(db or get_settings().db_url)
        try:
            plan = apply_retention(store, months, dry_run=dry_run)
        finally:
            store.dispose()
        typer.echo(plan.summary())
        for period, n in plan.by_period.items():
            typer.echo(f"  {period}: {n} records")

    app.add_typer(retention, name="retention")
