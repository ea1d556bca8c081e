"""istvhub.areas: statistical geography over time (LSOA 2011 -> 2021 conversion)."""
