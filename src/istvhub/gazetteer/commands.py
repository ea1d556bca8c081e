"""CLI commands of this stage (registered by ``istvhub.cli``): ``istvhub gazetteer build|stats``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # types only
    import pandas as pd

    from istvhub.gazetteer.load import Gazetteer

gazetteer_app = typer.Typer(
    help="Build and inspect the London gazetteer and street network.", no_args_is_help=True
)

BUILD_STEPS = [
    "checksums",
    "boundaries",
    "postcodes",
    "streets",
    "network",
    "junctions",
    "places",
    "keys",
    "write",
    "done",
]


@gazetteer_app.command("build")
def build_cmd(
    sources: Path | None = typer.Option(
        None,
        "--sources",
        help="Open-data sources "
        "directory (default $ISTVHUB_SOURCES, else "
        "../shared/gazetteer-sources)",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Gazetteer directory (default <ISTVHUB_HOME>/gazetteer)"
    ),
    network: list[Path] | None = typer.Option(
        None,
        "--network",
        help="Street line file(s) "
        "replacing the default OSM clips, e.g. a full "
        "Geofabrik London .osm.pbf (repeatable)",
    ),
    db: str | None = typer.Option(
        None, "--db", help="Store URL whose records are checked against the new gazetteer."
    ),
) -> None:
    """Build a new gazetteer version from the sources and make it current."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from istvhub.gazetteer.build import build
    from istvhub.gazetteer.manifest import FILL_ADVICE
    from istvhub.gazetteer.stale import stale_message, stale_records

    with Progress(
        TextColumn("[bold]gazetteer[/] {task.description:<12}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("start", total=len(BUILD_STEPS))

        def step(name: str) -> None:
            bar.update(
                task,
                description=name,
                completed=BUILD_STEPS.index(name) if name in BUILD_STEPS else None,
            )
            if name == "done":
                bar.update(task, completed=len(BUILD_STEPS))

        vdir = build(sources=sources, out=out, networks=network or None, progress=step)
    manifest = json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
    cov = manifest["network_coverage"]
    typer.echo(
        f"built {manifest['version']} in {manifest['build_seconds']} s: "
        f"{sum(manifest['counts'].values())} entries, {manifest['blocks']} blocks"
    )
    typer.echo(
        f"street network covers {len(cov['boroughs_with_blocks'])} of 33 boroughs; "
        f"no blocks in {len(cov['boroughs_without_network'])} (supply --network)"
    )
    if cov.get("boroughs_partly_covered"):
        typer.echo(
            "partly covered (share of postcodes near a block): "
            + ", ".join(f"{b} {v:.0%}" for b, v in cov["boroughs_partly_covered"].items())
        )
    if cov["boroughs_without_network"]:
        typer.echo(
            f"no street network in {', '.join(cov['boroughs_without_network'])}: "
            f"to fill them supply {FILL_ADVICE}"
        )
    stale = stale_records(manifest["version"], db)
    if stale:
        typer.echo(stale_message(stale), err=True)
    if manifest.get("unresolved_aliases"):
        typer.echo(
            f"warning: aliases with no target: {', '.join(manifest['unresolved_aliases'])}",
            err=True,
        )


def stats(gaz: Gazetteer, on_block: pd.DataFrame | None = None) -> dict[str, Any]:
    """Counts by type and borough, network coverage, on-block shares (gazetteer/stats.py),
    and both LSOA vintages."""
    from istvhub.gazetteer.stats import stats as _stats

    s = _stats(gaz, on_block)
    s["statistical_areas"] = statistical_areas(gaz)
    return s


def statistical_areas(gaz: Gazetteer) -> dict[str, Any]:
    """Both LSOA vintages (2011 for the contract and earlier periods, 2021 for today's joins)."""
    l21 = gaz.lsoas21
    change: pd.Series | dict[str, int] = (
        gaz.lsoa_lookup21["change"].value_counts() if len(gaz.lsoa_lookup21) else {}
    )
    return {
        "lsoa2011": {"london": int(len(gaz.lsoas))},
        "lsoa2021": {
            "london": int(len(l21)),
            "by_borough": {str(k): int(v) for k, v in l21["borough"].value_counts().items()},
        },
        "msoa2021": {"london": int(len(gaz.msoas21))},
        "lsoa11_to_21": {str(k): int(v) for k, v in dict(change).items()},
    }


@gazetteer_app.command("stats")
def stats_cmd(
    home: Path | None = typer.Option(None, "--home", help="ISTVHUB_HOME or gazetteer dir"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    db: str | None = typer.Option(
        None, "--db", help="Store whose located records are checked against the blocks."
    ),
) -> None:
    """Counts by entry type and borough (blocks, parks, POIs, places); which boroughs have a
    street network; the share of located records on a block by borough and match type."""
    from rich.console import Console
    from rich.table import Table

    from istvhub.gazetteer.load import load
    from istvhub.gazetteer.stats import on_block_from_store

    gaz = load(home)
    s = stats(gaz, on_block_from_store(gaz, db))
    if as_json:
        typer.echo(json.dumps(s, indent=2))
        return
    con = Console()
    con.print(
        f"gazetteer {s['version']}: {s['entries']} entries, {s['blocks']} blocks, "
        f"{s['parks']} parks"
    )
    areas = s["statistical_areas"]
    con.print(
        f"LSOAs: {areas['lsoa2011']['london']} (2011), {areas['lsoa2021']['london']} (2021); "
        f"MSOAs 2021: {areas['msoa2021']['london']}"
    )
    t = Table("entry type", "count")
    for k, v in sorted(s["by_type"].items()):
        t.add_row(k, str(v))
    con.print(t)
    cols = [
        "postcode",
        "street",
        "junction",
        "station",
        "bus_stop",
        "venue",
        "hospital",
        "school",
        "area",
        "blocks",
        "parks",
        "pois",
        "places",
    ]
    ob = s.get("on_block", {}).get("by_borough", {})
    t = Table("borough", *cols, "on block")
    for b, d in sorted(s["by_borough"].items()):
        share = ob.get(b, {}).get("share")
        t.add_row(b, *(str(d.get(c, 0)) for c in cols), "" if share is None else f"{share:.0%}")
    con.print(t)
    if "on_block" in s:
        t = Table("match type", "located", "on a block", "share")
        for m, d in sorted(s["on_block"]["by_match_type"].items()):
            share = "" if d["share"] is None else f"{d['share']:.0%}"
            t.add_row(m, str(d["located"]), str(d["on_block"]), share)
        con.print(t)
        for label in ("boroughs_with_network", "boroughs_fully_covered"):
            d = s["on_block"][label]
            if d["share"] is not None:
                con.print(
                    f"located records on a block in {label.replace('_', ' ')}: "
                    f"{d['on_block']} of {d['located']} ({d['share']:.0%})"
                )
    con.print(s["network_statement"])


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the top-level app."""
    app.add_typer(gazetteer_app, name="gazetteer")
