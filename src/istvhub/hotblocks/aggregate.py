"""Filters, aggregation to blocks / hexes / LSOAs, disclosure control and the summary table.

Pure core: takes frames (records from the store, blocks and LSOAs from the gazetteer), returns
:class:`Layers`. Nothing record-level survives: layers carry counts per area only, never free
text, record ids, exact times or single-record points. Every count goes through
:mod:`istvhub.disclosure` (cell-key perturbation, suppression, rounding); units with 1-7 records
are left out exactly as empty ones are, so a listing never says "at least one here".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from istvhub._errors import HotblocksError
from istvhub.core.periods import is_period
from istvhub.disclosure.cellkey import cell_key_of, cell_keys, with_record_keys
from istvhub.disclosure.query import check_query
from istvhub.disclosure.rules import DisclosureRule, protect, protect_total
from istvhub.hotblocks.areas import AREA_LAYERS, area_layer, empty_layer
from istvhub.hotblocks.assign import BlockIndex, assign, to_bng
from istvhub.hotblocks.concentration import Concentration, concentration
from istvhub.hotblocks.scope import hex_in_scope, lsoa_in_scope
from istvhub.hotblocks.snapshare import network_rows, summary_rows
from istvhub.records import GEO_STATUSES, LOCATION_TYPES, WEAPONS

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The only record columns aggregation reads; free text (location_text, weapon_text,
#: matched_name beyond assignment, reason) and ids are dropped before anything is built.
ATTRIBUTION = (
    "Contains OS data (c) Crown copyright and database right 2025; Contains Royal Mail data "
    "(c) Royal Mail copyright and database right 2025; Contains ONS data, OGL v3; Contains HM "
    "Land Registry data (c) Crown copyright and database right, OGL v3; Street network "
    "(c) OpenStreetMap contributors, ODbL; Source: ISTV emergency department data, "
    "disclosure-controlled."
)
#: Below this many incidents in scope, concentration figures are not published: with few
#: incidents a share to 0.1% would give away exact (small) counts.
CONCENTRATION_MIN_TOTAL = 50


class BadFilter(HotblocksError):
    """A hot-blocks filter option is malformed (names the option, never data)."""


@dataclass(frozen=True)
class Filters:
    """What the user asked for; ``describe()`` goes verbatim into the summary layer."""

    period_from: str
    period_to: str
    boroughs: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    weapons: tuple[str, ...] = ()
    location_types: tuple[str, ...] = ()
    hours: tuple[int, int] | None = None
    days: tuple[int, ...] = ()
    h3_res: int = 9

    def __post_init__(self) -> None:
        for name, v in (("--from", self.period_from), ("--to", self.period_to)):
            if not is_period(v):
                raise BadFilter(f"option {name}: expected YYYY-MM")
        if self.period_from > self.period_to:
            raise BadFilter("option --from: after --to")
        if self.h3_res not in (8, 9, 10):
            raise BadFilter("option --h3-res: must be 8, 9 or 10")
        for name, vals, allowed in (
            ("--weapon", self.weapons, WEAPONS),
            ("--location-type", self.location_types, LOCATION_TYPES),
        ):
            bad = [v for v in vals if v not in allowed]
            if bad:
                raise BadFilter(f"option {name}: unknown code; allowed: {', '.join(allowed)}")

    def describe(self) -> dict[str, str]:
        hours = f"{self.hours[0]:02d}:00-{self.hours[1]:02d}:00" if self.hours else "all"
        return {
            "period_from": self.period_from,
            "period_to": self.period_to,
            "boroughs": ", ".join(self.boroughs) or "all",
            "departments": ", ".join(self.departments) or "all",
            "weapons": ", ".join(self.weapons) or "all",
            "location_types": ", ".join(self.location_types) or "all",
            "hours": hours,
            "days": ", ".join(DAYS[d] for d in self.days) or "all",
            "h3_res": str(self.h3_res),
        }


def parse_hours(text: str | None) -> tuple[int, int] | None:
    """``"22-04"`` -> (22, 4): from 22:00 up to (not including) 04:00, wrapping midnight."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d{1,2})\s*-\s*(\d{1,2})\s*", text)
    if not m:
        raise BadFilter("option --hours: expected HH-HH, e.g. 22-04")
    a, b = int(m.group(1)), int(m.group(2))
    if not (0 <= a <= 23 and 0 <= b <= 24) or a == b:
        raise BadFilter("option --hours: hours must be 0-24 and differ")
    return a, b % 24 if b != 24 else 24


def parse_days(text: str | None) -> tuple[int, ...]:
    """``"fri,sat"`` -> (4, 5) (Monday = 0)."""
    if not text:
        return ()
    out = []
    for tok in re.split(r"[,\s]+", text.strip().lower()):
        if not tok:
            continue
        if tok[:3] not in DAYS:
            raise BadFilter("option --days: use mon,tue,wed,thu,fri,sat,sun")
        out.append(DAYS.index(tok[:3]))
    return tuple(sorted(set(out)))


def _hour_of(t: object) -> int | None:
    """Hour of a stored incident time (a ``time``, or ``HH:MM[:SS]`` text from some drivers)."""
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return None
    if isinstance(t, str):
        m = re.match(r"\s*(\d{1,2}):", t)
        return int(m.group(1)) if m else None
    return getattr(t, "hour", None)


def _time_basis(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(hour, weekday, used_incident) per record: incident date/time, else arrival."""
    arrival = pd.to_datetime(df["arrival_at"], errors="coerce")
    it = df["incident_time"] if "incident_time" in df else pd.Series(None, index=df.index)
    idate = df["incident_date"] if "incident_date" in df else pd.Series(None, index=df.index)
    inc_hour = pd.to_numeric(
        pd.Series([_hour_of(t) for t in it.tolist()], index=df.index, dtype="object"),
        errors="coerce",
    )
    inc_date = pd.to_datetime(idate, errors="coerce")
    used = inc_hour.notna()
    hour = inc_hour.where(used, arrival.dt.hour)
    # the weekday of the incident date when the incident time is known, else of the arrival
    wd = inc_date.dt.day_of_week.where(used & inc_date.notna(), arrival.dt.day_of_week)
    return hour, wd, used


def filter_records(df: pd.DataFrame, f: Filters) -> tuple[pd.DataFrame, dict[str, float]]:
    """Apply the filters; returns the kept records and how many used incident vs arrival time."""
    m = (df["period"] >= f.period_from) & (df["period"] <= f.period_to)
    if f.departments:
        m &= df["department"].astype("string").str.upper().isin([d.upper() for d in f.departments])
    if f.weapons:
        m &= df["weapon"].isin(list(f.weapons))
    if f.location_types:
        m &= df["location_type"].isin(list(f.location_types))
    if f.boroughs:
        want = [b.lower() for b in f.boroughs]
        m &= df["borough"].astype("string").str.lower().isin(want).fillna(False)
    out = df[m.fillna(False).to_numpy(dtype=bool)]
    basis = {"incident_time": 0.0, "arrival_time": 0.0}
    if f.hours or f.days:
        hour, wd, used = _time_basis(out)
        keep = pd.Series(True, index=out.index)
        if f.hours:
            a, b = f.hours
            keep &= (hour >= a) & (hour < b) if a < b else (hour >= a) | (hour < b)
        if f.days:
            if f.hours and f.hours[0] > f.hours[1]:
                # a window that wraps midnight belongs to the night it started: with --hours
                # 22-04 --days fri,sat, Saturday 01:30 is Friday night, Sunday 01:30 Saturday's
                wd = wd.where(~(hour < f.hours[1]), (wd - 1) % 7)
            keep &= wd.isin(list(f.days))
        keep = keep.fillna(False).to_numpy(dtype=bool)
        basis = {
            "incident_time": float(used[keep].sum()),
            "arrival_time": float((~used[keep]).sum()),
        }
        out = out[keep]
    return out, basis


class SummaryRows(list):
    """(section, key, value) rows of a non-spatial ``summary`` layer, all text; a withheld
    (None/NaN) value prints as ``*`` and whole floats print without ``.0``."""

    def add(self, section: str, key: str, value: object) -> None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            value = "*"
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        self.append((section, key, str(value)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self, columns=["section", "key", "value"])


@dataclass
class Layers:
    """Everything an export or report needs; all counts already disclosure-controlled."""

    blocks: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    summary: pd.DataFrame
    concentration: pd.DataFrame
    rule: DisclosureRule
    stats: dict[str, object] = field(default_factory=dict)
    # Census 2021 areas (issue 19); empty when the gazetteer has no 2021 polygons
    lsoas21: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("lsoas21"))
    msoas21: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("msoas21"))


def _hex_polygons(hex_ids: pd.Series) -> np.ndarray:
    """H3 cell outlines in EPSG:27700: one transform and one polygons call for all cells."""
    if len(hex_ids) == 0:
        return np.array([], dtype=object)
    rings = [h3.cell_to_boundary(h) for h in hex_ids.tolist()]  # ((lat, lng), ...) each
    sizes = np.array([len(r) for r in rings])
    flat = np.array([p for r in rings for p in r], dtype="float64")
    x, y = to_bng(flat[:, 1], flat[:, 0])
    ring_idx = np.repeat(np.arange(len(rings)), sizes)
    lr = shapely.linearrings(np.column_stack([x, y]), indices=ring_idx)
    return np.asarray(shapely.polygons(lr), dtype=object)


def _published(
    raw: pd.Series, rule: DisclosureRule, total_pub: float | None, keys: pd.Series
) -> pd.DataFrame:
    """count / suppressed / rank / share columns for the units that may be listed: non-zero and
    not suppressed (a unit with 1-7 records is left out like an empty one). ``keys``: the cell
    key of each unit."""
    p = protect(raw, rule, cell_keys=keys.reindex(raw.index).fillna(0).to_numpy())
    p = p[~p["suppressed"].to_numpy(dtype=bool)]
    raw = raw.loc[p.index]
    cnt = p["count"]
    out = pd.DataFrame(index=raw.index)
    out["count"] = cnt.round(2) if rule.raw else cnt.astype("Int64")
    out["suppressed"] = p["suppressed"].astype(bool)
    out["rank"] = cnt.rank(ascending=False, method="min").astype("Int64")
    share = (cnt / total_pub * 100.0).round(1) if total_pub else pd.Series(np.nan, index=raw.index)
    out["share"] = share
    return out


def _protected_table(
    counts: dict[str, float], rule: DisclosureRule, keys: dict[str, int]
) -> dict[str, float | None]:
    """A small summary table (category -> count), each cell perturbed by its own cell key."""
    if not counts:
        return {}
    s = pd.Series(counts, dtype="float64")
    p = protect(s, rule, cell_keys=np.array([keys.get(k, 0) for k in s.index]))
    return {k: (None if p.at[k, "suppressed"] else float(p.at[k, "count"])) for k in s.index}


def _keys_by(rk: pd.Series, labels: pd.Series, names: list[str]) -> dict[str, int]:
    """Cell key of each category in ``names`` (records labelled by ``labels``)."""
    ck = cell_keys(rk, labels.astype("object").fillna("\x00"))
    return {n: int(ck.get(n, 0)) for n in names}


def build_layers(
    records: pd.DataFrame,
    blocks: gpd.GeoDataFrame | BlockIndex,
    filters: Filters,
    rule: DisclosureRule,
    *,
    lsoas: gpd.GeoDataFrame | None = None,
    gazetteer_version: str = "unknown",
    areas21: dict[str, gpd.GeoDataFrame] | None = None,
) -> Layers:
    """Filter, assign, aggregate and protect: the whole hot-blocks core on frames."""
    started = datetime.now(UTC)
    check_query(
        rule,
        period_from=filters.period_from,
        period_to=filters.period_to,
        hours=filters.hours,
        days=filters.days,
        h3_res=filters.h3_res,
    )
    if "record_key" not in records.columns:
        records = with_record_keys(records)
    index = blocks if isinstance(blocks, BlockIndex) else BlockIndex(blocks)
    bl = index.blocks
    # ``kept``: the records the filters ask for (totals, summary); ``pool``: the same without the
    # borough filter, for the unit layers, where a borough filter selects units (hotblocks.scope)
    kept, basis = filter_records(records, filters)
    pool = filter_records(records, replace(filters, boroughs=()))[0] if filters.boroughs else kept
    rk = kept["record_key"].astype("int64")
    rkp = pool["record_key"].astype("int64")
    a = assign(pool, index, lsoas)
    asked = pd.Series(pool.index.isin(kept.index), index=pool.index)

    # blocks in scope: every block of the chosen boroughs (all blocks without a borough filter)
    in_scope = np.ones(len(bl), dtype=bool)
    if filters.boroughs and "borough" in bl.columns:
        in_scope = (
            bl["borough"]
            .astype("string")
            .str.lower()
            .isin([b.lower() for b in filters.boroughs])
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    scope_ids = pd.Index(bl["block_id"].astype(str).to_numpy()[in_scope])
    ab = a.blocks.assign(block_id=a.blocks["block_id"].astype(str))
    ab = ab[ab["block_id"].isin(scope_ids)]
    blk_raw = ab.groupby("block_id", sort=True)["weight"].sum()
    # a record spread over several blocks adds its key to each of them
    blk_keys = cell_keys(
        rkp.reindex(ab["record"].to_numpy()).reset_index(drop=True),
        ab["block_id"].reset_index(drop=True),
    )
    all_blk = pd.Series(0.0, index=scope_ids).add(blk_raw, fill_value=0.0)
    conc_b = concentration(all_blk.to_numpy())

    res = filters.h3_res
    hcol = f"hex_{res}"
    in_hex = a.records[hcol].notna()
    if filters.boroughs:
        by_area = hex_in_scope(a.records[hcol], filters.boroughs, lsoas)
        in_hex &= asked if by_area is None else by_area
    hex_raw = a.records.loc[in_hex, hcol].astype(str).value_counts()
    hex_raw = hex_raw[hex_raw > 0].sort_index().astype("float64")
    hex_keys = cell_keys(rkp[in_hex], a.records.loc[in_hex, hcol].astype(str))
    # hex universe for concentration: cells holding an incident or a block midpoint in scope
    mids = shapely.line_interpolate_point(index.geoms[in_scope], 0.5, normalized=True)
    from istvhub.hotblocks.assign import _TO_WGS84, cells_to_str, h3_cells

    if len(mids):
        mlon, mlat = _TO_WGS84.transform(shapely.get_x(mids), shapely.get_y(mids))
        mid_cells = h3_cells(np.asarray(mlat), np.asarray(mlon), res)
        mid_hex = pd.Series(cells_to_str(mid_cells))
    else:
        mid_hex = pd.Series([], dtype="string")
    hex_universe = pd.Index(sorted(set(mid_hex.dropna().tolist()) | set(hex_raw.index)))
    conc_h = concentration(pd.Series(0.0, index=hex_universe).add(hex_raw, fill_value=0.0))

    in_lsoa = a.records["lsoa_code"].notna()
    if filters.boroughs:
        by_area = lsoa_in_scope(a.records["lsoa_code"], filters.boroughs, lsoas)
        in_lsoa &= asked if by_area is None else by_area
    lsoa_of = a.records.loc[in_lsoa, "lsoa_code"].astype(str)
    lsoa_raw = lsoa_of.value_counts().sort_index().astype("float64")
    lsoa_keys = cell_keys(rkp[in_lsoa], lsoa_of)

    # totals, from the unsuppressed data, then protected (each with the cell key of its records)
    located = (
        kept.get("geo_status", pd.Series(None, index=kept.index, dtype="string")).astype("string")
        == "located"
    ).fillna(False)
    on_block = rkp.index.isin(ab["record"].unique())
    totals_raw = {
        "records_in_filter": float(len(kept)),
        "located": float(located.sum()),
        "on_blocks": float(blk_raw.sum()),
        "in_hexes": float(hex_raw.sum()),
        "in_lsoas": float(lsoa_raw.sum()),
    }
    totals_keys = {
        "records_in_filter": cell_key_of(rk),
        "located": cell_key_of(rk[located.to_numpy(dtype=bool)]),
        "on_blocks": cell_key_of(rkp[on_block]),
        "in_hexes": cell_key_of(rkp[in_hex.to_numpy(dtype=bool)]),
        "in_lsoas": cell_key_of(rkp[in_lsoa.to_numpy(dtype=bool)]),
    }
    totals = {k: protect_total(v, rule, totals_keys[k]) for k, v in totals_raw.items()}

    # block layer (non-zero blocks only)
    meta = bl.set_index(bl["block_id"].astype(str))
    pub = _published(blk_raw, rule, totals["on_blocks"], blk_keys)
    g = meta.loc[pub.index]
    length = pd.to_numeric(g["length_m"], errors="coerce").to_numpy()
    cnt = pub["count"].astype("float64").to_numpy()
    bmid = shapely.line_interpolate_point(
        np.asarray(g.geometry.values, dtype=object), 0.5, normalized=True
    )
    if len(bmid):
        blon, blat = _TO_WGS84.transform(shapely.get_x(bmid), shapely.get_y(bmid))
        bhex = np.asarray(
            cells_to_str(h3_cells(np.asarray(blat), np.asarray(blon), res)), dtype=object
        )
    else:
        bhex = np.array([], dtype=object)
    blocks_layer = gpd.GeoDataFrame(
        {
            "block_id": pub.index.to_numpy(dtype=object),
            "name": g["name"].astype("string").to_numpy() if "name" in g else None,
            "borough": g["borough"].astype("string").to_numpy() if "borough" in g else None,
            "length_m": np.round(length, 1),
            "count": pub["count"].array,
            "rate_per_100m": np.round(np.where(length > 0, cnt / length * 100.0, np.nan), 2),
            "rank": pub["rank"].array,
            "share": pub["share"].to_numpy(),
            "suppressed": pub["suppressed"].to_numpy(),
            "hex_id": bhex,
        },
        geometry=np.asarray(g.geometry.values, dtype=object),
        crs=27700,
    )
    blocks_layer = blocks_layer.sort_values(
        ["rank", "block_id"], na_position="last", kind="stable"
    ).reset_index(drop=True)

    hpub = _published(hex_raw, rule, totals["in_hexes"], hex_keys)
    units_listed_hexes = len(set(mid_hex.dropna().tolist()) | set(hpub.index))
    hexes_layer = gpd.GeoDataFrame(
        {
            "hex_id": hpub.index.to_numpy(dtype=object),
            "h3_res": np.full(len(hpub), res, dtype=np.int32),
            "count": hpub["count"].array,
            "rank": hpub["rank"].array,
            "share": hpub["share"].to_numpy(),
            "suppressed": hpub["suppressed"].to_numpy(),
        },
        geometry=_hex_polygons(pd.Series(hpub.index)),
        crs=27700,
    )

    lpub = _published(lsoa_raw, rule, totals["in_lsoas"], lsoa_keys)
    lgeom = np.array([None] * len(lpub), dtype=object)
    lname = None
    if lsoas is not None and len(lsoas):
        lg = lsoas.to_crs(27700) if lsoas.crs and lsoas.crs.to_epsg() != 27700 else lsoas
        lg = lg.drop_duplicates("lsoa_code").set_index(
            lg["lsoa_code"].astype(str).drop_duplicates().to_numpy()
        )
        hit = lpub.index.isin(lg.index)
        lgeom[hit] = np.asarray(lg.loc[lpub.index[hit]].geometry.values, dtype=object)
        for c in ("lsoa_name", "name", "lsoa11nm"):
            if c in lg.columns:
                lname = lg[c].reindex(lpub.index).astype("string").to_numpy()
                break
    lsoas_layer = gpd.GeoDataFrame(
        {
            "lsoa_code": lpub.index.to_numpy(dtype=object),
            "lsoa_name": lname,
            "count": lpub["count"].array,
            "rank": lpub["rank"].array,
            "share": lpub["share"].to_numpy(),
            "suppressed": lpub["suppressed"].to_numpy(),
        },
        geometry=lgeom,
        crs=27700,
    )

    # why records were not located / not on a block (protected as a table with a total)
    gs = (
        kept.get("geo_status", pd.Series(None, index=kept.index))
        .astype("string")
        .fillna("not_geocoded")
    )
    why_not = {
        f"not_located_{s}": float((gs == s).sum())
        for s in (*[x for x in GEO_STATUSES if x != "located"], "not_geocoded")
    }
    why_not_keys = _keys_by(rk, "not_located_" + gs, list(why_not))
    snap = a.records.loc[kept.index, "snap_status"]
    why_not_block = {
        f"located_not_on_block_{s}": float((snap == s).sum())
        for s in (
            "too_far",
            "imprecise",
            "street_not_in_network",
            "not_snappable",
            "outside_network",
        )
    }
    why_not_block_keys = _keys_by(
        rk, "located_not_on_block_" + snap.astype("string"), list(why_not_block)
    )
    spread = float((snap == "spread").sum())
    spread_key = cell_key_of(rk[(snap == "spread").fillna(False).to_numpy(dtype=bool)])

    rows = SummaryRows()
    add = rows.add

    if rule.raw:
        add(
            "disclosure",
            "WARNING",
            "UNSUPPRESSED RAW COUNTS: NOT FOR PUBLICATION OR SHARING. "
            "Record-level disclosure risk; administrators only.",
        )
    add("disclosure", "rule", rule.name)
    add("disclosure", "rule_label", rule.label)
    add("disclosure", "suppressed_cells_shown_as", "null count with suppressed = true ('*')")
    for k, v in filters.describe().items():
        add("filter", k, v)
    if filters.hours or filters.days:
        # the filter keeps records by time; which basis each used is a flag on the kept ones
        used = _time_basis(kept)[2] if len(kept) else pd.Series(dtype=bool)
        ptb = _protected_table(
            basis,
            rule,
            _keys_by(rk, used.map({True: "incident_time", False: "arrival_time"}), list(basis)),
        )
        add("filter", "time_basis", "incident date/time where recorded, else arrival date/time")
        add("filter", "records_by_incident_time", ptb["incident_time"])
        add("filter", "records_by_arrival_time_fallback", ptb["arrival_time"])
    for k, v in totals.items():
        add("total", k, v)
    for k, v in _protected_table(why_not, rule, why_not_keys).items():
        add("not_located", k, v)
    for k, v in _protected_table(why_not_block, rule, why_not_block_keys).items():
        add("not_on_block", k, v)
    add(
        "not_on_block",
        "street_matches_spread_over_blocks",
        protect_total(spread, rule, spread_key),
    )
    for section, k, v in summary_rows(kept, snap, rk, rule):  # issue 13: on a block, by group
        add(section, k, v)
    for section, k, v in network_rows(kept, bl, snap):
        add(section, k, v)
    publish_conc = {
        scope: rule.raw or c.incidents >= CONCENTRATION_MIN_TOTAL
        for scope, c in (("blocks", conc_b), ("hexes", conc_h))
    }
    for scope, c in (("blocks", conc_b), ("hexes", conc_h)):
        pubc = (
            c.published()
            if publish_conc[scope]
            else dict.fromkeys(("gini", "pct_units_for_25", "pct_units_for_50"))
        )
        # hexes in scope = block-midpoint cells plus the listed ones: a cell holding 1-7 records
        # and no block midpoint must not add one to the published number of units
        units = c.units if scope == "blocks" or rule.raw else units_listed_hexes
        add("concentration", f"{scope}_units_in_scope", units)
        if not publish_conc[scope]:
            add(
                "concentration",
                f"{scope}_note",
                f"not published: fewer than {CONCENTRATION_MIN_TOTAL} incidents",
            )
        add("concentration", f"{scope}_gini", pubc["gini"])
        add("concentration", f"{scope}_pct_holding_25pct", pubc["pct_units_for_25"])
        add("concentration", f"{scope}_pct_holding_50pct", pubc["pct_units_for_50"])
    add(
        "layers",
        "zero_count_units",
        "omitted, and so are units with 1-7 records: a unit that is not listed has 0 or a "
        "suppressed count (concentration figures include them)",
    )
    add("layers", "crs", "EPSG:27700 (GeoPackage/Parquet); EPSG:4326 (GeoJSON, CSV WKT)")
    add("layers", "h3_note", "coarser H3 cells are parents of the res-10 cell of each point")
    add("build", "built_at", started.replace(microsecond=0).isoformat())
    add("build", "build_seconds", f"{(datetime.now(UTC) - started).total_seconds():.2f}")
    add("build", "gazetteer_version", gazetteer_version)
    from istvhub import __version__

    add("build", "istvhub_version", __version__)
    add("attribution", "attribution", ATTRIBUTION)
    summary = rows.frame()

    conc = pd.concat(
        [
            c.lorenz.assign(scope=scope)
            for scope, c in (("blocks", conc_b), ("hexes", conc_h))
            if publish_conc[scope]
        ]
        or [
            pd.DataFrame(
                {"scope": pd.Series([], dtype=object), "pct_units": [], "pct_incidents": []}
            )
        ],
        ignore_index=True,
    )[["scope", "pct_units", "pct_incidents"]]
    areas21 = areas21 or {}
    census21 = {
        name: area_layer(name, pool, rkp, asked, filters.boroughs, rule, areas21.get(name))
        for name in AREA_LAYERS
    }
    return Layers(
        blocks=blocks_layer,
        hexes=hexes_layer,
        lsoas=lsoas_layer,
        summary=summary,
        concentration=conc,
        rule=rule,
        stats={"blocks": conc_b, "hexes": conc_h, "totals": totals, "filters": filters},
        lsoas21=census21["lsoas21"],
        msoas21=census21["msoas21"],
    )


def concentration_of(layers: Layers, scope: str) -> Concentration:
    """The (internal, unrounded) concentration figures of a scope, for the report."""
    return layers.stats[scope]  # type: ignore[return-value]
