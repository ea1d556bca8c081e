"""istvhub.compare: ED assault attendances beside police-recorded violence (police.uk).

``police`` reads the police.uk street-level CSV and API JSON (violence only); ``core`` puts
both on the same blocks, H3 cells and LSOAs with the hot-blocks assignment and protects the
health-derived numbers; ``report`` writes the ranking; ``commands`` is ``istvhub compare``.
See docs/COMPARE.md.
"""
