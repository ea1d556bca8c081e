"""istvhub.equality: who is hurt, by age band x sex x weapon x location type, disclosure-controlled
with primary and secondary (complementary) suppression (issue 9, point 3)."""
