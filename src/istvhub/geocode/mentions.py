"""Mentions: which runs of words are place names (tiled spans) and which words are left over
(the residual and the phrases between connector words)."""

from __future__ import annotations

from rapidfuzz.distance import OSA

from istvhub.geocode.candidates import STOPWORDS, PlaceIndex, SpanHit
from istvhub.geocode.chains import chain_names
from istvhub.geocode.classify import UNKNOWN_WORDS
from istvhub.geocode.lexicon import Lexicon, english_freq, lexicon_of, zipf
from istvhub.geocode.normalise import SEPARATORS


def residual_words(tokens: list[str], chosen: list[SpanHit], taken: set[int]) -> str:
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


def segments_of(tokens: list[str], taken: set[int]) -> list[str]:
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


def tile(spans: list[SpanHit], taken_tokens: set[int]) -> list[SpanHit]:
    """Non-overlapping spans, longest and best first, in text order."""
    chosen: list[SpanHit] = []
    used = set(taken_tokens)

    def content(s: SpanHit) -> int:  # "bridge house" names more than "the bridge"
        return sum(w not in _FUNCTION for w in s.key.split())

    for s in sorted(spans, key=lambda s: (-(s.end - s.start), -content(s), -s.quality, s.start)):
        rng = set(range(s.start, s.end))
        if rng & used:
            continue
        # single stopword-led spans ("at") never stand alone
        if s.end - s.start == 1 and s.key in STOPWORDS:
            continue
        chosen.append(s)
        used |= rng
    return sorted(chosen, key=lambda s: s.start)


# ---------------------------------------------------------------- the mention stage (issue 12)
#: entry types a single common word may still name on its own ("bank", "angel", "oval")
_BARE_WORD_TYPES = frozenset(("station", "area", "borough"))


def correct_tokens(
    ix: PlaceIndex, tokens: list[str]
) -> tuple[list[str], list[float], dict[int, list[tuple[str, float]]]]:
    """Typo correction that pays for its risk: a token is corrected to a gazetteer word only
    when the place reading beats the English reading (``Lexicon.edit_pays``), and an accepted
    correction of an English word costs quality in proportion to how common the word is."""
    lex = lexicon_of(ix)
    corrected: list[str] = []
    quality: list[float] = []
    alts: dict[int, list[tuple[str, float]]] = {}
    for k, t in enumerate(tokens):
        if t in SEPARATORS:
            corrected.append(t)
            quality.append(1.0)
            continue
        c, q = ix.correct_token(t)
        if c != t:
            if not lex.edit_pays(t, c, int(OSA.distance(t, c))):
                c, q = t, 1.0
            else:
                q = q - 0.04 * max(0.0, zipf(t) - 3.0)
                more = [
                    (w, wq - 0.04 * max(0.0, zipf(t) - 3.0))
                    for w, wq in ix.alternatives(t)
                    if lex.edit_pays(t, w, int(OSA.distance(t, w)))
                ]
                if more:
                    alts[k] = more
        corrected.append(c)
        quality.append(q)
    return corrected, quality, alts


def span_evidence(lex: Lexicon, tokens: list[str], span: SpanHit) -> float:
    """Summed place-vs-narrative evidence of the words a span reads (corrections paid for)."""
    used = span.key.split()
    orig = tokens[span.start : span.end]
    if len(used) != len(orig):  # "the" dropped or added by the lookup: judge as written
        return sum(lex.evidence(t) for t in orig if t not in _FUNCTION)
    ev = 0.0
    for t, u in zip(orig, used, strict=True):
        if t in _FUNCTION:
            continue
        ev += lex.evidence(t) if t == u else lex.corrected_evidence(t, u, int(OSA.distance(t, u)))
    if span.how == "exact" and (
        orig[0] == "the" or (span.start > 0 and tokens[span.start - 1] == "the")
    ):
        ev += LOG_LOCATIVE  # "the cut", "opp the comedy": a proper name's article
    return ev


#: log10 chance that a receptionist drops a street's type word ("acre" for Acre Lane)
LOG_NO_TYPE_WORD = -1.0
#: evidence above which a one-word mention is sure enough to stand beside another place
SURE = 1.0


#: words inside names that carry no content ("just jenny's" has two content words)
_FUNCTION = frozenset("the a an of and at in on by to from or".split())
#: words after which the next words are the place (positional evidence: "on the cut")
LOCATIVE = frozenset(
    "on in at off along near outside opposite by behind inside nr opp junction corner".split()
)
#: log10 odds a locative word in front adds ("on the cut": The Cut, not a cut)
LOG_LOCATIVE = 1.0


def _content(tokens: list[str], s: SpanHit) -> int:
    return sum(t not in _FUNCTION for t in tokens[s.start : s.end])


def _after_locative(tokens: list[str], s: SpanHit) -> bool:
    """The span follows a locative word ("on the cut") or opens a comma segment."""
    k = s.start - 1
    if k >= 0 and tokens[k] == "the":
        k -= 1
    if k < 0 or tokens[k] in LOCATIVE or tokens[k] in SEPARATORS:
        return True
    w = tokens[k]  # "outsdie zeal": a misspelt locative word is still one
    return len(w) >= 5 and any(len(v) >= 6 and OSA.distance(w, v) <= 1 for v in LOCATIVE)


def place_mentions(ix: PlaceIndex, tokens: list[str], spans: list[SpanHit]) -> list[SpanHit]:
    """The spans that are place mentions, not narrative. Two content words naming one place
    together are kept (no accident of narrative). A one-word span is judged by its evidence
    (``Lexicon``): likelier English than a name word and read loosely (corrected, or without
    its type word, which costs ``LOG_NO_TYPE_WORD``) it is dropped ("private" for Private
    Road, "evening" for Evening Hill); a weak one-word venue or street ("comedy", "mary") is
    dropped when the text names another place surely, and kept when it is all the text names
    ("outside fabric"). Stations and areas keep their bare names ("bank", "angel")."""
    if not spans:
        return spans
    lex = lexicon_of(ix)
    ev = []
    for s in spans:
        e = span_evidence(lex, tokens, s)
        if s.how == "core":
            e += LOG_NO_TYPE_WORD
        if _after_locative(tokens, s):
            e += LOG_LOCATIVE
        ev.append(e)
    # a one-word venue name that is an English word ("face", "spread") is judged as a whole:
    # how many places bear the name against how common the word is in English
    for k, s in enumerate(spans):
        words = [t for t in tokens[s.start : s.end] if t not in _FUNCTION]
        if (
            s.how == "exact"
            and len(words) == 1
            and english_freq(words[0]) > 0
            and all(ix.etype[i] == "venue" for i in s.ids)
        ):
            pos = ev[k] - span_evidence(lex, tokens, s)
            ev[k] = min(ev[k], lex.name_evidence(words, len(s.ids)) + pos)
    # a chain's name ("tesco", "maccys") is a shop, however short (geocode/venues.py)
    chains = chain_names()
    multi = [_content(tokens, s) >= 2 or (s.how == "exact" and s.key in chains) for s in spans]
    sure = [m or e >= SURE for m, e in zip(multi, ev, strict=True)]
    out: list[SpanHit] = []
    for k, (s, e) in enumerate(zip(spans, ev, strict=True)):
        if multi[k]:
            out.append(s)
            continue
        if e < 0.0 and s.how != "exact":
            continue  # a loose reading of narrative words: never a place
        bare = any(ix.etype[i] in _BARE_WORD_TYPES for i in s.ids) and s.how == "exact"
        if e < SURE and not bare:
            sure_elsewhere = any(
                sure[j] and (o.end <= s.start or o.start >= s.end)
                for j, o in enumerate(spans)
                if j != k
            )
            if sure_elsewhere or e < 0.0 or not _after_locative(tokens, s):
                continue  # "in an open field": a common word not where a place stands
        out.append(s)
    return out


#: words that make the place after them the scene ("in kent", "on holiday in spain")
_SCENE_WORDS = frozenset("in at to from near visiting holiday festival".split())
#: Zipf frequency from which a town's name is first an English word ("reading": 5.1)
_HOMOGRAPH_ZIPF = 5.0
_PLACE_AFTER = frozenset("town centre center city station high road festival area".split())
#: a London mention this compact (metres, every reading) is one specific place
_SPECIFIC_M = 3000.0


def outside_is_narrative(
    ix: PlaceIndex,
    tokens: list[str],
    spans: list[SpanHit],
    hits: list[tuple[int, int]],
    london_postcode: bool,
) -> bool:
    """Outside area needs the outside place to be the scene: beside a specific London
    mention (one place, not a "high street" found in every town, or a London postcode), an
    outside-area word that no scene word introduces is narrative ("o/s aldgate stn -
    supporters liverpool", "jewel tower cafe, spain by doctors"), and the text is located."""
    if not hits:
        return False
    for i, _j in hits:
        k = i - 1
        if k >= 0 and tokens[k] == "the":
            k -= 1
        if k >= 0 and tokens[k] in _SCENE_WORDS:
            return False
    if london_postcode:
        return True
    # a town whose name is a common English word ("reading") needs the text to use it as a
    # place: alone, after a scene word, or before a place word ("reading town centre")
    content = [t for t in tokens if t not in _FUNCTION and t not in SEPARATORS]
    if len(content) > 1 and all(
        j - i == 1
        and zipf(tokens[i]) >= _HOMOGRAPH_ZIPF
        and not (j < len(tokens) and tokens[j] in _PLACE_AFTER)
        for i, j in hits
    ):
        return True
    lex = lexicon_of(ix)
    for s in spans:
        if any(s.start < j and i < s.end for i, j in hits):
            continue
        if not (_content(tokens, s) >= 2 or span_evidence(lex, tokens, s) >= SURE):
            continue
        rows = list(s.ids)
        if not rows:
            continue
        xs, ys = ix.x[rows], ix.y[rows]
        if max(float(xs.max() - xs.min()), float(ys.max() - ys.min())) <= _SPECIFIC_M:
            return True
    return False


def says_unknown(
    ix: PlaceIndex, tokens: list[str], spans: list[SpanHit], has_unknown: bool
) -> bool:
    """No place mention, an unknown phrase, and nothing else but narrative words: "pt not
    sure where it happened" is unknown, while "outside mangal" (a name the gazetteer lacks)
    stays unmatched."""
    if spans or not has_unknown:
        return False
    lex = lexicon_of(ix)
    return all(
        t in SEPARATORS or t in _FUNCTION or t in STOPWORDS or lex.is_narrative(t) or t.isdigit()
        for t in tokens
        if t not in UNKNOWN_WORDS
    )
