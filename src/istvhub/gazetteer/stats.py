"""What ``istvhub gazetteer stats`` reports: entries by type and borough (blocks, parks, POIs
and places per borough), which boroughs the street network covers, and, given a store, the
share of located records that land on a street block by borough and by match type."""

from __future__ import annotations

from typing import Any

import pandas as pd

from istvhub.gazetteer.manifest import FILL_ADVICE, PARTLY_COVERED

#: entry sources counted per borough under their own names
OSM_KINDS = {"parks": "osm_parks", "pois": "osm_pois", "places": "osm_places"}


def stats(gaz: Any, on_block: pd.DataFrame | None = None) -> dict[str, Any]:
    """Counts by entry type, by borough and type (plus blocks, parks, pois, places), network
    coverage in plain words, and the on-block table when one is given."""
    e = gaz.entries
    by_type = {str(k): int(v) for k, v in e["entry_type"].value_counts().items()}
    tab = e.groupby(["borough", "entry_type"]).size().unstack(fill_value=0)
    src = e.groupby(["borough", "source"]).size().unstack(fill_value=0)
    cov = gaz.manifest.get("network_coverage", {})
    blocks = cov.get("boroughs_with_blocks", {})
    by_borough = {}
    for b, row in tab.iterrows():
        d = {str(k): int(v) for k, v in row.items()}
        d["blocks"] = int(blocks.get(str(b), {}).get("blocks", 0))
        for kind, source in OSM_KINDS.items():
            d[kind] = int(src.at[b, source]) if source in src.columns else 0
        by_borough[str(b)] = d
    out: dict[str, Any] = {
        "version": gaz.version,
        "entries": int(len(e)),
        "by_type": by_type,
        "blocks": int(gaz.manifest.get("blocks", 0)),
        "parks": int(gaz.manifest.get("parks", 0)),
        "by_borough": by_borough,
        "network_coverage": cov,
        "network_statement": network_statement(cov),
    }
    if on_block is not None:
        out["on_block"] = on_block_summary(on_block, cov)
    return out


def network_statement(cov: dict[str, Any]) -> str:
    """Which boroughs have no street network (or only part of one), and what fills them."""
    none = cov.get("boroughs_without_network", [])
    part = cov.get("boroughs_partly_covered", {})
    with_blocks = cov.get("boroughs_with_blocks", {})
    s = f"street blocks in {len(with_blocks)} of 33 boroughs."
    if none:
        s += f" No street network in {', '.join(none)}."
    if part:
        s += " Only partly covered (share of postcodes near a block): " + ", ".join(
            f"{b} {v:.0%}" for b, v in part.items()
        )
        s += "."
    if none or part:
        s += (
            " Records there are located but not put on blocks; to fill them supply "
            + FILL_ADVICE
            + "."
        )
    return s


def on_block_from_store(gaz: Any, db_url: str | None = None) -> pd.DataFrame | None:
    """The on-block table (hotblocks.snapshare) of the store's current records, assigned to
    this gazetteer's blocks as the hot-block stage assigns them (None without a store)."""
    from istvhub.gazetteer.stale import store_exists

    # the stats report measures the hot-block stage's own assignment (so the share is the one
    # the layers get); imported here so that building a gazetteer never loads hot blocks
    from istvhub.hotblocks.assign import BlockIndex, assign
    from istvhub.hotblocks.snapshare import on_block_table
    from istvhub.store import open_store

    if not store_exists(db_url):
        return None
    store = open_store(db_url)
    try:
        recs = store.current_records()
    finally:
        store.dispose()
    if recs.empty:
        return None
    a = assign(recs, BlockIndex(gaz.blocks))
    return on_block_table(recs, a.records["snap_status"])


def on_block_summary(tab: pd.DataFrame, cov: dict[str, Any]) -> dict[str, Any]:
    """{by_borough, by_match_type: {group: {located, on_block, share}}, and the share over the
    boroughs with a network (all with blocks; those covered for >= 90 % of postcodes)}."""
    out: dict[str, Any] = {}
    for by, t in tab.groupby("by", sort=False):
        # by column: a row tuple's fields are typed as any pandas scalar
        out[f"by_{by}"] = {
            str(grp): {
                "located": int(n),
                "on_block": int(k),
                "share": round(k / n, 3) if n else None,
            }
            for grp, n, k in zip(t["group"], t["located"], t["on_block"], strict=True)
        }
    bor = tab[tab["by"] == "borough"].set_index("group")
    with_blocks = set(cov.get("boroughs_with_blocks", {}))
    part = cov.get("boroughs_partly_covered", {})
    full = {b for b in with_blocks if part.get(b, 1.0) >= PARTLY_COVERED}
    for label, names in (("boroughs_with_network", with_blocks), ("boroughs_fully_covered", full)):
        sub = bor[bor.index.isin(names)]
        n, k = int(sub["located"].sum()), int(sub["on_block"].sum())
        out[label] = {"located": n, "on_block": k, "share": round(k / n, 3) if n else None}
    return out
