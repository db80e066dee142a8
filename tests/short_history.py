"""A small partnership with a short history, built through the real import functions.

Four 1 km square wards near Walsall (two localities), police.uk files for the last ``n_months``
months to March 2026, and a council log with easting/northing. Every figure is planted, so tests
can check the app against known answers:

- per month, ward ``i`` (0..3) has ``2 + i`` burglaries and ``1 + (month index % 3)`` violent crimes
  from the police, at points inside it;
- the police file also holds ``outside_per_month`` crimes in the neighbouring district (outside every
  ward) and ``NO_LOCATION_PER_MONTH`` crimes with no location (force-wide: never counted);
- the council log has one fly-tipping per ward per month, and one with no location per month
  (the council's own incident: counted in the area's totals).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard.geography import bng_to_lonlat
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import (
    import_localities,
    import_partner,
    import_police,
    import_population,
    import_wards,
)
from rc_dashboard.ingest.partner import PartnerMapping
from rc_dashboard.periods import add_months, month_range

ROOT = Path(__file__).resolve().parents[1]
LAST_MONTH = "2026-03"
WARD_CODES = ("E05000001", "E05000002", "E05000003", "E05000004")
WARD_NAMES = ("Alder", "Birch", "Cedar", "Damson")
LOCALITIES = ("North", "North", "South", "South")
POPULATION = 5_000
NO_LOCATION_PER_MONTH = 2
POLICE_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context"
)
FORCE = "Test Police"


def wards() -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(400_000, 299_000, 401_000, 300_000),
        shapely.box(401_000, 299_000, 402_000, 300_000),
        shapely.box(400_000, 298_000, 401_000, 299_000),
        shapely.box(401_000, 298_000, 402_000, 299_000),
    ]
    return gpd.GeoDataFrame(
        {
            "ward_code": list(WARD_CODES),
            "ward_name": list(WARD_NAMES),
            "locality": list(LOCALITIES),
            "population": [POPULATION] * 4,
        },
        geometry=boxes,
        crs="EPSG:27700",
    )


def _centre(index: int) -> tuple[float, float]:
    return 400_500.0 + 1_000 * (index % 2), 299_500.0 - 1_000 * (index // 2)


@dataclass
class Planted:
    months: list[str]
    police_in_area: pd.DataFrame  # month, ward_code, category, count
    council_in_wards: int
    council_no_location: int
    outside: int
    police_no_location: int

    def month_total(self, month: str) -> int:
        """In-area incidents of one month: police in wards, council in wards and with no location."""
        police = int(self.police_in_area.loc[self.police_in_area["month"] == month, "count"].sum())
        return police + (self.council_in_wards + self.council_no_location) // len(self.months)

    @property
    def area_total(self) -> int:
        return int(self.police_in_area["count"].sum()) + self.council_in_wards + self.council_no_location


def police_csv(month: str, month_index: int, outside_per_month: int) -> tuple[bytes, list[tuple]]:
    """One month's force-wide police.uk file and the planted in-area (ward, category, count)."""
    lines, planted, number = [POLICE_HEADER], [], 0

    def add(easting: float | None, northing: float | None, crime_type: str) -> None:
        nonlocal number
        number += 1
        if easting is None:
            lon_text = lat_text = ""
            location = "No location"
        else:
            lon, lat = bng_to_lonlat(np.array([easting]), np.array([northing]))
            lon_text, lat_text = f"{lon[0]:.6f}", f"{lat[0]:.6f}"
            location = "On or near Test Street"
        lines.append(f"{month}-{number:05d},{month},{FORCE},{FORCE},{lon_text},{lat_text},{location},,,{crime_type},,")

    for index, code in enumerate(WARD_CODES):
        x, y = _centre(index)
        burglaries, violence = 2 + index, 1 + month_index % 3
        for k in range(burglaries):
            add(x + 10 * k, y, "Burglary")
        for k in range(violence):
            add(x, y + 10 * k, "Violence and sexual offences")
        planted += [(month, code, "Burglary", burglaries), (month, code, "Violence and sexual offences", violence)]
    for k in range(outside_per_month):  # the neighbouring district, 5-6 km east of the area
        add(407_000.0 + 3 * k, 299_000.0, "Burglary")
    for _ in range(NO_LOCATION_PER_MONTH):
        add(None, None, "Other theft")
    return ("\n".join(lines) + "\n").encode(), planted


COUNCIL_MAPPING = (ROOT / "config" / "mappings" / "council_asb_export.yaml").read_text(encoding="utf-8")


def council_csv(months: list[str]) -> bytes:
    rows = ["Case Reference,Date Reported,Incident Type,Easting,Northing,Street"]
    number = 0
    for month in months:
        year, mon = month.split("-")
        for index in range(len(WARD_CODES)):
            number += 1
            x, y = _centre(index)
            rows.append(f"ENV-{number:05d},15/{mon}/{year},Fly Tipping - Household waste,{x + 50:.0f},{y:.0f},Lane")
        number += 1
        rows.append(f"ENV-{number:05d},15/{mon}/{year},Fly Tipping - Household waste,,,")
    return ("\n".join(rows) + "\n").encode()


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    return buffer.getvalue()


def build(engine, n_months: int, *, outside_per_month: int = 1, council: bool = True) -> Planted:
    """Load the partnership with ``n_months`` months to March 2026 through the import functions."""
    months = month_range(add_months(LAST_MONTH, -(n_months - 1)), LAST_MONTH)
    import_wards(engine, InputFile("wards.geojson", geojson_bytes(wards())))
    localities = "ward_code,locality\n" + "".join(f"{c},{loc}\n" for c, loc in zip(WARD_CODES, LOCALITIES, strict=True))
    import_localities(engine, InputFile("localities.csv", localities.encode()))
    population = "ward_code,population\n" + "".join(f"{c},{POPULATION}\n" for c in WARD_CODES)
    import_population(engine, InputFile("population.csv", population.encode()))
    files, planted = [], []
    for index, month in enumerate(months):
        data, rows = police_csv(month, index, outside_per_month)
        files.append(InputFile(f"{month}-test-police-street.csv", data))
        planted += rows
    import_police(engine, files)
    if council:
        import_partner(
            engine, [InputFile("council.csv", council_csv(months))], PartnerMapping.from_yaml(COUNCIL_MAPPING)
        )
    return Planted(
        months=months,
        police_in_area=pd.DataFrame(planted, columns=["month", "ward_code", "category", "count"]),
        council_in_wards=len(WARD_CODES) * len(months) if council else 0,
        council_no_location=len(months) if council else 0,
        outside=outside_per_month * len(months),
        police_no_location=NO_LOCATION_PER_MONTH * len(months),
    )
