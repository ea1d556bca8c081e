"""Gazetteer: a London place index and street network built from real open data.

``build(sources, out)`` writes a versioned gazetteer; ``load(home) -> Gazetteer`` reads it.
"""

from istvhub.gazetteer.load import Gazetteer, load

__all__ = ["Gazetteer", "load", "build"]


def build(*args, **kwargs):
    """See :func:`istvhub.gazetteer.build.build` (imported lazily: it pulls in the readers)."""
    from istvhub.gazetteer.build import build as _build

    return _build(*args, **kwargs)
