"""Venue readings that the gazetteer's OpenStreetMap layers make possible (issue 13): a park
or common named by its full name ("clapham common") is the open space, not the station that
took its name; a chain named with a street ("tesco on walworth rd") is the branch on that
street, not the nearest branch to the department."""

from __future__ import annotations

import numpy as np

from istvhub.geocode.candidates import PlaceIndex, SpanHit
from istvhub.geocode.chains import chain_names
from istvhub.geocode.explain import Loc, Row, empty_result

#: last words that make a name an open space
PARK_WORDS = frozenset("common park green gardens garden fields heath rec recreation".split())
#: venue categories of the gazetteer's parks (gazetteer/osm_layers.py)
PARK_CATEGORIES = frozenset(
    "park garden common recreation_ground village_green nature_reserve".split()
)
#: a branch "on" a named street stands within this of one of the street's points (m): the
#: points are postcode units, which lie up to ~100 m off the carriageway
ON_STREET_M = 150.0


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


def on_street(ix: PlaceIndex, rows: list[int], streets: list[SpanHit]) -> list[int]:
    """Among several same-name venues (a chain's branches), the ones standing on a street the
    text names, when any does; otherwise ``rows`` unchanged. Without this every branch within
    the street's context radius scores alike and the department's distance picks one (the
    Tesco 600 m off Walworth Road rather than the two on it)."""
    venues = [i for i in rows if ix.etype[i] == "venue"]
    if len(venues) < 2 or not streets:
        return rows
    pts = [
        ix.street_pts.get(int(i), np.array([[ix.x[i], ix.y[i]]]))
        for s in streets
        for i in s.ids
        if ix.etype[i] == "street"
    ]
    if not pts:
        return rows
    xy = np.vstack(pts)
    v = np.asarray(venues, dtype=np.int64)
    d = np.min(
        np.hypot(ix.x[v][:, None] - xy[None, :, 0], ix.y[v][:, None] - xy[None, :, 1]), axis=1
    )
    near = v[d <= ON_STREET_M]
    return [int(i) for i in near] if len(near) else rows


#: words before a street that make it where the place stands, not the place named
ON_WORDS = frozenset(("on", "along", "off"))


def subject_spans(ix: PlaceIndex, spans: list[SpanHit], words: list[str]) -> list[SpanHit]:
    """The point-of-interest spans that can be the subject: "sainsburys on clapham high st"
    names the shop, and "on clapham high st" is where it stands, though Clapham High Street
    is also a station's name. Unchanged when only one span (or none is such a street)."""
    if len(spans) < 2:
        return spans
    keep = [
        s
        for s in spans
        if not (
            s.start > 0
            and words[s.start - 1] in ON_WORDS
            and any(ix.etype[i] == "street" for i in s.ids)
        )
    ]
    return keep or spans


def bare_chain(ix: PlaceIndex, span: SpanHit, rows: list[int], loc: object) -> Row | None:
    """ "assaulted outside mcdonalds" names one of a hundred branches and nothing says which:
    ambiguous, never the branch nearest the department (None when the text does say which,
    or the name is no chain's)."""
    if span.key not in chain_names() or len(rows) < 2:
        return None
    if not isinstance(loc, Loc) or loc.ctx_hits:
        return None
    r = empty_result(
        "ambiguous",
        f"ambiguous: '{loc.name}' is a chain with {len(rows)} branches and nothing in the text "
        "says which one",
        0.0,
    )
    r["matched_name"] = loc.name
    r["match_type"] = "venue"
    return r
