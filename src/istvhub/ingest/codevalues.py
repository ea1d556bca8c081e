"""Values under a recognised coded column that map to nothing, and age bands cut elsewhere.

Why: a file whose weapon column says "Stabbed" or whose age column says "16-24" is recognised
column by column, yet some of its values still reach the hub as "unknown". The analyst must see
which (issue 17): the proposed mapping lists them under ``[code_maps.<field>]`` to be filled, and
an age band that straddles the hub's cut-points (16-24 spans 16-17 and 18-24) is recorded as
unknown with a warning that says so, never moved into a band it only partly covers.
"""

from __future__ import annotations

import pandas as pd

from istvhub.ingest import parsing as P
from istvhub.ingest.ages import age_bands_from_text, straddles
from istvhub.pii import scrub_series
from istvhub.records import AGE_BANDS, LOCATION_TYPES, SEXES, WEAPONS

#: coded field -> (code family, the hub values it may be mapped to)
CODED_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "weapon_code": ("weapon", WEAPONS),
    "mechanism": ("weapon", WEAPONS),
    "location_type_code": ("location_type", LOCATION_TYPES),
    "place": ("location_type", LOCATION_TYPES),
    "sex": ("sex", SEXES),
    "age_band": ("age_band", AGE_BANDS),
}
#: a source value is listed only when it is a short code word (never a description)
MAX_LISTED_CHARS = 40
MAX_LISTED = 30


def _unmapped_counts(s: pd.Series, fieldname: str, code_maps: dict[str, str]) -> pd.Series:
    """Rows per distinct source value that maps to no hub value."""
    raw, missing = P._clean(s)
    if fieldname == "age_band":
        mapped, unrec = age_bands_from_text(s)
        if code_maps:
            inline = raw.map(code_maps)
            unrec = unrec & ~inline.isin(AGE_BANDS).fillna(False).astype(bool)
    else:
        family = CODED_FIELDS[fieldname][0]
        _m, _miss, unrec = P.map_codes(s, family, None, code_maps or None)
    return raw[unrec & ~missing].value_counts()


def unmapped_values(
    frame: pd.DataFrame, columns: dict[str, str], code_maps: dict[str, dict[str, str]] | None = None
) -> dict[str, tuple[list[tuple[str, int]], int]]:
    """For each recognised coded field: ([(value, rows)] of short code words that map to
    nothing, most rows first; rows of further values not listed: long or identifying texts)."""
    out: dict[str, tuple[list[tuple[str, int]], int]] = {}
    for f, col in columns.items():
        if f not in CODED_FIELDS or col not in frame.columns:
            continue
        counts = _unmapped_counts(frame[col], f, (code_maps or {}).get(f, {}))
        if counts.empty:
            continue
        vals = pd.Series([str(v) for v in counts.index], dtype="string")
        clean, _n, _k = scrub_series(vals)
        listed: list[tuple[str, int]] = []
        hidden = 0
        for v, n, c in zip(vals, counts.to_numpy(), clean, strict=True):
            if len(listed) < MAX_LISTED and len(str(v)) <= MAX_LISTED_CHARS and c == v:
                listed.append((str(v), int(n)))
            else:
                hidden += int(n)
        out[f] = (listed, hidden)
    return out


def straddling_warning(frame: pd.DataFrame, columns: dict[str, str]) -> str | None:
    """One file-level sentence when the age band column uses other cut-points: which bands,
    how many rows, and that they are recorded as unknown."""
    col = columns.get("age_band")
    if col is None or col not in frame.columns:
        return None
    raw, missing = P._clean(frame[col])
    counts = raw[~missing].value_counts()
    cut = [(str(v), int(n), straddles(str(v))) for v, n in counts.items()]
    cut = [c for c in cut if c[2]]
    if not cut:
        return None
    rows = sum(n for _v, n, _s in cut)
    what = "; ".join(f"{v} ({n} rows) spans {', '.join(s)}" for v, n, s in cut[:8])
    return (
        f"the age bands use other cut-points than the hub's: {what}. These {rows} records are "
        "stored with age band unknown; bands that fit one hub band (e.g. 0-15, 65+) are kept. "
        "Send exact ages or the hub's bands to keep them all"
    )
