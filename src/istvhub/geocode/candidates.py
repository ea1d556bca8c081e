"""Candidate generation by blocking: exact key and core-key dictionaries over the gazetteer, a
postcode index, and typo tolerance through a character 3-gram index over the key vocabulary.

Brute-force fuzzy scoring of every text against ~300k names runs at a few texts per second
(ANCHORS.md); here a text is split into spans, each span is looked up in hash maps, and only
tokens missing from the vocabulary are fuzzy-matched (rapidfuzz ``process.extract`` with a
``score_cutoff``) against the few hundred vocabulary tokens that share 3-grams with them.
The index is built here; span lookup is in ``spans``, the typo corrector in ``typos`` and the
word sets in ``vocab``.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from istvhub.geocode import spans, typos
from istvhub.geocode.index_cache import Deferred
from istvhub.geocode.spans import SpanHit
from istvhub.geocode.typos import deletes, grams
from istvhub.geocode.vocab import (
    GENERIC,
    NAME_ENDINGS,
    POI_TYPES,
    POSTCODE_TYPES,
    PROTECTED,
    STOPWORDS,
    STREET_TYPE_WORDS,
)

if TYPE_CHECKING:
    from istvhub.geocode.lexicon import Lexicon

#: the names the rest of the geocoder imports from here (moved to vocab, spans and typos)
__all__ = [
    "GENERIC",
    "GRID_M",
    "NAME_ENDINGS",
    "POI_TYPES",
    "POSTCODE_TYPES",
    "PROTECTED",
    "STOPWORDS",
    "STREET_TYPE_WORDS",
    "PlaceIndex",
    "SpanHit",
]

GRID_M = 500.0
#: PlaceIndex attributes that are per-process memos, not tables
_MEMOS = frozenset({"_alts", "_near", "_correct"})


def _strip_the(k: str) -> str:
    return k[4:] if k.startswith("the ") else k


def _sort_words(k: str) -> str:
    """The key as ``fuzz.token_sort_ratio`` compares it: its words sorted, one space apart."""
    return " ".join(sorted(k.split()))


class PlaceIndex:
    """Hash indexes over the gazetteer entries (row positions, not entry_ids)."""

    #: street-name pair -> junction rows; set by ``tables.build_index``
    junctions: dict[frozenset[str], list[int]]
    #: built on first use: postcode-district rows with a borough (``explain.borough_near``),
    #: station rows and their keys (``fuzzy.station_fuzzy``)
    _pc_rows: np.ndarray
    _station_rows_keys: tuple[np.ndarray, list[str]]
    #: built on first use: kind words (``kinds.kind_words``), the lexicon (``lexicon_of``)
    _kind_words: frozenset[str]
    _category_phrases: frozenset[str]
    _lexicon: Lexicon
    #: tables few texts need: ``index_cache`` reads them back only on first use
    DEFERRED = ("entries", "entry_ids", "_id_index", "del_idx", "junctions")

    def __init__(
        self,
        entries: pd.DataFrame,
        keys: pd.DataFrame | None = None,
        street_points: pd.DataFrame | None = None,
    ) -> None:
        e = entries.reset_index(drop=True)
        self.entries = e
        self.etype = e["entry_type"].astype(str).to_numpy(dtype=object)
        self.x = e["easting"].astype(float).to_numpy()
        self.y = e["northing"].astype(float).to_numpy()
        self.prec = pd.to_numeric(e["precision_m"], errors="coerce").fillna(100).to_numpy()
        # a street's reach from its point (gazetteer/extent.py); older builds: its precision
        ext = e["extent_m"] if "extent_m" in e else pd.Series(np.nan, index=e.index)
        self.extent = np.fmax(pd.to_numeric(ext, errors="coerce").to_numpy(), self.prec)
        self.name = e["name"].astype(str).to_numpy(dtype=object)
        self.borough = self._col(e, "borough")
        self.district = self._col(e, "district")
        self.lsoa = self._col(e, "lsoa_code")
        self.category = self._col(e, "category")
        self.key = e["key"].fillna("").astype(str).to_numpy(dtype=object)
        ids = e["entry_id"].astype(str).to_numpy(dtype=object)
        self.entry_ids = ids
        self._id_index = pd.Index(ids)
        pc_mask = np.isin(self.etype, POSTCODE_TYPES)
        self._build_postcodes(pc_mask)
        self._build_keys(self._name_keys(keys, pc_mask))
        self._build_vocabulary()
        self._build_street_points(street_points)
        self.districts = {
            k for k, i in self.postcode.items() if self.etype[i] == "postcode_district"
        }
        self.protected: frozenset[str] | set[str] = PROTECTED
        self._init_memos()
        self._build_fuzzy_grid()

    # ---- construction (each step one table; the order matters only where noted) ------------
    def _build_postcodes(self, pc_mask: np.ndarray) -> None:
        """Units and districts by compact key ("sw21aa", "sw2"), sectors with their space
        ("sw2 1") so that sector SE1 7 and district SE17 never collide."""
        self.postcode: dict[str, int] = {}
        for i in np.flatnonzero(pc_mask):
            nm = self.name[i].lower()
            k = nm if self.etype[i] == "postcode_sector" else nm.replace(" ", "")
            self.postcode[k] = int(i)
        self.sector_units: dict[str, int] = defaultdict(int)
        for k, row in self.postcode.items():
            if self.etype[row] == "postcode":
                self.sector_units[f"{k[:-3]} {k[-3]}"] += 1

    def _name_keys(self, keys: pd.DataFrame | None, pc_mask: np.ndarray) -> dict[str, list[int]]:
        """Name keys (entries.key plus keys.parquet aliases) -> rows, postcodes left out."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for i in np.flatnonzero(~pc_mask):
            k = self.key[i]
            if k:
                by_key[k].append(int(i))
        if keys is not None and len(keys):
            kk = keys[["entry_id", "key"]].dropna()
            rows = self.rows_of(kk["entry_id"].astype(str).to_numpy(dtype=object))
            kv = kk["key"].astype(str).to_numpy(dtype=object)
            ok = rows >= 0
            ok[ok] = ~pc_mask[rows[ok]]
            for k, i in zip(kv[ok], rows[ok], strict=True):
                lst = by_key[k]
                if int(i) not in lst:
                    lst.append(int(i))
        return by_key

    def _build_keys(self, by_key: dict[str, list[int]]) -> None:
        """Derived keys: stations also as "<name> station", venues without a leading "the",
        streets by their core (name without the street type) for "coldharbour" / "acre rd";
        then every leading run of words of a key (``find_spans`` stops lengthening a span once
        no key starts with it)."""
        core: dict[str, list[int]] = defaultdict(list)
        for k, rows_ in list(by_key.items()):
            for i in rows_:
                t = self.etype[i]
                toks = k.split()
                if t == "station":
                    base = k[: -len(" station")] if k.endswith(" station") else k
                    for alias in (
                        base,
                        base + " station",
                        base + " underground station",
                        base + " rail station",
                        base + " overground station",
                    ):
                        if i not in by_key.get(alias, ()):
                            by_key.setdefault(alias, []).append(i)
                elif t in ("venue", "hospital", "school") and len(toks) > 1 and toks[0] == "the":
                    core[" ".join(toks[1:])].append(i)
                elif t == "street" and len(toks) > 1 and toks[-1] in STREET_TYPE_WORDS:
                    core[" ".join(toks[:-1])].append(i)
        self.by_key = {k: np.asarray(v, dtype=np.int64) for k, v in by_key.items()}
        self.by_core = {k: np.asarray(v, dtype=np.int64) for k, v in core.items()}
        self.max_len = max((len(k.split()) for k in self.by_key), default=1)
        prefixes: set[str] = set()
        for k in (*self.by_key, *self.by_core):
            toks = k.split()
            for m in range(1, len(toks) + 1):
                prefixes.add(" ".join(toks[:m]))
        self.key_prefixes = prefixes

    def _build_vocabulary(self) -> None:
        """The key vocabulary with its frequencies, and the indexes the typo corrector
        searches: character 3-grams, (first letter, length) buckets for the transpositions
        3-grams miss ("wlaes" -> "wales"), and one-deletion keys (symmetric delete) so that
        ``near_words`` finds the words one edit away with a few dict lookups."""
        freq: dict[str, int] = defaultdict(int)
        for k in list(self.by_key) + list(self.by_core):
            for tok in k.split():
                freq[tok] += 1
        self.vocab_freq = dict(freq)
        self.vocab = np.array(sorted(freq), dtype=object)
        words: list[str] = self.vocab.tolist()
        gram_idx: dict[str, list[int]] = defaultdict(list)
        bucket: dict[tuple[str, int], list[int]] = defaultdict(list)
        dels: dict[str, list[int]] = defaultdict(list)
        for j, tok in enumerate(words):
            if len(tok) >= 3:
                for g in grams(tok):
                    gram_idx[g].append(j)
            bucket[(tok[0], len(tok))].append(j)
            if len(tok) >= 4:
                for k in deletes(tok):
                    dels[k].append(j)
        self.gram_idx = {g: np.asarray(v, dtype=np.int32) for g, v in gram_idx.items()}
        self.len_bucket = {k: np.asarray(v, dtype=np.int32) for k, v in bucket.items()}
        self.del_idx = dict(dels)

    def _build_street_points(self, street_points: pd.DataFrame | None) -> None:
        """Street points (and their postcodes) by street row."""
        self.street_pts: dict[int, np.ndarray] = {}
        self.street_pt_pc: dict[int, np.ndarray] = {}
        if street_points is None or not len(street_points):
            return
        rows = self.rows_of(street_points["entry_id"].astype(str).to_numpy(dtype=object))
        ok = rows >= 0
        sp = street_points[ok]
        rows = rows[ok]
        xy = sp[["easting", "northing"]].astype(float).to_numpy()
        pcs = (
            sp["postcode"].astype(str).str.replace(" ", "").str.lower().to_numpy(dtype=object)
            if "postcode" in sp
            else np.full(len(sp), "", dtype=object)
        )
        order = np.argsort(rows, kind="stable")
        rows, xy, pcs = rows[order], xy[order], pcs[order]
        bounds = np.flatnonzero(np.diff(rows)) + 1
        for chunk_r, chunk_xy, chunk_pc in zip(
            np.split(rows, bounds), np.split(xy, bounds), np.split(pcs, bounds), strict=True
        ):
            if len(chunk_r):
                self.street_pts[int(chunk_r[0])] = chunk_xy
                self.street_pt_pc[int(chunk_r[0])] = chunk_pc

    def _build_fuzzy_grid(self) -> None:
        """Points of interest and streets for context-blocked fuzzy matching of residual text,
        on a 500 m grid so that "names near this district/street" is a few dict lookups. Keys
        are also kept with their words sorted (``fuzzy_near`` scores them with ``fuzz.ratio``,
        which is ``token_sort_ratio`` without sorting every candidate's words on each call), and
        entry types as small codes (a type filter is then a boolean lookup, not a string isin)."""
        fz = np.flatnonzero(np.isin(self.etype, POI_TYPES + ("street",)))
        self.fuzzy_rows = fz
        self.fuzzy_keys = np.array([_strip_the(k) for k in self.key[fz]], dtype=object)
        self.fuzzy_sorted = np.array(
            [_sort_words(k) for k in self.fuzzy_keys.tolist()], dtype=object
        )
        self.fuzzy_len = np.array([len(k) for k in self.fuzzy_sorted.tolist()], dtype=np.int32)
        self.fuzzy_type = self.etype[fz]
        self.fuzzy_type_names = tuple(sorted(set(self.fuzzy_type.tolist())))
        code = {t: c for c, t in enumerate(self.fuzzy_type_names)}
        self.fuzzy_tcode = np.array([code[t] for t in self.fuzzy_type.tolist()], dtype=np.int16)
        cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        gx = np.floor(self.x[fz] / GRID_M).astype(np.int64)
        gy = np.floor(self.y[fz] / GRID_M).astype(np.int64)
        for j, (a, b) in enumerate(zip(gx.tolist(), gy.tolist(), strict=True)):
            cells[(a, b)].append(j)
        self.fuzzy_grid = {k: np.asarray(v, dtype=np.int64) for k, v in cells.items()}

    def _init_memos(self) -> None:
        """Per-process memos of the typo corrector (filled as texts arrive, never saved)."""
        self._alts: dict[str, list[tuple[str, float]]] = {}
        self._near: dict[str, list[str]] = {}
        self._correct = lru_cache(maxsize=200_000)(self._correct_uncached)

    def __getstate__(self) -> dict[str, object]:
        """The read-only tables (what ``index_cache`` saves); the memos are left out."""
        for name in list(self.__dict__.get("_lazy", ())):
            getattr(self, name)
        return {k: v for k, v in self.__dict__.items() if k not in _MEMOS and k != "_lazy"}

    def __setstate__(self, state: dict[str, object]) -> None:
        lazy = {k: v for k, v in state.items() if isinstance(v, Deferred)}
        self.__dict__.update({k: v for k, v in state.items() if k not in lazy})
        self._lazy = lazy
        self._init_memos()

    def has_table(self, name: str) -> bool:
        """Is ``name`` set, read or still deferred (without reading it)?"""
        return name in self.__dict__ or name in self.__dict__.get("_lazy", ())

    def __getattr__(self, name: str) -> Any:
        """A ``DEFERRED`` table read from the cache file on first use (a race unpickles it
        twice, to equal values)."""
        d = self.__dict__.get("_lazy")
        if d is None or name not in d:
            raise AttributeError(name)
        value = d[name].value()
        setattr(self, name, value)
        d.pop(name, None)
        return value

    def fuzzy_near(
        self,
        text: str,
        xs: np.ndarray,
        ys: np.ndarray,
        radius: float,
        types: tuple[str, ...],
        cutoff: float = 84.0,
        limit: int = 5,
    ) -> list[tuple[int, float]]:
        """Rows of the given types within ``radius`` of any of the points whose name matches
        ``text`` fuzzily: (row, score 0-1). Blocking by place keeps this to a few hundred names."""
        keys: set[tuple[int, int]] = set()
        r = int(np.ceil(radius / GRID_M))
        if len(xs) > 60:  # a long street: evenly spaced points along all of it
            pick = np.linspace(0, len(xs) - 1, 60).astype(int)
            xs, ys = xs[pick], ys[pick]
        for px, py in zip(xs, ys, strict=False):
            cx, cy = int(px // GRID_M), int(py // GRID_M)
            keys.update((cx + i, cy + j) for i in range(-r, r + 1) for j in range(-r, r + 1))
        parts = [self.fuzzy_grid[k] for k in keys if k in self.fuzzy_grid]
        if not parts:
            return []
        idx = np.concatenate(parts)
        want = np.zeros(len(self.fuzzy_type_names), dtype=bool)
        want[[c for c, t in enumerate(self.fuzzy_type_names) if t in types]] = True
        q = _sort_words(_strip_the(text))
        # ratio = 100 (1 - indel distance / (la + lb)) <= 100 (1 - |la - lb| / (la + lb)): a key
        # whose length alone keeps it under the cutoff is never scored (a margin for rounding)
        ln = self.fuzzy_len[idx]
        slack = (1.0 - cutoff / 100.0) * (ln + len(q)) + 0.5
        idx = idx[want[self.fuzzy_tcode[idx]] & (np.abs(ln - len(q)) <= slack)]
        if not len(idx):
            return []
        # token_sort_ratio(q, key) == ratio(sorted q, sorted key): the keys are sorted once
        res = process.extract(
            q,
            self.fuzzy_sorted[idx].tolist(),
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            limit=limit,
        )
        return [(int(self.fuzzy_rows[idx[j]]), sc / 100.0) for _, sc, j in res]

    def rows_of(self, entry_ids: np.ndarray) -> np.ndarray:
        """Row positions of entry ids (-1 when unknown)."""
        rows: np.ndarray = self._id_index.get_indexer(entry_ids)
        return rows

    @staticmethod
    def _col(e: pd.DataFrame, col: str) -> np.ndarray:
        if col not in e:
            return np.full(len(e), None, dtype=object)
        s = e[col].astype("object")
        return s.where(s.notna(), None).to_numpy(dtype=object)

    # ---- typo tolerance -------------------------------------------------------------------
    def correct_token(self, tok: str) -> tuple[str, float]:
        """(vocabulary token, similarity 0-1) for a token missing from the vocabulary."""
        return self._correct(tok)

    def _correct_uncached(self, tok: str) -> tuple[str, float]:
        return typos.correct_uncached(self, tok)

    def near_words(self, tok: str) -> list[str]:
        """Vocabulary words one edit from a word that is itself in the vocabulary (a real-word
        typo, "belham high road" for Balham); see ``typos.near_words``."""
        return typos.near_words(self, tok)

    def alternatives(self, tok: str) -> list[tuple[str, float]]:
        """Other corrections about as close as the chosen one ("bron": brown, baron...)."""
        self._correct(tok)
        return self._alts.get(tok, [])

    # ---- span lookup ----------------------------------------------------------------------
    def find_spans(
        self,
        tokens: list[str],
        quality: list[float],
        alts: dict[int, list[tuple[str, float]]] | None = None,
    ) -> list[SpanHit]:
        """All spans (not crossing separators) naming a gazetteer entry, longest first; see
        ``spans.find_spans``."""
        return spans.find_spans(self, tokens, quality, alts)
