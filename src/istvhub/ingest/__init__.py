"""istvhub.ingest"""
