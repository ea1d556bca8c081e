"""Venue readings that the gazetteer's OpenStreetMap layers make possible (issue 13): a park
or common named by its full name ("clapham common") is the open space, not the station that
took its name."""

from __future__ import annotations

from istvhub.geocode.candidates import PlaceIndex

#: last words that make a name an open space
PARK_WORDS = frozenset("common park green gardens garden fields heath rec recreation".split())
#: venue categories of the gazetteer's parks (gazetteer/osm_layers.py)
PARK_CATEGORIES = frozenset(
    "park garden common recreation_ground village_green nature_reserve".split()
)


def park_rows(ix: PlaceIndex, rows: list[int], key: str) -> list[int]:
    """The park entries among ``rows`` whose own name is ``key`` (empty unless ``key`` ends
    in a park word)."""
    if not key or key.split()[-1] not in PARK_WORDS:
        return []
    return [
        i
        for i in rows
        if ix.etype[i] == "venue" and ix.category[i] in PARK_CATEGORIES and ix.key[i] == key
    ]
