"""istvhub.retention: delete record-level data past its retention period (issue 9, point 5)."""
