"""Users and API tokens: the tables live in ``istvhub.store.schema`` (one door to the database);
this module keeps the names the API imports. Tokens are never stored: only their SHA-256 digest
(see ``istvhub.api.security``).
"""

from __future__ import annotations

from istvhub.store.schema import ROLES, api_tokens, api_user_scopes, api_users

__all__ = ["API_TABLES", "ROLES", "api_tokens", "api_user_scopes", "api_users", "ensure_tables"]

API_TABLES = (api_users, api_user_scopes, api_tokens)


def ensure_tables(engine) -> None:
    """Kept for callers that open an engine without a Store: the store's schema step (create or
    migrate, ``istvhub.store.migrate``) already made these tables; this only checks first."""
    from istvhub.store.schema import metadata

    metadata.create_all(engine, tables=list(API_TABLES), checkfirst=True)
