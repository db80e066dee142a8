"""Ward boundaries, ward-to-locality lookups, population and LSOA-to-ward lookups.

Boundaries come as GeoJSON, GeoPackage or a zipped Shapefile in any CRS; they are reprojected
to British National Grid. ONS names its fields by vintage (``WD25CD``/``WD25NM``,
``WD13CD``/``WD13NM``, ...): the newest pair present is used unless the user names fields.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from rc_dashboard import schema
from rc_dashboard.db import bulk_insert, read_frame
from rc_dashboard.geography import BNG, BNG_EASTING_RANGE, BNG_NORTHING_RANGE, WGS84
from rc_dashboard.ingest.codes import GSS_CODE, check_ward_codes
from rc_dashboard.ingest.files import InputFile, file_kind, read_zip
from rc_dashboard.ingest.store import ImportResult, file_sha256, finish_import, record_import
from rc_dashboard.ingest.tables import find_column, read_table
from rc_dashboard.ingest.validation import ImportRejected, Problem, ValidationReport, check_storable

WARD_CODE_FIELD = re.compile(r"^WD(\d{2})CD$", re.IGNORECASE)
LAD_CODE_FIELD = re.compile(r"^LAD(\d{2})CD$", re.IGNORECASE)
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _vintage_fields(columns: list[str], pattern: re.Pattern) -> tuple[str | None, str | None]:
    """The newest ``XXnnCD`` field and its ``XXnnNM`` partner (years compared as 19xx/20xx)."""
    found = []
    for column in columns:
        match = pattern.match(column)
        if match:
            year = int(match.group(1))
            found.append((year + (1900 if year > 70 else 2000), column))
    if not found:
        return None, None
    code = max(found)[1]
    name = code[:-2] + code[-2:].replace("CD", "NM").replace("cd", "nm")
    return code, next((c for c in columns if c.lower() == name.lower()), None)


def _read_features(item: InputFile, report: ValidationReport) -> tuple[gpd.GeoDataFrame, list[str]] | None:
    """The file's features and their attribute columns; None (with the reason in ``report``) if there are none."""
    data = _read_geodata(item, report)
    if data is None:
        return None
    if data.empty:
        report.reject(item.name, "the file holds no features.")
        return None
    return data, [c for c in data.columns if c != data.geometry.name]


def _read_geodata(item: InputFile, report: ValidationReport) -> gpd.GeoDataFrame | None:
    if not item.data.strip():
        report.reject(item.name, "the file is empty.")
        return None
    kind = file_kind(item.data)
    if kind not in (None, "a zip archive"):
        report.reject(item.name, f"the file is {kind}, not GeoJSON, a GeoPackage or a zipped Shapefile.")
        return None
    try:
        if item.name.lower().endswith(".zip"):
            members = read_zip(item.data, item.name, report, (*SHAPEFILE_PARTS, ".geojson", ".gpkg", ".json"))
            if report.rejected:
                return None
            with tempfile.TemporaryDirectory() as folder:
                for member in members:  # names were checked for traversal; keep only the base name
                    (Path(folder) / Path(member.name).name).write_bytes(member.data)
                shapefiles = (
                    sorted(Path(folder).glob("*.shp"))
                    or sorted(Path(folder).glob("*.gpkg"))
                    or sorted(Path(folder).glob("*json"))
                )
                if not shapefiles:
                    report.reject(item.name, "the archive holds no .shp, .gpkg or .geojson file.")
                    return None
                return gpd.read_file(shapefiles[0])
        return gpd.read_file(io.BytesIO(item.data))
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable data
        detail = str(exc).splitlines()[0] if str(exc) else ""
        hidden = "/vsi" in detail or "/src/" in detail  # GDAL's in-memory paths and source lines say nothing to a user
        report.reject(
            item.name,
            "the boundaries cannot be read as GeoJSON, GeoPackage or a zipped Shapefile"
            + ("." if hidden or not detail else f" ({detail})."),
        )
        return None


def read_wards(
    item: InputFile,
    report: ValidationReport,
    code_field: str | None = None,
    name_field: str | None = None,
    lad: str | None = None,
    lad_lookup: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame | None:
    """Ward polygons in BNG with ward_code, ward_name (and lad_code/lad_name when present).

    ``lad`` (a local authority code such as E08000034) keeps only that authority's wards, so a
    national ward file can be imported as downloaded; the others are skipped and counted. ONS's
    ward boundary files carry no local authority field: ``lad_lookup`` (ONS's ward-to-LAD lookup,
    see :func:`read_ward_lad_lookup`) supplies it.
    """
    features = _read_features(item, report)
    if features is None:
        return None
    data, columns = features
    detected_code, detected_name = _vintage_fields(columns, WARD_CODE_FIELD)
    code_field = code_field or detected_code or find_column(columns, ("ward_code", "code", "wd_code"))
    name_field = name_field or detected_name or find_column(columns, ("ward_name", "name", "wd_name"))
    for given, what in ((code_field, "ward code"), (name_field, "ward name")):
        if not given or given not in data.columns:
            report.reject(
                item.name,
                f"cannot find the {what} field; found {', '.join(columns)}. Name it with --code-field / --name-field.",
            )
            return None
    if lad_lookup is not None and len(lad_lookup):
        by_ward = lad_lookup.drop_duplicates("ward_code").set_index("ward_code")
        codes_in_file = data[code_field].astype(str).str.strip()
        data = data.assign(
            LADLOOKUPCD=codes_in_file.map(by_ward["lad_code"]), LADLOOKUPNM=codes_in_file.map(by_ward["lad_name"])
        )
        columns = [c for c in data.columns if c != data.geometry.name]
    if lad:
        data = _only_lad(data, columns, lad.strip(), item.name, report)
        if data is None:
            return None
    data = _in_bng(data, item.name, report)
    if data is None:
        return None
    codes = data[code_field].astype(str).str.strip()
    geometry = _checked_wards(data, codes, code_field, item.name, report)
    if geometry is None:
        return None
    lad_code, lad_name = _vintage_fields(columns, LAD_CODE_FIELD)
    if "LADLOOKUPCD" in data.columns:
        lad_code, lad_name = "LADLOOKUPCD", "LADLOOKUPNM"
    return gpd.GeoDataFrame(
        {
            "ward_code": codes.to_numpy(),
            "ward_name": data[name_field].astype(str).str.strip().to_numpy(),
            "lad_code": data[lad_code].astype(str).to_numpy() if lad_code else None,
            "lad_name": data[lad_name].astype(str).to_numpy() if lad_name else None,
        },
        geometry=gpd.GeoSeries(geometry, crs=BNG),
        crs=BNG,
    )


def _in_bng(data: gpd.GeoDataFrame, name: str, report: ValidationReport) -> gpd.GeoDataFrame | None:
    """``data`` in British National Grid. A file without a CRS (or one whose reader claims WGS84 for
    coordinates in metres) gets the CRS its coordinates show, with a note; neither degrees nor BNG
    metres is refused."""
    if data.crs is not None and data.crs.is_geographic:
        minx, miny, maxx, maxy = data.total_bounds
        if maxx > 180 or maxy > 90 or minx < -180 or miny < -90:
            # GeoJSON readers report WGS84 for a file with no CRS; metres say it is really BNG.
            data = data.set_crs(BNG, allow_override=True)
            report.add(Problem(name, None, None, "no CRS in the file; assumed EPSG:27700 from the coordinates", "note"))
    if data.crs is None:
        minx, miny, maxx, maxy = data.total_bounds
        if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
            data = data.set_crs(WGS84)
        elif (
            BNG_EASTING_RANGE[0] <= minx
            and maxx <= BNG_EASTING_RANGE[1]
            and BNG_NORTHING_RANGE[0] <= miny
            and maxy <= BNG_NORTHING_RANGE[1]
        ):
            data = data.set_crs(BNG)
        else:
            report.reject(
                name,
                "the file has no coordinate reference system and its coordinates are neither degrees nor British National Grid metres.",
            )
            return None
        report.add(
            Problem(name, None, None, f"no CRS in the file; assumed {data.crs.to_string()} from the coordinates", "note")
        )
    return data.to_crs(BNG)


def _checked_wards(
    data: gpd.GeoDataFrame, codes: pd.Series, code_field: str, name: str, report: ValidationReport
) -> np.ndarray | None:
    """The wards' polygons, invalid ones repaired (noted); None, with every reason reported, when a
    code is blank, repeated or malformed or a shape is not a polygon."""
    blank = np.flatnonzero((codes == "").to_numpy() | (codes == "None").to_numpy())
    report.add_rows(name, blank, code_field, "ward code is blank", "reject", header_rows=0)
    repeated = np.flatnonzero(codes.duplicated().to_numpy())
    report.add_rows(name, repeated, code_field, "ward code appears twice", "reject", header_rows=0)
    check_ward_codes(codes.where(codes != "None", ""), name, code_field, report, header_rows=0)
    polygonal = data.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    report.add_rows(name, np.flatnonzero(~polygonal), "geometry", "not a polygon", "reject", header_rows=0)
    if report.rejected:
        return None
    geometry = data.geometry.values
    invalid = ~shapely.is_valid(geometry)
    if invalid.any():
        report.add_rows(
            name, np.flatnonzero(invalid), "geometry", "invalid polygon repaired (make_valid)", "note", header_rows=0
        )
        geometry = shapely.make_valid(geometry)
    return geometry


def _only_lad(
    data: gpd.GeoDataFrame, columns: list[str], lad: str, file_name: str, report: ValidationReport
) -> gpd.GeoDataFrame | None:
    """The features of one local authority (by the newest LADnnCD field); None (rejected) if impossible."""
    field, _ = _vintage_fields(columns, LAD_CODE_FIELD)
    if "LADLOOKUPCD" in columns:
        field = "LADLOOKUPCD"
    field = field or find_column(columns, ("lad_code", "ladcd", "lad"))
    if not field:
        report.reject(
            file_name,
            f"--lad {lad} needs a local authority code field (LADnnCD) in the file, or ONS's ward-to-local-authority "
            f"lookup with --lad-lookup; found {', '.join(columns)}.",
        )
        return None
    keep = data[field].astype(str).str.strip() == lad
    if not keep.any():
        report.reject(file_name, f"no ward in the file belongs to local authority {lad} (field {field}).")
        return None
    skipped = int((~keep).sum())
    if skipped:
        report.add(
            Problem(
                file_name, None, field, f"{skipped:,} wards of other local authorities skipped (kept {lad})", "note"
            )
        )
    return data.loc[keep].reset_index(drop=True)


LSOA_CODE_FIELD = re.compile(r"^LSOA(\d{2})CD$", re.IGNORECASE)


def read_lsoas(item: InputFile, report: ValidationReport) -> gpd.GeoDataFrame | None:
    """LSOA polygons in BNG with lsoa_code and lsoa_name (ONS ``LSOAnnCD`` / ``LSOAnnNM`` fields)."""
    features = _read_features(item, report)
    if features is None:
        return None
    data, columns = features
    code, name = _vintage_fields(columns, LSOA_CODE_FIELD)
    code = code or find_column(columns, ("lsoa_code", "code"))
    if not code:
        report.reject(item.name, f"cannot find the LSOA code field (LSOAnnCD); found {', '.join(columns)}.")
        return None
    if data.crs is None:
        report.reject(item.name, "the file has no coordinate reference system.")
        return None
    data = data.to_crs(BNG)
    codes = data[code].astype(str).str.strip()
    repeated = np.flatnonzero(codes.duplicated().to_numpy())
    report.add_rows(item.name, repeated, code, "LSOA code appears twice", "reject", header_rows=0)
    polygonal = data.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    report.add_rows(item.name, np.flatnonzero(~polygonal), "geometry", "not a polygon", "reject", header_rows=0)
    if report.rejected:
        return None
    geometry = data.geometry.values
    if (~shapely.is_valid(geometry)).any():
        geometry = shapely.make_valid(geometry)
    return gpd.GeoDataFrame(
        {"lsoa_code": codes.to_numpy(), "lsoa_name": data[name].astype(str).to_numpy() if name else None},
        geometry=gpd.GeoSeries(geometry, crs=BNG),
        crs=BNG,
    )


DERIVED_METHOD = "largest overlap"


def derive_lsoa_wards(lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each LSOA's ward by largest overlap of area: lsoa_code, lsoa_name, ward_code, overlap_share (0-1).

    An LSOA that overlaps no ward (outside the area) is left out. Largest overlap, not centroid: an
    LSOA's centroid can fall outside an odd-shaped LSOA; the share says how clean the fit is.
    """
    if lsoas.empty or wards.empty:
        return pd.DataFrame(columns=["lsoa_code", "lsoa_name", "ward_code", "overlap_share"])
    tree = shapely.STRtree(wards.geometry.values)
    lsoa_index, ward_index = tree.query(lsoas.geometry.values, predicate="intersects")
    overlap = shapely.area(shapely.intersection(lsoas.geometry.values[lsoa_index], wards.geometry.values[ward_index]))
    pairs = pd.DataFrame({"lsoa": lsoa_index, "ward": ward_index, "overlap": overlap})
    pairs = pairs[pairs["overlap"] > 0].sort_values(["lsoa", "overlap"], ascending=[True, False], kind="stable")
    best = pairs.drop_duplicates("lsoa")
    areas = shapely.area(lsoas.geometry.values)
    return pd.DataFrame(
        {
            "lsoa_code": lsoas["lsoa_code"].to_numpy()[best["lsoa"]],
            "lsoa_name": lsoas["lsoa_name"].to_numpy()[best["lsoa"]],
            "ward_code": wards["ward_code"].to_numpy()[best["ward"]],
            "overlap_share": (best["overlap"].to_numpy() / areas[best["lsoa"]]).round(3),
        }
    ).reset_index(drop=True)


def store_lsoas(
    engine: Engine,
    lsoas: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    item: InputFile,
    report: ValidationReport,
    imported_by: str | None = None,
) -> ImportResult:
    """Store the area's LSOA boundaries and, for LSOAs with no lookup entry, their ward by largest overlap.

    LSOAs overlapping no loaded ward are outside the area: skipped and counted. An LSOA already in
    the lookup from an ONS file keeps that ward (an official best fit is never replaced silently).
    """
    if wards.empty:
        report.reject(item.name, "no wards are loaded yet: import ward boundaries first.")
        raise ImportRejected(report)
    derived = derive_lsoa_wards(lsoas, wards)
    inside = lsoas[lsoas["lsoa_code"].isin(derived["lsoa_code"])]
    outside = len(lsoas) - len(inside)
    current = read_frame(engine, "SELECT lsoa_code, method FROM lsoa_wards")
    official = set(current.loc[current["method"].fillna("lookup file") != DERIVED_METHOD, "lsoa_code"])
    new_rows = derived[~derived["lsoa_code"].isin(official)]
    result = ImportResult(
        import_id=0,
        file_name=item.name,
        rows_read=len(lsoas),
        rows_inserted=len(inside),
        rows_dropped=outside,
        dropped_by_reason={"LSOA outside the area (overlaps no loaded ward), skipped": outside} if outside else {},
    )
    result.notes.append(
        f"{len(new_rows):,} LSOAs placed in a ward by {DERIVED_METHOD} of area "
        f"(median {100 * float(new_rows['overlap_share'].median() if len(new_rows) else 1):.0f}% of the LSOA in its ward; "
        f"{int((new_rows['overlap_share'] < 0.5).sum()):,} under half: check them on the Data page); "
        f"{len(derived) - len(new_rows):,} kept their ward from an ONS lookup file."
    )
    with engine.begin() as conn:
        result.import_id = _provenance(conn, "lsoas", item, len(lsoas), imported_by)
        codes = list(inside["lsoa_code"])
        for code in codes:
            conn.execute(text("DELETE FROM lsoas WHERE lsoa_code = :c"), {"c": code})
        bulk_insert(
            conn,
            "lsoas",
            pd.DataFrame(
                {
                    "lsoa_code": inside["lsoa_code"].to_numpy(),
                    "lsoa_name": inside["lsoa_name"].to_numpy(),
                    "geometry_wkb": shapely.to_wkb(inside.geometry.values),
                }
            ),
        )
        for code in new_rows["lsoa_code"]:
            conn.execute(text("DELETE FROM lsoa_wards WHERE lsoa_code = :c"), {"c": code})
        bulk_insert(conn, "lsoa_wards", new_rows[["lsoa_code", "ward_code", "lsoa_name"]].assign(method=DERIVED_METHOD))
        finish_import(conn, result, {"dropped": result.dropped_by_reason, "method": DERIVED_METHOD})
        from rc_dashboard.db import bump_data_version

        bump_data_version(conn)
    return result


def lsoa_ward_table(engine: Engine) -> pd.DataFrame:
    """The LSOA-to-ward lookup in force, for checking: LSOA, ward, how each was placed."""
    return read_frame(
        engine,
        "SELECT l.lsoa_code, l.lsoa_name, l.ward_code, a.ward_name, COALESCE(l.method, 'lookup file') AS method "
        "FROM lsoa_wards l LEFT JOIN areas a ON a.ward_code = l.ward_code ORDER BY l.lsoa_code",
    )


def _code_column(frame: pd.DataFrame, pattern: str, names: tuple[str, ...]) -> str | None:
    return find_column(list(frame.columns), names, pattern)


def read_localities(item: InputFile, report: ValidationReport) -> pd.DataFrame | None:
    """ward_code -> locality (and optional ward_name); ONS-style ``WDnnCD`` headers accepted."""
    frame = read_table(item.data, item.name, report)
    if frame is None:
        return None
    code = _code_column(frame, r"WD\d{2}CD", ("ward_code", "ward code", "wardcode"))
    locality = find_column(list(frame.columns), ("locality", "district", "locality_name", "area"))
    if not code or not locality:
        report.reject(
            item.name, f"needs columns 'ward_code' (or WDnnCD) and 'locality'; found {', '.join(frame.columns)}."
        )
        return None
    name = find_column(list(frame.columns), ("ward_name",), r"WD\d{2}NM")
    out = pd.DataFrame({"ward_code": frame[code].str.strip(), "locality": frame[locality].str.strip()})
    out["ward_name"] = frame[name].str.strip() if name else None
    blank = (out["ward_code"] == "") | (out["locality"] == "")
    report.add_rows(item.name, np.flatnonzero(blank.to_numpy()), locality, "ward code or locality is blank", "drop")
    repeated = out["ward_code"].duplicated() & ~blank
    report.add_rows(item.name, np.flatnonzero(repeated.to_numpy()), code, "ward appears twice (first kept)", "drop")
    out = out.loc[~blank & ~repeated].reset_index(drop=True)
    out.attrs["rows_read"] = len(frame)
    return out


def read_lsoa_lookup(item: InputFile, report: ValidationReport) -> pd.DataFrame | None:
    """lsoa_code -> ward_code from an ONS-style lookup (``LSOAnnCD`` and ``WDnnCD`` columns)."""
    frame = read_table(item.data, item.name, report)
    if frame is None:
        return None
    lsoa = _code_column(frame, r"LSOA\d{2}CD", ("lsoa_code", "lsoa code"))
    ward = _code_column(frame, r"WD\d{2}CD", ("ward_code", "ward code"))
    if not lsoa or not ward:
        report.reject(
            item.name,
            f"needs an LSOA code column (LSOAnnCD) and a ward code column (WDnnCD); found {', '.join(frame.columns)}.",
        )
        return None
    name = _code_column(frame, r"LSOA\d{2}NM", ("lsoa_name",))
    out = pd.DataFrame({"lsoa_code": frame[lsoa].str.strip(), "ward_code": frame[ward].str.strip()})
    out["lsoa_name"] = frame[name].str.strip() if name else None
    repeated = out["lsoa_code"].duplicated()
    report.add_rows(item.name, np.flatnonzero(repeated.to_numpy()), lsoa, "LSOA appears twice (first kept)", "drop")
    check_ward_codes(out["ward_code"], item.name, ward, report, header_rows=1)
    out = out.loc[~repeated].reset_index(drop=True)
    out.attrs["rows_read"] = len(frame)
    return out


GSS_WARD_VALUES = r"[EW]05\d{6}"
GSS_LSOA_VALUES = r"[EW]01\d{6}"


def _column_of_codes(frame: pd.DataFrame, pattern: str, share: float = 0.9) -> str | None:
    """The first column whose non-blank values are (at least ``share``) GSS codes of one kind."""
    for column in frame.columns:
        values = frame[column].astype(str).str.strip()
        values = values[values != ""]
        if len(values) and values.str.fullmatch(pattern).mean() >= share:
            return column
    return None


def read_population(
    item: InputFile,
    report: ValidationReport,
    lsoa_to_ward: dict[str, str],
    known_wards: frozenset[str] | set[str] = frozenset(),
) -> pd.DataFrame | None:
    """ward_code -> population; by ward directly, or by LSOA summed to wards through the lookup.

    Files as Nomis and ONS publish them are accepted: "mnemonic" code columns, "total" counts,
    footer notes (skipped and counted). Rows for LSOAs or wards outside the area (not in the lookup,
    not among ``known_wards``) are skipped and counted, so a national file can be imported as is.
    """
    frame = read_table(item.data, item.name, report)
    if frame is None:
        return None
    ward, lsoa, population = _population_columns(frame)
    if not (ward or lsoa) or not population:
        report.reject(
            item.name,
            f"needs a ward (or LSOA) code column and a 'population' column; found {', '.join(frame.columns)}.",
        )
        return None
    values = pd.to_numeric(frame[population].str.replace(",", "").str.strip(), errors="coerce")
    codes = frame[ward or lsoa].str.strip()
    # Nomis and ONS files end with blank lines and notes ("In order to protect against disclosure ..."):
    # a row with no code is the file's footer, skipped and counted, never a population.
    blank_value = frame[population].str.strip() == ""
    footer = ((codes == "") | (blank_value & ~codes.str.fullmatch(GSS_CODE.pattern[1:-1]))).to_numpy()
    report.add_rows(
        item.name, np.flatnonzero(footer), ward or lsoa, "blank or note line (the file's footer), skipped", "drop"
    )
    bad = pd.Series(footer, index=frame.index) | (~footer & (values.isna() | (values < 0)))
    report.add_rows(
        item.name,
        np.flatnonzero((bad & ~footer).to_numpy()),
        population,
        "population is not a number of zero or more",
        "drop",
    )
    if ward and len(known_wards):
        outside = ~codes.isin(known_wards) & ~bad
        report.add_rows(
            item.name,
            np.flatnonzero(outside.to_numpy()),
            ward,
            "ward outside the area (not a loaded ward), skipped",
            "drop",
        )
        bad = bad | outside
    if lsoa:
        if not lsoa_to_ward:
            report.reject(
                item.name,
                "population by LSOA needs an LSOA to ward lookup: import one first (import lookup) or pass --lookup.",
            )
            return None
        codes, unknown = _lsoas_to_wards(codes, bad, lsoa_to_ward)
        report.add_rows(
            item.name, np.flatnonzero(unknown), lsoa, "LSOA outside the area (not in the LSOA-to-ward lookup), skipped", "drop"
        )
        bad = bad | unknown
    out = pd.DataFrame({"ward_code": codes[~bad], "population": values[~bad].round().astype("int64")})
    summed = out.groupby("ward_code", as_index=False)["population"].sum()
    summed.attrs["rows_read"] = len(frame)
    return summed


def _population_columns(frame: pd.DataFrame) -> tuple[str | None, str | None, str | None]:
    """(ward code column, LSOA code column, population column) of a population file, None where absent.

    Nomis / ONS downloads name the code column "mnemonic" (or "geography code") and the count
    "total" / "observation": codes are recognised by their values when the header does not say.
    """
    ward = _code_column(frame, r"WD\d{2}CD", ("ward_code", "ward code")) or _column_of_codes(frame, GSS_WARD_VALUES)
    lsoa = (
        None
        if ward
        else _code_column(frame, r"LSOA\d{2}CD", ("lsoa_code", "lsoa21_code", "lsoa11_code", "lsoa code"))
        or _column_of_codes(frame, GSS_LSOA_VALUES)
    )
    population = find_column(
        list(frame.columns),
        ("population", "usual_residents", "usual_residents_total", "residents", "count", "value", "total", "observation"),
        r"(usual_residents.*|population.*|all_persons|obs_value)",
    )
    return ward, lsoa, population


def _lsoas_to_wards(codes: pd.Series, bad: pd.Series, lsoa_to_ward: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """(ward of each LSOA row, rows not already dropped whose LSOA the lookup does not hold)."""
    mapped = codes.map(lsoa_to_ward)
    return mapped, mapped.isna() & ~bad


def lsoa_lookup(engine: Engine) -> dict[str, str]:
    frame = read_frame(engine, "SELECT lsoa_code, ward_code FROM lsoa_wards")
    return dict(zip(frame["lsoa_code"], frame["ward_code"], strict=True))


def _provenance(conn, kind: str, item: InputFile, rows_read: int, imported_by: str | None) -> int:
    return record_import(
        conn,
        kind=kind,
        source=None,
        file_name=item.name,
        sha256=file_sha256(item.data),
        rows_read=rows_read,
        imported_by=imported_by,
    )


def store_area_attribute(
    engine: Engine,
    frame: pd.DataFrame,
    column: str,
    item: InputFile,
    report: ValidationReport,
    rows_read: int,
    imported_by: str | None = None,
) -> ImportResult:
    """Set ``areas.<column>`` (locality or population) for the wards in ``frame``, in one transaction.

    Codes not among the loaded wards are reported and dropped; wards missing from the file keep
    their value (a partial file never blanks what is known).
    """
    check_storable(frame, {**schema.text_limits(schema.areas), "ward_code": None}, item.name)  # unknown codes drop
    known = read_frame(engine, f"SELECT ward_code, {column} AS current FROM areas")
    if known.empty:
        report.reject(item.name, "no wards are loaded yet: import ward boundaries first.")
        raise ImportRejected(report)
    unknown = ~frame["ward_code"].isin(known["ward_code"])
    report.add_rows(
        item.name, np.flatnonzero(unknown.to_numpy()), "ward_code", "ward code is not among the loaded wards", "drop"
    )
    frame = frame.loc[~unknown].merge(known, on="ward_code")
    if column == "population":  # compare as numbers: a column with gaps reads back as float
        new_values = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
        old_values = pd.to_numeric(frame["current"], errors="coerce").astype("Int64")
        differs = (new_values != old_values).fillna(True).to_numpy(dtype=bool)
    else:
        differs = (frame[column].astype(str) != frame["current"].astype(str)).to_numpy()
    changed = frame.loc[differs]
    result = ImportResult(
        import_id=0,
        file_name=item.name,
        rows_read=rows_read,
        rows_updated=len(changed),
        rows_unchanged=len(frame) - len(changed),
        rows_dropped=report.rows_dropped,
        dropped_by_reason=report.dropped_by_reason(),
    )
    with engine.begin() as conn:
        result.import_id = _provenance(conn, column, item, rows_read, imported_by)
        for row in changed.itertuples(index=False):
            value = getattr(row, column)
            conn.execute(
                text(f"UPDATE areas SET {column} = :value WHERE ward_code = :code"),
                {"value": value.item() if hasattr(value, "item") else value, "code": row.ward_code},
            )
        finish_import(conn, result, {"dropped": result.dropped_by_reason})
    return result


def store_lsoa_lookup(
    engine: Engine,
    frame: pd.DataFrame,
    item: InputFile,
    rows_read: int,
    imported_by: str | None = None,
    report: ValidationReport | None = None,
) -> ImportResult:
    """Replace the LSOA to ward lookup for the LSOAs in ``frame`` (others are kept).

    With wards loaded, rows for wards outside the area are skipped and counted, so ONS's national
    best-fit lookup can be imported as downloaded.
    """
    report = report or ValidationReport()
    known = read_frame(engine, "SELECT ward_code FROM areas")["ward_code"]
    if len(known):
        outside = ~frame["ward_code"].isin(set(known))
        report.add_rows(
            item.name,
            np.flatnonzero(outside.to_numpy()),
            "ward_code",
            "LSOA of a ward outside the area, skipped",
            "drop",
        )
        frame = frame.loc[~outside].reset_index(drop=True)
    check_storable(frame, schema.text_limits(schema.lsoa_wards), item.name)
    current = read_frame(engine, "SELECT lsoa_code, ward_code AS current FROM lsoa_wards")
    merged = frame.merge(current, on="lsoa_code", how="left")
    new = merged["current"].isna()
    changed = ~new & (merged["current"] != merged["ward_code"])
    result = ImportResult(
        import_id=0,
        file_name=item.name,
        rows_read=rows_read,
        rows_inserted=int(new.sum()),
        rows_updated=int(changed.sum()),
        rows_unchanged=int((~new & ~changed).sum()),
        rows_dropped=report.rows_dropped,
        dropped_by_reason=report.dropped_by_reason(),
    )
    with engine.begin() as conn:
        result.import_id = _provenance(conn, "lookup", item, rows_read, imported_by)
        replace = merged.loc[new | changed, ["lsoa_code", "ward_code", "lsoa_name"]].assign(method="lookup file")
        for code in replace.loc[~new[new | changed].to_numpy(), "lsoa_code"]:
            conn.execute(text("DELETE FROM lsoa_wards WHERE lsoa_code = :code"), {"code": code})
        bulk_insert(conn, "lsoa_wards", replace)
        finish_import(conn, result, {})
    return result


def store_area_counts(
    engine: Engine,
    frame: pd.DataFrame,
    item: InputFile,
    report: ValidationReport,
    rows_read: int,
    imported_by: str | None = None,
    covers: tuple[str, str] | None = None,
) -> ImportResult:
    """Replace the (source, month) partitions of aggregated counts present in ``frame``, and record
    the months the file covers (``covers``, else its first to last month)."""
    from rc_dashboard.coverage import default_coverage, stated_coverage

    keyed = frame.assign(force="")
    covered = stated_coverage(keyed, covers[0], covers[1]) if covers else default_coverage(keyed, force_wide=False)
    check_storable(frame, schema.text_limits(schema.area_counts), item.name)
    keys = frame[["source", "month"]].drop_duplicates()
    current = read_frame(engine, "SELECT source, month, ward_code, category, count AS current FROM area_counts")
    current = current.merge(keys, on=["source", "month"])
    merged = frame.merge(current, on=["source", "month", "ward_code", "category"], how="outer")
    unchanged = int((merged["count"] == merged["current"]).sum())
    inserted = int(merged["current"].isna().sum())
    updated = int((merged["count"].notna() & merged["current"].notna() & (merged["count"] != merged["current"])).sum())
    result = ImportResult(
        import_id=0,
        file_name=item.name,
        rows_read=rows_read,
        rows_inserted=inserted,
        rows_updated=updated,
        rows_unchanged=unchanged,
        rows_dropped=report.rows_dropped,
        dropped_by_reason=report.dropped_by_reason(),
        months_covered=sorted(set(covered["month"])),
    )
    known = set(read_frame(engine, "SELECT ward_code FROM areas")["ward_code"])
    outside = (frame["ward_code"] == "") | ~frame["ward_code"].isin(known)
    result.notes.append(
        f"{int(frame.loc[~outside, 'count'].sum()):,} incidents counted in the area's wards; "
        f"{int(frame.loc[outside, 'count'].sum()):,} in areas outside every ward (stored, left out of every figure)."
    )
    if inserted == 0 and updated == 0 and len(current) == len(frame):
        with engine.begin() as conn:
            result.import_id = _provenance(conn, "counts", item, rows_read, imported_by)
            _finish_counts_import(conn, result, covered)
        return result
    with engine.begin() as conn:
        result.import_id = _provenance(conn, "counts", item, rows_read, imported_by)
        for source, month in keys.itertuples(index=False):
            conn.execute(text("DELETE FROM area_counts WHERE source = :s AND month = :m"), {"s": source, "m": month})
        bulk_insert(
            conn,
            "area_counts",
            frame.assign(import_id=result.import_id)[
                ["source", "month", "ward_code", "category", "count", "import_id"]
            ],
        )
        if not result.rows_updated and not result.rows_inserted:
            result.rows_updated = len(current) - len(frame)  # rows removed from a re-published month
        _finish_counts_import(conn, result, covered)
    return result


def _finish_counts_import(conn: Connection, result: ImportResult, covered: pd.DataFrame) -> None:
    """Record the months the counts cover and close the provenance record (a new covered month is a
    change even if no count is: see :func:`rc_dashboard.ingest.store.finish_import`)."""
    from rc_dashboard.coverage import record_coverage

    months_added = record_coverage(conn, covered, "counts", result.import_id)
    details = {"dropped": result.dropped_by_reason, "months_covered": result.months_covered}
    finish_import(conn, result, details, coverage_added=months_added)


def read_ward_lad_lookup(item: InputFile, report: ValidationReport) -> pd.DataFrame | None:
    """ward_code, lad_code, lad_name from ONS's ward-to-local-authority lookup as downloaded
    (``WDnnCD``/``LADnnCD`` columns, with or without the year digits)."""
    frame = read_table(item.data, item.name, report)
    if frame is None:
        return None
    ward = find_column(list(frame.columns), ("ward_code",), r"WD(\d{2})?CD")
    lad = find_column(list(frame.columns), ("lad_code",), r"LAD(\d{2})?CD")
    if not ward or not lad:
        report.reject(
            item.name,
            f"needs a ward code column (WDnnCD) and a local authority column (LADnnCD); found {', '.join(frame.columns)}.",
        )
        return None
    name = find_column(list(frame.columns), ("lad_name",), r"LAD(\d{2})?NM")
    out = pd.DataFrame({"ward_code": frame[ward].str.strip(), "lad_code": frame[lad].str.strip()})
    out["lad_name"] = frame[name].str.strip() if name else None
    repeated = out["ward_code"].duplicated()
    report.add_rows(item.name, np.flatnonzero(repeated.to_numpy()), ward, "ward appears twice (first kept)", "drop")
    out = out.loc[~repeated].reset_index(drop=True)
    out.attrs["rows_read"] = len(frame)
    return out


def store_ward_lads(
    engine: Engine, frame: pd.DataFrame, item: InputFile, report: ValidationReport, imported_by: str | None = None
) -> ImportResult:
    """Set each loaded ward's local authority from the lookup; wards outside the area are skipped and counted."""
    known = read_frame(engine, "SELECT ward_code, lad_code, lad_name FROM areas")
    if known.empty:
        report.reject(item.name, "no wards are loaded yet: import ward boundaries first.")
        raise ImportRejected(report)
    outside = ~frame["ward_code"].isin(set(known["ward_code"]))
    report.add_rows(
        item.name, np.flatnonzero(outside.to_numpy()), "ward_code", "ward outside the area, skipped", "drop"
    )
    merged = frame.loc[~outside].merge(known, on="ward_code", suffixes=("", "_now"))
    changed = merged[(merged["lad_code"] != merged["lad_code_now"]) | (merged["lad_name"] != merged["lad_name_now"])]
    result = ImportResult(
        import_id=0,
        file_name=item.name,
        rows_read=frame.attrs.get("rows_read", len(frame)),
        rows_updated=len(changed),
        rows_unchanged=len(merged) - len(changed),
        rows_dropped=report.rows_dropped,
        dropped_by_reason=report.dropped_by_reason(),
    )
    with engine.begin() as conn:
        result.import_id = _provenance(conn, "lads", item, result.rows_read, imported_by)
        for row in changed.itertuples(index=False):
            conn.execute(
                text("UPDATE areas SET lad_code = :c, lad_name = :n WHERE ward_code = :w"),
                {"c": row.lad_code, "n": row.lad_name, "w": row.ward_code},
            )
        finish_import(conn, result, {"dropped": result.dropped_by_reason})
    return result
