"""Word sets shared by candidate generation, the typo corrector and the readers of a text:
which words are street types, connectors, generic place words or ED vocabulary."""

from __future__ import annotations

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
