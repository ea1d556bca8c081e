"""CLI commands of this stage (registered by ``istvhub.cli``).

``istvhub hotblocks --from YYYY-MM --to YYYY-MM [--borough NAME]... [--department ODS]...
[--weapon CODE]... [--location-type CODE]... [--hours 22-04] [--days fri,sat] [--h3-res 9]
--format gpkg|geojson|csv|parquet --output PATH [--report PATH.html] [--db URL]
[--unsuppressed] [--rule NAME] [--harm [--as-of YYYY-MM]]``
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the top-level app."""

    @app.command("hotblocks")
    def hotblocks(
        period_from: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
        period_to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
        fmt: Annotated[str, typer.Option("--format", help="gpkg | geojson | csv | parquet")],
        output: Annotated[Path, typer.Option("--output", help="Output file.")],
        borough: Annotated[
            list[str] | None, typer.Option("--borough", help="Borough name; repeat for several.")
        ] = None,
        department: Annotated[
            list[str] | None, typer.Option("--department", help="ODS code; repeat for several.")
        ] = None,
        weapon: Annotated[
            list[str] | None, typer.Option("--weapon", help="Weapon code; repeat for several.")
        ] = None,
        location_type: Annotated[
            list[str] | None,
            typer.Option("--location-type", help="Location type code; repeat for several."),
        ] = None,
        hours: Annotated[
            str | None,
            typer.Option(
                "--hours",
                help="Hours HH-HH, start inclusive, end exclusive, may wrap (22-04). "
                "Incident time, else arrival time.",
            ),
        ] = None,
        days: Annotated[
            str | None,
            typer.Option(
                "--days", help="Days of week, e.g. fri,sat (incident date, else arrival)."
            ),
        ] = None,
        h3_res: Annotated[int, typer.Option("--h3-res", help="H3 resolution 8, 9 or 10.")] = 9,
        report: Annotated[
            Path | None, typer.Option("--report", help="Also write a one-page HTML report here.")
        ] = None,
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                help="Database URL (default: ISTVHUB_DB or the SQLite file in ISTVHUB_HOME).",
            ),
        ] = None,
        unsuppressed: Annotated[
            bool,
            typer.Option(
                "--unsuppressed", help="Raw counts, NO disclosure control (administrators only)."
            ),
        ] = False,
        rule: Annotated[
            str | None,
            typer.Option(
                "--rule", help="Disclosure rule name from disclosure_rules.toml (default nhs_hes)."
            ),
        ] = None,
        harm: Annotated[
            bool,
            typer.Option(
                "--harm", help="Add harm_score columns (weapon severity x decay; docs/HARM.md)."
            ),
        ] = False,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Decay reference month YYYY-MM for --harm (default: --to)."
            ),
        ] = None,
    ) -> None:
        """Violence per street block, H3 cell and LSOA, disclosure-controlled, for CSPs."""
        from istvhub.core.config import get_settings
        from istvhub.disclosure.rules import get_rule
        from istvhub.hotblocks.aggregate import Filters, parse_days, parse_hours
        from istvhub.hotblocks.export import FORMATS, ExportError
        from istvhub.hotblocks.service import hotblocks_from_store, load_network, write_outputs

        if fmt not in FORMATS:
            raise ExportError(f"option --format: must be one of {', '.join(FORMATS)}")
        filters = Filters(
            period_from=period_from,
            period_to=period_to,
            boroughs=tuple(borough or ()),
            departments=tuple(d.upper() for d in department or ()),
            weapons=tuple(weapon or ()),
            location_types=tuple(location_type or ()),
            hours=parse_hours(hours),
            days=parse_days(days),
            h3_res=h3_res,
        )
        disc = get_rule(rule, unsuppressed=unsuppressed)
        settings = get_settings()
        if disc.raw:  # every unsuppressed export is audited, before the build (issue 8)
            import getpass
            import json

            from istvhub.store import open_store

            st = open_store(db or settings.db_url)
            try:
                who = getpass.getuser()
            except (KeyError, OSError):
                who = "unknown"
            st.audit(
                f"cli:{who}",
                "hotblocks.unsuppressed",
                json.dumps(
                    {
                        "from": period_from,
                        "to": period_to,
                        "format": fmt,
                        "boroughs": list(borough or ()),
                        "departments": list(department or ()),
                    }
                ),
                client="local",
            )
            st.dispose()
        network = load_network(settings.home)
        layers = hotblocks_from_store(
            db or settings.db_url, filters, disc, network=network, home=settings.home
        )
        if harm:
            from istvhub.hotblocks.harm import add_harm_from_store

            layers = add_harm_from_store(
                layers,
                db or settings.db_url,
                filters,
                network,
                as_of=as_of or period_to,
                home=settings.home,
            )
        files = write_outputs(layers, output, fmt, report, network.boroughs)
        if disc.raw:
            typer.secho(
                "WARNING: UNSUPPRESSED raw counts written: not for publication or sharing.",
                err=True,
                fg="red",
                bold=True,
            )
        kv: dict[str, str] = dict(zip(layers.summary["key"], layers.summary["value"], strict=True))
        typer.echo(
            f"hot blocks {period_from}..{period_to} ({disc.name}): {len(layers.blocks)} blocks, "
            f"{len(layers.hexes)} hexes, {len(layers.lsoas)} LSOAs; records "
            f"{kv.get('records_in_filter', '*')}, on blocks {kv.get('on_blocks', '*')} "
            f"(rounded); wrote {', '.join(str(f) for f in files)}"
        )
