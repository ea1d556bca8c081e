"""istvhub: collate, clean, geocode and publish ED assault data (Cardiff Model / London ISTV)."""

__version__ = "0.1.0"
