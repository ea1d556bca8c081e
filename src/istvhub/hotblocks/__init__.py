"""istvhub.hotblocks"""
