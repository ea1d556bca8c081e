"""``istvhub demo``: the README's main job (registered by ``istvhub.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the demo command to the top-level app."""

    @app.command("demo")
    def demo(
        feeds: Annotated[
            Path | None,
            typer.Option(
                "--feeds", help="Folder with manifest.csv and the feeds (default: sample_feeds/)."
            ),
        ] = None,
        sources: Annotated[
            Path | None,
            typer.Option(
                "--sources", help="Open-data sources (default: ISTVHUB_SOURCES or ../shared/...)."
            ),
        ] = None,
        db: Annotated[
            str | None,
            typer.Option(
                "--db", help="Database URL (default: ISTVHUB_DB or SQLite in ISTVHUB_HOME)."
            ),
        ] = None,
        rebuild: Annotated[
            bool,
            typer.Option("--rebuild-gazetteer", help="Build the gazetteer even if one exists."),
        ] = False,
        quick: Annotated[
            bool,
            typer.Option(
                "--quick", help="Only the feeds of the first three months (a smoke test)."
            ),
        ] = False,
    ) -> None:
        """Run the main job end to end: gazetteer, ingest + geocode the sample feeds, hot
        blocks, compliance."""
        from rich.console import Console

        from istvhub.core.config import REPO_DIR, get_settings
        from istvhub.pipeline.demo import run_demo

        console = Console(stderr=True)
        settings = get_settings()
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        res = run_demo(
            home,
            feeds or REPO_DIR / "sample_feeds",
            db_url=db or settings.db_url,
            sources=sources,
            rebuild=rebuild,
            say=console.print,
            quick=quick,
        )
        stored = [r for r in res.ingested if r["status"] == "stored"]
        rejected = [r for r in res.ingested if r["status"] == "rejected"]
        typer.echo(
            f"gazetteer: {res.gazetteer_version}{' (built now)' if res.gazetteer_built else ''}"
        )
        typer.echo(
            f"feeds: {len(res.ingested)} files, {len(stored)} stored now, "
            f"{len(rejected)} rejected (expected: the PII file)"
        )
        typer.echo(f"compliance: {res.compliance_line}")
        for name, path in res.outputs.items():
            typer.echo(f"{name}: {path}")
        # issue 18: where the interactive map is, and how to start the server that serves it
        typer.echo("map: http://127.0.0.1:8000/map")
        typer.echo(
            "start the server: istvhub users add you@example.org --role mopac "
            "(prints a sign-in token once), then istvhub serve"
        )
