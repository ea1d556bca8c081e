"""The columns of a compliance cell (one department-month) and the counts they are made from:
one definition the grid, the renderers and the store's statistics agree on."""

from __future__ import annotations

from istvhub.store.repos.stats import STAT_COLUMNS as STORE_STAT_COLUMNS

#: Counts per department-month of the current version's records (the ``record_stats`` frame),
#: one definition: the store's archive columns
STAT_COLUMNS = STORE_STAT_COLUMNS
#: ISTV fields whose completeness is reported: (cell column, count column).
COMPLETENESS = (
    ("complete_incident_date", "n_incident_date"),
    ("complete_incident_time", "n_incident_time"),
    ("complete_location_text", "n_location_text"),
    ("complete_location_type", "n_location_type"),
    ("complete_weapon", "n_weapon"),
)
STATUSES = ("received", "missing", "pending", "not_expected")
RAGS = ("green", "amber", "red", "grey")

#: Columns of a cell (one department-month), in the order the CSV and JSON carry them.
CELL_COLUMNS = (
    "department",
    "name",
    "borough",
    "dept_type",
    "period",
    "expected",
    "status",
    "due_at",
    "received_at",
    "last_received_at",
    "on_time",
    "days_late",
    "versions",
    "records",
    "rows_total",
    "rows_quarantined",
    "rows_skipped",
    *(c for c, _ in COMPLETENESS),
    "geocoded",
    "share_located",
    "share_home",
    "share_unknown",
    "share_unmatched",
    "share_located_of_non_home",
    "trailing_median",
    "drop_flag",
    "rag",
    "reasons",
)
