"""Risks the decide stage can see in an answer that no fitting set shows, and the most the
confidence may then claim.

The calibration is fitted on our own dev texts and noise families; the police.uk labels
(real text, never fitted on) showed wrong answers at 0.97-0.99 that the text itself
contradicts, and a fitted weight cannot learn a pattern its fitting texts never hold. So these
are checks on the text against the answer, each with a cap on the calibrated confidence:

- ``type_word``: the text states a street type word right after the answer's name, and the
  answer is not of that type ("edmund halley way" -> the venue Edmund Halley; "fortrose close"
  -> Fortrose Gardens): the place named is probably one the gazetteer lacks.
- ``name_extended``: a spelling correction cut a typed word down to a shorter name
  ("jenkinson" -> Jenkins): a longer name is a different name, not a typo of it.
- ``department_guess``: among same-name places the department's distance alone chose (no
  fitting set carries departments; on the police.uk labels such choices were right 60%).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from istvhub.geocode.candidates import STREET_TYPE_WORDS
from istvhub.geocode.cues import ROAD_WORDS
from istvhub.geocode.normalise import normalise_text

if TYPE_CHECKING:
    from istvhub.geocode.explain import Loc

RISK_CAPS = {"type_word": 0.5, "name_extended": 0.5, "department_guess": 0.8}
_NAMED = ("street", "venue", "station", "area", "borough")


def answer_risks(loc: Loc, tokens: list[str], corrected: list[str]) -> tuple[str, ...]:
    """The risks of ``loc`` (an explain.Loc) given the text's tokens, in RISK_CAPS order."""
    out: list[str] = []
    name = _name_words(str(loc.name))
    if loc.match_type in _NAMED and name:
        core = name[:-1] if len(name) > 1 and name[-1] in STREET_TYPE_WORDS else name
        if any(
            w in ROAD_WORDS and w not in name and corrected[k - 1] == core[-1]
            for k, w in enumerate(corrected)
            if k
        ):
            out.append("type_word")
    in_name = set(name)
    if any(
        t != c and c in in_name and t.startswith(c) and len(t) - len(c) >= 2
        for t, c in zip(tokens, corrected, strict=True)
    ):
        out.append("name_extended")
    if "nearest the department" in str(loc.reason) and not loc.ctx_hits:
        out.append("department_guess")
    return tuple(out)


@lru_cache(maxsize=65536)
def _name_words(name: str) -> tuple[str, ...]:
    """A gazetteer name in the text's normal form (cached: names repeat across texts)."""
    return tuple(normalise_text(name).split())


def risk_cap(risks: tuple[str, ...]) -> float:
    """The most the confidence may claim given ``risks`` (1.0 when there are none)."""
    return min((RISK_CAPS[r] for r in risks), default=1.0)
