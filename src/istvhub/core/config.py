"""Settings: where data lives, which database, where the open-data sources are.

Every path is overridable by an environment variable or a CLI option so that the same code runs
from a clean clone (defaults), in CI, in Docker (volumes) and against a user's official downloads.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Code lists, registry and other small data files shipped inside the package.
DATA_DIR = PACKAGE_DIR / "data"
#: Repo root when running from a checkout (src layout): ``<repo>/src/istvhub`` -> ``<repo>``.
REPO_DIR = PACKAGE_DIR.parents[1]
#: Hand-kept gazetteer tables (abbreviations, aliases, phrases) ship inside the
#: package, so a wheel install geocodes; ``$ISTVHUB_GAZETTEER_TABLES`` points at edited copies.
GAZETTEER_TABLES_DIR = Path(os.environ.get("ISTVHUB_GAZETTEER_TABLES", DATA_DIR / "gazetteer"))


def default_sources() -> Path | None:
    """`$ISTVHUB_SOURCES`, else ``../shared/gazetteer-sources`` beside the checkout, if present."""
    env = os.environ.get("ISTVHUB_SOURCES")
    if env:
        return Path(env)
    for base in (Path.cwd(), REPO_DIR):
        cand = base.parent / "shared" / "gazetteer-sources"
        if cand.is_dir():
            return cand.resolve()
    return None


class Settings(BaseSettings):
    """Runtime settings; environment variables are prefixed ``ISTVHUB_``."""

    model_config = SettingsConfigDict(env_prefix="ISTVHUB_", extra="ignore")

    home: Path = Path("./istvhub-data")
    db: str | None = None  # SQLAlchemy URL; default sqlite file under ``home``
    sources: Path | None = None
    #: upgrade an older database schema when a store is opened (off: refuse, `istvhub db upgrade`)
    db_auto_upgrade: bool = True
    #: a month is "complete" (ends the default window of compliance, maps and OGC) when at least
    #: this share of the best month's departments sent it on time (docs/COMPLIANCE.md)
    complete_month_quorum: float = Field(default=0.5, gt=0.0, le=1.0)

    @property
    def db_url(self) -> str:
        if self.db:
            return self.db
        return f"sqlite:///{(self.home / 'istvhub.db').resolve()}"

    @property
    def gazetteer_dir(self) -> Path:
        return self.home / "gazetteer"

    @property
    def sources_dir(self) -> Path | None:
        return self.sources or default_sources()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
