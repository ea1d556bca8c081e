"""Where a CLI command's rendered text goes: the terminal, or a file (parents created).

One place for the rule so every command reports an unwritable ``--output`` the same way: an
``IstvhubError`` subclass naming the option and the file name (exit 2), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import typer

from istvhub._errors import IstvhubError


def emit_text(text: str, output: Path | None, error: type[IstvhubError] = IstvhubError) -> None:
    """Print ``text`` when ``output`` is None, else write it there and say so."""
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise error(
            f"option --output: cannot write {output.name!r} ({type(exc).__name__})"
        ) from None
    typer.echo(f"wrote {output}")
