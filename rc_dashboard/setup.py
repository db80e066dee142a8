"""The first-run checklist: what a partnership starting clean has set up, and what is still missing.

Each item says whether it is done, one sentence of detail, and how to do it (an import kind on the
Data page, or a configuration file), so the Data page can offer the step directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from rc_dashboard.config import AreaConfig
from rc_dashboard.db import read_frame

DEMO_AREA_NAME = "Brackenfield Community Safety Partnership (demo)"


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    done: bool
    detail: str
    import_kind: str | None = None  # the Data page import that does it; None: a configuration file
    how: str = ""


def checklist(engine: Engine, area: AreaConfig) -> list[ChecklistItem]:
    """Name, boundaries, localities, population, police files and partner files, each done or missing."""
    wards = read_frame(
        engine,
        "SELECT COUNT(*) AS n, COUNT(locality) AS with_locality, COUNT(population) AS with_population FROM areas",
    ).iloc[0]
    n_wards = int(wards["n"])
    feeds = read_frame(
        engine, "SELECT source, COUNT(DISTINCT month) AS months, MAX(month) AS last FROM coverage GROUP BY source"
    )
    police = feeds[feeds["source"] == "police"]
    partners = feeds[feeds["source"] != "police"]
    named = area.area_name.strip() not in ("", DEMO_AREA_NAME)
    return [
        ChecklistItem(
            "Partnership name",
            named,
            f"'{area.area_name}', a {area.area_word}" if named else "still the demo's name",
            None,
            "set area_name and area_word (borough, district, city or county) in config/area.yaml",
        ),
        ChecklistItem(
            "Ward boundaries",
            n_wards > 0,
            f"{n_wards} wards" if n_wards else "no wards: every incident would lie outside the area",
            "wards",
            "import the ONS ward boundaries (GeoJSON, GeoPackage or zipped Shapefile; national files with --lad)",
        ),
        ChecklistItem(
            "Localities",
            n_wards > 0 and int(wards["with_locality"]) == n_wards,
            f"{int(wards['with_locality'])} of {n_wards} wards have a locality" if n_wards else "needs wards first",
            "localities",
            "import a ward-to-locality CSV (ward_code, locality)",
        ),
        ChecklistItem(
            "Population",
            n_wards > 0 and int(wards["with_population"]) == n_wards,
            f"{int(wards['with_population'])} of {n_wards} wards have a population" if n_wards else "needs wards first",
            "population",
            "import Census 2021 TS001 by ward or by LSOA (as Nomis publishes it)",
        ),
        ChecklistItem(
            "Police files",
            not police.empty,
            f"{int(police['months'].iloc[0])} months, up to {police['last'].iloc[0]}"
            if not police.empty
            else "none yet",
            "police",
            "import data.police.uk street-level files (CSV or the zip download)",
        ),
        ChecklistItem(
            "Partner files",
            not partners.empty,
            ", ".join(f"{s} ({int(m)} months)" for s, m in zip(partners["source"], partners["months"], strict=True))
            if not partners.empty
            else "none yet",
            "incidents",
            "import a partner's incident log (CSV or XLSX, with a column mapping) or aggregated counts",
        ),
    ]
