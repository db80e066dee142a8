"""Scenario boroughs with planted truth, for testing hotspot detection where the demo is too kind.

The default demo borough has a sparse, even background, where almost any method finds its planted
sites. Real places are not like that: incidents crowd around town centres, busy places are busy
every month, violence rises borough-wide and summer is busier than winter. ``make_scenario`` builds
such boroughs from one seed, on the demo generator's geography (irregular wards inside a noisy
outline, in British National Grid metres), and returns located incident points plus what was
planted:

* ``clustered``: about 3,000 incidents a month, half of them around a town centre and three district
  centres, on a few thousand police.uk-like snap points whose busyness varies 20-fold; a
  seasonal swing and a borough-wide rise; emerging sites ramping up to 5, 8 and 15 extra incidents
  a month (a 15 a month one in a district centre, where the background is dense), a persistent site of 18 a month and a fading site;
* ``dense``: the same at 12,000 incidents a month with a more even background;
* ``lagging``: ``clustered`` with two feeds, a police feed one month behind and a council feed that
  starts part-way through;
* ``null``: seasonality and a borough-wide rise, but no site at all (nothing may be flagged);
* ``small_null``: a null borough of about 400 incidents a month over 24 months, for calibration
  over many seeds.

Emerging sites are 120 m spots whose extra incidents ramp up over ``RAMP_MONTHS`` months and
then hold for the rest of the last ``EMERGING_MONTHS`` months. Pure and vectorised: no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard import demo_generator

SCENARIOS = ("clustered", "dense", "lagging", "null", "small_null")
END_MONTH = "2026-09"
SITE_SPOT_M = 60.0  # planted sites spread over a 120 m spot: a radius of 60 metres
EMERGING_MONTHS = 6  # an emerging site adds incidents in the last 6 months only ...
RAMP_MONTHS = 3  # ... reaching its full extra count after 3 of them
SEASONAL_AMPLITUDE = 0.15  # +/-15% over the year, peaking in July
ANNUAL_RISE = 0.10  # the whole borough rises 10% a year
SNAP_POINTS = 4_000  # police.uk-like snap points carrying the background
SITE_MIN_SEPARATION_M = 1_200.0
SITE_EDGE_MARGIN_M = 400.0
POLICE = ("police", "Demo Police")
COUNCIL = ("council", "")


@dataclass(frozen=True)
class PlantedSite:
    """One planted site: ``kind`` is emerging, persistent or fading; ``per_month`` its full extra count."""

    kind: str
    easting: float
    northing: float
    per_month: float


@dataclass(frozen=True)
class Scenario:
    """Located incidents (one row per incident: easting, northing, month, source, force, category,
    count) on ``wards`` (EPSG:27700), with the sites planted in them."""

    name: str
    points: pd.DataFrame
    wards: gpd.GeoDataFrame
    months: list[str]
    sites: list[PlantedSite] = field(default_factory=list)

    def sites_of(self, *kinds: str) -> list[PlantedSite]:
        return [site for site in self.sites if site.kind in kinds]


@dataclass(frozen=True)
class _Settings:
    per_month: float
    clustered_share: float
    months: int
    emerging: tuple[float, ...] = ()
    persistent: tuple[float, ...] = ()
    fading: tuple[float, ...] = ()
    lagging: bool = False


SETTINGS = {
    "clustered": _Settings(3_000, 0.5, 36, emerging=(15.0, 5.0, 8.0, 15.0), persistent=(18.0,), fading=(15.0,)),
    "dense": _Settings(12_000, 0.3, 36, emerging=(15.0, 8.0, 15.0), persistent=(18.0,), fading=(15.0,)),
    "lagging": _Settings(3_000, 0.5, 36, emerging=(15.0, 8.0, 15.0), persistent=(18.0,), lagging=True),
    "null": _Settings(3_000, 0.5, 36),
    "small_null": _Settings(400, 0.5, 24),
}


def make_scenario(name: str, seed: int = 1, scale: float = 1.0) -> Scenario:
    """Build scenario ``name`` (one of ``SCENARIOS``) from ``seed``; the same arguments give the same data.

    ``scale`` multiplies the background (not the planted sites), e.g. for benchmarks at a million incidents.
    """
    if name not in SETTINGS:
        raise ValueError(f"Unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}.")
    settings = SETTINGS[name]
    rng = np.random.default_rng(seed)
    geo = demo_generator._make_geography(rng)
    months = list(pd.period_range(end=END_MONTH, periods=settings.months, freq="M").strftime("%Y-%m"))
    snaps_x, snaps_y, weight = _snap_points(rng, geo, settings.clustered_share)
    per_month = _monthly_totals(months, settings.per_month * scale)
    counts = rng.multinomial(rng.poisson(per_month), weight / weight.sum())  # (T, snap points)
    t_index, snap_index = np.nonzero(counts)
    repeats = counts[t_index, snap_index]
    frames = [
        pd.DataFrame(
            {
                "easting": np.repeat(snaps_x[snap_index], repeats),
                "northing": np.repeat(snaps_y[snap_index], repeats),
                "t": np.repeat(t_index, repeats),
            }
        )
    ]
    sites = _place_sites(rng, geo, settings)
    for site in sites:
        frames.append(_site_points(rng, site, len(months)))
    points = pd.concat(frames, ignore_index=True)
    points = _assign_feeds(rng, points, len(months), settings.lagging)
    points["month"] = np.asarray(months, dtype=object)[points.pop("t").to_numpy()]
    points["category"] = "Anti-social behaviour"
    points["count"] = 1
    return Scenario(name, points.reset_index(drop=True), geo.wards, months, sites)


def _monthly_totals(months: list[str], per_month: float) -> np.ndarray:
    """Expected incidents per month: a July peak and a steady borough-wide rise."""
    t = np.arange(len(months))
    month_of_year = pd.PeriodIndex(months, freq="M").month.to_numpy()
    season = 1 + SEASONAL_AMPLITUDE * np.cos(2 * np.pi * (month_of_year - 7) / 12)
    rise = (1 + ANNUAL_RISE) ** ((t - t.mean()) / 12)
    return per_month * season * rise


def _snap_points(rng: np.random.Generator, geo, clustered_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap points inside the borough, a ``clustered_share`` of them crowded around the centres."""
    xmin, ymin, xmax, ymax = geo.outline.bounds
    xs, ys = [], []
    needed = SNAP_POINTS
    centres = np.vstack([[demo_generator.CENTRE_EASTING_M, demo_generator.CENTRE_NORTHING_M], geo.district_centres])
    sigmas = np.array([demo_generator.TOWN_CENTRE_SIGMA_M / 1.5, *[demo_generator.DISTRICT_SIGMA_M] * len(geo.district_centres)])
    while needed > 0:
        k = 2 * needed + 16
        clustered = rng.random(k) < clustered_share
        which = rng.integers(0, len(centres), k)
        gaussian = centres[which] + rng.normal(size=(k, 2)) * sigmas[which, None]
        uniform = np.column_stack([rng.uniform(xmin, xmax, k), rng.uniform(ymin, ymax, k)])
        xy = np.where(clustered[:, None], gaussian, uniform)
        inside = shapely.contains_xy(geo.outline, xy[:, 0], xy[:, 1])
        xy = xy[inside][:needed]
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        needed -= len(xy)
    weight = rng.lognormal(0.0, 1.0, SNAP_POINTS)  # busyness varies about 20-fold (5th to 95th percentile)
    return np.concatenate(xs), np.concatenate(ys), weight


def _place_sites(rng: np.random.Generator, geo, settings: _Settings) -> list[PlantedSite]:
    """Sites at least 1.2 km apart and 400 m inside the outline; the first emerging one in a district centre."""
    inner = geo.outline.buffer(-SITE_EDGE_MARGIN_M)
    kinds = (
        [("emerging", v) for v in settings.emerging]
        + [("persistent", v) for v in settings.persistent]
        + [("fading", v) for v in settings.fading]
    )
    placed: list[PlantedSite] = []
    xmin, ymin, xmax, ymax = inner.bounds
    for k, (kind, per_month) in enumerate(kinds):
        for _ in range(10_000):
            if k == 0 and kind == "emerging":
                x, y = geo.district_centres[0] + rng.normal(size=2) * 250.0
            else:
                x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
            far = all(np.hypot(x - s.easting, y - s.northing) >= SITE_MIN_SEPARATION_M for s in placed)
            if far and inner.contains(shapely.Point(x, y)):
                placed.append(PlantedSite(kind, float(x), float(y), per_month))
                break
    return placed


def _site_points(rng: np.random.Generator, site: PlantedSite, n_months: int) -> pd.DataFrame:
    """Extra incidents of one site, month by month, spread uniformly over its 120 m spot."""
    t = np.arange(n_months)
    if site.kind == "emerging":
        since = t - (n_months - EMERGING_MONTHS)
        rate = np.where(since >= 0, site.per_month * np.minimum(1.0, (since + 1) / RAMP_MONTHS), 0.0)
    elif site.kind == "persistent":
        rate = np.full(n_months, site.per_month)
    else:  # fading: busy in the first half, gone in the second
        rate = np.where(t < n_months // 2, site.per_month, 0.0)
    n = rng.poisson(rate)
    steps = np.repeat(t, n)
    r = SITE_SPOT_M * np.sqrt(rng.random(len(steps)))
    angle = rng.uniform(0, 2 * np.pi, len(steps))
    return pd.DataFrame(
        {"easting": site.easting + r * np.cos(angle), "northing": site.northing + r * np.sin(angle), "t": steps}
    )


def _assign_feeds(rng: np.random.Generator, points: pd.DataFrame, n_months: int, lagging: bool) -> pd.DataFrame:
    """One police feed, or (``lagging``) a police feed missing its last month and a council feed
    that starts a third of the way in: each incident goes to a feed that covers its month."""
    police = np.ones(len(points), dtype=bool)
    if lagging:
        t = points["t"].to_numpy()
        council_covers = t >= n_months // 3
        police = np.where(council_covers, rng.random(len(points)) < 0.7, True)
        police &= t < n_months - 1  # police has not published the last month yet ...
        points = points.loc[police | council_covers].copy()  # ... so its share of that month is unknown
        police = police[police | council_covers]
    points["source"] = np.where(police, POLICE[0], COUNCIL[0])
    points["force"] = np.where(police, POLICE[1], COUNCIL[1])
    return points
