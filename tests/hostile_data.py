"""Hostile names planted through the import kinds, for the escaping tests (issue 14, finding 1).

Every name is something a Markdown or HTML renderer would make live: a Markdown link, a bare URL,
an image, raw HTML, a spreadsheet formula (with a URL inside) and ANSI terminal codes. Each carries
``evil.example`` so a test can look for any link or image whose target came from the data.
"""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import shapely

from rc_dashboard.db import read_frame, set_meta
from rc_dashboard.geography import BNG, bng_to_lonlat
from rc_dashboard.ingest import importers
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.partner import PartnerMapping
from rc_dashboard.services.demo_loader import DEMO_META_KEY

EVIL_HOST = "evil.example"
HOSTILE = {
    "link": "[Sign in again](https://evil.example/login)",
    "url": "https://evil.example/bare",
    "image": "![x](https://evil.example/x.png)",
    "html": "<a href=https://evil.example/h>h</a><img src=//evil.example/i>",  # 61: fits a 64-character column
    "formula": '=HYPERLINK("https://evil.example/f","f")',
    "ansi": "\x1b[31mwww.evil.example\x1b[0m",
    "email": "mailto:boss@evil.example",
}


def plant_hostile_names(engine) -> dict[str, str]:
    """Import hostile names as police forces, partner organisations and categories (incidents and
    aggregated counts), localities, ward names and a file name into a database that already has wards and incidents; returns what was
    planted where (the hostile locality, for a locality lead to choose)."""
    months = sorted(read_frame(engine, "SELECT DISTINCT month FROM incidents")["month"])
    wards = read_frame(engine, "SELECT ward_code, ward_name, locality, geometry_wkb FROM areas ORDER BY ward_code")
    stopped = months[-6]  # inside every page's window, and before the latest month: "has sent nothing since"
    centre = shapely.from_wkb(wards["geometry_wkb"].iloc[0]).representative_point()
    lon, lat = bng_to_lonlat([centre.x], [centre.y])
    lon, lat = float(lon[0]), float(lat[0])

    # Police: one force per hostile name (the "Reported by" column names the feed).
    police_rows = [
        {
            "Crime ID": f"hostile{i}",
            "Month": stopped,
            "Reported by": name,
            "Falls within": name,
            "Longitude": f"{lon:.6f}",
            "Latitude": f"{lat:.6f}",
            "Location": f"On or near {name}",
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": "Anti-social behaviour",
            "Last outcome category": "",
            "Context": "",
        }
        for i, name in enumerate(HOSTILE.values())
    ]
    police_csv = pd.DataFrame(police_rows).to_csv(index=False).encode()
    importers.import_police(engine, [InputFile(f"{stopped}-hostile-street.csv", police_csv)])

    # A partner log: hostile organisation, hostile categories kept as given, a hostile file name.
    mapping = PartnerMapping.from_dict(
        {
            "source": "council",
            "organisation": HOSTILE["html"],
            "date": {"column": "Date", "format": "%Y-%m-%d"},
            "category": {"column": "Type", "values": {}, "unmapped": "keep"},
            "location": {"longitude": "Lon", "latitude": "Lat"},
        }
    )
    partner = pd.DataFrame(
        [
            {"Date": f"{month}-15", "Type": name, "Lon": f"{lon:.6f}", "Lat": f"{lat:.6f}"}
            for month in months[-15:]
            for name in (HOSTILE["formula"], HOSTILE["link"], HOSTILE["ansi"])
            for _ in range(3)
        ]
    )
    importers.import_partner(
        engine, [InputFile("[report](https://evil.example/file).csv", partner.to_csv(index=False).encode())], mapping
    )

    # Aggregated partner counts by ward: hostile categories kept as given.
    counts_mapping = PartnerMapping.from_dict(
        {
            "source": "housing",
            "organisation": HOSTILE["email"],
            "month": {"column": "month", "format": "%Y-%m"},
            "category": {"column": "kind", "values": {}, "unmapped": "keep"},
            "location": {"area_code": "ward"},
            "count": "reports",
        }
    )
    counts = pd.DataFrame(
        [
            {"month": month, "ward": code, "kind": HOSTILE["image"], "reports": 7}
            for month in months[-15:]
            for code in wards["ward_code"].head(3)
        ]
    )
    importers.import_counts(engine, InputFile("counts.csv", counts.to_csv(index=False).encode()), counts_mapping)

    # Ward-to-locality lookup: every ward of the first locality moves to a hostile locality name.
    first_locality = sorted(wards["locality"].dropna().unique())[0]
    moved = wards.loc[wards["locality"] == first_locality, ["ward_code"]].assign(locality=HOSTILE["link"])
    importers.import_localities(engine, InputFile("localities.csv", moved.to_csv(index=False).encode()))

    # Ward boundaries: the same wards and shapes, three of them with hostile names.
    renamed = wards["ward_name"].tolist()
    for position, key in enumerate(("image", "url", "html")):
        renamed[position] = HOSTILE[key]
    boundaries = gpd.GeoDataFrame(
        {"ward_code": wards["ward_code"], "ward_name": renamed},
        geometry=shapely.from_wkb(wards["geometry_wkb"].to_numpy()),
        crs=BNG,
    ).to_crs("EPSG:4326")
    geojson = json.dumps(json.loads(boundaries.to_json()))
    importers.import_wards(engine, InputFile("wards.geojson", io.BytesIO(geojson.encode()).getvalue()))
    # Importing real files ends the demo label; put it back so the demo's role switcher can show
    # every role's view of this database (the pages and checks are the same as after sign-in).
    set_meta(engine, DEMO_META_KEY, "1")
    return {"locality": HOSTILE["link"], "stopped": stopped}
