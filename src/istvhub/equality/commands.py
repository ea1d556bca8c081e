"""CLI: ``istvhub equality --from YYYY-MM --to YYYY-MM [--borough NAME | --department ODS]
[--by age_band,sex] [--rule NAME] --format csv|html --output PATH [--db URL]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from istvhub.core.output import emit_text
from istvhub.equality.core import EqualityError


def register(app: typer.Typer) -> None:
    """Add ``istvhub equality``."""

    @app.command("equality")
    def equality(
        from_: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
        to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
        borough: Annotated[
            list[str] | None,
            typer.Option("--borough", help="Incidents located in this borough (repeatable)."),
        ] = None,
        department: Annotated[
            str | None, typer.Option("--department", help="Attendances at this ED (ODS code).")
        ] = None,
        area: Annotated[
            list[str] | None,
            typer.Option(
                "--area", help="Incidents in this LSOA or MSOA 2021 (E01.../E02...; repeatable)."
            ),
        ] = None,
        by: Annotated[
            str | None,
            typer.Option(
                "--by",
                help="Dimensions, comma-separated: age_band,sex,weapon,location_type "
                "(default: all four).",
            ),
        ] = None,
        rule: Annotated[
            str | None,
            typer.Option("--rule", help="Disclosure rule (default from disclosure_rules.toml)."),
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="csv | html")] = "csv",
        output: Annotated[
            Path | None, typer.Option("--output", help="Write here (default: the terminal).")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    ) -> None:
        """Counts by age band x sex x weapon x location type, with primary and secondary
        suppression (no hidden count can be recovered from the totals)."""
        from istvhub.core.config import get_settings
        from istvhub.equality.render import FORMATS, render
        from istvhub.equality.service import build_table
        from istvhub.store.repos import read_engine

        if fmt not in FORMATS:
            raise EqualityError(f"option --format: choose one of {', '.join(FORMATS)}")
        engine = read_engine(db or get_settings().db_url)
        try:
            t = build_table(
                engine,
                start=from_,
                end=to,
                by=by,
                boroughs=tuple(b for b in (borough or []) if b.strip()),
                department=department,
                rule_name=rule,
                home=get_settings().home,
                areas21=tuple(area or ()),
            )
        finally:
            engine.dispose()
        text = render(t, fmt)
        emit_text(text, output, EqualityError)
