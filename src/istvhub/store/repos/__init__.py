"""Repositories: every query the stages need, one module per aggregate (the FastAPI template's
``crud.py``). With the Store (``base.py``, ``submissions.py``) they are all the code that speaks
SQL; the stages and the API call them with a :data:`Db` (an open :class:`~istvhub.store.Store`,
or the read-only engine of :func:`read_engine`) and get plain frames, tuples and dicts back.

``tests/test_import_graph.py`` fails if a module outside ``istvhub.store`` imports SQLAlchemy.
"""

from __future__ import annotations

from istvhub.store.repos._db import Db, engine_of, ping, read_engine

__all__ = ["Db", "engine_of", "ping", "read_engine"]
