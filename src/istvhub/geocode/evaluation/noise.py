"""Noise families: the same dev places rewritten as different authors would write them.

Each family is one style with its own vocabulary, so a calibration fitted on some families can be
judged on another it never saw (leave-one-family-out). A family maps (text, expected status, rng)
to a new text with the same truth, or None when its rule does not apply to that text. The
vocabularies are deliberately disjoint from each other and from the sample-feed generator's
templates ("o/s", "opp", "nr", "jct of"): a calibration that learnt one author's habits must not
look good on another's by accident.

    triage     ED triage nurse's notes around the place ("pt states assaulted ... ?2am")
    report     police/ambulance report wording ("IVO ...", "suspects made off")
    typos      keyboard slips in the place words (neighbour keys, drops, doubles, swaps, run-ons)
    narrative  who/what/how: weapons, people, injuries, times, verbs before or after the place
    order      the same parts in another order ("nw1 hyde park", "tesco, outside")
    abbrev     abbreviations expanded or contracted, case and punctuation lost
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pandas as pd

Family = Callable[[str, str, random.Random], str | None]

_CONNECT = frozenset("o/s opp nr at in on by near outside opposite of the and & / - ,".split())

# --------------------------------------------------------------------------- triage
_TRIAGE_BEFORE = [
    "pt states assaulted {p}",
    "assaulted {p}",
    "states was at {p}",
    "pt reports incident {p}",
    "alleged assault {p}",
    "self presented, assault {p}",
    "hx of assault {p}",
]
_TRIAGE_AFTER = [
    "{p} per pt",
    "{p} - assault",
    "{p} ?2am",
    "{p} (pt intox)",
    "{p} - pt vague",
    "{p} brought in by friend",
    "{p}, c/o facial pain",
]

# --------------------------------------------------------------------------- report
_REPORT = [
    "ivo {p}",
    "in the vicinity of {p}",
    "{p}, suspects made off",
    "las called to {p}",
    "{p} - victim approached by suspects",
    "reported via 999, {p}",
    "{p} (cctv requested)",
    "attended scene {p}",
]

# --------------------------------------------------------------------------- narrative
_PEOPLE = [
    "two males",
    "a female",
    "group of youths",
    "his ex",
    "a bouncer",
    "security staff",
    "a stranger",
    "three lads",
    "her partner",
    "someone he knew",
]
_WEAPONS = ["a bottle", "a knife", "a bat", "a glass", "fists", "a brick", "a hammer", "a belt"]
_VERBS = ["punched", "kicked", "stabbed", "glassed", "headbutted", "robbed", "slashed", "pushed"]
_INJURY = ["head injury", "cut to face", "broken nose", "lac to scalp", "hand injury", "loc"]
_TIMES = ["last night", "this morning", "approx 0200", "around midnight", "earlier today"]
_NARR_BEFORE = [
    "{v} by {who} {p}",
    "{v} with {w} {p}",
    "{t} {p}",
    "{inj} after fight {p}",
]
_NARR_AFTER = [
    "{p} - {v} by {who}",
    "{p} {v} with {w}",
    "{p} {t}",
    "{p}, {inj}",
    "{p} - {who} with {w}",
]

# --------------------------------------------------------------------------- abbrev
_SHORT = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "lane": "ln",
    "place": "pl",
    "square": "sq",
    "gardens": "gdns",
    "station": "stn",
    "crescent": "cres",
    "terrace": "terr",
    "court": "ct",
    "grove": "gr",
    "close": "cl",
    "drive": "dr",
    "park": "pk",
    "and": "&",
    "opposite": "opp",
    "outside": "o/s",
    "near": "nr",
    "junction": "jct",
    "underground": "tube",
    "high": "hi",
}
_LONG = {v: k for k, v in _SHORT.items() if v not in ("tube", "hi")}
_LONG.update({"str": "street", "stat": "station", "j/w": "junction with", "o/s": "outside"})

_KEYS = "qwertyuiop asdfghjkl zxcvbnm".split()
_DISTRICT = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
_FULL_POSTCODE = re.compile(r"[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b", re.I)
_POSTCODE_TOKEN = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$|^\d[a-z]{2}$")


def _neighbours(c: str) -> str:
    for row in _KEYS:
        k = row.find(c)
        if k >= 0:
            return row[max(k - 1, 0) : k] + row[k + 1 : k + 2]
    return ""


def _typo_word(w: str, rng: random.Random) -> str:
    """One keyboard slip in a word of four or more letters (never its first letter)."""
    k = rng.randrange(1, len(w))
    kind = rng.choice(("sub", "drop", "double", "swap"))
    if kind == "sub" and _neighbours(w[k]):
        return w[:k] + rng.choice(_neighbours(w[k])) + w[k + 1 :]
    if kind == "drop" and len(w) >= 5:
        return w[:k] + w[k + 1 :]
    if kind == "swap" and k < len(w) - 1:
        return w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    return w[:k] + w[k] + w[k:]


def _place_words(tokens: list[str]) -> list[int]:
    return [
        k
        for k, t in enumerate(tokens)
        if len(t) >= 4
        and t.isalpha()
        and t.lower() not in _CONNECT
        and not _POSTCODE_TOKEN.match(t.lower())
    ]


def typos(text: str, expect: str, rng: random.Random) -> str | None:
    """One or two slips in the place's words; a run-on (lost space) now and then. Home, unknown
    and outside-area texts are left out: a misspelt home phrase has no agreed truth."""
    if expect != "located":
        return None
    toks = text.split()
    idx = _place_words(toks)
    if not idx:
        return None
    for k in rng.sample(idx, min(len(idx), rng.choice((1, 1, 2)))):
        toks[k] = _typo_word(toks[k], rng)
    if len(toks) >= 3 and rng.random() < 0.15:
        k = rng.randrange(len(toks) - 1)
        toks[k : k + 2] = [toks[k] + toks[k + 1]]
    return " ".join(toks)


def triage(text: str, expect: str, rng: random.Random) -> str | None:
    pool = _TRIAGE_BEFORE if rng.random() < 0.5 else _TRIAGE_AFTER
    return rng.choice(pool).format(p=text)


def report(text: str, expect: str, rng: random.Random) -> str | None:
    out = rng.choice(_REPORT).format(p=text)
    return out.upper() if rng.random() < 0.3 else out


def narrative(text: str, expect: str, rng: random.Random) -> str | None:
    pool = _NARR_BEFORE if rng.random() < 0.4 else _NARR_AFTER
    return rng.choice(pool).format(
        p=text,
        who=rng.choice(_PEOPLE),
        w=rng.choice(_WEAPONS),
        v=rng.choice(_VERBS),
        inj=rng.choice(_INJURY),
        t=rng.choice(_TIMES),
    )


_LEAD = {"o/s": "outside", "opp": "opposite", "nr": "near", "at": "at", "in": "in", "on": "on"}
#: two streets joined by a junction separator; "&" only after a junction word (venue names
#: use it: "coco fresh tea & juice"); "o/s" and "j/w" are shielded before matching
_JUNCTION = re.compile(r"^(?:corner of |jct of |junction of )(.+?)\s*(?:/|&|\+| jw | and )\s*(.+)$")
_SLASHED = re.compile(r"^(.+?)\s*(?:/| jw | \+ )\s*(.+)$")


def order(text: str, expect: str, rng: random.Random) -> str | None:
    """Parts swapped: comma parts reversed, a junction's streets swapped, a leading preposition
    moved to the end, a trailing district moved to the front."""
    t = text.strip()
    if "," in t:
        parts = [p.strip() for p in t.split(",") if p.strip()]
        if len(parts) >= 2:
            return ", ".join(reversed(parts))
    shielded = re.sub(r"\bo/s\b", "o\x00s", re.sub(r"\bj/w\b", " jw ", t.lower()))
    m = _JUNCTION.match(shielded) or _SLASHED.match(shielded)
    if m and expect == "located":
        a, b = (g.replace("\x00", "/").strip() for g in m.groups())
        if a and b:
            return f"{b} / {a}"
    toks = t.split()
    if len(toks) >= 2 and toks[0].lower() in _LEAD:
        return f"{' '.join(toks[1:])}, {_LEAD[toks[0].lower()]}"
    if len(toks) >= 2 and _DISTRICT.match(toks[-1].lower()) and not _FULL_POSTCODE.search(t):
        return f"{toks[-1]} {' '.join(toks[:-1])}"  # "nw1 hyde park mansions"
    return None


def abbrev(text: str, expect: str, rng: random.Random) -> str | None:
    """Short forms expanded or long ones contracted, "the" dropped; sometimes all capitals with
    the punctuation gone (as some systems export)."""
    toks = text.split()
    out = []
    for t in toks:
        lo = t.lower()
        if lo in _SHORT and rng.random() < 0.8:
            out.append(_SHORT[lo])
        elif lo in _LONG and rng.random() < 0.8:
            out.append(_LONG[lo])
        elif lo == "the" and rng.random() < 0.7:
            continue
        else:
            out.append(t)
    new = " ".join(out)
    if rng.random() < 0.35:
        new = re.sub(r"[.,'()]", " ", new).upper()
        new = re.sub(r"\s+", " ", new).strip()
    if new.lower() == text.lower() or not new:
        return None
    return new


FAMILIES: dict[str, Family] = {
    "triage": triage,
    "report": report,
    "typos": typos,
    "narrative": narrative,
    "order": order,
    "abbrev": abbrev,
}


def family_set(gt: pd.DataFrame, name: str, seed: int = 0, rows: int | None = None) -> pd.DataFrame:
    """The ground truth rewritten by one family (rows it does not apply to are left out), with a
    ``family`` column. ``rows`` samples that many base rows first (same sample for every family
    with the same seed, so families are comparable)."""
    base = gt if rows is None or rows >= len(gt) else gt.sample(rows, random_state=seed)
    fn = FAMILIES[name]
    rng = random.Random(f"{name}:{seed}")
    texts = [fn(str(t), str(e), rng) for t, e in zip(base["text"], base["expect"], strict=True)]
    out = base.assign(text=pd.Series(texts, index=base.index, dtype=object), family=name)
    out = out[out["text"].notna() & out["text"].ne(base["text"])]
    return out.reset_index(drop=True)
