"""The kinds of import, in one register: the command line, the Data page and its preview all read it.

A new kind of file is one :class:`ImportKind` here: its label, the file types it takes, its importer
(in :mod:`rc_dashboard.ingest.importers`) and its preview reader (in :mod:`rc_dashboard.ingest.preview`).
``python -m rc_dashboard import KIND``, the Data page's "What are you importing?" and its dry run
then offer it with nothing else to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from rc_dashboard.ingest import importers, preview
from rc_dashboard.ingest.files import InputFile, expand_inputs
from rc_dashboard.ingest.partner import PartnerMapping
from rc_dashboard.ingest.store import ImportResult
from rc_dashboard.ingest.validation import ValidationReport

Progress = Callable[[float, str], None]


def _silent(_fraction: float, _message: str) -> None:
    return None


@dataclass(frozen=True)
class ImportOptions:
    """What the user said about one import besides the files; each kind reads the options it knows."""

    imported_by: str | None = None
    progress: Progress = _silent
    mapping: PartnerMapping | None = None  # partner logs and counts: how their columns read
    covers: tuple[str, str] | None = None  # partner logs and counts: (first, last) month the files cover
    replace: bool = False  # wards: allow removing wards or moving over 5% of incidents
    code_field: str | None = None  # wards: the boundary file's code field (default: detected)
    name_field: str | None = None  # wards: its name field
    lad: str | None = None  # wards: keep one local authority's wards from a national file
    lad_lookup: InputFile | None = None  # wards: ward-to-LAD lookup for a file without a LAD field


Importer = Callable[[Engine, list[InputFile], ImportOptions], list[ImportResult]]


@dataclass(frozen=True)
class ImportKind:
    """One kind of import, as every front end offers it."""

    name: str  # the word on the command line and the Data page's key
    label: str  # what the Data page calls it
    importer: Importer
    preview: preview.PreviewReader  # the first rows as they will be stored, for the Data page's dry run
    upload_types: tuple[str, ...] = ("csv",)  # file endings the Data page's uploader takes
    # Endings read from a folder or zip archive; None: a boundary file, read whole as it is (a zip is a Shapefile).
    suffixes: tuple[str, ...] | None = importers.TABLE_SUFFIXES
    many_files: bool = False  # the Data page takes several files at once (one all-or-nothing batch)
    mapped: bool = False  # read through a column mapping (partner files): needs one, may state the months it covers

    def files(self, inputs: list[InputFile], report: ValidationReport) -> list[InputFile]:
        """The files to read: zips opened for the kind's endings, or boundary files as given."""
        return inputs if self.suffixes is None else expand_inputs(inputs, report, self.suffixes)

    def run(self, engine: Engine, inputs: list[InputFile], options: ImportOptions) -> list[ImportResult]:
        """Import ``inputs``; raises :class:`~rc_dashboard.ingest.validation.ImportRejected`, nothing written."""
        return self.importer(engine, inputs, options)


def _police(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
    return [importers.import_police(engine, inputs, progress=o.progress, imported_by=o.imported_by)]


def _incidents(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
    return [
        importers.import_partner(
            engine, inputs, _mapping(o), progress=o.progress, imported_by=o.imported_by, covers=o.covers
        )
    ]


def _counts(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
    mapping = _mapping(o)
    return [
        importers.import_counts(engine, item, mapping, imported_by=o.imported_by, covers=o.covers) for item in inputs
    ]


def _wards(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
    return [
        importers.import_wards(
            engine,
            inputs[0],
            code_field=o.code_field,
            name_field=o.name_field,
            imported_by=o.imported_by,
            replace=o.replace,
            lad=o.lad,
            lad_lookup=o.lad_lookup,
        )
    ]


def _lsoas(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
    return [importers.import_lsoas(engine, inputs[0], imported_by=o.imported_by)]


def _each_file(function: Callable[..., ImportResult]) -> Importer:
    """An importer of one table per file (lookups, population), run on each file given."""

    def run(engine: Engine, inputs: list[InputFile], o: ImportOptions) -> list[ImportResult]:
        return [function(engine, item, imported_by=o.imported_by) for item in inputs]

    return run


def _mapping(options: ImportOptions) -> PartnerMapping:
    if options.mapping is None:
        raise ValueError("A partner file is read through a column mapping, and none was given.")
    return options.mapping


BOUNDARY_TYPES = ("geojson", "json", "gpkg", "zip")

KINDS: dict[str, ImportKind] = {
    kind.name: kind
    for kind in (
        ImportKind(
            "police", "Police street-level crime (data.police.uk CSV or zip)", upload_types=("csv", "zip"),
            suffixes=importers.CSV_SUFFIXES, many_files=True, importer=_police, preview=preview.police_rows,
        ),
        ImportKind(
            "incidents", "Partner incident log (CSV or XLSX, with a column mapping)", upload_types=("csv", "xlsx", "zip"),
            many_files=True, mapped=True, importer=_incidents, preview=preview.partner_rows,
        ),
        ImportKind(
            "counts", "Partner aggregated counts (month, area, category, count)", upload_types=("csv", "xlsx"),
            mapped=True, importer=_counts, preview=preview.count_rows,
        ),
        ImportKind(
            "wards", "Ward boundaries (GeoJSON, GeoPackage or zipped Shapefile)", upload_types=BOUNDARY_TYPES,
            suffixes=None, importer=_wards, preview=preview.ward_rows,
        ),
        ImportKind(
            "localities", "Ward to locality lookup (CSV)",
            importer=_each_file(importers.import_localities), preview=preview.localities_rows,
        ),
        ImportKind(
            "population", "Population by ward or by LSOA (CSV)",
            importer=_each_file(importers.import_population), preview=preview.population_rows,
        ),
        ImportKind(
            "lookup", "LSOA to ward lookup (CSV, e.g. ONS best fit as downloaded)",
            importer=_each_file(importers.import_lsoa_lookup), preview=preview.lookup_rows,
        ),
        ImportKind(
            "lsoas", "LSOA boundaries (to derive the LSOA to ward lookup when there is none)",
            upload_types=BOUNDARY_TYPES, suffixes=None, importer=_lsoas, preview=preview.lsoa_rows,
        ),
        ImportKind(
            "lads", "Ward to local authority lookup (ONS CSV as downloaded)",
            importer=_each_file(importers.import_ward_lads), preview=preview.lads_rows,
        ),
    )
}  # fmt: skip
