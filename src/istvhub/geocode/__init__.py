"""istvhub.geocode: ED free text -> point, street block, LSOA, calibrated confidence, reason."""

from istvhub.geocode.geocoder import Geocoder

__all__ = ["Geocoder"]
