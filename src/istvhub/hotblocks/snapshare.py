"""How many located records land on a street block, by borough and by match type: the
figure that says whether the street network covers the places the text named (issue 13).

``on_block_table`` is the raw table (used by ``istvhub gazetteer stats``); ``summary_rows``
puts each count through the disclosure rule for the published hot-block summary."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

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
    records: pd.DataFrame,
    snap: pd.Series,
    protect_table: Callable[[dict[str, float]], dict[str, float | None]],
) -> list[tuple[str, str, float | None]]:
    """(section, key, value) rows: ``on_block_by_<by>`` with ``<group> located``,
    ``<group> on_block`` (each protected) and ``<group> share_pct`` (from the protected
    counts, null when either is suppressed)."""
    tab = on_block_table(records, snap)
    rows: list[tuple[str, str, float | None]] = []
    for by, t in tab.groupby("by", sort=False):
        counts: dict[str, float] = {}
        for r in t.itertuples(index=False):
            counts[f"{r.group} located"] = float(r.located)
            counts[f"{r.group} on_block"] = float(r.on_block)
        p = protect_table(counts)
        for r in t.itertuples(index=False):
            n, k = p.get(f"{r.group} located"), p.get(f"{r.group} on_block")
            share = round(100.0 * k / n, 1) if n and k is not None else None
            rows += [
                (f"on_block_by_{by}", f"{r.group} located", n),
                (f"on_block_by_{by}", f"{r.group} on_block", k),
                (f"on_block_by_{by}", f"{r.group} share_pct", share),
            ]
    return rows
