"""istvhub.compliance"""
