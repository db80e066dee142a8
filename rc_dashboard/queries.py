"""Read-side data access: the filters every page shares, and grouped counts done in SQL.

Counting happens in the database (GROUP BY on indexed columns), so a page never pulls a
million rows to count them. Every query takes an :class:`IncidentFilter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.access import AccessDenied, Principal, point_scope
from rc_dashboard.coverage import COUNTED_SQL
from rc_dashboard.db import read_frame
from rc_dashboard.periods import MONTH_PATTERN

GROUPABLE = {
    "ward": "i.ward_code",
    "month": "i.month",
    "category": "i.category",
    "source": "i.source",
    "locality": "a.locality",
    "force": "i.force",
}
OUTPUT_NAMES = {
    "ward": "ward_code",
    "locality": "locality",
    "month": "month",
    "category": "category",
    "source": "source",
    "force": "force",
}


@dataclass(frozen=True)
class IncidentFilter:
    """The shared filter bar: months inclusive ("YYYY-MM"), and optional allow-lists (empty = all)."""

    month_from: str | None = None
    month_to: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    sources: tuple[str, ...] = field(default_factory=tuple)
    localities: tuple[str, ...] = field(default_factory=tuple)
    allowed_categories: tuple[str, ...] | None = None  # set by access rules, not the user; () = none
    # Rows outside the partnership's area (and force-wide rows with no location) are stored but left
    # out of every figure; only the ``counts --include-outside`` check asks for them.
    include_outside: bool = False

    def __post_init__(self) -> None:
        for value in (self.month_from, self.month_to):
            if value is not None and not MONTH_PATTERN.match(value):
                raise ValueError(f"'{value}' is not a month in the form YYYY-MM.")

    def where(self) -> tuple[str, dict]:
        """SQL condition on incidents ``i`` joined to areas ``a``, with bound parameters."""
        clauses, params = ["1 = 1"], {}
        if not self.include_outside:
            clauses.append("i." + COUNTED_SQL)
        if self.month_from:
            clauses.append("i.month >= :month_from")
            params["month_from"] = self.month_from
        if self.month_to:
            clauses.append("i.month <= :month_to")
            params["month_to"] = self.month_to
        for name, column, values in (
            ("cat", "i.category", self.categories),
            ("src", "i.source", self.sources),
            ("loc", "a.locality", self.localities),
        ):
            if values:
                keys = [f"{name}{n}" for n in range(len(values))]
                clauses.append(f"{column} IN ({', '.join(':' + k for k in keys)})")
                params.update(dict(zip(keys, values, strict=True)))
        if self.allowed_categories is not None:
            if not self.allowed_categories:
                clauses.append("1 = 0")
            else:
                keys = [f"acat{n}" for n in range(len(self.allowed_categories))]
                clauses.append(f"i.category IN ({', '.join(':' + k for k in keys)})")
                params.update(dict(zip(keys, self.allowed_categories, strict=True)))
        return " AND ".join(clauses), params


def point_filter(flt: IncidentFilter, principal: Principal) -> IncidentFilter:
    """The filter narrowed to the point-level data the principal may see (:class:`AccessDenied` if none).

    A locality lead's filter is cut to their locality; asking only for other localities (a crafted
    link, say) is refused rather than silently widened. Incidents outside every ward have no
    locality, so they fall outside a locality lead's points too.
    """
    scope = point_scope(principal)
    localities = flt.localities
    if scope.localities is not None:
        allowed = [loc for loc in (localities or scope.localities) if loc in scope.localities]
        if not allowed:
            raise AccessDenied(
                f"Point-level data is limited to your locality ({', '.join(scope.localities)}); "
                f"the filter asks for {', '.join(localities)}."
            )
        localities = tuple(allowed)
    allowed = flt.allowed_categories
    if scope.categories is not None:
        allowed = tuple(sorted(set(scope.categories) & set(allowed if allowed is not None else scope.categories)))
    return replace(flt, localities=localities, allowed_categories=allowed)


def incident_counts(engine: Engine, by: list[str], flt: IncidentFilter | None = None) -> pd.DataFrame:
    """Incidents counted by the named dimensions (ward, locality, month, category, source, force).

    One row per non-zero group, with a ``count`` column. Only the area's incidents are counted
    (unless ``flt.include_outside``): a row with ``ward_code`` "" is a partner's incident with no
    location, which belongs to the partnership and stays in its totals.
    """
    unknown = [b for b in by if b not in GROUPABLE]
    if unknown:
        raise ValueError(f"Cannot count by {', '.join(unknown)}; choose from {', '.join(GROUPABLE)}.")
    flt = flt or IncidentFilter()
    where, params = flt.where()
    select = [f"COALESCE({GROUPABLE[b]}, '') AS {OUTPUT_NAMES[b]}" for b in by]
    group = ", ".join(str(n + 1) for n in range(len(by)))
    sql = f"SELECT {', '.join([*select, 'COUNT(*) AS count'])} FROM incidents i LEFT JOIN areas a ON a.ward_code = i.ward_code WHERE {where}"
    if by:
        sql += f" GROUP BY {group}"
    frame = read_frame(engine, sql, params)
    frame["count"] = frame["count"].astype("int64")
    # Sorted here, not in SQL: PostgreSQL collations order text differently from SQLite's bytes.
    names = [OUTPUT_NAMES[b] for b in by]
    return frame.sort_values(names, kind="stable").reset_index(drop=True) if names else frame


def months_available(engine: Engine) -> list[str]:
    """Months some feed covers (see :mod:`rc_dashboard.coverage`), sorted; a month no feed covers is absent."""
    return read_frame(engine, "SELECT DISTINCT month FROM coverage ORDER BY 1")["month"].tolist()


def distinct_values(engine: Engine, column: str) -> list[str]:
    """Distinct non-empty values of an incidents column (category, source) or of areas.locality."""
    sql = {
        "category": "SELECT category AS v FROM incidents UNION SELECT category FROM area_counts ORDER BY 1",
        "source": "SELECT source AS v FROM incidents UNION SELECT source FROM area_counts ORDER BY 1",
        "locality": "SELECT DISTINCT locality AS v FROM areas WHERE locality IS NOT NULL ORDER BY 1",
    }[column]
    return [v for v in read_frame(engine, sql)["v"].tolist() if v]


def import_history(engine: Engine, limit: int = 200) -> pd.DataFrame:
    return read_frame(
        engine,
        "SELECT id, imported_at, kind, source, file_name, rows_read, rows_inserted, rows_updated, rows_unchanged, "
        f"rows_dropped, imported_by, sha256 FROM imports ORDER BY id DESC LIMIT {int(limit)}",
    )


def data_summary(engine: Engine) -> dict[str, int | str | None]:
    """Headline facts about what is loaded (for the home page and the CLI)."""
    row = read_frame(
        engine,
        f"SELECT SUM(CASE WHEN {COUNTED_SQL} THEN 1 ELSE 0 END) AS incidents, MIN(month) AS first_month, "
        "MAX(month) AS last_month, "
        "SUM(CASE WHEN area_status = 'none' THEN 1 ELSE 0 END) AS without_location, "
        "SUM(CASE WHEN area_status = 'force' THEN 1 ELSE 0 END) AS force_no_location, "
        "SUM(CASE WHEN area_status = 'outside' THEN 1 ELSE 0 END) AS outside_area FROM incidents",
    ).iloc[0]
    wards = read_frame(engine, "SELECT COUNT(*) AS n, COUNT(DISTINCT locality) AS l FROM areas").iloc[0]
    return {
        "incidents": int(row["incidents"] or 0),
        "first_month": row["first_month"],
        "last_month": row["last_month"],
        "without_location": int(row["without_location"] or 0),
        "outside_area": int(row["outside_area"] or 0),
        "force_no_location": int(row["force_no_location"] or 0),
        "wards": int(wards["n"]),
        "localities": int(wards["l"]),
    }


def snap_point_counts(
    engine: Engine, flt: IncidentFilter, principal: Principal, month: str | None = None
) -> pd.DataFrame:
    """Located incidents counted per map point (lon, lat) and category, for the filter (or one month).

    police.uk points are already snapped to anonymous map points, so this is the finest grain any
    map shows; a million incidents collapse to tens of thousands of rows, a small browser payload.
    Point-level data: narrowed to what ``principal`` may see (see :func:`point_filter`).
    """
    where, params = point_filter(flt, principal).where()
    if month:
        where += " AND i.month = :one_month"
        params["one_month"] = month
    frame = read_frame(
        engine,
        "SELECT i.lon AS lon, i.lat AS lat, i.category AS category, COUNT(*) AS count "
        f"FROM incidents i LEFT JOIN areas a ON a.ward_code = i.ward_code WHERE {where} AND i.lon IS NOT NULL "
        "GROUP BY i.lon, i.lat, i.category",
        params,
    )
    frame["count"] = frame["count"].astype("int64")
    return frame


def wards_table(engine: Engine) -> pd.DataFrame:
    """Every ward's code, name, locality and population (residents), by ward code; no geometry."""
    return read_frame(engine, "SELECT ward_code, ward_name, locality, population FROM areas ORDER BY ward_code")


def ward_count(engine: Engine) -> int:
    """How many wards are loaded (the study area exists when this is above 0)."""
    return int(read_frame(engine, "SELECT COUNT(*) AS n FROM areas")["n"].iloc[0])


def located_points(engine: Engine, flt: IncidentFilter) -> pd.DataFrame:
    """Located incidents counted per BNG point, month, category and source (for hotspot analysis).

    Ward and locality filters are not applied here: hotspots are found over the whole area, so a
    neighbourhood that straddles a ward boundary is judged whole.
    """
    where, params = IncidentFilter(
        flt.month_from, flt.month_to, flt.categories, flt.sources, allowed_categories=flt.allowed_categories
    ).where()
    frame = read_frame(
        engine,
        "SELECT i.easting AS easting, i.northing AS northing, i.month AS month, i.category AS category, i.source AS source, "
        "COALESCE(i.force, '') AS force, "
        f"COUNT(*) AS count FROM incidents i LEFT JOIN areas a ON a.ward_code = i.ward_code WHERE {where} AND i.easting IS NOT NULL "
        "GROUP BY i.easting, i.northing, i.month, i.category, i.source, COALESCE(i.force, '')",
        params,
    )
    frame["count"] = frame["count"].astype("int64")
    return frame


def incidents_in_box(
    engine: Engine,
    months: list[str],
    bounds: tuple[float, float, float, float],
    principal: Principal,
    flt: IncidentFilter | None = None,
) -> pd.DataFrame:
    """Located incidents in a BNG bounding box and a set of months (for a hotspot's evidence panel).

    ``flt`` adds the analysis's category and source choice (its months and localities are not used).
    Point-level data: only the categories and localities ``principal`` may see.
    """
    return incidents_in_boxes(engine, months, [bounds], principal, flt)


def incidents_in_boxes(
    engine: Engine,
    months: list[str],
    boxes: list[tuple[float, float, float, float]],
    principal: Principal,
    flt: IncidentFilter | None = None,
) -> pd.DataFrame:
    """:func:`incidents_in_box` for the union of several boxes (BNG metres; minx, miny, maxx, maxy),
    each incident once: a locality pack's hotspots in one read of only the ground they cover,
    not of the one box around them all (half a borough when they lie far apart)."""
    chosen = IncidentFilter(categories=flt.categories, sources=flt.sources) if flt else IncidentFilter()
    where, params = point_filter(chosen, principal).where()
    keys = {f"m{i}": m for i, m in enumerate(months)}
    corners = {}
    in_any = []
    for k, (minx, miny, maxx, maxy) in enumerate(boxes):
        corners |= {f"minx{k}": minx, f"maxx{k}": maxx, f"miny{k}": miny, f"maxy{k}": maxy}
        in_any.append(f"(i.easting BETWEEN :minx{k} AND :maxx{k} AND i.northing BETWEEN :miny{k} AND :maxy{k})")
    if not in_any:
        in_any = ["1 = 0"]
    return read_frame(
        engine,
        "SELECT i.easting AS easting, i.northing AS northing, i.month AS month, i.category AS category, "
        "i.source AS source, i.location AS location FROM incidents i LEFT JOIN areas a ON a.ward_code = i.ward_code "
        f"WHERE {where} AND i.month IN ({', '.join(':' + k for k in keys)}) "
        f"AND ({' OR '.join(in_any)})",
        {**params, **keys, **corners},
    )


def load_cube(engine: Engine) -> pd.DataFrame:
    """Incidents counted by month, ward ("" = none), category and source: one SQL scan.

    Partners' aggregated counts (imported as counts, not records) join the cube here, so they
    reach every count, rate, measure and ward summary; they never reach a point map or the
    hotspot analysis, which read located incident records only. Only the area's rows are counted
    (see :data:`rc_dashboard.coverage.COUNTED_SQL`); ward "" holds partner incidents with no location.
    """
    cube = read_frame(
        engine,
        "SELECT month, COALESCE(ward_code, '') AS ward_code, category, source, COUNT(*) AS count "
        f"FROM incidents WHERE {COUNTED_SQL} GROUP BY month, COALESCE(ward_code, ''), category, source "
        "UNION ALL SELECT month, ward_code, category, source, SUM(count) AS count FROM area_counts "
        "WHERE ward_code IN (SELECT ward_code FROM areas) GROUP BY month, ward_code, category, source",
    )
    cube["count"] = cube["count"].astype("int64")
    return cube.groupby(["month", "ward_code", "category", "source"], as_index=False)["count"].sum()


def register_text(engine: Engine) -> str:
    """The measures register in force: the newest one an admin saved in the database, else config/measures.yaml."""
    from rc_dashboard.config import config_dir

    saved = read_frame(engine, "SELECT register_yaml FROM measure_register ORDER BY id DESC LIMIT 1")
    if len(saved):
        return str(saved["register_yaml"].iloc[0])
    return (config_dir() / "measures.yaml").read_text(encoding="utf-8")


def manual_values(engine: Engine) -> pd.DataFrame:
    """Survey and other manual measure values: measure_id, period (month or financial quarter), value, note."""
    return read_frame(engine, "SELECT measure_id, period, value, note FROM measure_values ORDER BY measure_id, period")
