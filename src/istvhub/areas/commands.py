"""``istvhub lsoa convert IN.csv --output OUT.csv [--code-column C] [--count-column C]
[--from YYYY-MM --to YYYY-MM] [--db URL] [--rule NAME]``: LSOA 2011 aggregates to LSOA 2021."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from istvhub.gazetteer.load import load

lsoa_app = typer.Typer(help="Statistical geography: convert LSOA 2011 aggregates to LSOA 2021.")


@lsoa_app.command("convert")
def convert_cmd(
    input_csv: Annotated[Path, typer.Argument(help="CSV of counts per LSOA 2011 code.")],
    output: Annotated[Path, typer.Option("--output", help="CSV to write (LSOA 2021 rows).")],
    code_column: Annotated[str, typer.Option("--code-column")] = "lsoa_code",
    count_column: Annotated[str, typer.Option("--count-column")] = "count",
    period_from: Annotated[
        str | None, typer.Option("--from", help="Records that apportion split LSOAs: first month")
    ] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="... last month")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Disclosure rule name.")] = None,
) -> None:
    """U and M rows map directly; S rows are divided by the hub's own records' points."""
    from istvhub._errors import IstvhubError
    from istvhub.areas.convert import convert
    from istvhub.core.config import get_settings
    from istvhub.disclosure.rules import get_rule
    from istvhub.exportsafety import neutralise_frame
    from istvhub.store import open_store

    try:
        agg = pd.read_csv(input_csv, dtype={code_column: str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise IstvhubError(f"file {input_csv.name!r}: not a readable CSV") from exc
    for col in (code_column, count_column):
        if col not in agg.columns:
            raise IstvhubError(f"file {input_csv.name!r}: no column {col!r}")
    settings = get_settings()
    gaz = load(settings.home)
    if not len(gaz.lsoa_lookup21):
        raise IstvhubError("the gazetteer has no LSOA 2011 -> 2021 lookup: rebuild it")
    store = open_store(db or settings.db_url)
    try:
        recs = store.current_records(period_from=period_from, period_to=period_to)
    finally:
        store.dispose()
    located = recs[(recs["geo_status"] == "located") & recs["easting"].notna()].copy()
    if len(located):  # the 2021 area of each point (records geocoded before 2021 codes existed)
        located["lsoa21_code"] = gaz.areas21_of(located["easting"], located["northing"])[0]
    out = convert(
        agg,
        gaz.lsoa_lookup21,
        located,
        get_rule(rule),
        code_col=code_column,
        count_col=count_column,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(out).to_csv(output, index=False)
    by = out["method"].value_counts().to_dict()
    typer.echo(
        f"wrote {len(out)} LSOA 2021 rows to {output}: "
        + ", ".join(f"{k} {v}" for k, v in by.items())
    )


def register(app: typer.Typer) -> None:
    app.add_typer(lsoa_app, name="lsoa")
