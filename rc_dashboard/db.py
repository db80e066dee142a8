"""Database engines, migrations and the shared data version.

SQLite is tuned for a dashboard that is read by many sessions while an analyst imports:
WAL journal (readers never wait for the writer), a busy timeout instead of instant
"database is locked" errors, NORMAL synchronous mode (safe with WAL), and 16 KiB pages
for new database files (fewer page reads and writes in bulk imports and scans).
"""

from __future__ import annotations

import gc
import io
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from rc_dashboard import schema

SQLITE_BUSY_TIMEOUT_MS = 30_000
# 16 KiB pages instead of SQLite's 4 KiB: a million-row import reads and writes a quarter as many
# pages (WAL frames, checkpoint copies, index-build scans), which measured 15-25 % faster to store;
# the incident rows are ~250 bytes, so a page still holds ~60 of them.
SQLITE_PAGE_SIZE = 16_384
WAL_CHECKPOINT_BYTES = 1000 * 4096  # SQLite's default threshold (1,000 pages) at its default page size
DATA_VERSION_KEY = "data_version"
# Bumped only by changes to incidents, counts, areas or coverage (not by survey values or the
# measures register), so an entered survey value does not throw away a stored hotspot scan.
INCIDENTS_VERSION_KEY = "incidents_version"
INCIDENTS_CHANGE_KEY = "incidents_change"  # what the last change of incidents touched: bump_data_version
# Text columns whose first rows are mostly repeats are dictionary-encoded before a bulk insert.
DICTIONARY_SAMPLE_ROWS = 10_000
INSERT_CHUNK_ROWS = 100_000  # rows built per step of a SQLite bulk insert
DICTIONARY_MAX_SHARE = 0.5


PG_CONNECT_TIMEOUT_S = 10  # a server that does not answer is reported in seconds, not minutes


PUBLIC_DATABASE_ERROR = (
    "The dashboard cannot use its database just now; please try again later or tell your administrator "
    "(the details are in the server's log)."
)


def explain_database_error(exc: BaseException, detailed: bool = True) -> str:
    """One sentence a user can act on, for any failure talking to the database.

    ``detailed=False`` is for visitors who have not signed in (or may not manage the data): driver
    messages name the server's host, port, database and user, which are for the administrator only.
    """
    text = str(getattr(exc, "orig", None) or exc)
    if "readonly" in text.replace("-", "").replace(" ", "").lower():
        return (
            "The database is read-only, so nothing can be saved (no import, value or setting was changed). "
            "Ask your administrator to check the database file's permissions or the database user's rights."
        )
    if not detailed:
        return PUBLIC_DATABASE_ERROR
    if isinstance(exc, DatabaseError):
        return str(exc)
    return f"The database did not answer ({text.splitlines()[0] if text else type(exc).__name__})."


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one sentence a user can act on."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Only a new, still empty file takes this (WAL mode fixes the page size once it writes the
    # header); an existing database keeps the size it was made with.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite's default checkpoints the WAL back into the file every 1,000 pages; counting in bytes
    # keeps that at ~4 MB whatever the page size, so a copy of the main file lags no further behind.
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    cursor.execute(f"PRAGMA wal_autocheckpoint={max(1, WAL_CHECKPOINT_BYTES // page_size)}")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA threads=2")  # index builds may sort on a second core
    cursor.close()
    dbapi_connection.isolation_level = None


DATABASE_FILE_MODE = 0o600  # incident data is personal data: only the app's own user may read the file


def _create_private(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only (an empty file is a valid database).

    SQLite gives the ``-wal`` and ``-shm`` files it makes later the main file's permissions, so
    they are private too. An existing file is left as its administrator set it.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE))
    except FileExistsError:
        return
    os.chmod(path, DATABASE_FILE_MODE)  # in case the umask took bits away from, or not from, the mode


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file. Raises DatabaseError on a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"'{url}' is not a database URL (try sqlite:///path/file.sqlite).") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):  # file: URIs name existing files
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(database))
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so DDL and
        # bulk writes of one import share one transaction (the documented pysqlite recipe).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def current_schema_version(engine: Engine) -> int:
    """0 for an empty database."""
    if not inspect(engine).has_table(schema.schema_version.name):
        return 0
    with engine.connect() as conn:
        value = conn.execute(
            select(schema.schema_version.c.version).order_by(schema.schema_version.c.version.desc())
        ).first()
    return int(value[0]) if value else 0


def migrate(engine: Engine) -> int:
    """Bring the database to :data:`schema.SCHEMA_VERSION`; returns the version it is at.

    Version 1 creates every table. Later versions append steps here, each run once, so old
    database files upgrade in place.
    """
    try:
        found = current_schema_version(engine)
        if found > schema.SCHEMA_VERSION:
            raise DatabaseError(
                f"The database is at schema version {found}, newer than this app ({schema.SCHEMA_VERSION}); upgrade the app."
            )
        if found < 1:
            with engine.begin() as conn:
                schema.metadata.create_all(conn)
                conn.execute(
                    schema.schema_version.insert().values(version=schema.SCHEMA_VERSION, applied_at=datetime.now(UTC))
                )
                conn.execute(schema.meta.insert().values(key=DATA_VERSION_KEY, value="0"))
                conn.execute(schema.meta.insert().values(key=INCIDENTS_VERSION_KEY, value="0"))
            found = schema.SCHEMA_VERSION
        if found < 2:
            with engine.begin() as conn:  # 2: the ward set archive (create_all skips tables already there)
                schema.metadata.create_all(conn, tables=[schema.ward_sets, schema.ward_set_areas])
                conn.execute(schema.schema_version.insert().values(version=2, applied_at=datetime.now(UTC)))
        if found < 3:
            with engine.begin() as conn:
                _migrate_to_3(conn)
                conn.execute(schema.schema_version.insert().values(version=3, applied_at=datetime.now(UTC)))
                bump_data_version(conn)
        if found < 4:
            with engine.begin() as conn:  # 4: stored analyses, and the incidents' own version they key on
                schema.results.create(conn, checkfirst=True)
                if conn.execute(select(schema.meta.c.key).where(schema.meta.c.key == INCIDENTS_VERSION_KEY)).first() is None:
                    conn.execute(schema.meta.insert().values(key=INCIDENTS_VERSION_KEY, value="0"))
                conn.execute(schema.schema_version.insert().values(version=4, applied_at=datetime.now(UTC)))
        if found < 5:
            with engine.begin() as conn:  # 5: views served recently, made again when a server starts
                schema.recent_views.create(conn, checkfirst=True)
                conn.execute(schema.schema_version.insert().values(version=5, applied_at=datetime.now(UTC)))
    except OperationalError as exc:
        raise DatabaseError(f"Cannot open the database: {exc.orig}.") from exc
    return schema.SCHEMA_VERSION


def _migrate_to_3(conn: Connection) -> None:
    """Version 3: incidents.area_status, the coverage table and LSOA boundaries (issue 13).

    Existing rows get their status from what was stored (a ward, a point outside every ward, no
    location: police.uk files are force-wide, so their unplaced rows are "force"), and coverage is
    inferred: each police month with rows, each partner feed from its first to its last month.
    """
    # Each step checks first, so a database made by a development version that numbered it
    # differently upgrades too.
    if "area_status" not in {c["name"] for c in inspect(conn).get_columns("incidents")}:
        conn.exec_driver_sql("ALTER TABLE incidents ADD COLUMN area_status VARCHAR(8) DEFAULT 'ward' NOT NULL")
        conn.exec_driver_sql(
            "UPDATE incidents SET area_status = CASE WHEN ward_code IS NOT NULL THEN 'ward' "
            "WHEN easting IS NOT NULL THEN 'outside' WHEN source = 'police' THEN 'force' ELSE 'none' END"
        )
    coverage_is_new = not inspect(conn).has_table(schema.coverage.name)
    for table in (schema.coverage, schema.lsoas):
        table.create(conn, checkfirst=True)
    if "method" not in {c["name"] for c in inspect(conn).get_columns("lsoa_wards")}:
        conn.exec_driver_sql("ALTER TABLE lsoa_wards ADD COLUMN method VARCHAR(32)")
    if coverage_is_new:
        from rc_dashboard.coverage import infer_coverage

        infer_coverage(conn)


def connect(url: str | None = None) -> Engine:
    """Engine for the configured database, migrated and ready."""
    from rc_dashboard.config import database_url

    engine = make_engine(database_url(url))
    migrate(engine)
    return engine


def data_version(engine: Engine) -> int:
    """A counter bumped by every change to the data; caches key on it so imports show at once."""
    with engine.connect() as conn:
        value = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == DATA_VERSION_KEY)).scalar()
    return int(value or 0)


def incidents_version(engine_or_conn: Engine | Connection) -> int:
    """A counter bumped by every change to incidents, counts, areas or coverage: stored analyses key on it."""
    query = select(schema.meta.c.value).where(schema.meta.c.key == INCIDENTS_VERSION_KEY)
    if isinstance(engine_or_conn, Connection):
        return int(engine_or_conn.execute(query).scalar() or 0)
    with engine_or_conn.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def bump_data_version(conn: Connection, incidents: bool = True, changed_months: Iterable[str] | None = None) -> None:
    """Increment the data version inside the caller's transaction (atomic on both engines).

    ``incidents=False`` for changes that no stored analysis of incidents reads (survey values, the
    measures register): the page caches still see the change, the stored hotspot scan stays current.
    ``changed_months``: the only months whose incidents or coverage the change can have touched,
    when the caller knows (an import that only added rows); recorded under
    :data:`INCIDENTS_CHANGE_KEY` with the new incidents version, so a stored analysis of other
    months may be kept for it (:func:`rc_dashboard.stored.carry_over_scans`). None, the default:
    anything may have changed, and nothing is kept.
    """
    keys = (DATA_VERSION_KEY, INCIDENTS_VERSION_KEY) if incidents else (DATA_VERSION_KEY,)
    for key in keys:
        conn.execute(
            text("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = :key").bindparams(
                key=key
            )
        )
    if incidents:
        version = incidents_version(conn)
        months = None if changed_months is None else sorted({str(m) for m in changed_months})
        change = {"version": version, "after": version - 1, "months": months}
        conn.execute(schema.meta.delete().where(schema.meta.c.key == INCIDENTS_CHANGE_KEY))
        conn.execute(schema.meta.insert().values(key=INCIDENTS_CHANGE_KEY, value=json.dumps(change)))


def incidents_change(engine: Engine) -> dict | None:
    """The last change of incidents (see :func:`bump_data_version`): ``version``, ``after`` (the version
    before it) and ``months`` (None: any), or None when none is recorded."""
    raw = get_meta(engine, INCIDENTS_CHANGE_KEY)
    try:
        change = json.loads(raw) if raw else None
    except ValueError:
        return None
    return change if isinstance(change, dict) else None


def get_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == key)).scalar()


def set_meta(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(schema.meta.delete().where(schema.meta.c.key == key))
        conn.execute(schema.meta.insert().values(key=key, value=value))


def has_incidents(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM incidents LIMIT 1")).first() is not None


def _python_values(column: pd.Series) -> list[Any]:
    """One column as a list of Python values (None for missing), built in C where possible.

    Element-by-element conversion of pandas string columns is the slow step of a bulk insert.
    Numbers go through NumPy's ``tolist``; text is dictionary-encoded first, so each distinct
    string becomes one Python object shared by every row that holds it (fast, and light on
    memory: a million rows of a few thousand street names hold a few thousand strings).
    """
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float)
        missing = np.isnan(values)
        if missing.any():  # NaN -> None in C (an object array), not in a Python loop over every value
            boxed = values.astype(object)
            boxed[missing] = None
            return boxed.tolist()
        return values.tolist()
    if pd.api.types.is_integer_dtype(column.dtype) and not column.hasnans:
        return column.to_numpy().tolist()
    sample = column.iloc[:DICTIONARY_SAMPLE_ROWS]
    if sample.nunique() > DICTIONARY_MAX_SHARE * len(sample):  # nearly unique (e.g. Crime IDs)
        return pa.array(column, from_pandas=True).to_pylist()
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lookup = np.empty(len(uniques) + 1, dtype=object)  # the extra last slot answers code -1 (missing)
    lookup[: len(uniques)] = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in uniques]
    return lookup[codes].tolist()


def bulk_insert(conn: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named as the table's) inside the caller's transaction.

    SQLite: one prepared statement through the driver's ``executemany``. PostgreSQL: ``COPY``,
    the server's bulk path, an order of magnitude faster than INSERT for a million rows.
    """
    if frame.empty:
        return 0
    columns = list(frame.columns)
    column_sql = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        # Arrow writes the CSV in C; every valid value is quoted, so "" is an empty string and an
        # unquoted empty field is NULL, exactly as COPY's CSV format reads them.
        buffer = io.BytesIO()
        pacsv.write_csv(
            pa.Table.from_pandas(frame, preserve_index=False),
            buffer,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
        )
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table_name}" ({column_sql}) FROM STDIN WITH (FORMAT csv)') as copy,
        ):
            copy.write(buffer.getvalue())
        return len(frame)
    # A column that is null in every row and has no default is left out: the table fills it with
    # NULL anyway, and binding a million Nones is measurable work.
    table = schema.metadata.tables.get(table_name)
    columns = [c for c in columns if not (_defaults_to_null(table, c) and frame[c].isna().all())] or columns[:1]
    column_sql = ", ".join(f'"{c}"' for c in columns)
    placeholders = ", ".join("?" for _ in columns)
    statement = f'INSERT INTO "{table_name}" ({column_sql}) VALUES ({placeholders})'

    def rows_of(start: int) -> list[tuple]:
        chunk = frame.iloc[start : start + INSERT_CHUNK_ROWS]
        return list(zip(*(_python_values(chunk[c]) for c in columns), strict=True))

    # SQLite releases the GIL while it writes a row, so the next chunk's rows are built on the
    # other core while this one is inserted (one transaction throughout: the caller's).
    cursor = raw.cursor()
    # The row tuples hold no reference cycles, yet allocating millions of them triggers the cyclic
    # garbage collector over and over (about a tenth of the insert's time); it is paused meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=1) as builder:
            pending = builder.submit(rows_of, 0)
            for start in range(0, len(frame), INSERT_CHUNK_ROWS):
                rows = pending.result()
                if start + INSERT_CHUNK_ROWS < len(frame):
                    pending = builder.submit(rows_of, start + INSERT_CHUNK_ROWS)
                cursor.executemany(statement, rows)
    finally:
        cursor.close()
        if collecting:
            gc.enable()
    return len(frame)


def _defaults_to_null(table: Any, column: str) -> bool:
    """True when ``column`` of the known ``table`` is nullable and has no default (so omitting it stores NULL)."""
    if table is None or column not in table.columns:
        return False
    spec = table.columns[column]
    return bool(spec.nullable) and spec.default is None and spec.server_default is None and not spec.primary_key


def _frame(result: Any) -> pd.DataFrame:
    # The driver's own rows (plain tuples), not SQLAlchemy's Row objects: a textual SELECT has no
    # result processors, so the values are the same, and the hotspot scan's million-row read of
    # located points took 1-1.5 s less (of 5-6.5 s). pandas would also probe every Row for
    # named-tuple fields (a 160,000-row read went from 2.0 s to 1.0 s without them). Not for a
    # streamed result (``stream_results``): SQLAlchemy has read its first row from the cursor already.
    columns = list(result.keys())
    cursor = getattr(result, "cursor", None)
    rows = cursor.fetchall() if cursor is not None else [tuple(row) for row in result.fetchall()]
    result.close()
    return pd.DataFrame(rows, columns=columns)


def read_frame(engine_or_conn: Engine | Connection, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Run a SELECT and return a DataFrame; wraps driver errors in one clear sentence."""
    try:
        if isinstance(engine_or_conn, Engine):
            with engine_or_conn.connect() as conn:
                return _frame(conn.execute(text(sql), params or {}))
        return _frame(engine_or_conn.execute(text(sql), params or {}))
    except SQLAlchemyError as exc:
        raise DatabaseError(f"The database could not answer a query: {getattr(exc, 'orig', exc)}.") from exc
