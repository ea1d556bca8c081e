"""The Geocoder: ED free text -> point, block, LSOA, confidence and a readable reason.

A thin facade over the stages (each its own module): normalise (``normalise``, ``pii``) ->
classify (``classify``) -> mentions (``mentions``) -> candidates (``candidates``) -> rank
(``rank``, ``resolve``, ``junctions``, ``fuzzy``) -> decide (``decide``) -> explain (``explain``);
``stages.geocode_norm`` runs them for one distinct text. The Geocoder only holds read-only
tables and the result cache, so one instance can serve many threads (the API shares one).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from istvhub.gazetteer.load import resolve_version_dir
from istvhub.geocode import index_cache
from istvhub.geocode.calibrate import Calibrator
from istvhub.geocode.candidates import PlaceIndex
from istvhub.geocode.classify import load_phrases
from istvhub.geocode.explain import empty_result, finish
from istvhub.geocode.normalise import normalise_text
from istvhub.geocode.pii import scrub_location
from istvhub.geocode.stages import geocode_norm
from istvhub.geocode.tables import (
    build_index,
    junction_index,
    lazy_gazetteer,
    load_departments,
    tables_of,
)
from istvhub.records import GEOCODE_COLUMNS

log = logging.getLogger(__name__)

#: the last loaded gazetteer version dir -> (Gazetteer, PlaceIndex), reused by Geocoder.load
_LOADED: dict[str, tuple[Any, PlaceIndex]] = {}

__all__ = ["Geocoder", "load_departments"]


class Geocoder:
    """Load once, geocode many. ``version`` is the gazetteer version results came from."""

    def __init__(
        self,
        entries: pd.DataFrame | None,
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
            if entries is None:
                raise ValueError("a Geocoder needs the gazetteer entries or a built index")
            index = build_index(entries, keys, street_points)
        self.index = index
        self.gazetteer = gazetteer
        self.departments = departments if departments is not None else load_departments()
        self.corrections = corrections or {}
        self.version = version
        self.calibrator = calibrator or Calibrator.load()
        self._cache: dict[tuple[str, str | None], dict[str, Any]] = {}
        if not index.has_table("junctions"):  # an index built by hand (tests)
            index.junctions = junction_index(index)
        self.phrase_words = {t for p in load_phrases() for t in p.split()}
        self.index.protected = self.index.protected | self.phrase_words

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, home: Path | None = None, db_url: str | None = None) -> Geocoder:
        """The current gazetteer under ``home`` (raises GazetteerNotBuilt), the department
        registry, and active analyst corrections from the store when ``db_url`` is given. The
        index comes from its cache file beside the gazetteer when the code and gazetteer match
        it (``index_cache``), else it is built and saved there."""
        vpath = resolve_version_dir(home)
        vdir = str(vpath)
        corrections = {}
        if db_url:
            from istvhub.geocode.corrections import active_corrections

            corrections = active_corrections(db_url)
        hit = _LOADED.get(vdir)
        if hit is not None:  # the index is read-only: reuse it across ingests in one process
            gaz, index = hit
            return cls(
                None,  # the index has them (read from the cache file only if asked for)
                gazetteer=gaz,
                corrections=corrections,
                index=index,
                version=str(getattr(gaz, "version", "") or ""),
            )
        gaz = lazy_gazetteer(vpath)
        index, how = index_cache.load_or_build(vpath, lambda: build_index(*tables_of(gaz)))
        log.debug("geocoder index %s for gazetteer %s", how, vpath.name)
        geo = cls(
            None,
            gazetteer=gaz,
            corrections=corrections,
            index=index,
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

    # ------------------------------------------------------------------ public API
    def geocode(self, text: object, department: str | None = None) -> dict[str, Any]:
        """One text -> a dict with exactly GEOCODE_COLUMNS. Never raises on odd input."""
        res = self.geocode_frame(
            pd.DataFrame({"location_text": [text], "department": [department]})
        )
        return {
            str(k): (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in res.iloc[0].to_dict().items()
        }

    def geocode_frame(
        self,
        df: pd.DataFrame,
        text_col: str = "location_text",
        department_col: str | None = "department",
        progress: Callable[[int, int], None] | None = None,
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
                    r = empty_result("unmatched", "unmatched: internal error while matching")
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

    def _finish(self, out: pd.DataFrame) -> pd.DataFrame:
        return finish(out, self.gazetteer)

    def _geocode_norm(self, norm: str, dept: str | None) -> dict[str, Any]:
        return geocode_norm(self, norm, dept)
