"""The Geocoder: ED free text -> point, block, LSOA, confidence and a readable reason.

Pipeline per distinct (normalised text, department): scrub PII -> normalise -> typo-correct tokens
-> find gazetteer spans and postcodes -> classify (home / unknown / outside_area / locatable) ->
interpret (postcode, junction, venue/station with context, street with context, area) -> rank
with priors -> calibrate confidence. Reasons are composed only from gazetteer names and fixed
words, never from the input text, so personal data cannot leak through them.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istvhub.core.config import DATA_DIR, GAZETTEER_TABLES_DIR
from istvhub.gazetteer.normalise import normalise_name
from istvhub.geocode.areas21 import add_census2021
from istvhub.geocode.calibrate import Calibrator
from istvhub.geocode.candidates import POI_TYPES, STOPWORDS, PlaceIndex, SpanHit
from istvhub.geocode.classify import (
    classify_tokens,
    correct_phrase_tokens,
    load_phrases,
    names_boundary_town,
)
from istvhub.geocode.normalise import SEPARATORS, normalise_text
from istvhub.geocode.pii import scrub_location
from istvhub.geocode.postcodes import PostcodeHit, find_postcodes
from istvhub.geocode.rank import Choice, Context, choose
from istvhub.records import GEOCODE_COLUMNS

log = logging.getLogger(__name__)

JUNCTION_WORDS = frozenset("junction corner with and / x crossing meets".split())
AREA_TYPES = ("area", "borough")
MAIN_POI = ("station", "venue", "hospital", "school")
#: words that say the text names an establishment (so unexplained words are its name)
#: street types that make a name a road rather than a place ("common", "green" are places)
ROAD_WORDS = frozenset(
    "road street lane avenue place square crescent close court drive grove hill terrace walk "
    "way row mews rise vale yard wharf embankment approach passage alley".split()
)
STATION_CUES = frozenset("station tube overground underground dlr rail railway".split())
VENUE_CUES = frozenset(
    "pub bar club nightclub cafe coffee restaurant takeaway shop hotel inn tavern arms "
    "lounge kitchen grill chicken station tube theatre cinema gym church mosque school "
    "college hospital market arena stadium hall centre".split()
)
MATCH_TYPE_OF = {
    "postcode": "postcode",
    "postcode_sector": "postcode_sector",
    "postcode_district": "postcode_district",
    "street": "street",
    "station": "station",
    "venue": "venue",
    "hospital": "venue",
    "school": "venue",
    "bus_stop": "street",
    "cycle_dock": "street",
    "area": "area",
    "borough": "borough",
    "junction": "junction",
}
#: an unknown full postcode in a sector with fewer London units than this is outside London
#: (fringe sectors such as CM13 3 or TW19 7 hold a handful of London postcodes)
MIN_LONDON_SECTOR_UNITS = 40
PC_RADIUS = {"postcode_sector": 800.0, "postcode_district": 2000.0}
MAX_JUNCTION_GAP_M = 600.0  # postcode points are sparse: streets that meet can be 400 m apart
FAR_GUARD_KM = 25.0


@dataclass
class _Loc:
    """An interpreted location before calibration and output formatting."""

    match_type: str
    x: float
    y: float
    precision: float
    raw: float  # uncalibrated confidence 0-1
    name: str
    row: int | None  # gazetteer row when the point is an entry's own point
    reason: str
    street_keys: tuple[str, ...] = ()
    ctx_hits: tuple[str, ...] = ()
    ctx_misses: tuple[str, ...] = ()


def _empty_result(status: str, reason: str, confidence: float | None = None) -> dict[str, Any]:
    r: dict[str, Any] = dict.fromkeys(GEOCODE_COLUMNS)
    r["geo_status"] = status
    r["reason"] = reason
    r["confidence"] = confidence
    return r


REASONS = {
    "home": "home: the text names a residence, which is never located (by design)",
    "unknown": "unknown: the text gives no place (non-answer, refusal or bare place type)",
    "outside_area": "outside area: the text names a place outside London",
    "unmatched": "unmatched: no gazetteer place, street or postcode found in the text",
}


def load_departments(path: Path | None = None) -> dict[str, tuple[float, float, str | None]]:
    """ODS code -> (easting, northing, borough) from the department registry."""
    p = path or DATA_DIR / "departments.csv"
    if not p.exists():
        return {}
    d = pd.read_csv(p, dtype={"ods_code": str})
    out = {}
    for r in d.itertuples():
        e, n = getattr(r, "easting", None), getattr(r, "northing", None)
        if e is not None and n is not None and not (pd.isna(e) or pd.isna(n)):
            out[str(r.ods_code).upper()] = (float(e), float(n), getattr(r, "borough", None))
    return out


def _extra_places(entries: pd.DataFrame) -> pd.DataFrame:
    """Named places missing from the open sources (London prisons, landmarks), placed at their
    postcode's point in the gazetteer: data/gazetteer/geocode_places.csv."""
    p = GAZETTEER_TABLES_DIR / "geocode_places.csv"
    if not p.exists():
        return entries.iloc[0:0]
    t = pd.read_csv(p, dtype=str)
    pcs = entries[entries["entry_type"].isin(["postcode", "postcode_sector"])]
    pcs = pcs.assign(_pc=pcs["name"].astype(str).str.replace(" ", "").str.upper())
    t["_pc"] = t["postcode"].str.replace(" ", "").str.upper()
    m = t.merge(pcs.drop(columns=["name", "key", "entry_type"]), on="_pc", how="inner")
    if m.empty:
        return entries.iloc[0:0]
    m["key"] = m["name"].map(normalise_name)
    m["name"] = m["name"].str.title()
    m["entry_type"] = m["entry_type"].fillna("venue")
    m["precision_m"] = np.where(m["entry_type"] == "area", 800.0, 100.0)
    m["entry_id"] = [f"geocode_places:{i}" for i in range(len(m))]
    return m[[c for c in entries.columns if c in m.columns]]


class Geocoder:
    """Load once, geocode many. ``version`` is the gazetteer version results came from."""

    def __init__(
        self,
        entries: pd.DataFrame,
        keys: pd.DataFrame | None = None,
        street_points: pd.DataFrame | None = None,
        *,
        gazetteer: Any = None,
        departments: dict[str, tuple[float, float, str | None]] | None = None,
        corrections: dict[tuple[str, str | None], tuple[float, float]] | None = None,
        version: str = "",
        calibrator: Calibrator | None = None,
        index: PlaceIndex | None = None,
    ) -> None:
        if index is None:
            extra = _extra_places(entries)
            if len(extra):
                entries = pd.concat(
                    [entries, extra.astype(entries.dtypes.to_dict(), errors="ignore")],
                    ignore_index=True,
                )
            index = PlaceIndex(entries, keys, street_points)
        self.index = index
        self.gazetteer = gazetteer
        self.departments = departments if departments is not None else load_departments()
        self.corrections = corrections or {}
        self.version = version
        self.calibrator = calibrator or Calibrator.load()
        self._cache: dict[tuple[str, str | None], dict[str, Any]] = {}
        if not hasattr(index, "junctions"):
            index.junctions = self._junction_index()
        self._junctions = index.junctions
        self._phrase_words = {t for p in load_phrases() for t in p.split()}
        self.index.protected = self.index.protected | self._phrase_words

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, home: Path | None = None, db_url: str | None = None) -> Geocoder:
        """The current gazetteer under ``home`` (raises GazetteerNotBuilt), the department
        registry, and active analyst corrections from the store when ``db_url`` is given."""
        from istvhub.gazetteer import load as load_gazetteer  # type: ignore[attr-defined]
        from istvhub.gazetteer.load import resolve_version_dir

        vdir = str(resolve_version_dir(home))
        corrections = {}
        if db_url:
            from istvhub.geocode.corrections import active_corrections

            corrections = active_corrections(db_url)
        hit = _LOADED.get(vdir)
        if hit is not None:  # the index is read-only: reuse it across ingests in one process
            gaz, index = hit
            return cls(
                index.entries,
                gazetteer=gaz,
                corrections=corrections,
                index=index,
                version=str(getattr(gaz, "version", "") or ""),
            )
        gaz = load_gazetteer(vdir)
        entries, keys, points = _tables_of(gaz)
        geo = cls(
            entries,
            keys,
            points,
            gazetteer=gaz,
            corrections=corrections,
            version=str(getattr(gaz, "version", "") or ""),
        )
        _LOADED.clear()
        _LOADED[vdir] = (gaz, geo.index)
        return geo

    @classmethod
    def from_dir(cls, gazetteer_dir: Path, **kw: Any) -> Geocoder:
        """Straight from a gazetteer version directory's parquet files (no network helpers)."""
        d = Path(gazetteer_dir)
        pts = d / "street_points.parquet"
        keys = d / "keys.parquet"
        return cls(
            pd.read_parquet(d / "entries.parquet"),
            pd.read_parquet(keys) if keys.exists() else None,
            pd.read_parquet(pts) if pts.exists() else None,
            version=d.name,
            **kw,
        )

    def _junction_index(self) -> dict[frozenset[str], list[int]]:
        ix = self.index
        out: dict[frozenset[str], list[int]] = {}
        e = ix.entries
        if "street_a" not in e or "street_b" not in e:
            return out
        rows = np.flatnonzero(ix.etype == "junction")
        sa = e["street_a"].astype("object").to_numpy(dtype=object)[rows]
        sb = e["street_b"].astype("object").to_numpy(dtype=object)[rows]
        norm: dict[str, str] = {}
        for i, a, b in zip(rows, sa, sb, strict=True):
            if isinstance(a, str) and isinstance(b, str):
                ka = norm.get(a) or norm.setdefault(a, normalise_name(a))
                kb = norm.get(b) or norm.setdefault(b, normalise_name(b))
                out.setdefault(frozenset((ka, kb)), []).append(int(i))
        return out

    # ------------------------------------------------------------------ public API
    def geocode(self, text: object, department: str | None = None) -> dict[str, Any]:
        """One text -> a dict with exactly GEOCODE_COLUMNS. Never raises on odd input."""
        res = self.geocode_frame(
            pd.DataFrame({"location_text": [text], "department": [department]})
        )
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in res.iloc[0].to_dict().items()
        }

    def geocode_frame(
        self,
        df: pd.DataFrame,
        text_col: str = "location_text",
        department_col: str | None = "department",
        progress: Any = None,
    ) -> pd.DataFrame:
        """Geocode a frame: exactly GEOCODE_COLUMNS, same index. Identical (normalised text,
        department) pairs are resolved once (cache kept for the Geocoder's lifetime)."""
        n = len(df)
        texts = df[text_col] if text_col in df else pd.Series([None] * n, index=df.index)
        if department_col and department_col in df:
            depts = df[department_col].astype("object").where(df[department_col].notna(), None)
            depts = depts.map(lambda v: str(v).strip().upper() if v is not None else None)
        else:
            depts = pd.Series([None] * n, index=df.index, dtype=object)
        raw = texts.astype("object").where(texts.notna(), None)
        # normalise each distinct raw text once
        uniq_raw = pd.unique(raw.map(lambda v: "" if v is None else str(v)).to_numpy())
        norm_of = {u: normalise_text(scrub_location(u)[0]) for u in uniq_raw}
        norm = raw.map(lambda v: norm_of["" if v is None else str(v)])
        # the department only matters through its coordinates
        dept_key = depts.map(lambda d: d if d in self.departments else None)
        pairs = pd.MultiIndex.from_arrays([norm.to_numpy(), dept_key.to_numpy()])
        codes, uniques = pd.factorize(pairs)
        results = []
        for k, (t, d) in enumerate(uniques):
            key = (t, d)
            r = self._cache.get(key)
            if r is None:
                try:
                    r = self._geocode_norm(t, d)
                except Exception as exc:  # noqa: BLE001 - one odd text must not stop an ingest
                    # type only: an exception message could quote the text
                    log.error(
                        "geocoder failed on one distinct text (index %d): %s", k, type(exc).__name__
                    )
                    r = _empty_result("unmatched", "unmatched: internal error while matching")
                self._cache[key] = r
            results.append(r)
            if progress is not None:
                progress(k + 1, len(uniques))
        cols = [*GEOCODE_COLUMNS, "_street_key"]
        out = pd.DataFrame(results, columns=cols) if results else pd.DataFrame(columns=cols)
        out = self._finish(out)[list(GEOCODE_COLUMNS)]
        res = out.iloc[codes].reset_index(drop=True) if n else out.iloc[0:0]
        res.index = df.index
        return res

    # ------------------------------------------------------------------ finishing
    def _finish(self, out: pd.DataFrame) -> pd.DataFrame:
        """lat/lon from easting/northing, LSOA and block for located rows (vectorised)."""
        for c in ("lat", "lon", "easting", "northing", "precision_m", "confidence"):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        for c in (
            "geo_status",
            "match_type",
            "matched_name",
            "lsoa_code",
            "borough",
            "block_id",
            "reason",
        ):
            out[c] = out[c].astype("object")
        loc = out["geo_status"].eq("located") & out["easting"].notna()
        need = loc & out["lat"].isna()
        if need.any():
            from pyproj import Transformer

            tr = _to_wgs84()
            lon, lat = tr.transform(
                out.loc[need, "easting"].to_numpy(), out.loc[need, "northing"].to_numpy()
            )
            out.loc[need, "lat"] = np.round(lat, 6)
            out.loc[need, "lon"] = np.round(lon, 6)
            del Transformer
        gaz = self.gazetteer
        need_lsoa = loc & out["lsoa_code"].isna()
        if gaz is not None and need_lsoa.any() and hasattr(gaz, "lsoa_of"):
            try:
                codes = gaz.lsoa_of(
                    out.loc[need_lsoa, "easting"].to_numpy(),
                    out.loc[need_lsoa, "northing"].to_numpy(),
                )
                out.loc[need_lsoa, "lsoa_code"] = list(np.asarray(codes, dtype=object))
            except Exception as exc:  # noqa: BLE001 - LSOA is an enrichment, not a failure
                log.warning("lsoa_of failed (%s); LSOA left empty", type(exc).__name__)
        need_block = loc & out["block_id"].isna() & out["precision_m"].le(250)
        if gaz is not None and need_block.any() and hasattr(gaz, "snap_to_blocks"):
            # a named street/junction snaps only to a block carrying that name (up to 150 m from
            # its representative point); other points to the nearest block within 60 m
            keys = out["_street_key"].where(out["_street_key"].notna(), "")
            for keyed, dist in ((True, 150.0), (False, 60.0)):
                m = need_block & (keys.ne("") if keyed else keys.eq(""))
                if not m.any():
                    continue
                try:
                    ids = gaz.snap_to_blocks(
                        out.loc[m, "easting"].to_numpy(),
                        out.loc[m, "northing"].to_numpy(),
                        dist,
                        keys[m].tolist() if keyed else None,
                    )
                    out.loc[m, "block_id"] = [
                        None if (v is None or v != v or v == "") else str(v)
                        for v in np.asarray(ids, dtype=object)
                    ]
                except Exception as exc:  # noqa: BLE001 - the block is an enrichment
                    log.warning(
                        "snap_to_blocks failed (%s); block_id left empty", type(exc).__name__
                    )
        add_census2021(out, loc, gaz)  # LSOA/MSOA 2021 beside the 2011 code (issue 19)
        return out

    # ------------------------------------------------------------------ the matcher
    def _geocode_norm(self, norm: str, dept: str | None) -> dict[str, Any]:
        tokens = norm.split()
        if not tokens:
            return _empty_result("unknown", REASONS["unknown"], 0.99)
        ed = self.departments.get(dept) if dept else None
        ed_xy = (ed[0], ed[1]) if ed else None
        corr = self.corrections.get((norm, dept)) or self.corrections.get((norm, None))
        ix = self.index
        corrected, quality = [], []
        for t in tokens:
            if t in SEPARATORS:
                c, q = t, 1.0
            else:
                c, q = ix.correct_token(t)
            corrected.append(c)
            quality.append(q)
        alts = {
            k: ix.alternatives(t)
            for k, t in enumerate(tokens)
            if corrected[k] != t and ix.alternatives(t)
        }
        spans = ix.find_spans(corrected, quality, alts)
        covered = {
            k
            for s in spans
            for k in range(s.start, s.end)
            if (s.end - s.start) >= 2 and any(ix.etype[i] != "bus_stop" for i in s.ids)
        }
        phrase_fixed = correct_phrase_tokens(tokens, ix.vocab_freq)
        # a gazetteer spelling correction counts only where it completes a place name
        cls_tokens = [
            c if (c != t and k in covered and t not in self._phrase_words) else f
            for k, (t, c, f) in enumerate(zip(tokens, corrected, phrase_fixed, strict=True))
        ]
        cls = classify_tokens(cls_tokens, covered)
        if (
            cls == "outside_area"
            and not names_boundary_town(cls_tokens, covered)
            and any(p.key in ix.postcode for p in find_postcodes(tokens))
        ):
            cls = "locatable"  # "the flower of kent se14": a London postcode district wins
        if cls != "locatable":
            return _empty_result(cls, REASONS[cls], 0.95)
        if corr is not None:
            return self._correction_result(corr, norm)
        found = find_postcodes(tokens)
        pcs = []
        for p in found:
            if p.key in ix.postcode:
                pcs.append(p)
            elif p.kind == "postcode":  # unknown unit: a typo, a new postcode, or not London
                sector = f"{p.key[:-3]} {p.key[-3]}"
                if ix.sector_units.get(sector, 0) >= MIN_LONDON_SECTOR_UNITS:
                    pcs.append(PostcodeHit("postcode_sector", sector, p.start, p.end))
                elif _POSTCODE_AREA.match(p.key) and len(found) == 1 and not spans:
                    return _empty_result(
                        "outside_area",
                        "outside area: a full postcode whose sector is not in London",
                        0.95,
                    )
        loc = self._interpret(tokens, corrected, spans, pcs, ed_xy)
        if loc is None:
            return _empty_result("unmatched", REASONS["unmatched"], 0.0)
        if isinstance(loc, dict):
            return loc
        conf = self.calibrator.calibrate(loc.match_type, loc.raw)
        r = _empty_result("located", loc.reason, round(float(conf), 3))
        r.update(
            match_type=loc.match_type,
            easting=round(loc.x, 1),
            northing=round(loc.y, 1),
            precision_m=round(float(loc.precision), 0),
            matched_name=loc.name,
            _street_key=loc.street_keys[0] if loc.street_keys else None,
        )
        if loc.row is not None:
            r["lsoa_code"] = ix.lsoa[loc.row] if loc.match_type == "postcode" else None
            if loc.match_type in ("postcode",) or ix.borough[loc.row]:
                r["borough"] = ix.borough[loc.row]
        if r["borough"] is None:
            r["borough"] = self._borough_near(loc.x, loc.y)
        return r

    def _borough_near(self, x: float, y: float) -> str | None:
        ix = self.index
        if not hasattr(self, "_pc_rows"):
            rows = np.flatnonzero(ix.etype == "postcode_district")
            rows = rows[[ix.borough[i] is not None for i in rows]]
            self._pc_rows = rows
        if len(self._pc_rows) == 0:
            return None
        d = np.hypot(ix.x[self._pc_rows] - x, ix.y[self._pc_rows] - y)
        return ix.borough[self._pc_rows[int(np.argmin(d))]]

    def _correction_result(self, corr: tuple[float, float], norm: str) -> dict[str, Any]:
        lat, lon = corr
        x, y = _to_bng().transform(lon, lat)
        # nearest sensible kind: the nearest gazetteer entry's type
        ix = self.index
        d = np.hypot(ix.x - x, ix.y - y)
        mask = np.isin(ix.etype, ("street", "junction", "venue", "station", "hospital", "school"))
        i = int(np.flatnonzero(mask)[np.argmin(d[mask])]) if mask.any() else int(np.argmin(d))
        mt = MATCH_TYPE_OF.get(str(ix.etype[i]), "street")
        r = _empty_result(
            "located", f"analyst correction (nearest gazetteer place: {ix.name[i]})", 0.99
        )
        r.update(
            match_type=mt,
            lat=lat,
            lon=lon,
            easting=round(x, 1),
            northing=round(y, 1),
            precision_m=25.0,
            matched_name=ix.name[i],
            borough=self._borough_near(x, y),
        )
        return r

    def _interpret(
        self,
        tokens: list[str],
        corrected: list[str],
        spans: list[SpanHit],
        pcs: list,
        ed_xy: tuple[float, float] | None,
    ) -> _Loc | dict | None:
        ix = self.index
        # 1. a full postcode is the most precise thing a receptionist can give
        units = [p for p in pcs if p.kind == "postcode"]
        if units:
            i = ix.postcode[units[0].key]
            return _Loc(
                "postcode",
                ix.x[i],
                ix.y[i],
                ix.prec[i],
                0.97,
                ix.name[i],
                i,
                f"postcode {ix.name[i]}",
            )
        pc_tok = {k for p in pcs for k in range(p.start, p.end)}
        chosen = _tile(spans, pc_tok)
        if len(chosen) > 1:  # "london" adds nothing beside a real place
            chosen = [c for c in chosen if c.key != "london"] or chosen
        contexts_pc = [
            Context(
                p.kind,
                ix.name[ix.postcode[p.key]],
                np.array([ix.x[ix.postcode[p.key]]]),
                np.array([ix.y[ix.postcode[p.key]]]),
                max(PC_RADIUS.get(p.kind, 1500.0), float(ix.prec[ix.postcode[p.key]])),
                district=(
                    ix.name[ix.postcode[p.key]].split()[0].upper()
                    if p.kind == "postcode_district"
                    else None
                ),
            )
            for p in pcs
        ]
        words = set(corrected)
        street_spans = [s for s in chosen if any(ix.etype[i] == "street" for i in s.ids)]
        poi_ok = POI_TYPES if ({"bus", "stop", "dock", "bike"} & words) else MAIN_POI
        poi_spans = [s for s in chosen if any(ix.etype[i] in poi_ok for i in s.ids)]
        area_spans = [s for s in chosen if any(ix.etype[i] in AREA_TYPES for i in s.ids)]
        residual = _residual(corrected, chosen, pc_tok)
        self._segments = _segments(tokens, pc_tok)

        # 1b. "X tube/stn" where X is no station name as written: fuzzy over station names
        cue_at = next((k for k, t in enumerate(corrected) if t in STATION_CUES), None)
        named_before_cue = cue_at is not None and any(
            sp.end == cue_at and sp.how == "exact" for sp in chosen
        )
        if (
            STATION_CUES & words
            and not named_before_cue
            and not any(ix.etype[i] == "station" for sp in chosen for i in sp.ids)
        ):
            loc = self._station_fuzzy(corrected, tokens, contexts_pc, ed_xy)
            if loc is not None:
                return loc
        # 2. junction of two streets
        if len(street_spans) >= 2:
            a, b = street_spans[0], street_spans[1]
            between = corrected[a.end : b.start]
            cue = any(t in JUNCTION_WORDS for t in between) or any(
                t in ("junction", "corner", "/") for t in corrected
            )
            if (cue or not poi_spans) and a.key != b.key:
                other = [s for s in chosen if s not in (a, b)]
                ctx = contexts_pc + self._contexts(other)
                j = self._junction(a, b, ctx, ed_xy, cue)
                if j is not None:
                    return j
        # 3. a venue/station/landmark, with any street/area/district as context; a word that
        # also names an area beside a street is the street's context ("station rd harrow")
        in_streets = {k for sp in street_spans for k in range(sp.start, sp.end)}
        free_words = {t for k, t in enumerate(corrected) if k not in in_streets}
        if street_spans and not ((VENUE_CUES | STATION_CUES) & free_words):
            poi_spans = [
                p
                for p in poi_spans
                if not (
                    any(ix.etype[i] in AREA_TYPES for i in p.ids)
                    and any(sp is not p for sp in street_spans)
                )
            ]
        if poi_spans:
            p = max(poi_spans, key=lambda s: (s.end - s.start, s.quality))
            other = [s for s in chosen if s is not p]
            rows = [i for i in p.ids if ix.etype[i] in poi_ok]
            the_named = p.key.startswith("the ") or (
                p.start > 0 and corrected[p.start - 1] == "the"
            )
            if (
                the_named
                and not (STATION_CUES & words)
                and any(ix.etype[i] == "venue" for i in rows)
            ):
                rows = [i for i in rows if ix.etype[i] == "venue"]  # "the haggerston": a pub
            has_station = any(ix.etype[i] == "station" for i in rows)
            before = corrected[p.start - 1] if p.start else None
            ctx = contexts_pc + self._contexts(other)
            if has_station and (
                STATION_CUES & words
                or (not (VENUE_CUES & words) and before not in ("on", "along", "off") and not ctx)
            ):
                # a bare station name ("o/s angel", "opp chancery lane") means the station;
                # "on wandsworth road" means the road
                if not (
                    p.key.split()[-1] in ROAD_WORDS
                    and before in (None, "in")
                    and any(ix.etype[i] == "street" for i in p.ids)
                    and not (STATION_CUES & words)
                ):
                    rows = [i for i in rows if ix.etype[i] == "station"]
            elif has_station and any(ix.etype[i] == "street" for i in p.ids):
                rows = [i for i in rows if ix.etype[i] != "station"]
            ctx = contexts_pc + self._contexts(other)
            loc = self._pick(rows, p, ctx, ed_xy, "poi")
            agrees = isinstance(loc, _Loc) and loc.ctx_hits
            # "brixton" alone names the area and its station: the area is what the
            # receptionist means, and its station is a better point than a district centroid
            area_named = (
                any(ix.etype[i] in AREA_TYPES for i in p.ids)
                and not (STATION_CUES & words)
                and not agrees
                and not the_named
            )  # "the queensbury" is a pub, not the area
            if area_named and residual and (VENUE_CUES & words or len(residual) >= 6):
                alt = self._residual_match(residual, chosen, contexts_pc, ed_xy, words)
                if alt is not None:  # "o/s the roundhouse chalk farm": a venue in the area
                    return alt
            if area_named:
                st = [i for i in rows if ix.etype[i] == "station"]
                loc = self._pick(st, p, ctx, ed_xy, "poi") if st else None
                if isinstance(loc, _Loc):
                    loc.match_type = "area"
                    loc.precision = max(loc.precision, 800.0)
                    loc.raw *= 0.85
                    loc.reason = f"area named by its station: {loc.reason}"
                    return loc
            elif isinstance(loc, _Loc) and (agrees or not loc.ctx_misses):
                return loc
            elif isinstance(loc, dict) and not (street_spans or area_spans):
                if residual:
                    alt = self._residual_match(residual, chosen, contexts_pc, ed_xy, words)
                    if alt is not None:
                        return alt
                return loc
        # 3b. words the gazetteer spans did not explain: a venue fuzzy-matched near the context
        if residual:
            loc = self._residual_match(residual, chosen, contexts_pc, ed_xy, words)
            if loc is not None:
                return loc
        # 4. a street, with context
        if street_spans:
            s = max(street_spans, key=lambda s: (s.quality, s.end - s.start))
            other = [t for t in chosen if t is not s]
            rows = [i for i in s.ids if ix.etype[i] == "street"]
            ctx = contexts_pc + self._contexts(other)
            loc = self._pick(rows, s, ctx, ed_xy, "street")
            # a street that contradicts the postcode district given: trust the postcode
            if not (
                isinstance(loc, _Loc)
                and contexts_pc
                and not loc.ctx_hits
                and any(c.name in loc.ctx_misses for c in contexts_pc)
            ):
                return loc
        # 5. area / borough, else a postcode sector/district
        if area_spans:
            s = max(area_spans, key=lambda s: (s.end - s.start, s.quality))
            rows = [i for i in s.ids if ix.etype[i] in AREA_TYPES]
            areas = [i for i in rows if ix.etype[i] == "area"]
            rows = areas or rows  # an area point beats a borough centroid of the same name
            other = [t for t in chosen if t is not s]
            return self._pick(rows, s, contexts_pc + self._contexts(other), ed_xy, "area")
        sect = [p for p in pcs if p.kind == "postcode_sector"] or [
            p for p in pcs if p.kind == "postcode_district"
        ]
        if sect:
            i = ix.postcode[sect[0].key]
            raw = 0.85 if sect[0].kind == "postcode_sector" else 0.75
            return _Loc(
                sect[0].kind,
                ix.x[i],
                ix.y[i],
                ix.prec[i],
                raw,
                ix.name[i],
                i,
                f"{sect[0].kind.replace('_', ' ')} {ix.name[i]}",
            )
        # 6. anything else a span named (bus stops, cycle docks)
        if chosen:
            s = max(chosen, key=lambda s: (s.end - s.start, s.quality))
            return self._pick(list(s.ids), s, contexts_pc, ed_xy, "other")
        return None

    def _station_fuzzy(
        self,
        corrected: list[str],
        tokens: list[str],
        contexts_pc: list[Context],
        ed_xy: tuple[float, float] | None,
    ) -> _Loc | None:
        ix = self.index
        cue = next(k for k, t in enumerate(corrected) if t in STATION_CUES)
        words = [
            t for t in tokens[max(0, cue - 4) : cue] if t not in STOPWORDS and t not in SEPARATORS
        ]
        if not words:
            return None
        from rapidfuzz import fuzz, process

        if not hasattr(self, "_station_rows"):
            self._station_rows = np.flatnonzero(ix.etype == "station")
            self._station_keys = [str(k) for k in ix.key[self._station_rows]]
        best = None
        compass = {"north", "south", "east", "west"}
        for k in range(len(words)):  # "nr otwer gateway": try the last 1..4 words
            q = " ".join(words[k:])
            hits = process.extract(
                q, self._station_keys, scorer=fuzz.ratio, score_cutoff=80, limit=6
            )
            # "east croydon" is not a misspelt "west croydon"
            qc = compass & set(q.split())
            hits = [h for h in hits if (compass & set(h[0].split())) == qc]
            if hits and (best is None or hits[0][1] > best[0][1]):
                best = hits
        if not best:
            return None
        r = np.array([self._station_rows[h[2]] for h in best])
        qual = np.array([h[1] / 100.0 for h in best])
        ch = choose(
            ix.x[r],
            ix.y[r],
            qual,
            ix.etype[r],
            ix.borough[r],
            contexts_pc,
            ed_xy,
            ix.prec[r],
            ix.district[r],
        )
        if ch.ambiguous:
            return None
        b = int(r[ch.best])
        raw = self._raw_conf(
            SpanHit(0, 0, "", (), float(qual[ch.best]), "fuzzy"), ch, "station", len(r)
        )
        return _Loc(
            "station",
            float(ix.x[b]),
            float(ix.y[b]),
            float(ix.prec[b]),
            raw,
            ix.name[b],
            b,
            f"station {ix.name[b]}, {ix.borough[b]} (station name matched approximately)",
        )

    def _residual_match(
        self,
        residual: str,
        chosen: list[SpanHit],
        contexts_pc: list[Context],
        ed_xy: tuple[float, float] | None,
        words: set[str],
    ) -> _Loc | None:
        """Fuzzy-match the unexplained words (and each phrase between connector words) against
        places near what the text did name (district, street, area), or near the department
        when a venue word says it is a place."""
        ix = self.index
        named = {sp.key for sp in chosen}
        queries = [
            q
            for q in dict.fromkeys([residual, *self._segments])
            if q and q not in named and not any(q in k or k in q for k in named)
        ]
        queries = queries or ([residual] if residual else [])
        ctx = contexts_pc + self._contexts(chosen)
        types = POI_TYPES if ({"bus", "stop"} & words) else MAIN_POI
        if not ctx:
            if not (VENUE_CUES & words) or ed_xy is None:
                return None
            ctx_pts = (np.array([ed_xy[0]]), np.array([ed_xy[1]]), 6000.0)
        else:
            c = min(ctx, key=lambda c: c.radius)
            ctx_pts = (c.xs, c.ys, min(max(c.radius * 1.2, 400.0), 3000.0))
        best: dict[int, float] = {}
        for q in queries:
            for row, sc in ix.fuzzy_near(q, *ctx_pts, types=types, cutoff=84.0, limit=8):
                best[row] = max(best.get(row, 0.0), sc)
        hits = sorted(best.items(), key=lambda h: -h[1])[:8]
        if not hits:
            return None
        rows = [h[0] for h in hits]
        q = np.array([h[1] for h in hits])
        r = np.asarray(rows)
        ch = choose(
            ix.x[r], ix.y[r], q, ix.etype[r], ix.borough[r], ctx, ed_xy, ix.prec[r], ix.district[r]
        )
        best = int(r[ch.best])
        if ch.ambiguous:
            return None
        mt = MATCH_TYPE_OF.get(str(ix.etype[best]), "venue")
        raw = self._raw_conf(SpanHit(0, 0, "", (), float(q[ch.best]), "fuzzy"), ch, mt, len(r))
        reason = f"{mt} {ix.name[best]}" + (f", {ix.borough[best]}" if ix.borough[best] else "")
        reason += (
            " (name matched approximately among places near "
            + (", ".join(c.name for c in ctx[:2]) if ctx else "the department")
            + ")"
        )
        return _Loc(
            mt,
            float(ix.x[best]),
            float(ix.y[best]),
            float(ix.prec[best]),
            raw,
            ix.name[best],
            best,
            reason,
        )

    def _contexts(self, spans: list[SpanHit]) -> list[Context]:
        ix = self.index
        out = []
        for s in spans:
            rows = np.array(s.ids)
            t = ix.etype[rows]
            bor = rows[t == "borough"]
            area = rows[t == "area"]
            if len(area):
                out.append(Context("area", ix.name[area[0]], ix.x[area], ix.y[area], 1500.0))
            if len(bor):
                out.append(
                    Context(
                        "borough",
                        ix.name[bor[0]] + " (borough)",
                        ix.x[bor],
                        ix.y[bor],
                        5000.0,
                        borough=ix.name[bor[0]],
                    )
                )
            if len(area) or len(bor):
                continue
            st = rows[t == "street"]
            if len(st):
                pts = [ix.street_pts.get(int(r)) for r in st]
                pts = [p for p in pts if p is not None]
                xy = np.vstack(pts) if pts else np.c_[ix.x[st], ix.y[st]]
                out.append(Context("street", ix.name[st[0]], xy[:, 0], xy[:, 1], 250.0))
                continue
            poi = rows[np.isin(t, ("station", "hospital"))]
            if len(poi):
                out.append(Context("station", ix.name[poi[0]], ix.x[poi], ix.y[poi], 600.0))
        return out

    def _pick(
        self,
        rows: list[int],
        span: SpanHit,
        ctx: list[Context],
        ed_xy: tuple[float, float] | None,
        role: str,
    ) -> _Loc | dict | None:
        ix = self.index
        if not rows:
            return None
        r = np.asarray(rows, dtype=np.int64)
        q = span.quality_of(r)
        ch = choose(
            ix.x[r], ix.y[r], q, ix.etype[r], ix.borough[r], ctx, ed_xy, ix.prec[r], ix.district[r]
        )
        best = int(r[ch.best])
        et = str(ix.etype[best])
        mt = MATCH_TYPE_OF.get(et, "street")
        if ch.ambiguous:
            return self._ambiguous(ix.name[best], mt, ch)
        x, y, prec = ix.x[best], ix.y[best], float(ix.prec[best])
        # a street named with a district/area: use the street's points in that context
        if et == "street" and best in ix.street_pts:
            pts = ix.street_pts[best]
            prec = max(prec, _spread(pts))
            for c in ctx:
                if (
                    c.kind in ("postcode_sector", "postcode_district", "area", "station", "street")
                    and len(pts) > 1
                ):
                    d = np.min(
                        np.hypot(pts[:, 0, None] - c.xs[None, :], pts[:, 1, None] - c.ys[None, :]),
                        axis=1,
                    )
                    near = pts[d <= max(c.radius, 300.0)]
                    if len(near):
                        x, y = float(np.median(near[:, 0])), float(np.median(near[:, 1]))
                        prec = max(float(ix.prec[best]) * 0.5, min(prec, _spread(near) + 50))
                        break
        raw = self._raw_conf(span, ch, mt, len(r))
        if (
            span.how != "exact"
            and not ch.context_hits
            and len(span.key.split()) == 1
            and et not in ("area", "borough")
        ):
            raw *= 0.7  # one corrected word naming a venue or street, nothing to back it
        if ch.ed_km is not None and ch.ed_km > 10 and not ch.context_hits:
            raw *= 0.85
        if ch.ed_km is not None and ch.ed_km > FAR_GUARD_KM and not ch.context_hits:
            raw *= 0.6  # guardrail: implausibly far from the treating ED with nothing to back it
            if span.how != "exact":
                return None
        reason = f"{mt.replace('_', ' ')} {ix.name[best]}"
        if ix.borough[best]:
            reason += f", {ix.borough[best]}"
        if span.how == "fuzzy":
            reason += " (spelling corrected)"
        elif span.how == "core":
            reason += " (name matched without its type word)"
        if ch.context_hits:
            reason += "; agrees with " + ", ".join(ch.context_hits)
        if ch.context_misses:
            reason += "; far from " + ", ".join(ch.context_misses)
        if len(r) > 1:
            reason += f"; chosen among {len(r)} same-name places"
            if ch.ed_km is not None and not ch.context_hits:
                reason += f", nearest the department ({ch.ed_km:.1f} km)"
        return _Loc(
            mt,
            float(x),
            float(y),
            prec,
            raw,
            ix.name[best],
            best,
            reason,
            (ix.key[best],) if et == "street" else (),
            tuple(ch.context_hits),
            tuple(ch.context_misses),
        )

    def _raw_conf(self, span: SpanHit, ch: Choice, mt: str, n: int) -> float:
        base = {
            "postcode": 0.97,
            "junction": 0.85,
            "station": 0.9,
            "venue": 0.8,
            "street": 0.85,
            "area": 0.7,
            "borough": 0.6,
            "postcode_sector": 0.85,
            "postcode_district": 0.75,
        }.get(mt, 0.6)
        raw = base * min(1.0, span.quality + 0.05)
        if ch.context_hits:
            raw = min(1.0, raw + 0.08 * len(ch.context_hits))
        if ch.context_misses:
            raw *= 0.75
        if math.isfinite(ch.margin):
            raw *= min(1.0, 0.7 + ch.margin)
        return float(min(max(raw, 0.0), 1.0))

    def _ambiguous(self, name: str, mt: str, ch: Choice) -> dict[str, Any]:
        r = _empty_result(
            "ambiguous",
            f"ambiguous: {mt.replace('_', ' ')} '{name}' exists in {ch.n_rivals + 1}+ places "
            "far apart and nothing in the text or the department's location tells them apart",
            0.0,
        )
        r["matched_name"] = name
        r["match_type"] = mt
        return r

    def _junction(
        self,
        a: SpanHit,
        b: SpanHit,
        ctx: list[Context],
        ed_xy: tuple[float, float] | None,
        cue: bool,
    ) -> _Loc | dict | None:
        ix = self.index
        ra = [i for i in a.ids if ix.etype[i] == "street"]
        rb = [i for i in b.ids if ix.etype[i] == "street"]
        names = (ix.name[ra[0]], ix.name[rb[0]])
        # a junction entry in the gazetteer wins
        jrows = self._junctions.get(frozenset((ix.key[ra[0]], ix.key[rb[0]])))
        if jrows:
            r = np.asarray(jrows)
            ch = choose(
                ix.x[r],
                ix.y[r],
                np.full(len(r), a.quality * b.quality),
                ix.etype[r],
                ix.borough[r],
                ctx,
                ed_xy,
            )
            if ch.ambiguous:
                return self._ambiguous(f"{names[0]} / {names[1]}", "junction", ch)
            best = int(r[ch.best])
            return _Loc(
                "junction",
                ix.x[best],
                ix.y[best],
                max(ix.prec[best], 30.0),
                self._raw_conf(_q(a, b), ch, "junction", len(r)),
                ix.name[best],
                best,
                f"junction {ix.name[best]}",
                (ix.key[ra[0]], ix.key[rb[0]]),
            )

        # else the closest approach of the two streets' points: all points of every street of
        # each name at once (a few hundred each), then the closest pair per pair of entries
        def pts_of(rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
            xy = [ix.street_pts.get(i, np.array([[ix.x[i], ix.y[i]]])) for i in rows]
            lab = np.concatenate([np.full(len(p), i) for p, i in zip(xy, rows, strict=True)])
            return np.vstack(xy), lab

        axy, alab = pts_of(ra)
        bxy, blab = pts_of(rb)
        if len(axy) * len(bxy) > 4_000_000:  # pathological names: keep points near the ED
            return None
        d = np.hypot(axy[:, 0, None] - bxy[None, :, 0], axy[:, 1, None] - bxy[None, :, 1])
        ka, kb = np.nonzero(d <= MAX_JUNCTION_GAP_M)
        cands = []
        if len(ka):
            gaps = d[ka, kb]
            order = np.argsort(gaps, kind="stable")
            seen: set[tuple[int, int]] = set()
            for o in order:
                ia, ib = int(alab[ka[o]]), int(blab[kb[o]])
                if (ia, ib) in seen:
                    continue
                seen.add((ia, ib))
                pa, pb = axy[ka[o]], bxy[kb[o]]
                cands.append(((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, float(gaps[o]), ia, ib))
        if not cands:
            return None
        c = np.array([(m[0], m[1], m[2]) for m in cands])
        # one place per cluster: keep the smallest gap within 300 m
        q = a.quality * b.quality - c[:, 2] / 2000.0
        bor = np.array([ix.borough[m[3]] for m in cands], dtype=object)
        ch = choose(c[:, 0], c[:, 1], q, np.array(["junction"] * len(c)), bor, ctx, ed_xy)
        if ch.ambiguous:
            return self._ambiguous(f"{names[0]} / {names[1]}", "junction", ch)
        mx, my, gap, ia, ib = cands[ch.best]
        if ch.ed_km is not None and ch.ed_km > FAR_GUARD_KM and not ch.context_hits:
            return None  # guardrail: a junction far across London from the treating ED
        raw = self._raw_conf(_q(a, b), ch, "junction", len(cands))
        if not cue:
            raw *= 0.9
        if gap > 150:  # the streets' nearest postcode points are far apart: less sure
            raw *= max(0.6, 1.0 - (gap - 150) / 1000)
        reason = (
            f"junction of {ix.name[ia]} and {ix.name[ib]}"
            + (f", {ix.borough[ia]}" if ix.borough[ia] else "")
            + f" (closest approach of the two streets, {gap:.0f} m)"
        )
        if ch.context_hits:
            reason += "; agrees with " + ", ".join(ch.context_hits)
        if (
            len({(round(m[0], -3), round(m[1], -3)) for m in cands}) > 1
            and ch.ed_km is not None
            and not ch.context_hits
        ):
            reason += f"; nearest the department of several ({ch.ed_km:.1f} km)"
        return _Loc(
            "junction",
            float(mx),
            float(my),
            max(50.0, gap / 2 + 40.0),
            raw,
            f"{ix.name[ia]} / {ix.name[ib]}",
            None,
            reason,
            (ix.key[ia], ix.key[ib]),
        )


def _q(a: SpanHit, b: SpanHit) -> SpanHit:
    how = (
        "exact" if a.how == b.how == "exact" else ("fuzzy" if "fuzzy" in (a.how, b.how) else "core")
    )
    return SpanHit(a.start, b.end, a.key + " / " + b.key, (), a.quality * b.quality, how)


def _spread(pts: np.ndarray) -> float:
    """Half the diagonal of the points' extent: a street's expected error radius."""
    if len(pts) < 2:
        return 50.0
    return float(np.hypot(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])) / 2)


def _residual(tokens: list[str], chosen: list[SpanHit], taken: set[int]) -> str:
    """The longest run of words no span or postcode explained, trimmed of connector words."""
    used = set(taken)
    for c in chosen:
        used |= set(range(c.start, c.end))
    runs: list[list[str]] = [[]]
    for k, t in enumerate(tokens):
        if k in used or t in SEPARATORS:
            runs.append([])
        else:
            runs[-1].append(t)
    best = ""
    for run in runs:
        while run and (run[0] in STOPWORDS or run[0] in LEAD_WORDS):
            run = run[1:]
        while run and run[-1] in STOPWORDS:
            run = run[:-1]
        text = " ".join(run)
        if sum(len(t) for t in run if t not in STOPWORDS) >= 4 and len(text) > len(best):
            best = text
    return best


SEGMENT_BREAKS = frozenset("on in at by near opposite outside off inside along behind".split())


def _segments(tokens: list[str], taken: set[int]) -> list[str]:
    """Phrases between connector words and separators ("the bar polski", "frith street")."""
    out: list[list[str]] = [[]]
    for k, t in enumerate(tokens):
        if k in taken or t in SEPARATORS or t in SEGMENT_BREAKS:
            out.append([])
        else:
            out[-1].append(t)
    res = []
    for seg in out:
        while seg and seg[0] in STOPWORDS:
            seg = seg[1:]
        while seg and seg[-1] in STOPWORDS:
            seg = seg[:-1]
        if sum(len(t) for t in seg) >= 4:
            res.append(" ".join(seg))
    return res


LEAD_WORDS = frozenset("bus stop shops shop outside".split())


def _tile(spans: list[SpanHit], taken_tokens: set[int]) -> list[SpanHit]:
    """Non-overlapping spans, longest and best first, in text order."""
    chosen: list[SpanHit] = []
    used = set(taken_tokens)
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), -s.quality, s.start)):
        rng = set(range(s.start, s.end))
        if rng & used:
            continue
        # single stopword-led spans ("at") never stand alone
        if s.end - s.start == 1 and s.key in STOPWORDS:
            continue
        chosen.append(s)
        used |= rng
    return sorted(chosen, key=lambda s: s.start)


_TR: dict[str, Any] = {}
#: the last loaded gazetteer version dir -> (Gazetteer, PlaceIndex), reused by Geocoder.load
_LOADED: dict[str, tuple[Any, PlaceIndex]] = {}
#: a real UK postcode area letter pair (not a road number like "a406")
_POSTCODE_AREA = re.compile(r"^(?!a\d|m\d)[a-z]{1,2}\d")


def _to_wgs84():
    if "wgs" not in _TR:
        from pyproj import Transformer

        _TR["wgs"] = Transformer.from_crs(27700, 4326, always_xy=True)
    return _TR["wgs"]


def _to_bng():
    if "bng" not in _TR:
        from pyproj import Transformer

        _TR["bng"] = Transformer.from_crs(4326, 27700, always_xy=True)
    return _TR["bng"]


def _tables_of(gaz: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """entries, keys, street_points from a loaded Gazetteer (attributes or its directory)."""

    def get(name: str) -> pd.DataFrame | None:
        v = getattr(gaz, name, None)
        if isinstance(v, pd.DataFrame):
            return v
        for attr in ("path", "dir", "directory", "root", "version_dir"):
            d = getattr(gaz, attr, None)
            if d is not None and (Path(d) / f"{name}.parquet").exists():
                return pd.read_parquet(Path(d) / f"{name}.parquet")
        return None

    entries = get("entries")
    if entries is None:
        from istvhub._errors import GazetteerNotBuilt

        raise GazetteerNotBuilt("the gazetteer has no entries table")
    return entries, get("keys"), get("street_points")
