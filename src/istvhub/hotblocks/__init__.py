"""istvhub.hotblocks: violence per street block, H3 cell and LSOA, disclosure-controlled.

Pure core on frames: ``build_layers(records, blocks, Filters(...), get_rule())``; IO edges in
``service`` (store + gazetteer) and ``export``/``report`` (files). See docs/DISCLOSURE.md.
Names are imported lazily so that ``istvhub --help`` does not load geopandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Filters": "aggregate",
    "Layers": "aggregate",
    "build_layers": "aggregate",
    "DisclosureRule": "disclosure",
    "get_rule": "disclosure",
    "protect": "disclosure",
    "write_layers": "export",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"istvhub.hotblocks.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
