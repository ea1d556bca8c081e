"""istvhub.disclosure: the one disclosure control every published count goes through.

Rules (suppress 1-7, round to 5; ``rules``), the cell-key perturbation that survives
differencing (``cellkey``) and the limits on how fine a query may be (``query``). Hot blocks,
OGC items, compare, equality and the reports all call these; see docs/DISCLOSURE.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DisclosureRule": "rules",
    "UNSUPPRESSED": "rules",
    "UnknownDisclosureRule": "rules",
    "format_count": "rules",
    "get_rule": "rules",
    "load_rules": "rules",
    "protect": "rules",
    "protect_total": "rules",
    "cell_key_of": "cellkey",
    "cell_keys": "cellkey",
    "perturb": "cellkey",
    "record_keys": "cellkey",
    "with_record_keys": "cellkey",
    "QueryTooFine": "query",
    "check_query": "query",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"istvhub.disclosure.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
