"""CLI of the geocoder (registered by ``istvhub.cli``).

One command group with three forms (issue 4):

    istvhub geocode INPUT.csv --column TEXT --output OUT.csv [--department ODS]
                            [--department-column COL]
    istvhub geocode correct "TEXT" --lat .. --lon .. [--department ODS] [--db URL] [--by NAME]
    istvhub geocode --stored [--department ODS] [--period YYYY-MM] [--db URL]

The group's first positional may be an input file or the subcommand ``correct``: a small click
Group subclass routes ``INPUT.csv`` to the hidden ``file`` command and ``--stored`` to the
hidden ``stored`` command, so both spellings in the issue work as written.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer
from typer.core import TyperGroup

from istvhub._errors import FileRejected, IstvhubError
from istvhub.records import GEOCODE_COLUMNS

if TYPE_CHECKING:
    # typer >= 0.2x vendors click as typer._click: its Context is what parse_args receives
    import typer._click

    from istvhub.core.config import Settings
    from istvhub.geocode.geocoder import Geocoder


class GeocodeGroup(TyperGroup):
    """Route ``geocode INPUT.csv ...`` and ``geocode --stored ...`` to their hidden commands."""

    def parse_args(self, ctx: typer._click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            if "--stored" in args:
                args = ["stored"] + [a for a in args if a != "--stored"]
            else:
                args = ["file"] + list(args)
        return super().parse_args(ctx, args)


geocode_app = typer.Typer(
    cls=GeocodeGroup,
    no_args_is_help=True,
    add_completion=False,
    help="Geocode ED location text: a CSV file (INPUT.csv --column ... --output ...), the stored "
    "records (--stored), or record an analyst correction (correct).",
    epilog="Forms: istvhub geocode INPUT.csv --column TEXT --output OUT.csv [--department ODS | "
    "--department-column COL] [--db URL]  |  istvhub geocode --stored [--department ODS] "
    "[--period YYYY-MM] [--db URL]  |  istvhub geocode correct TEXT --lat .. --lon .. "
    "[--department ODS] [--db URL] [--by NAME]. Options of each form: "
    "istvhub geocode file --help, istvhub geocode stored --help.",
)


def _settings() -> Settings:
    from istvhub.core.config import get_settings

    return get_settings()


def _db_for_corrections(db: str | None) -> str | None:
    """The store whose corrections apply: --db, else ISTVHUB_DB, else the home's SQLite file
    when it exists (a CSV run needs no database)."""
    if db:
        return db
    s = _settings()
    if s.db:
        return s.db
    f = s.home / "istvhub.db"
    return f"sqlite:///{f.resolve()}" if f.is_file() else None


def _progress_run(
    geocoder: Geocoder, df: pd.DataFrame, text_col: str, dept_col: str | None
) -> pd.DataFrame:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("geocoding distinct texts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as prog:
        task = prog.add_task("geocode", total=None)

        def cb(done: int, total: int) -> None:
            if done == 1 or done % 200 == 0 or done == total:
                prog.update(task, completed=done, total=total)

        return geocoder.geocode_frame(df, text_col=text_col, department_col=dept_col, progress=cb)


@geocode_app.command("file", hidden=True)
def geocode_file(
    input_csv: Path = typer.Argument(..., help="CSV file with a location text column."),
    column: str = typer.Option(..., "--column", help="Name of the location text column."),
    output: Path = typer.Option(..., "--output", help="CSV to write (input columns + results)."),
    department: str | None = typer.Option(
        None, "--department", help="ODS code of the receiving ED for every row."
    ),
    department_column: str | None = typer.Option(
        None, "--department-column", help="Column holding each row's ODS code."
    ),
    home: Path | None = typer.Option(None, "--home", help="ISTVHUB_HOME with the gazetteer."),
    db: str | None = typer.Option(None, "--db", help="Store URL whose corrections apply."),
) -> None:
    """Geocode a CSV: writes every input column plus exactly the geocode result columns."""
    from istvhub.geocode import Geocoder

    if department and department_column:
        raise IstvhubError("give --department or --department-column, not both")
    if not input_csv.is_file():
        raise FileRejected("input file not found", file=input_csv.name)
    df = None
    for enc in ("utf-8-sig", "cp1252"):  # PAS exports are often Windows-1252
        try:
            df = pd.read_csv(
                input_csv, dtype=str, keep_default_na=False, encoding=enc, sep=None, engine="python"
            )
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise FileRejected(
                f"not a readable CSV ({type(exc).__name__})", file=input_csv.name
            ) from exc
    if df is None:
        raise FileRejected("not UTF-8 or Windows-1252 text", file=input_csv.name)
    if column not in df.columns:
        raise FileRejected("column not found", file=input_csv.name, field=column)
    if department_column and department_column not in df.columns:
        raise FileRejected(
            "department column not found", file=input_csv.name, field=department_column
        )
    geocoder = Geocoder.load(home or _settings().home, _db_for_corrections(db))
    work = pd.DataFrame({"_text": df[column].replace("", None)}, index=df.index)
    if department_column:
        work["_dept"] = df[department_column].replace("", None)
    else:
        work["_dept"] = department
    res = _progress_run(geocoder, work, "_text", "_dept")
    clash = [c for c in GEOCODE_COLUMNS if c in df.columns]
    if clash:
        typer.echo(f"note: input columns {', '.join(clash)} replaced by the results", err=True)
    out = pd.concat([df.drop(columns=clash), res], axis=1)
    output.parent.mkdir(parents=True, exist_ok=True)
    from istvhub.exportsafety import neutralise_frame

    neutralise_frame(out).to_csv(output, index=False)  # input text may carry formulas
    counts = res["geo_status"].value_counts()
    typer.echo(
        f"wrote {len(out)} rows to {output} (gazetteer {geocoder.version}): "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )


@geocode_app.command("stored", hidden=True)
def geocode_stored(
    department: str | None = typer.Option(None, "--department", help="Only this ODS code."),
    period: str | None = typer.Option(None, "--period", help="Only this month (YYYY-MM)."),
    db: str | None = typer.Option(None, "--db", help="Store URL (default ISTVHUB_DB/home)."),
    home: Path | None = typer.Option(None, "--home", help="ISTVHUB_HOME with the gazetteer."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Processes to geocode in (each holds one loaded gazetteer)."
    ),
) -> None:
    """Re-geocode stored current records (after a gazetteer rebuild or new corrections)."""
    from istvhub.geocode.service import regeocode_stored

    counts = regeocode_stored(
        department=department,
        period=period,
        db=db,
        home=home,
        workers=workers,
        run=lambda g, recs: _progress_run(g, recs, "location_text", "department"),
    )
    if counts is None:
        typer.echo("no current records match")
        return
    n = int(counts.sum())
    typer.echo(f"re-geocoded {n} records: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@geocode_app.command("correct")
def geocode_correct(
    text: str = typer.Argument(..., help="The location text as the ED wrote it."),
    lat: float = typer.Option(..., "--lat", help="Latitude (WGS84) it means."),
    lon: float = typer.Option(..., "--lon", help="Longitude (WGS84) it means."),
    department: str | None = typer.Option(
        None, "--department", help="Only for this ED (default: London-wide)."
    ),
    db: str | None = typer.Option(None, "--db", help="Store URL (default ISTVHUB_DB/home)."),
    by: str = typer.Option("cli", "--by", help="Who makes the correction (audited)."),
) -> None:
    """Record an analyst correction: the next geocode of this text returns this point."""
    from istvhub.geocode.corrections import add_correction

    cid = add_correction(db or _settings().db_url, text, lat, lon, department, by)
    typer.echo(
        f"correction {cid} stored"
        + (f" for {department.upper()}" if department else " (London-wide)")
    )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the top-level app."""
    app.add_typer(geocode_app, name="geocode")
