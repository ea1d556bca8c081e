"""The ``istvhub`` command line: a thin door onto the stage functions.

Each stage registers its own commands from ``<stage>/commands.py`` (``register(app)``), so that the
CLI and the API call the same functions and this file stays a table of contents.
"""

from __future__ import annotations

import sys
from typing import Protocol, cast

import typer

from istvhub._errors import IstvhubError

app = typer.Typer(
    name="istvhub",
    help="Hub for emergency-department assault data: ingest, geocode, hot blocks, compliance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    from istvhub.areas import commands as areas_cmds
    from istvhub.compliance import commands as compliance_cmds
    from istvhub.gazetteer import commands as gazetteer_cmds
    from istvhub.geocode import commands as geocode_cmds
    from istvhub.hotblocks import commands as hotblocks_cmds
    from istvhub.ingest import commands as ingest_cmds
    from istvhub.pipeline import commands as pipeline_cmds
    from istvhub.store import commands as store_cmds

    for mod in (
        ingest_cmds,
        gazetteer_cmds,
        geocode_cmds,
        hotblocks_cmds,
        compliance_cmds,
        pipeline_cmds,
        store_cmds,
        areas_cmds,
    ):
        mod.register(app)
    from istvhub.compare import commands as compare_cmds  # issue 9.1-9.2

    compare_cmds.register(app)
    from istvhub.equality import commands as equality_cmds  # issue 9.3

    equality_cmds.register(app)
    from istvhub.retention import commands as retention_cmds  # issue 9.5

    retention_cmds.register(app)
    from istvhub.feedback import commands as feedback_cmds  # issue 9.4

    feedback_cmds.register(app)

    try:  # the service is optional at import time (issue 7)
        from istvhub.api import commands as api_cmds
    except ImportError:  # pragma: no cover
        return
    api_cmds.register(app)


@app.command()
def version() -> None:
    """Print the istvhub version."""
    from istvhub import __version__

    typer.echo(__version__)


_register_all()


def main() -> None:
    """Entry point: map our own errors to exit code 2 with the reason on stderr (no traceback)."""
    try:
        app(standalone_mode=False)
    except IstvhubError as exc:
        typer.echo(f"istvhub: error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))  # 3: a file held as needs mapping
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("istvhub: aborted", err=True)
        sys.exit(1)
    except _USAGE_ERRORS as exc:  # unknown command, missing or bad argument: one line, no traceback
        usage = cast("_UsageError", exc)
        usage.show()
        sys.exit(usage.exit_code)


class _UsageError(Protocol):
    exit_code: int

    def show(self) -> None: ...


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's exception class, and typer's private copy of it: typer 0.29 vendors click as
    `typer._click` and raises that copy's errors, which are not subclasses of click's."""
    import click

    classes: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click import ClickException as TyperClickException
    except ImportError:  # typer before 0.29 raises click's own
        pass
    else:
        classes.append(TyperClickException)
    return tuple(classes)


_USAGE_ERRORS = _usage_errors()
