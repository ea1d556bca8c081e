"""Gazetteer: a London place index and street network built from real open data.

``istvhub.gazetteer.build.build(sources, out)`` writes a versioned gazetteer;
``istvhub.gazetteer.load(home) -> Gazetteer`` reads the current one. File formats: FORMAT.md.
"""

from istvhub.gazetteer.load import Gazetteer, load

__all__ = ["Gazetteer", "load"]
