"""CLI: ``istvhub equality --from YYYY-MM --to YYYY-MM [--borough NAME | --department ODS]
[--by age_band,sex] [--rule NAME] --format csv|html --output PATH [--db URL]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from istvhub.core.output import emit_text
from istvhub.core.periods import check_period
from istvhub.equality.core import EqualityError, EqualityTable, breakdown, parse_by


def build_table(
    engine,
    *,
    start: str,
    end: str,
    by: str | tuple[str, ...] | None = None,
    boroughs: tuple[str, ...] = (),
    department: str | None = None,
    rule_name: str | None = None,
    home: Path | None = None,
    areas21: tuple[str, ...] = (),
) -> EqualityTable:
    """Read counts and protect them (the CLI and the API call this)."""
    from istvhub.disclosure.rules import get_rule
    from istvhub.equality.read import read_counts

    start = check_period(start, field_name="from", error=EqualityError)
    end = check_period(end, field_name="to", error=EqualityError)
    if start > end:
        raise EqualityError("option --from: must not be after --to")
    if boroughs and department:
        raise EqualityError("option --department: give a borough or a department, not both")
    import re

    for a in areas21:
        if not re.fullmatch(r"E0[12]\d{6}", a.strip().upper()):
            raise EqualityError(
                "option --area: expected an LSOA 2021 (E01...) or MSOA 2021 (E02...) code"
            )
    areas21 = tuple(a.strip().upper() for a in areas21)
    dims = parse_by(by)
    rule = get_rule(rule_name)
    counts = read_counts(
        engine,
        dims,
        start=start,
        end=end,
        boroughs=boroughs,
        department=department,
        home=home,
        areas21=areas21,
    )
    if department:
        scope = f"Department {department.upper()}"
    elif boroughs:
        scope = "Borough " + ", ".join(boroughs)
    else:
        scope = "London"
    if areas21:
        scope += " in " + ", ".join(areas21) + " (Census 2021 areas)"
    return breakdown(counts, dims, rule, scope=scope, start=start, end=end)


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
