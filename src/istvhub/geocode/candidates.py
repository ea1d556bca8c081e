"""Candidate generation by blocking: exact key and core-key dictionaries over the gazetteer, a
postcode index, and typo tolerance through a character 3-gram index over the key vocabulary.

Brute-force fuzzy scoring of every text against ~300k names runs at a few texts per second
(ANCHORS.md); here a text is split into spans, each span is looked up in hash maps, and only
tokens missing from the vocabulary are fuzzy-matched (rapidfuzz ``process.extract`` with a
``score_cutoff``) against the few hundred vocabulary tokens that share 3-grams with them.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from istvhub.geocode.chains import chain_names
from istvhub.geocode.index_cache import Deferred

GRID_M = 500.0
#: entry types the geocoder treats as named points of interest
POI_TYPES = ("station", "venue", "hospital", "school", "bus_stop", "cycle_dock")
POSTCODE_TYPES = ("postcode", "postcode_sector", "postcode_district")
STREET_TYPE_WORDS = frozenset(
    "road street lane avenue gardens place square crescent close court drive grove hill parade "
    "park terrace walk broadway highway estate market common green way row mews rise vale "
    "yard gate wharf embankment circus approach passage alley view mount".split()
)
#: last words of a name long enough to expose a real-word typo in the words before them
NAME_ENDINGS = STREET_TYPE_WORDS | frozenset("station high".split())
#: words that never start a correction (connectors, fillers, shorthand expansions)
STOPWORDS = frozenset(
    "outside opposite near adjacent by at in on of the a an to from junction with corner and or "
    "between behind next front rear top bottom end entrance inside off patient patients was were "
    "is his her their my own someone friends friend assaulted assault attacked hit punched "
    "stabbed fight fighting happened incident area nearby around just back side along "
    "uk location loc scene".split()
)

#: words that name a kind of place, never a place on their own
GENERIC = STREET_TYPE_WORDS | frozenset(
    "station pub bar club nightclub cafe restaurant shop shops park north south east west "
    "central upper lower new old great little saint bus stop tube railway school hospital "
    "house hall church centre center town city shopping mcdonalds kfc tesco sainsburys costa "
    "overground underground dlr tube".split()
)


#: words the typo corrector must leave alone (ED vocabulary that is not a place name)
PROTECTED = frozenset(
    "home house flat address unknown known refused intoxicated custody holiday prison "
    "assault assaulted fight party domestic violence mcdonalds wetherspoons sainsburys tesco "
    "outside opposite near adjacent between junction corner behind nandos greggs pret "
    "starbucks subway lidl aldi asda morrisons boots primark chicken burger walking running "
    "going coming waiting standing sitting leaving drinking working fighting playing "
    "shopping travelling cycling driving walked punched kicked stabbed robbed mugged".split()
)


@dataclass(frozen=True)
class SpanHit:
    """A run of tokens [start, end) that names gazetteer entries."""

    start: int
    end: int
    key: str
    ids: tuple[int, ...]
    quality: float  # 1.0 exact; < 1 for typo-corrected or street-type-mismatched spans
    how: str  # exact | core | fuzzy
    qual: tuple[float, ...] = ()  # per-id quality when spelling alternatives were merged

    def quality_of(self, rows: list[int] | np.ndarray) -> np.ndarray:
        if not self.qual:
            return np.full(len(rows), self.quality)
        m = dict(zip(self.ids, self.qual, strict=True))
        return np.array([m.get(int(r), self.quality) for r in rows])


#: PlaceIndex attributes that are per-process memos, not tables
_MEMOS = frozenset({"_alts", "_near", "_correct"})

_OUTWARD = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")


def _strip_the(k: str) -> str:
    return k[4:] if k.startswith("the ") else k


def _sort_words(k: str) -> str:
    """The key as ``fuzz.token_sort_ratio`` compares it: its words sorted, one space apart."""
    return " ".join(sorted(k.split()))


def _grams(tok: str) -> set[str]:
    t = f"^{tok}$"
    return {t[i : i + 3] for i in range(len(t) - 2)}


def _deletes(tok: str) -> set[str]:
    """The word and every string one deleted character from it."""
    return {tok, *(tok[:i] + tok[i + 1 :] for i in range(len(tok)))}


class PlaceIndex:
    """Hash indexes over the gazetteer entries (row positions, not entry_ids)."""

    #: street-name pair -> junction rows; set by ``tables.build_index``
    junctions: dict[frozenset[str], list[int]]
    #: built on first use: postcode-district rows with a borough (``explain.borough_near``),
    #: station rows and their keys (``fuzzy.station_fuzzy``)
    _pc_rows: np.ndarray
    _station_rows_keys: tuple[np.ndarray, list[str]]
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
                for g in _grams(tok):
                    gram_idx[g].append(j)
            bucket[(tok[0], len(tok))].append(j)
            if len(tok) >= 4:
                for k in _deletes(tok):
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
        if (
            tok in self.vocab_freq
            or len(tok) < 4
            or tok.isdigit()
            or tok in STOPWORDS
            or _OUTWARD.match(tok)
            or tok in GENERIC
            or tok in self.protected
        ):
            return tok, 1.0
        grams = _grams(tok)
        hits = [self.gram_idx[g] for g in grams if g in self.gram_idx]
        if not hits:
            return tok, 1.0
        ids, counts = np.unique(np.concatenate(hits), return_counts=True)
        keep = ids[counts >= max(1, min(len(grams) // 3, counts.max()))]
        if len(keep) > 400:
            keep = ids[np.argsort(-counts, kind="stable")[:400]]
        if len(tok) <= 8:
            extra = [
                e
                for n in (len(tok) - 1, len(tok), len(tok) + 1)
                if (e := self.len_bucket.get((tok[0], n))) is not None
            ]
            if extra:
                keep = np.union1d(keep, np.concatenate(extra))
        choices = self.vocab[keep].tolist()
        max_d = 1 if len(tok) <= 7 else (2 if len(tok) <= 11 else 3)
        res = process.extract(tok, choices, scorer=OSA.distance, score_cutoff=max_d, limit=12)
        if not res:
            return tok, 1.0
        # fewest edits, then same first letter, then the commoner word
        res = sorted(res, key=lambda r: (r[1], r[0][0] != tok[0], -self.vocab_freq.get(r[0], 0)))
        out = []
        for word, d, _ in res:
            if word[0] != tok[0] and d > 1:  # first letters are rarely mistyped
                continue
            out.append((word, round(1.0 - 0.06 * d - 0.02 * (word[0] != tok[0]), 3)))
        if not out:
            return tok, 1.0
        self._alts[tok] = [o for o in out[1:6] if o[1] >= out[0][1] - 1e-9]
        return out[0]

    def near_words(self, tok: str) -> list[str]:
        """Vocabulary words one edit from a word that is itself in the vocabulary: a real-word
        typo ("belham high road" for Balham) is only visible from the longer name it breaks."""
        hit = self._near.get(tok)
        if hit is not None:
            return hit
        out: list[str] = []
        if len(tok) >= 5 and tok.isalpha() and tok not in GENERIC and tok not in STOPWORDS:
            # every word within one edit shares a one-deletion key with ``tok``; the ten
            # nearest in vocabulary order, as rapidfuzz's extract(limit=10) ranked them
            cand: set[int] = set()
            for k in _deletes(tok):
                js = self.del_idx.get(k)
                if js is not None:
                    cand.update(js)
            vocab = self.vocab
            scored = sorted(
                (d, j) for j in cand if (d := OSA.distance(tok, vocab[j], score_cutoff=1)) <= 1
            )
            out = [vocab[j] for d, j in scored[:10] if d == 1]
        self._near[tok] = out
        return out

    def alternatives(self, tok: str) -> list[tuple[str, float]]:
        """Other corrections about as close as the chosen one ("bron": brown, baron...)."""
        self._correct(tok)
        return self._alts.get(tok, [])

    # ---- span lookup ----------------------------------------------------------------------
    def _lookup(self, span: list[str], q: float) -> tuple[np.ndarray, float, str] | None:
        key = " ".join(span)
        how = "exact" if q >= 0.999 else "fuzzy"
        ids = self.by_key.get(key)
        if ids is not None:
            if span[0] == "the" and len(span) >= 2:  # "the coronet" also names "Coronet"
                rest = " ".join(span[1:])
                more = [a for a in (self.by_key.get(rest), self.by_core.get(rest)) if a is not None]
                if more:
                    ids = np.unique(np.concatenate([ids, *more]))
            return ids, q, how
        ids = self.by_core.get(key)
        if ids is not None:
            return ids, q * 0.9, "core"
        # a wrong street type ("acre road" for "acre lane"): core + any type
        if len(span) >= 2 and span[-1] in STREET_TYPE_WORDS:
            ids = self.by_core.get(" ".join(span[:-1]))
            if ids is not None:
                st = ids[self.etype[ids] == "street"]
                if len(st):
                    return st, q * 0.8, "core"
        return None

    def _reach(self, tokens: list[str], alts: dict[int, list[tuple[str, float]]], i: int) -> int:
        """The end of the longest run from ``i`` that starts some key, with any of each
        token's spelling alternatives in its place: no longer span can be a key."""
        states = [""]
        k = i
        while k < len(tokens):
            words = [tokens[k], *(w for w, _ in alts.get(k, ()))]
            nxt = {
                p
                for s in states
                for w in words
                if (p := f"{s} {w}" if s else w) in self.key_prefixes
            }
            if not nxt:
                break
            states = list(nxt)
            k += 1
        return k

    def find_spans(
        self,
        tokens: list[str],
        quality: list[float],
        alts: dict[int, list[tuple[str, float]]] | None = None,
    ) -> list[SpanHit]:
        """All spans (not crossing separators) naming a gazetteer entry, longest first. Where a
        typo had several equally close corrections, every one that names a place is kept (with
        its own quality) so that context and distance choose between them."""
        hits: list[SpanHit] = []
        n = len(tokens)
        alts = alts or {}
        for i in range(n):
            if tokens[i] in ("/", ","):
                continue
            reach = self._reach(tokens, alts, i)
            for j in range(min(n, i + self.max_len), i, -1):
                # longer than any key (or a key plus a wrong street type) can be: only the
                # real-word-typo reading below could still name a place
                if j > reach + 1 and not (2 <= j - i <= 4 and tokens[j - 1] in NAME_ENDINGS):
                    continue
                span = tokens[i:j]
                if "/" in span or "," in span:
                    continue
                key = " ".join(span)
                chain = j - i == 1 and span[0] in chain_names()  # "tesco": a shop (venues.py)
                if all(t in STOPWORDS for t in span) or (
                    j - i == 1 and span[0] in self.protected and not chain
                ):
                    continue
                if (
                    not chain
                    and all(t in STOPWORDS or t in GENERIC or t.isdigit() for t in span)
                    and (
                        key not in self.by_key
                        or (
                            len(span) == 1
                            and not any(
                                self.etype[k] in ("station", "area")
                                for k in self.by_key[key].tolist()
                            )
                        )
                    )
                ):
                    continue
                q = math.prod(quality[i:j])
                variants = [(span, q)]
                for k in range(i, j):
                    for word, wq in alts.get(k, ()):
                        v = list(span)
                        v[k - i] = word
                        variants.append((v, q / max(quality[k], 1e-9) * wq))
                found = [(v, r) for v, vq in variants if (r := self._lookup(v, vq)) is not None]
                if not found and 2 <= j - i <= 4 and span[-1] in NAME_ENDINGS:
                    for k in range(i, j - 1):
                        for word in self.near_words(tokens[k]):
                            v = list(span)
                            v[k - i] = word
                            ids = self.by_key.get(" ".join(v))
                            if ids is not None:
                                found.append((v, (ids, q * 0.9, "fuzzy")))
                if not found:
                    continue
                if len(found) == 1:
                    v, (ids, fq, how) = found[0]
                    hits.append(SpanHit(i, j, " ".join(v), tuple(ids.tolist()), fq, how))
                    continue
                best_v, (_, bq, bhow) = max(found, key=lambda f: f[1][1])
                all_ids: list[int] = []
                all_q: list[float] = []
                for _, (ids, fq, _h) in found:
                    if fq < bq - 0.02:  # only readings as good as the best one
                        continue
                    for r in ids.tolist():
                        if r not in all_ids:
                            all_ids.append(r)
                            all_q.append(fq)
                hits.append(SpanHit(i, j, " ".join(best_v), tuple(all_ids), bq, bhow, tuple(all_q)))
        return hits
