"""CLI: ``istvhub feedback --department ODS --period YYYY-MM --format html|csv --output PATH``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from istvhub.core.output import emit_text
from istvhub.feedback.core import FeedbackError


def register(app: typer.Typer) -> None:
    """Add ``istvhub feedback``."""

    @app.command("feedback")
    def feedback(
        department: Annotated[str, typer.Option("--department", help="ODS code of the ED.")],
        period: Annotated[str, typer.Option("--period", help="Month, YYYY-MM.")],
        fmt: Annotated[str, typer.Option("--format", help="html | csv")] = "html",
        output: Annotated[
            Path | None, typer.Option("--output", help="Write here (default: the terminal).")
        ] = None,
        top: Annotated[
            int, typer.Option("--top", min=1, max=500, help="How many texts to list.")
        ] = 25,
        db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    ) -> None:
        """Monthly data-quality sheet for ONE department: share located, the commonest texts
        that failed, and what to record instead. Holds free text: for that ED only."""
        from istvhub.core.config import get_settings
        from istvhub.feedback.render import FORMATS, render
        from istvhub.feedback.service import build_sheet
        from istvhub.store.repos import read_engine

        if fmt not in FORMATS:
            raise FeedbackError(f"option --format: choose one of {', '.join(FORMATS)}")
        engine = read_engine(db or get_settings().db_url)
        try:
            sheet = build_sheet(engine, department, period, top=top)
        finally:
            engine.dispose()
        text = render(sheet, fmt)
        emit_text(text, output, FeedbackError)
