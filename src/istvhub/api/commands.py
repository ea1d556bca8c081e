"""CLI commands of the service: `istvhub users add|list|revoke|token` and `istvhub serve`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from istvhub.store.repos.users import ROLES

if TYPE_CHECKING:
    from istvhub.store import Store

users_app = typer.Typer(help="Manage API users and their tokens.", no_args_is_help=True)


def _store(db: str | None) -> Store:
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    settings = Settings(db=db) if db else Settings()
    return open_app_store(settings)


def _known_boroughs(db: str | None) -> list[str] | None:
    """Borough names from the registry's departments plus the sources' boundary file, if present."""
    from istvhub.core.config import Settings

    settings = Settings(db=db) if db else Settings()
    src = settings.sources_dir
    if src is None:
        return None
    gpkg = Path(src) / "boundaries" / "london_boroughs.gpkg"
    if not gpkg.is_file():
        return None
    import pyogrio

    df = pyogrio.read_dataframe(gpkg, columns=["name"], read_geometry=False)
    return [str(n) for n in df["name"]]


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="user name (e.g. a work e-mail)"),
    role: str = typer.Option(..., "--role", help="|".join(ROLES)),
    department: list[str] = typer.Option([], "--department", help="ODS code (ED analysts)"),
    borough: list[str] = typer.Option([], "--borough", help="borough name (CSP analysts)"),
    expires_days: int = typer.Option(0, "--expires-days", help="token lifetime; 0 = no expiry"),
    db: str = typer.Option(None, "--db", help="SQLAlchemy URL (default: $ISTVHUB_DB / home)"),
) -> None:
    """Create a user and print their API token ONCE (only its hash is stored)."""
    from istvhub.api import users

    store = _store(db)
    user, token = users.add_user(
        store,
        name,
        role,
        departments=department,
        boroughs=borough,
        expires_days=expires_days or None,
        known_boroughs=_known_boroughs(db) if borough else None,
    )
    typer.echo(
        f"created {user.role} {user.name!r}"
        + (f" departments={','.join(user.departments)}" if user.departments else "")
        + (f" boroughs={','.join(user.boroughs)}" if user.boroughs else ""),
        err=True,
    )
    typer.echo("token (shown once, keep it safe):", err=True)
    typer.echo(token)


@users_app.command("token")
def users_token(
    name: str = typer.Argument(...),
    expires_days: int = typer.Option(0, "--expires-days"),
    db: str = typer.Option(None, "--db"),
) -> None:
    """Issue an additional token for an existing user (printed once)."""
    from istvhub.api import users

    typer.echo(users.issue_token(_store(db), name, expires_days or None))


@users_app.command("list")
def users_list(
    as_json: bool = typer.Option(False, "--json"),
    db: str = typer.Option(None, "--db"),
) -> None:
    """List users, roles, scopes and whether they are active (never tokens)."""
    from istvhub.api import users

    rows = users.list_users(_store(db))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table("name", "role", "departments", "boroughs", "active", "live tokens")
    for r in rows:
        t.add_row(
            r["name"],
            r["role"],
            ",".join(r["departments"]),
            ",".join(r["boroughs"]),
            "yes" if r["active"] else "revoked",
            str(r["live_tokens"]),
        )
    Console().print(t)


@users_app.command("revoke")
def users_revoke(name: str = typer.Argument(...), db: str = typer.Option(None, "--db")) -> None:
    """Revoke a user and every token they hold."""
    from istvhub.api import users

    n = users.revoke_user(_store(db), name)
    typer.echo(f"revoked {name!r} ({n} token(s))")


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=32),
    db: str = typer.Option(None, "--db", help="SQLAlchemy URL; default SQLite under the home"),
    home: Path = typer.Option(None, "--home", help="data directory (default $ISTVHUB_HOME)"),
) -> None:
    """Run the web service (API, OGC API - Features, pages) with uvicorn."""
    import uvicorn

    if db:
        os.environ["ISTVHUB_DB"] = db
    if home:
        os.environ["ISTVHUB_HOME"] = str(home)
    # create tables and load the registry once, before workers race to do it
    from istvhub.core.config import Settings

    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    _store(settings.db).dispose()
    uvicorn.run(
        "istvhub.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    """Add `users` and `serve` to the top-level app."""
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
