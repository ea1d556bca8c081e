"""istvhub.store"""
