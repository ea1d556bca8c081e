"""``istvhub compare --police FILE... --from YYYY-MM --to YYYY-MM --format gpkg|csv|html
--output PATH [--db URL] [--unit blocks|hexes|lsoas] [--borough NAME]... [--h3-res 9]
[--rule NAME]``: ED attendances beside police-recorded violence (docs/COMPARE.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``istvhub compare``."""

    @app.command("compare")
    def compare_cmd(
        police: Annotated[
            list[Path],
            typer.Option(
                "--police", help="police.uk street-level CSV or API JSON; repeat for several."
            ),
        ],
        period_from: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
        period_to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
        fmt: Annotated[str, typer.Option("--format", help="gpkg | csv | html")],
        output: Annotated[Path, typer.Option("--output", help="Output file.")],
        unit: Annotated[
            str, typer.Option("--unit", help="blocks | hexes | lsoas | lsoas21 | msoas21")
        ] = "blocks",
        borough: Annotated[
            list[str] | None, typer.Option("--borough", help="Borough name; repeat for several.")
        ] = None,
        h3_res: Annotated[int, typer.Option("--h3-res", help="H3 resolution 8, 9 or 10.")] = 9,
        db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
        rule: Annotated[
            str | None, typer.Option("--rule", help="Disclosure rule name (default nhs_hes).")
        ] = None,
    ) -> None:
        """ED assault attendances vs police-recorded violence per block/hex/LSOA, protected."""
        from istvhub.compare.core import UNITS, CompareError
        from istvhub.compare.report import FORMATS, write_comparison
        from istvhub.compare.service import compare_from_store
        from istvhub.core.config import get_settings
        from istvhub.disclosure.rules import get_rule

        # hot blocks load lazily: importing them adds ~1.5 s to every `istvhub` start
        from istvhub.hotblocks.aggregate import Filters
        from istvhub.hotblocks.service import load_network

        if fmt not in FORMATS:
            raise CompareError(f"option --format: must be one of {', '.join(FORMATS)}")
        if unit not in UNITS:
            raise CompareError(f"option --unit: must be one of {', '.join(UNITS)}")
        filters = Filters(
            period_from=period_from,
            period_to=period_to,
            boroughs=tuple(borough or ()),
            h3_res=h3_res,
        )
        disc = get_rule(rule)
        settings = get_settings()
        network = load_network(settings.home)
        c = compare_from_store(
            db or settings.db_url,
            police,
            filters,
            disc,
            unit=unit,
            network=network,
            home=settings.home,
        )
        files = write_comparison(c, output, fmt)
        kv = dict(zip(c.summary["key"], c.summary["value"], strict=False))
        typer.echo(
            f"compare {period_from}..{period_to} ({unit}, {disc.name}): {len(c.table)} units; "
            f"ED in units {kv.get('ed_in_units', '*')} (rounded), police in units "
            f"{kv.get('police_in_units', '*')}; wrote {', '.join(str(f) for f in files)}"
        )
