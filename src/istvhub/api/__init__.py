"""istvhub.api"""
