"""Fixed cue words and thresholds the stages share (what says station, venue, junction)."""

JUNCTION_WORDS = frozenset("junction corner with and / x crossing meets".split())
AREA_TYPES = ("area", "borough")
MAIN_POI = ("station", "venue", "hospital", "school")
#: words that say the text names an establishment (so unexplained words are its name)
#: street types that make a name a road rather than a place ("common", "green" are places)
ROAD_WORDS = frozenset(
    "road street lane avenue place square crescent close court drive grove hill terrace walk "
    "way row mews rise vale yard wharf embankment approach passage alley".split()
)
STATION_CUES = frozenset("station tube overground underground dlr rail railway tram".split())
VENUE_CUES = frozenset(
    "pub bar club nightclub cafe coffee restaurant takeaway shop hotel inn tavern arms "
    "lounge kitchen grill chicken station tube theatre cinema gym church mosque school "
    "college hospital market arena stadium hall centre".split()
)


MIN_LONDON_SECTOR_UNITS = 40
PC_RADIUS = {"postcode_sector": 800.0, "postcode_district": 2000.0}
MAX_JUNCTION_GAP_M = 600.0  # postcode points are sparse: streets that meet can be 400 m apart
FAR_GUARD_KM = 25.0
