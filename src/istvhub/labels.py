"""Codes of the canonical record in the words analysts use (pages, charts, legends).

The codes stay the contract (API parameters, exports); these are only how a person reads them.
"""

from __future__ import annotations

WEAPON_WORDS = {
    "body_part": "Body part (fist, foot, head)",
    "sharp": "Knife or sharp object",
    "blunt": "Blunt object",
    "glass": "Bottle or glass",
    "firearm": "Firearm",
    "other": "Other weapon",
    "unknown": "Not known",
}
LOCATION_WORDS = {
    "street": "Street or public place",
    "licensed_premises": "Pub, bar or club",
    "home": "Home",
    "workplace": "Workplace",
    "school": "School or college",
    "transport": "Public transport",
    "other": "Other place",
    "unknown": "Not known",
}
DAY_WORDS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
