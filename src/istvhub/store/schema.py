"""Table schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Versioning: every upload of a department-month is a row in ``submissions`` with an increasing
``version``; exactly one version per (department, period) has ``status='current'``, older ones are
``superseded`` and kept with their records. Queries for analysis join ``records`` to current
submissions only. Geocode results live on the record row (filled at ingest, refreshed by
``istvhub geocode --stored``) with the gazetteer version they came from.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
)

metadata = MetaData()

departments = Table(
    "departments",
    metadata,
    Column("ods_code", String(12), primary_key=True),
    Column("name", Text, nullable=False),
    Column("dept_type", String(8), nullable=False),  # 01 Type 1 ED, 03 UTC/walk-in, ...
    Column("borough", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("easting", Float),
    Column("northing", Float),
    Column("sharing_since", String(7)),  # YYYY-MM the department joined ISTV; null = always
    Column("source", Text),
)

submissions = Table(
    "submissions",
    metadata,
    Column("submission_id", Integer, primary_key=True, autoincrement=True),
    Column("department", String(12), ForeignKey("departments.ods_code"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(12), nullable=False),  # current | superseded
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("source_filename", Text, nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("rows_total", Integer, nullable=False, default=0),
    Column("rows_accepted", Integer, nullable=False, default=0),
    Column("rows_quarantined", Integer, nullable=False, default=0),
    Column("rows_skipped", Integer, nullable=False, default=0),  # e.g. ECDS non-assault intent
    Column("pii_scrubbed", Integer, nullable=False, default=0),
    Column("uploaded_by", Text),
    UniqueConstraint("department", "period", "version", name="uq_submission_version"),
    Index("ix_submissions_dept_period", "department", "period"),
    Index("ix_submissions_status", "status", "department", "period"),  # the current versions
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.submission_id"), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("department", String(12), nullable=False),
    Column("period", String(7), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("arrival_at", DateTime, nullable=False),
    Column("incident_date", Date),
    Column("incident_time", Time),
    Column("location_text", String(255)),
    Column("location_type", String(20), nullable=False),
    Column("weapon", String(12), nullable=False),
    Column("weapon_text", String(255)),
    Column("age_band", String(8), nullable=False),
    Column("sex", String(8), nullable=False),
    # geocode result (issue 4); null until geocoded
    Column("geo_status", String(16)),
    Column("match_type", String(20)),
    Column("lat", Float),
    Column("lon", Float),
    Column("easting", Float),
    Column("northing", Float),
    Column("precision_m", Float),
    Column("confidence", Float),
    Column("matched_name", Text),
    Column("lsoa_code", String(9)),
    Column("lsoa21_code", String(9)),  # Census 2021 areas (revision 0003)
    Column("msoa21_code", String(9)),
    Column("borough", Text),
    Column("block_id", String(32)),
    Column("reason", Text),
    Column("gazetteer_version", String(40)),
    Column("geocoded_at", DateTime(timezone=True)),
    UniqueConstraint("submission_id", "record_id", name="uq_record_in_submission"),
    Index("ix_records_dept_period", "department", "period"),
    Index("ix_records_record_id", "record_id"),
    # London-wide layers filter on a period range alone (revision 0002)
    Index("ix_records_period", "period"),
    Index("ix_records_submission", "submission_id"),
    # the layer cache's fingerprint reads max(geocoded_at) per download (revision 0005)
    Index("ix_records_geocoded_at", "geocoded_at"),
)
# a CSP's questions filter on its borough, matched case-insensitively (revision 0002)
Index("ix_records_borough_period", func.lower(records.c.borough), records.c.period)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.submission_id"), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("field", Text),
    Column("reason", Text, nullable=False),  # never the raw value: it may be personal data
)

geocode_corrections = Table(
    "geocode_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("normalised_text", Text, nullable=False),
    Column("department", String(12)),  # null = applies London-wide
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Integer, nullable=False, default=1),
    Index("ix_corrections_text", "normalised_text"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("detail", Text),
    Column("client", Text),
)

#: Per-submission record statistics maintained on every write to ``records`` (store, re-geocode;
#: revision 0006), so compliance reads one row per submission instead of grouping every record.
submission_stats = Table(
    "submission_stats",
    metadata,
    Column("submission_id", Integer, ForeignKey("submissions.submission_id"), primary_key=True),
    Column("department", String(12), nullable=False),
    Column("period", String(7), nullable=False),
    *(
        Column(name, Integer, nullable=False, default=0)
        for name in (
            "records",
            "n_incident_date",
            "n_incident_time",
            "n_location_text",
            "n_location_type",
            "n_weapon",
            "n_geocoded",
            "n_located",
            "n_home",
            "n_unknown",
            "n_unmatched",
            "n_outside_area",
            "n_ambiguous",
        )
    ),
)

#: Per-submission record statistics kept when retention deletes a submission's records (issue 9.5),
#: so compliance reports old months exactly as before. Counts only: no record-level data.
record_stats_archive = Table(
    "record_stats_archive",
    metadata,
    Column("submission_id", Integer, ForeignKey("submissions.submission_id"), primary_key=True),
    Column("department", String(12), nullable=False),
    Column("period", String(7), nullable=False),
    Column("records", Integer, nullable=False, default=0),
    Column("n_incident_date", Integer, nullable=False, default=0),
    Column("n_incident_time", Integer, nullable=False, default=0),
    Column("n_location_text", Integer, nullable=False, default=0),
    Column("n_location_type", Integer, nullable=False, default=0),
    Column("n_weapon", Integer, nullable=False, default=0),
    Column("n_geocoded", Integer, nullable=False, default=0),
    Column("n_located", Integer, nullable=False, default=0),
    Column("n_home", Integer, nullable=False, default=0),
    Column("n_unknown", Integer, nullable=False, default=0),
    Column("n_unmatched", Integer, nullable=False, default=0),
    Column("n_outside_area", Integer, nullable=False, default=0),
    Column("n_ambiguous", Integer, nullable=False, default=0),
    Column("archived_at", DateTime(timezone=True), nullable=False),
)

# --------------------------------------------------------------------------- users and tokens (API)
ROLES = ("ed_analyst", "csp_analyst", "mopac", "admin")

api_users = Table(
    "api_users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),  # null = active
)

# which departments (ED analysts) or boroughs (CSP analysts) a user may see
api_user_scopes = Table(
    "api_user_scopes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("api_users.user_id"), nullable=False),
    Column("kind", String(12), nullable=False),  # department | borough
    Column("value", Text, nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_user_scope"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("api_users.user_id"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),  # first characters, to tell tokens apart in lists
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),  # null = no expiry
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
)

#: Layout mappings an analyst accepted for a department (issue 17): the mapping TOML as accepted,
#: found again next month by the file's header signature. Column names and code words only.
department_mappings = Table(
    "department_mappings",
    metadata,
    Column("mapping_id", Integer, primary_key=True, autoincrement=True),
    Column("department", String(12), ForeignKey("departments.ods_code"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("toml", Text, nullable=False),
    Column("accepted_by", Text),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("active", Integer, nullable=False, default=1),
    Index("ix_department_mappings_dept", "department", "active"),
)
