"""istvhub.geocode"""
