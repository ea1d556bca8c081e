"""How many located records land on a street block, by borough and by match type: the
figure that says whether the street network covers the places the text named (issue 13).

``on_block_table`` is the raw table (used by ``istvhub gazetteer stats``); ``summary_rows``
puts each count through the disclosure rule for the published hot-block summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from istvhub.disclosure.cellkey import cell_key_of
from istvhub.disclosure.rules import DisclosureRule, protect

#: snap statuses that put a record on a block (a point on one, a street spread over several)
ON_BLOCK = ("snapped", "spread")


def on_block_table(records: pd.DataFrame, snap: pd.Series) -> pd.DataFrame:
    """Rows (by, group, located, on_block) for by = borough and by = match_type, over the
    located records (``snap`` is the assignment's snap_status, same index)."""
    st = records.get("geo_status", pd.Series("located", index=records.index)).astype("string")
    loc = st.eq("located").fillna(False)
    on = snap.astype("string").isin(ON_BLOCK).fillna(False) & loc
    frames = []
    for by in ("borough", "match_type"):
        g = records.get(by, pd.Series(None, index=records.index)).astype("string")
        g = g.fillna("(none)")
        t = pd.DataFrame({"group": g[loc], "on": on[loc]}).groupby("group")["on"]
        tab = pd.DataFrame({"located": t.size(), "on_block": t.sum()}).reset_index()
        tab.insert(0, "by", by)
        frames.append(tab)
    out = pd.concat(frames, ignore_index=True)
    out["located"] = out["located"].astype(int)
    out["on_block"] = out["on_block"].astype(int)
    return out


def summary_rows(
    records: pd.DataFrame, snap: pd.Series, rk: pd.Series, rule: DisclosureRule
) -> list[tuple[str, str, float | None]]:
    """(section, key, value) rows ``on_block_by_<by>``: ``<group> located`` and ``<group>
    on_block``, each put through ``rule`` with the cell key of the records it counts, and
    ``<group> share_pct`` from those protected counts (null when either is suppressed)."""
    st = records.get("geo_status", pd.Series("located", index=records.index)).astype("string")
    loc = st.eq("located").fillna(False).to_numpy(dtype=bool)
    on = snap.astype("string").isin(ON_BLOCK).fillna(False).to_numpy(dtype=bool) & loc
    keys = rk.to_numpy(dtype="int64")
    rows: list[tuple[str, str, float | None]] = []
    for by in ("borough", "match_type"):
        g = (
            records.get(by, pd.Series(None, index=records.index))
            .astype("string")
            .fillna("(none)")
            .to_numpy(dtype=object)
        )
        names, counts, ck = [], [], []
        for grp in sorted(set(g[loc])):
            m = loc & (g == grp)
            for label, sel in (("located", m), ("on_block", m & on)):
                names.append(f"{grp} {label}")
                counts.append(float(sel.sum()))
                ck.append(cell_key_of(keys[sel]))
        if not names:
            continue
        p = protect(pd.Series(counts, index=names), rule, cell_keys=np.array(ck))
        val = {n: (None if p["suppressed"][n] else float(p["count"][n])) for n in names}
        for grp in sorted(set(g[loc])):
            n, k = val[f"{grp} located"], val[f"{grp} on_block"]
            share = round(100.0 * k / n, 1) if n and k is not None else None
            rows += [
                (f"on_block_by_{by}", f"{grp} located", n),
                (f"on_block_by_{by}", f"{grp} on_block", k),
                (f"on_block_by_{by}", f"{grp} share_pct", share),
            ]
    return rows


#: what fills a borough the street network misses (as in gazetteer/manifest.py)
FILL_ADVICE = (
    "a full OpenStreetMap extract (Geofabrik greater-london-latest.osm.pbf) or OS Open Roads, "
    "passed to 'istvhub gazetteer build --network FILE'"
)


#: a borough is named "partly covered" when at least this share of its located records (and
#: MIN_PARTLY_RECORDS of them) have no block within the assignment's coverage distance
PARTLY_SHARE = 0.25
MIN_PARTLY_RECORDS = 10


def network_rows(
    records: pd.DataFrame, blocks: pd.DataFrame, snap: pd.Series | None = None
) -> list[tuple[str, str, str]]:
    """Say which boroughs with located records have no street block at all (their records
    cannot be on a block), which have a network over only part of their area (many records
    ``outside_network``: Bromley, Greenwich, Newham on the default sources), and what a user
    supplies to fill them. Names only, never counts (nothing to protect)."""
    st = records.get("geo_status", pd.Series("located", index=records.index)).astype("string")
    bor = records.get("borough", pd.Series(None, index=records.index)).astype("string")
    loc = st.eq("located").fillna(False)
    named = set(bor[loc].dropna())
    # unique() first: iterating a London network's 100k+ block boroughs cost 0.1-0.3 s a build
    have = set(blocks["borough"].dropna().unique().tolist()) if "borough" in blocks else set()
    missing = sorted(named - have)
    partly: list[str] = []
    if snap is not None:
        out = snap.astype("string").eq("outside_network").fillna(False) & loc
        t = pd.DataFrame({"b": bor[loc], "out": out[loc]}).dropna().groupby("b")["out"]
        share, size = t.mean(), t.size()
        partly = sorted(
            str(b)
            for b in share.index
            if b in have and size[b] >= MIN_PARTLY_RECORDS and share[b] >= PARTLY_SHARE
        )
    rows: list[tuple[str, str, str]] = []
    if missing:
        rows.append(("network", "boroughs_without_street_network", ", ".join(missing)))
    if partly:
        rows.append(("network", "boroughs_with_street_network_in_part_only", ", ".join(partly)))
    if rows:
        rows.append(("network", "to_fill_them_supply", FILL_ADVICE))
    return rows
