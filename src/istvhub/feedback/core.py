"""The monthly data-quality sheet for one emergency department (pure: frames in, sheet out).

What it shows, for one department and month (current version only):

- how many assault attendances were received and how many of their location texts were located,
  with the rest split by why (home: never located, by design; no place given; not found;
  ambiguous; outside London; not yet geocoded) and how many were located only coarsely (an area,
  a borough or a partial postcode: counted as located, but too vague for street blocks);
- the most common texts that failed or were vague, with counts, and for each a concrete piece of
  guidance derived from why it failed, in the spirit of "Black Lion pub on Commercial Road":
  a venue name alone needs its street, a street name alone needs its area or postcode district.

Record-level free text appears in this sheet, so it is only ever produced for that department's
own ED analyst (the API enforces it) and never mixes departments: the caller passes one
department's records and :func:`feedback_sheet` refuses a frame holding any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from istvhub._errors import IstvhubError

#: located, but at a precision too coarse for street blocks
VAGUE_MATCHES = ("area", "borough", "postcode_district", "postcode_sector")
FAILED = ("unknown", "unmatched", "ambiguous", "outside_area")

_VENUE_WORDS = {
    "pub",
    "bar",
    "club",
    "nightclub",
    "inn",
    "tavern",
    "arms",
    "restaurant",
    "cafe",
    "kebab",
    "chicken",
    "shop",
    "supermarket",
    "tesco",
    "sainsbury",
    "sainsburys",
    "asda",
    "lidl",
    "aldi",
    "mcdonalds",
    "maccys",
    "nandos",
    "kfc",
    "hotel",
    "cinema",
    "theatre",
    "church",
    "mosque",
    "school",
    "college",
    "park",
    "market",
    "centre",
    "center",
    "stadium",
    "hospital",
    "station",
    "stn",
    "estate",
    "garage",
    "library",
    "gym",
    "bookies",
    "casino",
    "venue",
}
_STREET_WORDS = {
    "road",
    "rd",
    "street",
    "st",
    "lane",
    "ln",
    "avenue",
    "ave",
    "av",
    "way",
    "close",
    "cl",
    "drive",
    "dr",
    "gardens",
    "gdns",
    "grove",
    "hill",
    "place",
    "pl",
    "square",
    "sq",
    "terrace",
    "crescent",
    "cres",
    "row",
    "walk",
    "parade",
    "broadway",
    "high",
    "mews",
    "court",
    "ct",
    "rise",
    "green",
    "embankment",
    "bridge",
}
_POSTCODE_DISTRICT = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\b")
_JUNCTION = re.compile(r"\b(jct|junction|j/w|corner|junc)\b|\w{2,}\s*/\s*\w{2,}|&| and ")
_WORD = re.compile(r"[a-z0-9']+")


class FeedbackError(IstvhubError):
    """A feedback sheet cannot be made as asked (names the option, never data)."""


@dataclass(frozen=True)
class Advice:
    problem: str
    guidance: str


NO_TEXT = Advice(
    "no location recorded",
    "Record where the assault happened: the street and area, or the venue and its street "
    "(e.g. 'Black Lion pub on Commercial Road').",
)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower().replace("'", "")))


def advise(
    text: str | None,
    geo_status: str | None,
    match_type: str | None = None,
    reason: str | None = None,
) -> Advice | None:
    """Why a text failed (or was vague) and what to record instead; None when nothing to fix
    (located precisely, or a home, which is never mapped by design)."""
    if geo_status in ("home",):
        return None
    if text is None or not str(text).strip():
        return NO_TEXT if geo_status != "located" else None
    t = str(text).lower()
    words = _words(t)
    venue = bool(words & _VENUE_WORDS)
    street = bool(words & _STREET_WORDS)
    if geo_status == "located":
        if match_type not in VAGUE_MATCHES:
            return None
        if match_type in ("postcode_district", "postcode_sector"):
            return Advice(
                "partial postcode only",
                "Add the street or venue to the postcode (e.g. 'Commercial Road E1').",
            )
        return Advice(
            f"{'borough' if match_type == 'borough' else 'area'} only",
            "Add the street, or the venue and its street: an area alone cannot be "
            "placed on a street block.",
        )
    if geo_status is None:
        return Advice("not geocoded yet", "No action: the hub has not geocoded this month yet.")
    if geo_status == "unknown":
        return Advice(
            "no place given (e.g. 'u/k', 'n/k')",
            "Ask where it happened and record the street and area, or the venue and "
            "its street; 'unknown' only when the patient cannot or will not say.",
        )
    if geo_status == "outside_area":
        return Advice(
            "place outside London",
            "Check the place: if the assault happened in London, record the London "
            "street or venue; if it really happened elsewhere, no action.",
        )
    if geo_status == "ambiguous":
        why = (reason or "").lower()
        kind = match_type or (
            "junction"
            if "junction" in why or _JUNCTION.search(t)
            else "venue"
            if venue or "venue" in why or "station" in why
            else "street"
        )
        if kind == "junction":
            return Advice(
                "junction of names found in several places",
                "Add the area or postcode district to the junction "
                "(e.g. 'junction Acre Lane / Brixton Hill, SW2').",
            )
        if kind in ("venue", "station"):
            return Advice(
                "venue name alone",
                "Add the street the venue is on (e.g. 'Black Lion pub on Commercial Road').",
            )
        if kind in ("area", "borough"):
            return Advice(
                "area name found in several places",
                "Add the street (and the borough or postcode district).",
            )
        return Advice(
            "street without area",
            "The street name exists in several places: add the area or the postcode "
            "district (e.g. 'Commercial Road E1' or 'Commercial Road, Whitechapel').",
        )
    # unmatched: judge from the words typed
    if _JUNCTION.search(t) and street:
        return Advice(
            "junction not found",
            "Check the spelling of both streets and add the area "
            "(e.g. 'junction Acre Lane / Brixton Hill, Brixton').",
        )
    if venue and not street:
        return Advice(
            "venue not found",
            "Add the street and area of the venue "
            "(e.g. 'Black Lion pub on Commercial Road, Whitechapel').",
        )
    if street:
        return Advice(
            "street not found",
            "Check the spelling and add the area or postcode district (e.g. 'Commercial Road E1').",
        )
    if _POSTCODE_DISTRICT.search(t):
        return Advice("postcode not recognised", "Check the postcode and add the street.")
    return Advice(
        "no recognisable place",
        "Record a street and area, or a venue and its street "
        "(e.g. 'Black Lion pub on Commercial Road').",
    )


def text_key(text: str | None) -> str:
    """Texts that differ only in case, spacing or punctuation count as one."""
    if text is None:
        return ""
    return " ".join(re.sub(r"[^a-z0-9/&]+", " ", str(text).lower()).split())


@dataclass
class FeedbackSheet:
    department: str
    department_name: str
    period: str
    summary: dict[str, int | float | None]
    texts: pd.DataFrame  # text, count, status, problem, guidance
    notes: list[str] = field(default_factory=list)


def _status_label(status: str | None, match_type: str | None) -> str:
    if status == "located" and match_type in VAGUE_MATCHES:
        return "located (vague)"
    return status or "not geocoded"


def feedback_sheet(
    records: pd.DataFrame, department: str, period: str, *, department_name: str = "", top: int = 25
) -> FeedbackSheet:
    """The sheet for ``department`` and ``period`` from that department's records (columns
    ``department, location_text, geo_status, match_type, reason``)."""
    department = department.upper()
    if len(records) and (records["department"].astype(str).str.upper() != department).any():
        raise FeedbackError("field 'department': records of another department were passed")
    n = len(records)
    status = (
        records["geo_status"].astype(object).where(records["geo_status"].notna(), None)
        if n
        else pd.Series(dtype=object)
    )
    mt = (
        records["match_type"].astype(object).where(records["match_type"].notna(), None)
        if n
        else pd.Series(dtype=object)
    )
    located = int((status == "located").sum())
    vague = int(((status == "located") & mt.isin(VAGUE_MATCHES)).sum())
    home = int((status == "home").sum())
    summary: dict[str, int | float | None] = {
        "records": n,
        "located": located,
        "located_precise": located - vague,
        "located_vague": vague,
        "home": home,
        "no_place_given": int((status == "unknown").sum()),
        "not_found": int((status == "unmatched").sum()),
        "ambiguous": int((status == "ambiguous").sum()),
        "outside_london": int((status == "outside_area").sum()),
        "not_geocoded": int(status.isna().sum()) if n else 0,
        "share_located": round(located / n, 4) if n else None,
        "share_located_excluding_home": round(located / (n - home), 4) if n - home else None,
    }
    rows = []
    if n:
        df = pd.DataFrame(
            {
                "text": records["location_text"]
                .astype(object)
                .where(records["location_text"].notna(), None),
                "status": status,
                "match_type": mt,
                "reason": records["reason"].astype(object).where(records["reason"].notna(), None)
                if "reason" in records
                else None,
            }
        )
        vague_m = (df["status"] == "located") & df["match_type"].isin(VAGUE_MATCHES)
        df = df[(df["status"].isin(FAILED) | df["status"].isna() | vague_m).to_numpy(bool)]
        df["key"] = [text_key(t) for t in df["text"]]
        df["label"] = [
            _status_label(s, m) for s, m in zip(df["status"], df["match_type"], strict=True)
        ]
        for (_key, label), g in df.groupby(["key", "label"], sort=False, dropna=False):
            shown = g["text"].dropna()
            text = shown.value_counts().index[0] if len(shown) else ""
            first = g.iloc[0]
            adv = advise(text or None, first["status"], first["match_type"], first["reason"])
            if adv is None:
                continue
            rows.append(
                {
                    "text": str(text).strip(),
                    "count": len(g),
                    "status": label,
                    "problem": adv.problem,
                    "guidance": adv.guidance,
                }
            )
    texts = pd.DataFrame(rows, columns=["text", "count", "status", "problem", "guidance"])
    if len(texts):
        texts = texts.sort_values(["count", "text"], ascending=[False, True], kind="stable")
        texts = texts.head(top).reset_index(drop=True)
    notes = [
        "For this department's ED analyst only: the texts below are record-level free text.",
        "Homes are never located (by design) and are not a recording problem.",
        "Crime mapping needs at least 85% of mappable locations found to be reliable "
        "(Ratcliffe 2004).",
    ]
    return FeedbackSheet(department, department_name, period, summary, texts, notes)
