"""Gazetteer: a London place index and street network built from real open data."""
