"""Users and API tokens: additive tables on the shared ``istvhub.store.schema.metadata``.

They are registered on the same MetaData so that the store's ``create_all`` creates them with the
rest. Tokens are never stored: only their SHA-256 digest (see ``istvhub.api.security``).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from istvhub.store.schema import metadata

ROLES = ("ed_analyst", "csp_analyst", "mopac", "admin")

api_users = Table(
    "api_users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),  # null = active
)

# which departments (ED analysts) or boroughs (CSP analysts) a user may see
api_user_scopes = Table(
    "api_user_scopes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("api_users.user_id"), nullable=False),
    Column("kind", String(12), nullable=False),  # department | borough
    Column("value", Text, nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_user_scope"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("api_users.user_id"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),  # first characters, to tell tokens apart in lists
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),  # null = no expiry
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
)

API_TABLES = (api_users, api_user_scopes, api_tokens)


def ensure_tables(engine) -> None:
    """Create the users/tokens tables if missing (idempotent; the store's create_all also does)."""
    metadata.create_all(engine, tables=list(API_TABLES), checkfirst=True)
