"""The database schema (SQLAlchemy Core) and its versioned migrations.

One schema serves SQLite (the embedded default) and PostgreSQL (a council that runs several
app replicas). Months are stored as ``"YYYY-MM"`` text (police.uk's form; sorts and range-filters
as text on both engines). Geometry is stored as WKB in British National Grid (EPSG:27700), so
no spatial extension is required; analysis happens in geopandas.

``schema_version`` records which migrations have run, so an old database file is upgraded in
place by :func:`rc_dashboard.db.migrate` instead of breaking when the code moves on.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

SCHEMA_VERSION = 5  # 2: ward_sets / ward_set_areas (boundaries kept when replaced); 3: coverage, lsoas, incidents.area_status; 4: results; 5: recent_views

# Where an incident lies relative to the partnership's area (incidents.area_status). One definition,
# used by every read: only AREA_STATUS_COUNTED rows reach a total, map, measure or report.
#   ward     inside a ward of the area (or within the boundary tolerance of one)
#   outside  located, but outside every ward (a force-wide police file covers several districts)
#   none     no location, in a partner's own log: the partner's incident, counted in area totals
#   force    no location, in a force-wide police.uk file: cannot be placed in the area, not counted
AREA_STATUSES = ("ward", "outside", "none", "force")
AREA_STATUS_COUNTED = ("ward", "none")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# Small key/value facts that every app replica must share, such as the data version the caches key on.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

areas = Table(
    "areas",
    metadata,
    Column("ward_code", String(9), primary_key=True, comment="ONS GSS ward code, e.g. E05001301"),
    Column("ward_name", String(128), nullable=False),
    Column("locality", String(64), nullable=True, comment="Locality / district the ward belongs to"),
    Column("lad_code", String(9), nullable=True),
    Column("lad_name", String(128), nullable=True),
    Column("population", Integer, nullable=True, comment="Usual residents"),
    Column("area_sq_m", Float, nullable=True, comment="Square metres, from the BNG geometry"),
    Column("geometry_wkb", LargeBinary, nullable=True, comment="WKB, EPSG:27700"),
)

# Every ward set a boundary import replaced, kept whole so it can be restored
# (python -m rc_dashboard wards restore ID): nothing lost means nothing silently replaced.
ward_sets = Table(
    "ward_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("replaced_at", DateTime(timezone=True), nullable=False),
    Column("replaced_by", String(128), nullable=True, comment="who imported the boundaries that replaced it"),
    Column("replaced_by_import", Integer, nullable=True, comment="imports.id of the replacing import"),
    Column("wards", Integer, nullable=False),
)

ward_set_areas = Table(
    "ward_set_areas",
    metadata,
    Column("set_id", Integer, ForeignKey("ward_sets.id"), primary_key=True),
    Column("ward_code", String(9), primary_key=True),
    Column("ward_name", String(128), nullable=False),
    Column("locality", String(64), nullable=True),
    Column("lad_code", String(9), nullable=True),
    Column("lad_name", String(128), nullable=True),
    Column("population", Integer, nullable=True),
    Column("area_sq_m", Float, nullable=True),
    Column("geometry_wkb", LargeBinary, nullable=True),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "kind", String(32), nullable=False, comment="police, incidents, counts, wards, localities, population, demo"
    ),
    Column("source", String(32), nullable=True),
    Column("file_name", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_read", Integer, nullable=False, server_default=text("0")),
    Column("rows_inserted", Integer, nullable=False, server_default=text("0")),
    Column("rows_updated", Integer, nullable=False, server_default=text("0")),
    Column("rows_unchanged", Integer, nullable=False, server_default=text("0")),
    Column("rows_dropped", Integer, nullable=False, server_default=text("0")),
    Column("details", Text, nullable=True, comment="JSON: dropped-row reasons and other notes"),
    Column("imported_by", String(128), nullable=True),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False, comment="police, council, fire, housing, ..."),
    Column("source_ref", String(128), nullable=True, comment="Police Crime ID or partner reference"),
    Column("force", String(64), nullable=True, comment="police.uk 'Reported by'; partner name otherwise"),
    Column("month", String(7), nullable=False, comment="YYYY-MM"),
    Column("occurred_on", Date, nullable=True),
    Column("category", String(64), nullable=False, comment="police.uk crime type or harmonised partner category"),
    Column("source_category", String(128), nullable=True, comment="the category as the source wrote it"),
    Column("lon", Float, nullable=True, comment="WGS84 degrees"),
    Column("lat", Float, nullable=True, comment="WGS84 degrees"),
    Column("easting", Float, nullable=True, comment="British National Grid metres"),
    Column("northing", Float, nullable=True, comment="British National Grid metres"),
    Column("ward_code", String(9), nullable=True, comment="null: no location, or outside every ward"),
    Column("lsoa_code", String(9), nullable=True),
    Column("location", String(255), nullable=True, comment="free text, e.g. 'On or near Mill Lane'"),
    Column("outcome", String(128), nullable=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
    Column(
        "area_status",
        String(8),
        nullable=False,
        server_default=text("'ward'"),
        comment="ward, outside, none or force (see AREA_STATUSES)",
    ),
    # Few indexes on purpose: each costs ~0.7 s per million rows loaded. (month, source, force) serves
    # month ranges and the replacement of a (source, force, month) partition; (ward, month) ward
    # drill-downs; the unique reference index the upsert.
    Index("ix_incidents_month_source_force", "month", "source", "force"),
    Index("ix_incidents_ward_month", "ward_code", "month"),
    Index(
        "ux_incidents_source_ref",
        "source",
        "source_ref",
        unique=True,
        sqlite_where=text("source_ref IS NOT NULL"),
        postgresql_where=text("source_ref IS NOT NULL"),
    ),
)

# Rows without a reference (police.uk ASB has no Crime ID) cannot be upserted one by one; they are
# replaced as a whole per (source, force, month). The fingerprint lets a re-import of the same rows
# be recognised as "unchanged" instead of delete-and-insert.
partitions = Table(
    "partitions",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("force", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("row_count", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
)

# Which feed (source and organisation / force) covers which month. A covered month with no rows is
# a true zero; a month a feed does not cover is missing, and is never read as zero. A police.uk
# file covers its month; a partner file covers the period stated at import (default: its first to
# its last month with rows). Aggregated counts are recorded with force "" (area_counts has none).
coverage = Table(
    "coverage",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("force", String(64), primary_key=True),
    Column("month", String(7), primary_key=True, comment="YYYY-MM"),
    Column("kind", String(16), nullable=False, server_default=text("'incidents'"), comment="incidents or counts"),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
)

# LSOA -> ward best-fit lookup (ONS publishes these per boundary vintage); used to place
# partner rows that carry only an LSOA code, and to sum LSOA populations to wards.
lsoa_wards = Table(
    "lsoa_wards",
    metadata,
    Column("lsoa_code", String(9), primary_key=True),
    Column("ward_code", String(9), nullable=False),
    Column("lsoa_name", String(128), nullable=True),
    Column("method", String(32), nullable=True, comment="lookup file, largest overlap or centroid"),
)

# LSOA boundaries (for deriving the LSOA-to-ward lookup when ONS's is not at hand).
lsoas = Table(
    "lsoas",
    metadata,
    Column("lsoa_code", String(9), primary_key=True),
    Column("lsoa_name", String(128), nullable=True),
    Column("geometry_wkb", LargeBinary, nullable=True, comment="WKB, EPSG:27700"),
)

# Partners who share only aggregated counts: they join measures and ward summaries, never point maps.
area_counts = Table(
    "area_counts",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("month", String(7), primary_key=True, comment="YYYY-MM"),
    Column("ward_code", String(9), primary_key=True, comment="'' when the area is outside every ward"),
    Column("category", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
)

# Values of measures that are not incident counts (survey results, referrals), entered by form or CSV.
measure_values = Table(
    "measure_values",
    metadata,
    Column("measure_id", String(64), primary_key=True),
    Column("period", String(12), primary_key=True, comment="YYYY-MM, or a financial quarter such as 2025/26-Q2"),
    Column("value", Float, nullable=False),
    Column("note", Text, nullable=True),
    Column("entered_by", String(128), nullable=True),
    Column("entered_at", DateTime(timezone=True), nullable=False),
)

# The measures register as edited by an admin in the app (YAML text); the newest row wins over
# config/measures.yaml, so every replica shows the same register.
measure_register = Table(
    "measure_register",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_yaml", Text, nullable=False),
    Column("saved_by", String(128), nullable=True),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)

# Analyses computed once per data version and shared by every session and replica (issue 15): the
# hotspot scan, ward summaries, the Overview's cube. ``key`` hashes everything the result depends on
# (kind, the version of the data it was computed from, the configuration, the resolved inputs); a
# row with status "computing" and no payload is the marker that tells other processes to wait.
results = Table(
    "results",
    metadata,
    Column("key", String(64), primary_key=True, comment="sha256 of kind, version, configuration and inputs"),
    Column("kind", String(32), nullable=False, comment="hotspots, ward_summaries, cube, ..."),
    Column("version", Integer, nullable=False, comment="the data version it was computed from"),
    Column("status", String(12), nullable=False, comment="computing, ready or refused"),
    Column("owner", String(128), nullable=True, comment="host and process computing it"),
    Column("started_at", Float, nullable=False, comment="Unix seconds"),
    Column("seconds", Float, nullable=True, comment="how long the computation took"),
    Column("inputs", Text, nullable=True, comment="JSON of the resolved inputs, for people"),
    Column("message", Text, nullable=True, comment="why it was refused (status refused)"),
    Column("payload", LargeBinary, nullable=True, comment="rc_dashboard.storable archive"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_name", String(128), nullable=True),
    Column("role", String(32), nullable=True),
    Column("action", String(64), nullable=False, comment="import, export, view_points, ..."),
    Column("detail", Text, nullable=True),
    Index("ix_audit_log_at", "at"),
)


def text_limits(table: Table) -> dict[str, int | None]:
    """Text column -> the most characters it holds (None for unlimited text), for checks before a write."""
    return {column.name: column.type.length for column in table.columns if isinstance(column.type, String)}


# Views the app's servers drew recently (rc_dashboard.recent_views): a server that starts makes
# them again before people ask. Arguments are a data-only archive (rc_dashboard.results_codec).
recent_views = Table(
    "recent_views",
    metadata,
    Column("view", String(64), primary_key=True, comment="the cached view's name (rc_dashboard.ui.cached)"),
    Column("arguments_key", String(64), primary_key=True, comment="sha256 of the view's name and arguments"),
    Column("arguments", LargeBinary, nullable=False, comment="rc_dashboard.results_codec archive, never pickle"),
    Column("newest_quarter", Boolean, nullable=False, comment="it showed the newest complete quarter"),
    Column("served_at", Float, nullable=False, comment="Unix seconds it was last saved as served"),
)
