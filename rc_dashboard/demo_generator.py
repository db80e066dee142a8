"""A deterministic, fictional but realistic demo borough: "Brackenfield (demo)".

The dashboard must be shown, tested and benchmarked without real data, and its hotspot statistics
must be checked against an answer known in advance. `generate_demo` therefore builds, from one seed:

* ~20 irregular wards (Voronoi cells clipped to a noisy outline) in British National Grid metres;
* police.uk street-level rows (same columns, snap points, anonymised IDs, outcomes, no-location rows,
  British Transport Police rows, rows from just outside the borough);
* partner incidents (council, fire service, housing) at precise coordinates;
* planted hotspots (persistent, emerging, fading) and the true counts per ward, month and category.

Everything here is pure and vectorised: no database, no streamlit, and no file is written except by
`save_truth`. All randomness comes from one `numpy.random.default_rng(seed)`; draws that fix the
geography (outline, wards, LSOAs, site centres) come first so that they do not depend on `scale`.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from rc_dashboard.categories import ASB, POLICE_CRIME_TYPES
from rc_dashboard.geography import BNG, bng_to_lonlat, polygon_of
from rc_dashboard.ingest.police_uk import POLICE_COLUMNS

DEMO_END_MONTH = "2026-09"
DEMO_MONTHS = 36
DEMO_SEED = 20260923
DEMO_LAD_CODE = "E08999901"
DEMO_LAD_NAME = "Brackenfield (demo)"

__all__ = [
    "DEMO_END_MONTH",
    "DEMO_LAD_CODE",
    "DEMO_LAD_NAME",
    "DEMO_MONTHS",
    "DEMO_SEED",
    "POLICE_COLUMNS",
    "POLICE_CRIME_TYPES",
    "DemoBorough",
    "DemoTruth",
    "generate_demo",
    "load_truth_counts",
    "save_truth",
]

VIOLENCE = "Violence and sexual offences"
FORCE_NAME = "Brackenfield Police"
BTP_NAME = "British Transport Police"
NO_LOCATION_TEXT = "No location"
OUTSIDE_WARD_CODE = ""
TRUTH_JSON_NAME = "demo_truth.json"
TRUTH_COUNTS_NAME = "demo_truth_counts.csv"
TRUTH_COUNT_COLUMNS = ["ward_code", "month", "category", "count"]

LONLAT_DECIMALS = 6  # police.uk publishes 6 decimals (~0.1 m), far less than the snap inset below

# --- geography (metres, EPSG:27700) --------------------------------------------------------------
CENTRE_EASTING_M = 412_000.0  # fictional inland spot in the English Midlands
CENTRE_NORTHING_M = 296_000.0
OUTLINE_RADIUS_M = 6_000.0  # mean radius, so the borough is ~12 km across
OUTLINE_VERTICES = 240
OUTLINE_HARMONICS = 24  # Fourier terms shaping the outline ...
OUTLINE_ROUGHNESS = 0.22  # ... with relative amplitude OUTLINE_ROUGHNESS * k**-OUTLINE_DECAY
OUTLINE_DECAY = 1.2
OUTLINE_VERTEX_JITTER = 0.006  # relative radial noise per vertex: a wiggly, surveyed-looking edge
OUTLINE_MIN_RADIUS_FRACTION = 0.55
# Ward seed rings (count, radius as a fraction of OUTLINE_RADIUS_M): small dense wards in the middle.
WARD_RINGS: tuple[tuple[int, float], ...] = ((1, 0.0), (6, 0.34), (13, 0.72))
WARD_CENTRE_JITTER_M = 300.0
WARD_ANGLE_JITTER = 0.35  # fraction of the angular spacing within a ring
WARD_RADIUS_JITTER = 0.12  # relative
MIN_WARD_AREA_M2 = 1.5e6
MIN_WARDS_PER_LOCALITY = 3
LAYOUT_ATTEMPTS = 100
LOCALITIES = ("North", "South", "East", "West")
POPULATION_MIN = 8_000
POPULATION_MAX = 18_000
POPULATION_NOISE = 800.0  # people, standard deviation
POPULATION_DISTANCE_DROP = 0.85  # share of the population range lost from the centre to the edge
LSOAS_PER_WARD = (4, 8)  # inclusive
LSOA_CODE_PREFIX = "E0199"
NEIGHBOUR_LSOA_FIRST = 8001  # neighbouring LSOAs are numbered apart from the borough's own
NEIGHBOUR_LSOAS = 6
LSOA_AREA_NAME = "Brackenfield"
NEIGHBOUR_AREA_NAME = "Kettlewick"
WARD_CODE_PREFIX = "E0599"

WARD_NAMES: tuple[str, ...] = (
    "Alder Green", "Ashby Fields", "Beacon Hill", "Bishops Cross", "Bracken Heath",
    "Brook Lane", "Castle Mead", "Chapel End", "Copperfield", "Deanery", "Elmstead",
    "Fairholme", "Foxley Park", "Greenhill", "Hallam Vale", "Hawthorn", "Kingsmoor",
    "Larkrise", "Market Cross", "Millbrook", "Northgate", "Oakwood", "Priory", "Ravenscroft",
    "St Anne's", "Thornbury", "Weaver's Row", "Willowbank",
)  # fmt: skip
STREET_ROOTS: tuple[str, ...] = (
    "Mill", "Church", "Station", "High", "Park", "Victoria", "Albert", "Queen", "King", "York",
    "Manor", "Grange", "Orchard", "Meadow", "Willow", "Oak", "Ash", "Elm", "Beech", "Cedar",
    "Hawthorn", "Holly", "Ivy", "Rose", "Primrose", "Bluebell", "Foxglove", "Heather", "Bramble",
    "Chestnut", "Sycamore", "Rowan", "Linden", "Poplar", "Larch", "Spring", "Brook", "River",
    "Canal", "Bridge", "Market", "Castle", "Abbey", "Priory", "Chapel", "School", "College",
    "Factory", "Forge", "Foundry", "Wharf", "Quarry", "Kiln", "Tannery", "Weaver", "Cooper",
    "Wellington", "Nelson", "Gladstone", "Cromwell", "Stanley", "Howard", "Percy", "Neville",
    "Windsor", "Stafford", "Derby", "Lichfield", "Tamworth", "Coventry", "Warwick", "Rugby",
    "Sutton", "Hill", "Green",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = (
    "Road", "Street", "Lane", "Close", "Avenue", "Drive", "Way", "Crescent", "Grove", "Place",
    "Terrace", "Gardens", "Walk", "Row",
)  # fmt: skip
SECOND_SUFFIX_STEP = 5  # coprime with len(STREET_SUFFIXES): each root gets two different suffixes
STREET_NAMES: tuple[str, ...] = tuple(
    f"{root} {STREET_SUFFIXES[(i + offset) % len(STREET_SUFFIXES)]}"
    for offset in (0, SECOND_SUFFIX_STEP)
    for i, root in enumerate(STREET_ROOTS)
)

# police.uk labels some snap points by the kind of place rather than the street (share, label weight).
FACILITY_SHARE = 0.15
FACILITIES: dict[str, float] = {
    "Supermarket": 0.16,
    "Parking Area": 0.18,
    "Petrol Station": 0.08,
    "Shopping Area": 0.10,
    "Nightclub": 0.04,
    "Sports/Recreation Area": 0.10,
    "Park/Open Space": 0.12,
    "Further/Higher Educational Building": 0.05,
    "Hospital": 0.02,
    "Police Station": 0.02,
    "Theatre/Concert Hall": 0.02,
    "Pedestrian Subway": 0.05,
    "Bus/Coach Station": 0.04,
    "Conference/Exhibition Centre": 0.02,
}
STATION_LOCATION = "Railway Station"
# How much more often a crime type lands on a snap point of a given kind.
FACILITY_AFFINITY: dict[str, dict[str, float]] = {
    "Shoplifting": {"Supermarket": 30.0, "Shopping Area": 30.0, "Petrol Station": 8.0},
    "Vehicle crime": {"Parking Area": 8.0},
    "Bicycle theft": {"Further/Higher Educational Building": 6.0, "Sports/Recreation Area": 4.0},
    "Theft from the person": {"Shopping Area": 6.0, "Bus/Coach Station": 6.0, "Nightclub": 4.0},
    "Violence and sexual offences": {"Nightclub": 5.0},
    "Public order": {"Nightclub": 5.0},
}

# --- where incidents happen ------------------------------------------------------------------------
SNAP_POINTS_AT_SCALE_1 = 2_500  # grows with sqrt(scale): more data reveals more of the snap map
OUTSIDE_SNAP_POINTS_AT_SCALE_1 = 30
OUTSIDE_MIN_M = 50.0
OUTSIDE_MAX_M = 400.0
OUTSIDE_MARGIN_M = 1.0  # keeps rounded coordinates inside the 50-400 m band
SNAP_INSET_M = 10.0  # police snap points sit this far inside their ward, so rounding cannot move them
PARTNER_INSET_M = 15.0
STATIONS = 3
TOWN_CENTRE_SIGMA_M = 1_800.0
TOWN_CENTRE_SHARE = 0.45
DISTRICT_CENTRES = 3
DISTRICT_CENTRE_RADIUS_FRACTION = (0.45, 0.7)
DISTRICT_SIGMA_M = 500.0
DISTRICT_SHARE = 0.15  # the rest is spread uniformly
SNAP_WEIGHT_SIGMA = 0.8  # lognormal spread of how busy each snap point is
SAMPLE_OVERDRAW = 1.6  # candidates drawn per point still needed in rejection sampling

# --- police volumes ------------------------------------------------------------------------------
POLICE_ROWS_PER_MONTH = 2_500
CRIME_TYPE_SHARES: dict[str, float] = {  # roughly England and Wales; normalised before use
    "Violence and sexual offences": 0.33,
    "Anti-social behaviour": 0.17,
    "Public order": 0.09,
    "Criminal damage and arson": 0.08,
    "Shoplifting": 0.07,
    "Other theft": 0.06,
    "Vehicle crime": 0.06,
    "Burglary": 0.045,
    "Drugs": 0.03,
    "Other crime": 0.025,
    "Theft from the person": 0.01,
    "Bicycle theft": 0.01,
    "Robbery": 0.01,
    "Possession of weapons": 0.008,
}
# (relative amplitude, month of peak): a cosine over the year.
SEASONALITY: dict[str, tuple[float, int]] = {
    "Anti-social behaviour": (0.22, 7),
    "Violence and sexual offences": (0.15, 7),
    "Public order": (0.18, 7),
    "Burglary": (0.12, 12),
    "Fly-tipping": (0.10, 7),
    "Noise nuisance": (0.25, 7),
    "Dog fouling": (0.15, 1),
    "Deliberate fire": (0.30, 7),
    "Housing ASB": (0.15, 7),
}
BONFIRE_MONTH = 11
BONFIRE_BOOST = 0.8  # extra relative deliberate fires in November
VIOLENCE_ANNUAL_GROWTH = 0.20  # compounding, so any 12 months are +20% on the 12 before
NO_LOCATION_SHARE = 0.015
BTP_SHARE = 0.01
BTP_CRIME_TYPES = (
    "Violence and sexual offences",
    "Public order",
    "Theft from the person",
    "Other theft",
    "Bicycle theft",
    "Criminal damage and arson",
    "Robbery",
)
SETTLED_OUTCOMES: dict[str, float] = {
    "Investigation complete; no suspect identified": 0.46,
    "Unable to prosecute suspect": 0.27,
    "Court result unavailable": 0.07,
    "Local resolution": 0.05,
    "Action to be taken by another organisation": 0.05,
    "Further investigation is not in the public interest": 0.04,
    "Offender given a caution": 0.03,
    "Formal action is not in the public interest": 0.03,
}
PENDING_OUTCOMES: dict[str, float] = {
    "Under investigation": 0.6,
    "Status update unavailable": 0.25,
    "Awaiting court outcome": 0.15,
}
PENDING_SHARE_LATEST = 0.7  # share of crimes still open in the month they are published
PENDING_SHARE_FLOOR = 0.04  # share never updated
PENDING_DECAY_MONTHS = 3.0
CRIME_ID_BYTES = 32  # police.uk IDs are SHA-256 hex digests: 64 characters

# --- partners ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PartnerStream:
    """One partner dataset: its source, our category, volume per month, and the partner's own labels."""

    source: str
    category: str
    per_month: float
    labels: dict[str, float]
    season_key: str


PARTNER_STREAMS: tuple[_PartnerStream, ...] = (
    _PartnerStream(
        "council",
        "Fly-tipping",
        300.0,
        {
            "Fly Tipping - Household waste": 0.45,
            "Fly Tipping - Black bags": 0.2,
            "Fly Tipping - Bulky items": 0.2,
            "Fly Tipping - Builders waste": 0.1,
            "Fly Tipping - Tyres": 0.05,
        },
        "Fly-tipping",
    ),
    _PartnerStream(
        "council",
        "Noise nuisance",
        120.0,
        {
            "Noise - Domestic": 0.6,
            "Noise - Music/parties": 0.2,
            "Noise - Dog barking": 0.12,
            "Noise - Commercial": 0.08,
        },
        "Noise nuisance",
    ),
    _PartnerStream(
        "council",
        "Graffiti",
        50.0,
        {"Graffiti - non-offensive": 0.75, "Graffiti - offensive": 0.25},
        "Graffiti",
    ),
    _PartnerStream("council", "Dog fouling", 40.0, {"Dog Fouling": 1.0}, "Dog fouling"),
    _PartnerStream(
        "fire",
        "Deliberate fire",
        35.0,
        {
            "Deliberate secondary fire": 0.75,
            "Deliberate primary fire - vehicle": 0.15,
            "Deliberate primary fire - building": 0.10,
        },
        "Deliberate fire",
    ),
    _PartnerStream(
        "housing",
        "Anti-social behaviour",
        60.0,
        {
            "ASB case - Noise/Nuisance": 0.45,
            "ASB case - Verbal abuse/harassment": 0.2,
            "ASB case - Drug related": 0.15,
            "ASB case - Property damage": 0.12,
            "ASB case - Communal areas misuse": 0.08,
        },
        "Housing ASB",
    ),
)
PARTNER_COLUMNS = [
    "source",
    "source_ref",
    "occurred_on",
    "month",
    "category",
    "source_category",
    "easting",
    "northing",
    "location",
]
# (prefix, zero-padded digits) of each partner's case reference.
SOURCE_REF_FORMAT: dict[str, tuple[str, int]] = {
    "council": ("ENV-", 6),
    "fire": ("FIRE-", 5),
    "housing": ("HSG-", 5),
}

# --- planted hotspots ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SiteSpec:
    """A planted hotspot: extra incidents per month at full strength, split by (source, category)."""

    id: str
    kind: str
    radius_m: float
    per_month: float
    mix: tuple[tuple[str, str, float], ...]
    distance_from_centre_m: tuple[float, float]


SITE_SPECS: tuple[_SiteSpec, ...] = (
    _SiteSpec(
        "PERSISTENT-1",
        "persistent",
        250.0,
        50.0,
        (("police", VIOLENCE, 0.5), ("police", "Public order", 0.25), ("police", "Shoplifting", 0.25)),
        (600.0, 1_000.0),
    ),
    _SiteSpec(
        "PERSISTENT-2",
        "persistent",
        250.0,
        24.0,
        (("council", "Fly-tipping", 0.7), ("police", "Criminal damage and arson", 0.3)),
        (2_000.0, 4_300.0),
    ),
    _SiteSpec(
        "EMERGING-1",
        "emerging",
        250.0,
        55.0,
        (
            ("police", ASB, 0.35),
            ("police", "Criminal damage and arson", 0.2),
            ("council", "Fly-tipping", 0.3),
            ("fire", "Deliberate fire", 0.15),
        ),
        (1_500.0, 4_300.0),
    ),
    _SiteSpec(
        "EMERGING-2",
        "emerging",
        300.0,
        45.0,
        (
            ("police", ASB, 0.3),
            ("police", "Drugs", 0.25),
            ("housing", "Anti-social behaviour", 0.25),
            ("council", "Graffiti", 0.2),
        ),
        (1_500.0, 4_300.0),
    ),
    _SiteSpec(
        "EMERGING-3",
        "emerging",
        200.0,
        35.0,
        (
            ("police", "Vehicle crime", 0.35),
            ("police", "Other theft", 0.2),
            ("police", "Criminal damage and arson", 0.2),
            ("council", "Noise nuisance", 0.25),
        ),
        (1_500.0, 4_300.0),
    ),
    _SiteSpec(
        "FADING-1",
        "fading",
        250.0,
        22.0,
        (("police", "Burglary", 0.5), ("police", "Vehicle crime", 0.2), ("police", "Other theft", 0.3)),
        (1_500.0, 4_300.0),
    ),
    _SiteSpec(
        "FADING-2",
        "fading",
        250.0,
        22.0,
        (
            ("council", "Graffiti", 0.5),
            ("police", "Criminal damage and arson", 0.3),
            ("police", ASB, 0.2),
        ),
        (1_500.0, 4_300.0),
    ),
)
EMERGING_MONTHS = 8  # an emerging site ramps up linearly over the last 8 months
FADING_MONTHS = 18  # a fading site is active for the first 18 months only
MIN_MONTHS = 24  # violence_yoy_pct compares two full years
SITE_MIN_SEPARATION_M = 1_500.0
SITE_EDGE_MARGIN_M = 300.0  # between a disc and the borough boundary
SITE_PLACEMENT_ATTEMPTS = 2_000
SITE_SNAP_MARGIN_M = 1.0  # site snap points sit this far inside the disc
MIN_SNAPS_PER_SITE = 10


@dataclass(frozen=True)
class DemoTruth:
    """What the generator planted, for checking the dashboard's statistics against a known answer.

    `counts` holds every police and partner row by the ward the generator placed it in ("" for
    no-location rows and points outside the borough), month ("YYYY-MM") and category (police crime
    type or partner category); only non-zero groups appear.
    """

    sites: list[dict[str, Any]]
    counts: pd.DataFrame
    violence_yoy_pct: float
    end_month: str
    months: list[str]

    def to_json_dict(self) -> dict[str, Any]:
        """Everything except `counts`, as plain JSON types (counts go to a CSV instead)."""
        return {
            "end_month": self.end_month,
            "months": list(self.months),
            "violence_yoy_pct": self.violence_yoy_pct,
            "sites": [dict(site) for site in self.sites],
        }


@dataclass(frozen=True)
class DemoBorough:
    """A generated demo borough: wards (EPSG:27700), police.uk-style rows, partner rows and the truth."""

    wards: gpd.GeoDataFrame
    police: pd.DataFrame
    partner: pd.DataFrame
    truth: DemoTruth


@dataclass(frozen=True)
class _Geography:
    """The scale-independent layout: outline, wards, LSOAs and planted site centres."""

    outline: shapely.Polygon
    wards: gpd.GeoDataFrame
    district_centres: np.ndarray  # (k, 2) metres
    lsoa_codes: np.ndarray  # object, one per LSOA; the last NEIGHBOUR_LSOAS lie outside the borough
    lsoa_names: np.ndarray
    lsoa_ward: np.ndarray  # int, -1 for neighbouring LSOAs
    ward_streets: list[np.ndarray]  # street names per ward, in ward order
    site_centres: np.ndarray  # (len(SITE_SPECS), 2) metres


@dataclass(frozen=True)
class _SnapPoints:
    """police.uk's anonymous map points; the final entry is the "No location" sentinel."""

    easting: np.ndarray
    northing: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    ward: np.ndarray  # int, -1 outside the borough or no location
    facility: np.ndarray  # object: facility label or ""
    location: np.ndarray  # object: "On or near ..."
    lsoa_code: np.ndarray
    lsoa_name: np.ndarray
    weight: np.ndarray  # background attractiveness, 0 for stations and the sentinel
    stations: np.ndarray  # indices of station points

    @property
    def no_location(self) -> int:
        """Index of the sentinel used for rows published without a location."""
        return len(self.easting) - 1


def generate_demo(
    seed: int = DEMO_SEED,
    end_month: str = DEMO_END_MONTH,
    months: int = DEMO_MONTHS,
    scale: float = 1.0,
) -> DemoBorough:
    """Build the demo borough for `months` months ending `end_month` ("YYYY-MM").

    `scale` multiplies every volume (about 3,200 rows a month at 1.0; 10.0 gives ~1.1M rows in all),
    and the number of snap points grows with its square root. The same arguments always give the
    same frames, so screenshots, tests and benchmarks are reproducible.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end_month):
        raise ValueError(f"end_month must look like 'YYYY-MM', got {end_month!r}")
    if months < MIN_MONTHS:
        raise ValueError(f"months must be at least {MIN_MONTHS} to compare two full years, got {months}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    periods = pd.period_range(end=end_month, periods=months, freq="M")
    month_labels = np.array(periods.strftime("%Y-%m"), dtype=object)
    rng = np.random.default_rng(seed)
    geo = _make_geography(rng)
    snaps = _make_snap_points(rng, geo, scale)
    sites = _site_records(geo, periods)

    police, police_ward, police_month, police_cat, police_site = _police_rows(
        rng, geo, snaps, periods, month_labels, scale
    )
    partner, partner_ward, partner_month, partner_cat, partner_site = _partner_rows(
        rng, geo, periods, month_labels, scale
    )
    categories = np.array(sorted(set(POLICE_CRIME_TYPES) | {s.category for s in PARTNER_STREAMS}), dtype=object)
    police_cat_codes = np.searchsorted(categories, np.asarray(POLICE_CRIME_TYPES, dtype=object))[police_cat]
    counts = _count_truth(
        ward=np.concatenate([police_ward, partner_ward]),
        month=np.concatenate([police_month, partner_month]),
        category=np.concatenate([police_cat_codes, np.searchsorted(categories, partner_cat)]),
        ward_codes=geo.wards["ward_code"].to_numpy(dtype=object),
        month_labels=month_labels,
        categories=categories,
    )
    added = np.bincount(np.concatenate([police_site, partner_site]) + 1, minlength=len(SITE_SPECS) + 1)[1:]
    for site, extra in zip(sites, added, strict=True):
        site["extra_incidents"] = int(extra)
    truth = DemoTruth(
        sites=sites,
        counts=counts,
        violence_yoy_pct=_violence_yoy_pct(police, list(month_labels)),
        end_month=end_month,
        months=list(month_labels),
    )
    return DemoBorough(wards=geo.wards, police=police, partner=partner, truth=truth)


def save_truth(truth: DemoTruth, folder: pathlib.Path) -> None:
    """Write `demo_truth.json` (sites, months, violence change) and `demo_truth_counts.csv` to `folder`.

    The CSV is sorted by ward_code, month, category so that two runs can be compared with `diff`.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRUTH_JSON_NAME).write_text(json.dumps(truth.to_json_dict(), indent=2) + "\n", encoding="utf-8")
    counts = truth.counts[TRUTH_COUNT_COLUMNS].sort_values(["ward_code", "month", "category"])
    counts.to_csv(folder / TRUTH_COUNTS_NAME, index=False, lineterminator="\n")


def load_truth_counts(folder: pathlib.Path | str) -> pd.DataFrame:
    """Read `demo_truth_counts.csv` back: ward_code as str ("" stays "", not NaN), count as int."""
    counts = pd.read_csv(
        pathlib.Path(folder) / TRUTH_COUNTS_NAME,
        dtype={"ward_code": "str", "month": "str", "category": "str", "count": "int64"},
        keep_default_na=False,
    )
    return counts[TRUTH_COUNT_COLUMNS]


# --- geography ------------------------------------------------------------------------------------


def _make_geography(rng: np.random.Generator) -> _Geography:
    """Outline, wards, LSOAs, street names per ward and site centres: everything that ignores scale."""
    outline = _make_outline(rng)
    cells = _make_ward_cells(rng, outline)
    wards = _ward_frame(rng, outline, cells)
    lsoa_codes, lsoa_names, lsoa_ward = _make_lsoas(rng, wards)
    street_order = rng.permutation(len(STREET_NAMES))
    streets = np.asarray(STREET_NAMES, dtype=object)
    ward_streets = [streets[part] for part in np.array_split(street_order, len(wards))]
    district_angles = rng.uniform(0.0, 2 * np.pi, DISTRICT_CENTRES)
    district_radii = OUTLINE_RADIUS_M * rng.uniform(*DISTRICT_CENTRE_RADIUS_FRACTION, DISTRICT_CENTRES)
    district_centres = np.column_stack(
        [
            CENTRE_EASTING_M + district_radii * np.cos(district_angles),
            CENTRE_NORTHING_M + district_radii * np.sin(district_angles),
        ]
    )
    return _Geography(
        outline=outline,
        wards=wards,
        district_centres=district_centres,
        lsoa_codes=lsoa_codes,
        lsoa_names=lsoa_names,
        lsoa_ward=lsoa_ward,
        ward_streets=ward_streets,
        site_centres=_place_sites(rng, outline),
    )


def _make_outline(rng: np.random.Generator) -> shapely.Polygon:
    """A star-shaped noisy outline: random Fourier harmonics of the radius plus per-vertex jitter."""
    theta = np.linspace(0.0, 2 * np.pi, OUTLINE_VERTICES, endpoint=False)
    k = np.arange(2, OUTLINE_HARMONICS + 1)
    amplitude = OUTLINE_ROUGHNESS * k**-OUTLINE_DECAY * rng.normal(size=k.size)
    phase = rng.uniform(0.0, 2 * np.pi, k.size)
    relative = 1.0 + (amplitude[:, None] * np.cos(k[:, None] * theta + phase[:, None])).sum(axis=0)
    relative *= 1.0 + rng.normal(0.0, OUTLINE_VERTEX_JITTER, theta.size)
    radius = OUTLINE_RADIUS_M * np.maximum(relative, OUTLINE_MIN_RADIUS_FRACTION)
    return shapely.Polygon(
        np.column_stack([CENTRE_EASTING_M + radius * np.cos(theta), CENTRE_NORTHING_M + radius * np.sin(theta)])
    )


def _locality(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Compass quarter of each offset from the borough centroid."""
    return np.where(
        np.abs(dy) >= np.abs(dx),
        np.where(dy >= 0, "North", "South"),
        np.where(dx >= 0, "East", "West"),
    ).astype(object)


def _make_ward_cells(rng: np.random.Generator, outline: shapely.Polygon) -> np.ndarray:
    """Voronoi cells of jittered ring seeds clipped to the outline, redrawn until every ward is usable.

    Usable means a single polygon of at least MIN_WARD_AREA_M2 and at least MIN_WARDS_PER_LOCALITY
    wards in each compass locality.
    """
    centroid = outline.centroid
    for _ in range(LAYOUT_ATTEMPTS):
        seeds = []
        rotation = rng.uniform(0.0, 2 * np.pi)
        for count, radius_fraction in WARD_RINGS:
            if count == 1:
                seeds.append(rng.normal(0.0, WARD_CENTRE_JITTER_M, (1, 2)))
                continue
            spacing = 2 * np.pi / count
            angles = rotation + spacing * (np.arange(count) + rng.uniform(-1, 1, count) * WARD_ANGLE_JITTER)
            radii = OUTLINE_RADIUS_M * radius_fraction * (1.0 + rng.uniform(-1, 1, count) * WARD_RADIUS_JITTER)
            seeds.append(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))
        xy = np.vstack(seeds) + np.array([CENTRE_EASTING_M, CENTRE_NORTHING_M])
        voronoi = shapely.voronoi_polygons(
            shapely.multipoints(xy), extend_to=outline.envelope.buffer(OUTLINE_RADIUS_M), ordered=True
        )
        cells = shapely.intersection(shapely.get_parts(voronoi), outline)
        if not all(cell.geom_type == "Polygon" and cell.area >= MIN_WARD_AREA_M2 for cell in cells):
            continue
        centres = shapely.get_coordinates(shapely.centroid(cells))
        locality = _locality(centres[:, 0] - centroid.x, centres[:, 1] - centroid.y)
        if all((locality == name).sum() >= MIN_WARDS_PER_LOCALITY for name in LOCALITIES):
            return cells
    raise RuntimeError(f"no usable ward layout in {LAYOUT_ATTEMPTS} attempts")


def _ward_frame(rng: np.random.Generator, outline: shapely.Polygon, cells: np.ndarray) -> gpd.GeoDataFrame:
    """Name, code, locality and population for each cell; codes follow alphabetical order of names."""
    names = sorted(rng.choice(np.asarray(WARD_NAMES, dtype=object), len(cells), replace=False))
    cells = cells[rng.permutation(len(cells))]  # so that alphabetical order is not ring order
    centroid = outline.centroid
    centres = shapely.get_coordinates(shapely.centroid(cells))
    dx, dy = centres[:, 0] - centroid.x, centres[:, 1] - centroid.y
    distance = np.hypot(dx, dy)
    population = POPULATION_MAX - (POPULATION_MAX - POPULATION_MIN) * POPULATION_DISTANCE_DROP * (
        distance / distance.max()
    )
    population = np.clip(
        np.rint(population + rng.normal(0.0, POPULATION_NOISE, len(cells))), POPULATION_MIN, POPULATION_MAX
    )
    return gpd.GeoDataFrame(
        {
            "ward_code": [f"{WARD_CODE_PREFIX}{i + 1:04d}" for i in range(len(cells))],
            "ward_name": names,
            "locality": _locality(dx, dy),
            "lad_code": DEMO_LAD_CODE,
            "lad_name": DEMO_LAD_NAME,
            "population": population.astype("int64"),
        },
        geometry=list(cells),
        crs=BNG,
    )


def _make_lsoas(rng: np.random.Generator, wards: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4-8 LSOAs nested in each ward plus a few in the neighbouring district.

    As in the real naming scheme ("Brackenfield 001A"), the number is the parent area counted from
    north to south and the letter the LSOA within it.
    """
    low, high = LSOAS_PER_WARD
    per_ward = rng.integers(low, high + 1, len(wards))
    north_rank = np.argsort(np.argsort(-wards.geometry.centroid.y.to_numpy()))
    lsoa_ward = np.repeat(np.arange(len(wards)), per_ward)
    letters = np.concatenate([np.arange(n) for n in per_ward])
    names = [
        f"{LSOA_AREA_NAME} {north_rank[w] + 1:03d}{chr(ord('A') + letter)}"
        for w, letter in zip(lsoa_ward, letters, strict=True)
    ]
    codes = [f"{LSOA_CODE_PREFIX}{i + 1:04d}" for i in range(len(lsoa_ward))]
    codes += [f"{LSOA_CODE_PREFIX}{NEIGHBOUR_LSOA_FIRST + i:04d}" for i in range(NEIGHBOUR_LSOAS)]
    names += [f"{NEIGHBOUR_AREA_NAME} {i + 1:03d}A" for i in range(NEIGHBOUR_LSOAS)]
    lsoa_ward = np.concatenate([lsoa_ward, np.full(NEIGHBOUR_LSOAS, -1)])
    return np.asarray(codes, dtype=object), np.asarray(names, dtype=object), lsoa_ward


def _place_sites(rng: np.random.Generator, outline: shapely.Polygon) -> np.ndarray:
    """Site centres at their spec's distance from the centre, well inside the outline and apart."""
    centres: list[tuple[float, float]] = []
    boundary = outline.exterior
    for spec in SITE_SPECS:
        low, high = spec.distance_from_centre_m
        for _ in range(SITE_PLACEMENT_ATTEMPTS):
            angle = rng.uniform(0.0, 2 * np.pi)
            distance = rng.uniform(low, high)
            x = CENTRE_EASTING_M + distance * np.cos(angle)
            y = CENTRE_NORTHING_M + distance * np.sin(angle)
            point = shapely.Point(x, y)
            inside = outline.contains(point) and boundary.distance(point) >= spec.radius_m + SITE_EDGE_MARGIN_M
            apart = all(np.hypot(x - cx, y - cy) >= SITE_MIN_SEPARATION_M for cx, cy in centres)
            if inside and apart:
                centres.append((x, y))
                break
        else:
            raise RuntimeError(f"could not place site {spec.id} in {SITE_PLACEMENT_ATTEMPTS} attempts")
    return np.asarray(centres)


def _site_records(geo: _Geography, periods: pd.PeriodIndex) -> list[dict[str, Any]]:
    """The public description of each planted site (extra_incidents is filled in once rows exist)."""
    labels = list(periods.strftime("%Y-%m"))
    lon, lat = bng_to_lonlat(geo.site_centres[:, 0], geo.site_centres[:, 1])
    ward_of_centre = polygon_of(geo.wards.geometry.to_numpy(), geo.site_centres[:, 0], geo.site_centres[:, 1])
    records = []
    for i, spec in enumerate(SITE_SPECS):
        active = np.flatnonzero(_site_intensity(spec, len(periods)) > 0)
        ward = geo.wards.iloc[ward_of_centre[i]]
        records.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "easting": round(float(geo.site_centres[i, 0]), 1),
                "northing": round(float(geo.site_centres[i, 1]), 1),
                "lon": round(float(lon[i]), LONLAT_DECIMALS),
                "lat": round(float(lat[i]), LONLAT_DECIMALS),
                "radius_m": spec.radius_m,
                "categories": sorted({category for _, category, _ in spec.mix}),
                "sources": sorted({source for source, _, _ in spec.mix}),
                "active_from": labels[active[0]],
                "active_to": labels[active[-1]],
                "ward_code": str(ward["ward_code"]),
                "locality": str(ward["locality"]),
                "extra_incidents": 0,
            }
        )
    return records


def _site_intensity(spec: _SiteSpec, months: int) -> np.ndarray:
    """Extra incidents per month at scale 1: flat, a linear ramp over the final months, or early only."""
    t = np.arange(months)
    if spec.kind == "persistent":
        return np.full(months, spec.per_month)
    if spec.kind == "emerging":
        step = t - (months - EMERGING_MONTHS) + 1
        return spec.per_month * np.clip(step, 0, None) / EMERGING_MONTHS
    if spec.kind == "fading":
        return np.where(t < FADING_MONTHS, spec.per_month, 0.0)
    raise ValueError(f"unknown site kind {spec.kind!r}")


# --- sampling points -------------------------------------------------------------------------------


def _centre_dense(rng: np.random.Generator, geo: _Geography, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate points: a town-centre Gaussian, small district centres and a uniform spread."""
    xmin, ymin, xmax, ymax = geo.outline.bounds
    component = rng.choice(3, size=n, p=[TOWN_CENTRE_SHARE, DISTRICT_SHARE, 1 - TOWN_CENTRE_SHARE - DISTRICT_SHARE])
    district = geo.district_centres[rng.integers(0, len(geo.district_centres), n)]
    centre = np.where(component[:, None] == 0, [CENTRE_EASTING_M, CENTRE_NORTHING_M], district)
    sigma = np.where(component == 0, TOWN_CENTRE_SIGMA_M, DISTRICT_SIGMA_M)[:, None]
    gaussian = centre + rng.normal(size=(n, 2)) * sigma
    uniform = np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)])
    xy = np.where(component[:, None] == 2, uniform, gaussian)
    return xy[:, 0], xy[:, 1]


def _in_disc(rng: np.random.Generator, centre: np.ndarray, radius: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform over a disc."""
    r = radius * np.sqrt(rng.random(n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    return centre[0] + r * np.cos(angle), centre[1] + r * np.sin(angle)


def _sample_inside(
    rng: np.random.Generator,
    n: int,
    inset_wards: np.ndarray,
    propose: Callable[[int], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` points from `propose(k) -> (x, y)` kept only inside an inset ward; returns x, y, ward index.

    Rejection sampling: points in the inset strips or outside the borough are redrawn, so every kept
    point is at least the inset distance from any ward boundary.
    """
    xs, ys, wards = [], [], []
    needed = n
    while needed > 0:
        x, y = propose(int(needed * SAMPLE_OVERDRAW) + 16)
        ward = polygon_of(inset_wards, x, y)
        keep = np.flatnonzero(ward >= 0)[:needed]
        xs.append(x[keep])
        ys.append(y[keep])
        wards.append(ward[keep])
        needed -= len(keep)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(wards)


def _outside_points(rng: np.random.Generator, outline: shapely.Polygon, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` points 50-400 m outside the outline, as police.uk files include neighbouring streets."""
    xmin, ymin, xmax, ymax = outline.buffer(OUTSIDE_MAX_M).bounds
    xs, ys = [], []
    needed = n
    while needed > 0:
        k = 64 * needed
        x, y = rng.uniform(xmin, xmax, k), rng.uniform(ymin, ymax, k)
        distance = shapely.distance(outline, shapely.points(x, y))
        keep = np.flatnonzero(
            (distance >= OUTSIDE_MIN_M + OUTSIDE_MARGIN_M) & (distance <= OUTSIDE_MAX_M - OUTSIDE_MARGIN_M)
        )[:needed]
        xs.append(x[keep])
        ys.append(y[keep])
        needed -= len(keep)
    return np.concatenate(xs), np.concatenate(ys)


def _make_snap_points(rng: np.random.Generator, geo: _Geography, scale: float) -> _SnapPoints:
    """Snap points inside wards (inset 10 m), topped up in site discs, plus stations, outside points
    and the no-location sentinel, each with location text, LSOA and background weight."""
    inset = shapely.buffer(geo.wards.geometry.to_numpy(), -SNAP_INSET_M)
    n_inside = round(SNAP_POINTS_AT_SCALE_1 * np.sqrt(scale))
    x, y, ward = _sample_inside(rng, n_inside, inset, lambda k: _centre_dense(rng, geo, k))
    parts = [(x, y, ward)]
    for spec, centre in zip(SITE_SPECS, geo.site_centres, strict=True):
        inside = np.hypot(x - centre[0], y - centre[1]) <= spec.radius_m - SITE_SNAP_MARGIN_M
        missing = MIN_SNAPS_PER_SITE - int(inside.sum())
        if missing > 0:
            radius = spec.radius_m - SITE_SNAP_MARGIN_M
            parts.append(_sample_inside(rng, missing, inset, lambda k, c=centre, r=radius: _in_disc(rng, c, r, k)))
    parts.append(_sample_inside(rng, STATIONS, inset, lambda k: _centre_dense(rng, geo, k)))
    n_outside = max(1, round(OUTSIDE_SNAP_POINTS_AT_SCALE_1 * np.sqrt(scale)))
    ox, oy = _outside_points(rng, geo.outline, n_outside)
    parts.append((ox, oy, np.full(n_outside, -1)))
    easting = np.concatenate([p[0] for p in parts])
    northing = np.concatenate([p[1] for p in parts])
    ward = np.concatenate([p[2] for p in parts])
    n_points = len(easting)
    stations = np.arange(n_points - n_outside - STATIONS, n_points - n_outside)

    facility_names = np.asarray(list(FACILITIES), dtype=object)
    facility_p = np.asarray(list(FACILITIES.values()))
    is_facility = rng.random(n_points) < FACILITY_SHARE
    facility = np.where(
        is_facility, facility_names[rng.choice(len(facility_names), n_points, p=facility_p / facility_p.sum())], ""
    )
    facility[stations] = STATION_LOCATION
    street = _streets_for(rng, geo, ward)
    location = np.char.add("On or near ", np.where(facility == "", street, facility).astype(str)).astype(object)

    lsoa = _lsoa_for(rng, geo.lsoa_ward, ward)
    lon, lat = bng_to_lonlat(easting, northing)
    weight = rng.lognormal(0.0, SNAP_WEIGHT_SIGMA, n_points)
    weight[stations] = 0.0
    return _SnapPoints(
        easting=np.append(easting, np.nan),
        northing=np.append(northing, np.nan),
        lon=np.append(np.round(lon, LONLAT_DECIMALS), np.nan),
        lat=np.append(np.round(lat, LONLAT_DECIMALS), np.nan),
        ward=np.append(ward, -1),
        facility=np.append(facility, "").astype(object),
        location=np.append(location, NO_LOCATION_TEXT).astype(object),
        lsoa_code=np.append(geo.lsoa_codes[lsoa], "").astype(object),
        lsoa_name=np.append(geo.lsoa_names[lsoa], "").astype(object),
        weight=np.append(weight, 0.0),
        stations=stations,
    )


def _streets_for(rng: np.random.Generator, geo: _Geography, ward: np.ndarray) -> np.ndarray:
    """A street name for each point from its ward's own streets (any street for outside points)."""
    street = np.asarray(STREET_NAMES, dtype=object)[rng.integers(0, len(STREET_NAMES), len(ward))]
    for w, names in enumerate(geo.ward_streets):
        here = np.flatnonzero(ward == w)
        street[here] = names[rng.integers(0, len(names), len(here))]
    return street


def _lsoa_for(rng: np.random.Generator, lsoa_ward: np.ndarray, ward: np.ndarray) -> np.ndarray:
    """A random LSOA of each point's ward (a neighbouring LSOA for ward -1): LSOAs nest in wards."""
    lsoa = np.empty(len(ward), dtype=np.int64)
    for w in np.unique(ward):
        choices = np.flatnonzero(lsoa_ward == w)
        here = np.flatnonzero(ward == w)
        lsoa[here] = choices[rng.integers(0, len(choices), len(here))]
    return lsoa


# --- rows -----------------------------------------------------------------------------------------


def _seasonal(key: str, month_of_year: np.ndarray) -> np.ndarray:
    """Relative volume by calendar month for a crime type or partner stream.

    A cosine averaging 1.0 over the year; deliberate fires get a bonfire-night spike on top.
    """
    amplitude, peak = SEASONALITY.get(key, (0.0, 1))
    factor = 1.0 + amplitude * np.cos(2 * np.pi * (month_of_year - peak) / 12)
    if key == "Deliberate fire":
        factor = factor + BONFIRE_BOOST * (month_of_year == BONFIRE_MONTH)
    return factor


def _site_components(
    rng: np.random.Generator, months: int, scale: float, police: bool
) -> list[tuple[int, str, str, np.ndarray]]:
    """Extra incidents of every site, for police or for partner sources only.

    One entry per (site, source, category) of a site's mix: (site index, source, category, month
    index of each incident), with Poisson counts around the site's monthly intensity.
    """
    components = []
    for s, spec in enumerate(SITE_SPECS):
        intensity = _site_intensity(spec, months) * scale
        for source, category, share in spec.mix:
            if (source == "police") == police:
                per_month = rng.poisson(intensity * share)
                components.append((s, source, category, np.repeat(np.arange(months), per_month)))
    return components


def _police_rows(
    rng: np.random.Generator,
    geo: _Geography,
    snaps: _SnapPoints,
    periods: pd.PeriodIndex,
    month_labels: np.ndarray,
    scale: float,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """police.uk-style rows, plus per row: truth ward index, month index, crime type index, site (-1 none).

    The random draws happen in a fixed order (background, sites, misplaced rows, shuffle, IDs,
    outcomes), so one seed gives the same borough every time.
    """
    background = _background_police(rng, snaps, periods, scale)
    at_sites = _site_police(rng, geo, snaps, len(periods), scale)
    month, crime, snap, site = (np.concatenate([*b, *s]) for b, s in zip(background, at_sites, strict=True))
    snap, reported_by = _misplace_police(rng, snaps, crime=crime, snap=snap, site=site)

    n = len(month)
    order = np.lexsort((rng.random(n), month))
    month, crime, snap, site, reported_by = month[order], crime[order], snap[order], site[order], reported_by[order]
    is_asb = crime == POLICE_CRIME_TYPES.index(ASB)
    police = pd.DataFrame(
        {
            "Crime ID": _crime_ids(rng, ~is_asb),
            "Month": month_labels[month],
            "Reported by": reported_by,
            "Falls within": np.full(n, FORCE_NAME, dtype=object),
            "Longitude": snaps.lon[snap],
            "Latitude": snaps.lat[snap],
            "Location": snaps.location[snap],
            "LSOA code": snaps.lsoa_code[snap],
            "LSOA name": snaps.lsoa_name[snap],
            "Crime type": np.asarray(POLICE_CRIME_TYPES, dtype=object)[crime],
            "Last outcome category": _outcomes(rng, len(periods) - 1 - month, is_asb),
            "Context": np.full(n, "", dtype=object),
        },
        columns=POLICE_COLUMNS,
    )
    return police, snaps.ward[snap], month, crime, site


# Incidents as four parallel lists of arrays: month index, crime type index, snap point, site (-1 none).
_Draws = tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]


def _background_police(
    rng: np.random.Generator, snaps: _SnapPoints, periods: pd.PeriodIndex, scale: float
) -> _Draws:
    """Each crime type's monthly counts (seasonal; violence growing by a fixed share a year) on
    busy snap points, with some types drawn to facilities (shops, pubs, stations)."""
    month_of_year = periods.month.to_numpy()
    elapsed = np.arange(len(periods))
    total_share = sum(CRIME_TYPE_SHARES.values())
    base_p = snaps.weight / snaps.weight.sum()
    draws: _Draws = ([], [], [], [])
    for t, crime_type in enumerate(POLICE_CRIME_TYPES):
        rate = POLICE_ROWS_PER_MONTH * scale * CRIME_TYPE_SHARES[crime_type] / total_share
        rate = rate * _seasonal(crime_type, month_of_year)
        if crime_type == VIOLENCE:
            growth = (1.0 + VIOLENCE_ANNUAL_GROWTH) ** (elapsed / 12)
            per_month = _fixed_yearly_totals(rng, rate * growth / growth.mean())
        else:
            per_month = rng.poisson(rate)
        month = np.repeat(elapsed, per_month)
        p = base_p
        if crime_type in FACILITY_AFFINITY:
            boost = np.ones(len(p))
            for facility, factor in FACILITY_AFFINITY[crime_type].items():
                boost[snaps.facility == facility] = factor
            p = p * boost / (p * boost).sum()
        _append_draws(draws, month, t, rng.choice(len(p), size=len(month), p=p), -1)
    return draws


def _site_police(rng: np.random.Generator, geo: _Geography, snaps: _SnapPoints, months: int, scale: float) -> _Draws:
    """The planted sites' police incidents, on snap points inside each site's disc."""
    distance_to = {
        s: np.hypot(snaps.easting - centre[0], snaps.northing - centre[1]) for s, centre in enumerate(geo.site_centres)
    }
    draws: _Draws = ([], [], [], [])
    for s, _, crime_type, month in _site_components(rng, months, scale, police=True):
        spec = SITE_SPECS[s]
        pool = np.flatnonzero((distance_to[s] <= spec.radius_m - SITE_SNAP_MARGIN_M) & (snaps.weight > 0))
        _append_draws(draws, month, POLICE_CRIME_TYPES.index(crime_type), pool[rng.integers(0, len(pool), len(month))], s)
    return draws


def _append_draws(draws: _Draws, month: np.ndarray, crime_type: int, snap: np.ndarray, site: int) -> None:
    months, types, snaps, sites = draws
    months.append(month)
    types.append(np.full(len(month), crime_type))
    snaps.append(snap)
    sites.append(np.full(len(month), site))


def _misplace_police(
    rng: np.random.Generator, snaps: _SnapPoints, *, crime: np.ndarray, snap: np.ndarray, site: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Background rows as police.uk has them: a share with no location, and a share of station-type
    crimes reported by British Transport Police at a station. Returns (snap point, reported by)."""
    n = len(snap)
    background = np.flatnonzero(site < 0)
    no_location = rng.choice(background, size=round(NO_LOCATION_SHARE * n), replace=False)
    snap[no_location] = snaps.no_location
    types = np.asarray(POLICE_CRIME_TYPES, dtype=object)
    btp_types = np.searchsorted(types, np.asarray(BTP_CRIME_TYPES, dtype=object))
    eligible = np.flatnonzero((site < 0) & (snaps.ward[snap] >= 0) & np.isin(crime, btp_types))
    btp = rng.choice(eligible, size=min(len(eligible), round(BTP_SHARE * n)), replace=False)
    snap[btp] = snaps.stations[rng.integers(0, len(snaps.stations), len(btp))]
    reported_by = np.full(n, FORCE_NAME, dtype=object)
    reported_by[btp] = BTP_NAME
    return snap, reported_by


def _fixed_yearly_totals(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Monthly counts around `rate` whose totals per 12 months (counted back from the end) are exact.

    Months still vary (multinomial within each year), but the year-on-year change is the one
    planted rather than one blurred by some 1.7 points of Poisson noise.
    """
    counts = np.empty(len(rate), dtype=np.int64)
    for stop in range(len(rate), 0, -12):
        block = rate[max(0, stop - 12) : stop]
        counts[max(0, stop - 12) : stop] = rng.multinomial(round(block.sum()), block / block.sum())
    return counts


def _crime_ids(rng: np.random.Generator, has_id: np.ndarray) -> pd.Series:
    """64-character lowercase hex IDs where `has_id`, else "" (police.uk publishes none for ASB).

    Built as one Arrow buffer: a million IDs take a fraction of a second instead of a Python loop.
    """
    lengths = np.where(has_id, 2 * CRIME_ID_BYTES, 0).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    digits = rng.integers(0, 256, size=(int(has_id.sum()), CRIME_ID_BYTES), dtype=np.uint8).tobytes().hex()
    ids = pa.LargeStringArray.from_buffers(len(has_id), pa.py_buffer(offsets), pa.py_buffer(digits.encode("ascii")))
    return pd.Series(ids).astype("str")


def _outcomes(rng: np.random.Generator, age_months: np.ndarray, is_asb: np.ndarray) -> np.ndarray:
    """Last outcome per row: recent crimes are mostly still open, older ones mostly settled; "" for ASB."""
    settled = np.asarray(list(SETTLED_OUTCOMES), dtype=object)
    pending = np.asarray(list(PENDING_OUTCOMES), dtype=object)
    settled_p = np.asarray(list(SETTLED_OUTCOMES.values()))
    pending_p = np.asarray(list(PENDING_OUTCOMES.values()))
    n = len(age_months)
    p_pending = PENDING_SHARE_FLOOR + (PENDING_SHARE_LATEST - PENDING_SHARE_FLOOR) * np.exp(
        -age_months / PENDING_DECAY_MONTHS
    )
    outcome = np.where(
        rng.random(n) < p_pending,
        pending[rng.choice(len(pending), n, p=pending_p / pending_p.sum())],
        settled[rng.choice(len(settled), n, p=settled_p / settled_p.sum())],
    )
    outcome[is_asb] = ""
    return outcome


def _partner_rows(
    rng: np.random.Generator,
    geo: _Geography,
    periods: pd.PeriodIndex,
    month_labels: np.ndarray,
    scale: float,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Partner incidents at precise points, plus per row: truth ward, month index, category, site (-1 none)."""
    months = len(periods)
    month_of_year = periods.month.to_numpy()
    inset = shapely.buffer(geo.wards.geometry.to_numpy(), -PARTNER_INSET_M)
    stream_of = {(s.source, s.category): i for i, s in enumerate(PARTNER_STREAMS)}

    month_parts: list[np.ndarray] = []
    for stream in PARTNER_STREAMS:
        rate = stream.per_month * scale * _seasonal(stream.season_key, month_of_year)
        month_parts.append(np.repeat(np.arange(months), rng.poisson(rate)))
    stream_parts = [np.full(len(month), i) for i, month in enumerate(month_parts)]
    site_parts = [np.full(len(month), -1) for month in month_parts]
    n_background = sum(len(m) for m in month_parts)
    x, y, ward = _sample_inside(rng, n_background, inset, lambda k: _centre_dense(rng, geo, k))
    xs, ys, wards = [x], [y], [ward]
    for s, source, category, month in _site_components(rng, months, scale, police=False):
        centre, radius = geo.site_centres[s], SITE_SPECS[s].radius_m
        sx, sy, sw = _sample_inside(rng, len(month), inset, lambda k, c=centre, r=radius: _in_disc(rng, c, r, k))
        xs.append(sx)
        ys.append(sy)
        wards.append(sw)
        month_parts.append(month)
        stream_parts.append(np.full(len(month), stream_of[(source, category)]))
        site_parts.append(np.full(len(month), s))

    month, stream, site = np.concatenate(month_parts), np.concatenate(stream_parts), np.concatenate(site_parts)
    easting, northing, ward = np.concatenate(xs), np.concatenate(ys), np.concatenate(wards)
    n = len(month)

    occurred = _days_in(rng, periods, month)
    sources = np.asarray([s.source for s in PARTNER_STREAMS], dtype=object)[stream]
    order = np.lexsort((rng.random(n), occurred, sources))
    month, stream, site, occurred, sources = month[order], stream[order], site[order], occurred[order], sources[order]
    easting, northing, ward = easting[order], northing[order], ward[order]

    source_category = _source_categories(rng, stream)
    categories = np.asarray([s.category for s in PARTNER_STREAMS], dtype=object)[stream]

    partner = pd.DataFrame(
        {
            "source": sources,
            "source_ref": _source_refs(sources),
            "occurred_on": pd.to_datetime(occurred).as_unit("ns"),
            "month": month_labels[month],
            "category": categories,
            "source_category": source_category,
            "easting": easting,
            "northing": northing,
            "location": _streets_for(rng, geo, ward),
        },
        columns=PARTNER_COLUMNS,
    )
    return partner, ward, month, categories, site


def _days_in(rng: np.random.Generator, periods: pd.PeriodIndex, month: np.ndarray) -> np.ndarray:
    """A uniformly random day (datetime64[D]) within each row's month (an index into ``periods``)."""
    start = periods.start_time.to_numpy().astype("datetime64[D]")
    day = np.floor(rng.random(len(month)) * periods.days_in_month.to_numpy()[month]).astype("timedelta64[D]")
    return start[month] + day


def _source_categories(rng: np.random.Generator, stream: np.ndarray) -> np.ndarray:
    """Each partner row's own category label, drawn from its stream's labels and their shares."""
    source_category = np.empty(len(stream), dtype=object)
    for i, s in enumerate(PARTNER_STREAMS):
        here = np.flatnonzero(stream == i)
        labels = np.asarray(list(s.labels), dtype=object)
        p = np.asarray(list(s.labels.values()))
        source_category[here] = labels[rng.choice(len(labels), len(here), p=p / p.sum())]
    return source_category


def _source_refs(sources: np.ndarray) -> np.ndarray:
    """Case references numbered 1, 2, ... within each source in row order, e.g. "FIRE-00042"."""
    refs = np.empty(len(sources), dtype=object)
    for source, (prefix, digits) in SOURCE_REF_FORMAT.items():
        here = np.flatnonzero(sources == source)
        refs[here] = np.char.add(prefix, np.char.zfill(np.arange(1, len(here) + 1).astype(str), digits))
    return refs


# --- truth ----------------------------------------------------------------------------------------


def _count_truth(
    ward: np.ndarray,
    month: np.ndarray,
    category: np.ndarray,
    ward_codes: np.ndarray,
    month_labels: np.ndarray,
    categories: np.ndarray,
) -> pd.DataFrame:
    """Rows per (ward, month, category) from per-row integer codes; ward -1 becomes ""."""
    shape = (len(ward_codes) + 1, len(month_labels), len(categories))
    key, count = np.unique(np.ravel_multi_index((ward + 1, month, category), shape), return_counts=True)
    w, m, c = np.unravel_index(key, shape)
    codes = np.concatenate([[OUTSIDE_WARD_CODE], ward_codes]).astype(object)
    counts = pd.DataFrame(
        {
            "ward_code": codes[w],
            "month": month_labels[m],
            "category": categories[c],
            "count": count.astype("int64"),
        }
    )
    return counts.sort_values(["ward_code", "month", "category"], ignore_index=True)


def _violence_yoy_pct(police: pd.DataFrame, month_labels: list[str]) -> float:
    """% change in violence and sexual offences rows (all rows): last 12 months against the 12 before."""
    violence_months = police.loc[police["Crime type"] == VIOLENCE, "Month"]
    latest = violence_months.isin(month_labels[-12:]).sum()
    previous = violence_months.isin(month_labels[-24:-12]).sum()
    return float(100.0 * (latest / previous - 1.0))
