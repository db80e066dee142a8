"""The space-time permutation scan against hand-worked answers, brute force, a slow reference null,
planted scenario boroughs and null boroughs (calibration)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy import stats

from rc_dashboard.hotspots.analysis import HotspotParams, NotEnoughData, analyse, scan_inputs
from rc_dashboard.hotspots.cube import grid_cube
from rc_dashboard.hotspots.ehsa import EmergingHotSpots
from rc_dashboard.hotspots.scan import SpaceTimePermutationScan, poisson_llr, recurrence_sentence
from rc_dashboard.scenarios import make_scenario

MATCH_RADIUS_M = 400  # a flag within 400 m of a planted site finds it


def test_poisson_llr_by_hand():
    # c = 10 observed against mu = 4 expected, C = 100 in all
    by_hand = 10 * math.log(10 / 4) + 90 * math.log(90 / 96)
    assert poisson_llr(np.array(10.0), np.array(4.0), 100.0) == pytest.approx(by_hand, rel=1e-12)
    assert poisson_llr(np.array([3.0, 4.0]), np.array([4.0, 4.0]), 100.0).tolist() == [0.0, 0.0]
    assert poisson_llr(np.array(100.0), np.array(50.0), 100.0) == pytest.approx(100 * math.log(2))  # c == C


def test_recurrence_in_words():
    assert "about once in 100 monthly analyses" in recurrence_sentence(0.01, 999)
    assert "less than once in 1,000" in recurrence_sentence(0.001, 999)


def _tiny_case(seed: int = 4):
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 1_000, size=(7, 2)).round(0)
    counts = rng.poisson(rng.uniform(1, 6, size=(2, 1, 7)) * np.ones((2, 14, 1)))
    counts[1, :4] = 0  # the second feed starts in month 5
    counts[0, -2:, 3] += 9  # location 3 rises in the last two months
    return counts, coords


def brute_force_llr(counts, coords, weights, max_radius_m, max_window):
    """Every circle and window by the definitions, with loops: {(centre, frozenset, window): (c, mu, llr)}."""
    n_strata, n_months, n_loc = counts.shape
    total = float(sum(weights[s] * counts[s].sum() for s in range(n_strata)))
    out = {}
    for i in range(n_loc):
        d = np.hypot(*(coords - coords[i]).T).round(3)
        for radius in sorted(set(d[d <= max_radius_m])):
            members = frozenset(np.flatnonzero(d <= radius).tolist())
            for w in range(1, max_window + 1):
                window = range(n_months - w, n_months)
                c = mu = 0.0
                for s in range(n_strata):
                    c_s = counts[s].sum()
                    if c_s == 0:
                        continue
                    for t in window:
                        for z in members:
                            c += weights[s] * counts[s, t, z]
                            mu += weights[s] * counts[s, t].sum() * counts[s, :, z].sum() / c_s
                llr = c * math.log(c / mu) + (total - c) * math.log((total - c) / (total - mu)) if c > mu else 0.0
                out[(i, members, w)] = (c, mu, llr)
    return out


@pytest.mark.parametrize("weights", [None, np.array([1.0, 3.5])])
def test_every_circle_matches_brute_force(weights):
    counts, coords = _tiny_case()
    scan = SpaceTimePermutationScan(
        max_radius_m=600, max_share=1.0, max_window_months=3, permutations=19, random_state=1
    ).fit(counts, coords, weights)
    reference = brute_force_llr(counts, coords, np.ones(2) if weights is None else weights, 600, 3)
    cylinders = scan.cylinders_
    seen = 0
    for i in range(len(coords)):
        for r in range(cylinders.n_rings):
            if not cylinders.valid[i, r]:
                continue
            start = cylinders.ring_matrix.indptr[i * cylinders.n_rings]
            stop = cylinders.ring_matrix.indptr[i * cylinders.n_rings + r + 1]
            members = frozenset(cylinders.ring_matrix.indices[start:stop].tolist())
            for w in range(3):
                c, mu, llr = reference[(i, members, w + 1)]
                assert scan.observed_circles_[i, r, w] == pytest.approx(c)
                assert scan.expected_circles_[i, r, w] == pytest.approx(mu)
                assert scan.llr_[i, r, w] == pytest.approx(llr, abs=1e-9)
                seen += 1
    assert seen == len(reference), "every circle of the definition is scanned, and no other"
    if weights is None:  # (weighted, the second feed's noise counts 3.5 times and may win)
        assert 3 in scan.strongest_["locations"], "the planted rise is the strongest circle"


@pytest.mark.parametrize("weights", [None, np.array([0.0, 7.5])])
def test_compiled_maximum_equals_the_maximum_over_every_circle(weights):
    counts, coords = _tiny_case(seed=9)
    scan = SpaceTimePermutationScan(max_radius_m=700, max_share=1.0, permutations=9).fit(counts, coords, weights)
    valid = np.where(scan.cylinders_.valid[..., None], scan.llr_, 0.0)
    assert scan._max_llr(scan.observed_[None])[0] == pytest.approx(valid.max(), rel=1e-12)


def test_compiled_maxima_of_many_permuted_sets_equal_every_circle_by_numpy():
    """The kernel scores permuted data sets in blocks side by side; a batch that does not fill its
    last block, several windows and harm weights must still give each set its own maximum."""
    rng = np.random.default_rng(21)
    coords = rng.uniform(0, 3_000, size=(60, 2)).round(0)
    counts = rng.poisson(rng.lognormal(0.5, 1, size=(2, 1, 60)) * np.ones((2, 15, 1)))
    weights = np.array([1.0, 3.5])
    scan = SpaceTimePermutationScan(max_radius_m=900, max_share=0.3, max_window_months=5, permutations=9)
    scan.fit(counts, coords, weights)
    location_totals, month_totals = counts.sum(axis=1), counts.sum(axis=2)
    sets = sum(
        weights[s] * scan._draw_hypergeometric(rng, location_totals[s], month_totals[s], 5, 11) for s in range(2)
    )
    observed = np.cumsum(sets, axis=1)  # (11 sets, 5 windows, 60 locations): 11 is not a multiple of a block
    by_numpy = [
        np.where(
            scan.cylinders_.valid[..., None],
            poisson_llr(scan._circles(observed[b][None])[:, :, 0], scan.expected_circles_, scan.total_),
            0.0,
        ).max()
        for b in range(len(observed))
    ]
    assert len(set(np.round(by_numpy, 6))) > 5, "the sets differ, so a mix-up would show"
    assert scan._max_llr(observed) == pytest.approx(by_numpy, rel=1e-12)


def test_weights_must_be_finite_and_not_negative():
    counts, coords = _tiny_case()
    for bad in (np.array([1.0, -1.0]), np.array([1.0, np.nan]), np.array([1.0])):
        with pytest.raises(ValueError, match="weights"):
            SpaceTimePermutationScan(permutations=9).fit(counts, coords, bad)


def test_nothing_to_scan_is_a_clear_error():
    with pytest.raises(ValueError, match="no incidents to scan"):
        SpaceTimePermutationScan(permutations=9).fit(np.zeros((1, 13, 0)), np.zeros((0, 2)))
    scenario = make_scenario("small_null", 3)
    outside = scenario.points.assign(easting=scenario.points["easting"] + 200_000, value=1.0)
    with pytest.raises(NotEnoughData, match="inside the area's wards"):
        analyse(outside, scenario.months, scenario.wards, HotspotParams(permutations=9))


def test_scans_in_several_threads_at_once_agree_with_one_alone():
    """Streamlit runs each session in a thread: concurrent scans must neither crash nor mix results."""
    from concurrent.futures import ThreadPoolExecutor

    counts, coords = _tiny_case(seed=12)
    alone = SpaceTimePermutationScan(max_share=1.0, permutations=99, random_state=3).fit(counts, coords)
    with ThreadPoolExecutor(3) as pool:
        runs = list(
            pool.map(
                lambda _: SpaceTimePermutationScan(max_share=1.0, permutations=99, random_state=3).fit(counts, coords),
                range(3),
            )
        )
    for run in runs:
        assert np.array_equal(run.null_max_llr_, alone.null_max_llr_)


@pytest.mark.parametrize("per_location", [20, 5_000])  # small urns use numpy's "count" draw, large ones "marginals"
def test_hypergeometric_draws_keep_the_margins(per_location):
    rng = np.random.default_rng(3)
    location_totals = rng.poisson(per_location, 50)
    month_totals = np.bincount(rng.integers(0, 12, location_totals.sum()), minlength=12)
    draws = SpaceTimePermutationScan._draw_hypergeometric(rng, location_totals, month_totals, 4, 30)
    assert (draws.sum(axis=2) == month_totals[::-1][:4][None, :]).all(), "each recent month keeps its total"
    assert (draws.sum(axis=1) <= location_totals[None, :]).all(), "no location gets more than it has"
    # Each location's expected share of a month is its share of all incidents (the permutation null).
    share = draws[:, 0].mean(axis=0) / month_totals[-1]
    assert np.allclose(share, location_totals / location_totals.sum(), atol=0.02)


def test_fast_draws_give_the_same_null_as_shuffling_every_label():
    """Two-sample test of the maximum LLR's null distribution: counts drawn directly against every
    incident's month label shuffled (the definition), on a small case."""
    rng = np.random.default_rng(11)
    coords = rng.uniform(0, 2_000, size=(25, 2))
    counts = rng.poisson(rng.lognormal(0, 1, size=(2, 1, 25)) * np.ones((2, 12, 1)))
    kwargs = {"max_radius_m": 800, "max_share": 0.5, "max_window_months": 3, "permutations": 400}
    fast = SpaceTimePermutationScan(**kwargs, random_state=1).fit(counts, coords).null_max_llr_
    slow = SpaceTimePermutationScan(**kwargs, random_state=2, null_method="shuffle").fit(counts, coords).null_max_llr_
    assert stats.ks_2samp(fast, slow).pvalue > 0.01
    assert np.median(fast) == pytest.approx(np.median(slow), rel=0.15)


def test_same_seed_same_p_values():
    counts, coords = _tiny_case()
    first = SpaceTimePermutationScan(max_share=1.0, permutations=49, random_state=5).fit(counts, coords)
    again = SpaceTimePermutationScan(max_share=1.0, permutations=49, random_state=5).fit(counts, coords)
    assert np.array_equal(first.null_max_llr_, again.null_max_llr_)


def test_a_feed_that_starts_part_way_or_lags_raises_no_flag():
    """Nothing changes anywhere, but one feed covers only the last 8 months and the other stops a
    month early: stratified, the scan sees no cluster; pooled, the new feed would look like a rise."""
    rng = np.random.default_rng(21)
    coords = np.column_stack([np.arange(40) % 8 * 150.0, np.arange(40) // 8 * 150.0])
    rates = rng.lognormal(0, 0.8, 40) * 3
    police = rng.poisson(rates * np.ones((24, 1)))
    police[-1] = 0  # not yet published
    council = rng.poisson(rates[::-1] * np.ones((24, 1)))
    council[:16] = 0  # starts in month 17
    council[:, :20] = 0  # and covers only the east side
    stratified = SpaceTimePermutationScan(permutations=199, max_share=0.3).fit(np.stack([police, council]), coords)
    assert stratified.clusters_.empty
    pooled = SpaceTimePermutationScan(permutations=199, max_share=0.3).fit((police + council)[None], coords)
    assert not pooled.clusters_.empty, "the test case must be one where stratifying matters"


def _evaluate(name: str, seed: int, months_cut: int = 0):
    scenario = make_scenario(name, seed)
    months = scenario.months[: len(scenario.months) - months_cut]
    points = scenario.points.assign(value=1.0)
    analysis = analyse(points, months, scenario.wards, HotspotParams(permutations=199))
    hotspots = analysis.hotspots
    emerging = hotspots.loc[hotspots["emerging"].astype(bool)]
    centres = np.column_stack([emerging.geometry.centroid.x, emerging.geometry.centroid.y])
    return scenario, analysis, emerging, centres


@pytest.fixture(scope="module")
def planted_runs():
    return [
        _evaluate(name, seed, 1 if name == "lagging" else 0)
        for name in ("clustered", "dense", "lagging")
        for seed in (1, 2)
    ]


@pytest.mark.slow
def test_planted_emerging_sites_are_found_with_precision(planted_runs):
    found = missed = true_flags = false_flags = 0
    for scenario, _, emerging, centres in planted_runs:
        near_any = np.zeros(len(emerging), dtype=bool)
        for site in scenario.sites_of("emerging"):  # a flag near a persistent or fading site is a false flag
            near = np.hypot(centres[:, 0] - site.easting, centres[:, 1] - site.northing) <= MATCH_RADIUS_M
            near_any |= near
            found += bool(near.any())
            missed += not near.any()
        true_flags += int(near_any.sum())
        false_flags += int((~near_any).sum())
    recall = found / (found + missed)
    precision = true_flags / max(true_flags + false_flags, 1)
    assert found + missed >= 18
    assert recall >= 0.9, f"recall {recall:.2f} ({found} of {found + missed})"
    assert precision >= 0.8, f"precision {precision:.2f} ({false_flags} flags away from every planted site)"


@pytest.mark.slow
def test_no_persistent_or_fading_site_is_called_new_or_rising(planted_runs):
    for scenario, analysis, _, _ in planted_runs:
        for site in scenario.sites_of("persistent", "fading"):
            point = shapely.Point(site.easting, site.northing).buffer(150)
            touching = analysis.hotspots.loc[analysis.hotspots.intersects(point)]
            assert not touching["flag"].isin(["new", "rising"]).any(), (scenario.name, site)
            assert (touching["emerging"] == touching["flag"].isin(["new", "rising"])).all()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_null_borough_with_seasons_and_a_rise_flags_nothing(seed):
    _, analysis, emerging, _ = _evaluate("null", seed)
    assert emerging.empty, emerging[["hotspot", "p_value"]]
    assert analysis.scan.clusters_.empty
    assert analysis.scan_sentence().startswith("No place rose significantly")


@pytest.mark.slow
def test_calibration_on_40_small_null_boroughs():
    """At the 0.05 level about 2 of 40 null boroughs may show a flag by chance; at most 4 may."""
    flagged = 0
    for seed in range(100, 140):
        scenario = make_scenario("small_null", seed)
        study_area = shapely.union_all(scenario.wards.geometry.values)
        inputs = scan_inputs(scenario.points, scenario.months, study_area, 125.0)
        scan = SpaceTimePermutationScan(permutations=99, random_state=seed).fit(
            inputs.counts, inputs.coords_m, inputs.weights
        )
        flagged += not scan.clusters_.empty
    assert flagged <= 4, f"{flagged} of 40 null boroughs flagged"


def test_the_rim_of_a_uniform_borough_is_not_cold():
    """Squares cut by the boundary hold only their inside share of incidents; scaled to a whole
    square, a uniform background shows no cold spot along the rim."""
    scenario = make_scenario("small_null", 7)
    rng = np.random.default_rng(7)
    outline = shapely.union_all(scenario.wards.geometry.values)
    xmin, ymin, xmax, ymax = outline.bounds
    n = 60_000
    x, y = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    inside = shapely.contains_xy(outline, x, y)
    months = scenario.months
    points = {
        "easting": x[inside],
        "northing": y[inside],
        "month": rng.choice(months, int(inside.sum())),
    }
    import pandas as pd

    frame = pd.DataFrame(points).assign(count=1, value=1.0)
    cube = grid_cube(frame, months, outline, 500.0)
    model = EmergingHotSpots(distance_m=1_000).fit(cube)
    rim = cube.area_m2 < 0.95 * 500.0**2
    assert rim.sum() > 20
    cold_share = model.cold_[:, rim].mean()
    assert cold_share < 0.01, f"{cold_share:.1%} of rim bins are cold spots"


@pytest.mark.slow
def test_harm_weighting_end_to_end_reports_consistent_numbers():
    """Harm-weighted: the scan's observed and expected are harm days, the shared fields stay incidents,
    and each ratio is of like with like."""
    scenario = make_scenario("clustered", 1)
    rng = np.random.default_rng(1)
    points = scenario.points.assign(category=rng.choice(["Burglary", "Anti-social behaviour"], len(scenario.points)))
    weight = points["category"].map({"Burglary": 90.0, "Anti-social behaviour": 0.0})
    points = points.assign(value=points["count"] * weight)
    analysis = analyse(points, scenario.months, scenario.wards, HotspotParams(permutations=99), weighting="harm")
    emerging = analysis.hotspots.loc[analysis.hotspots["emerging"].astype(bool)]
    assert len(emerging), "weighted by harm, the planted sites (half burglary) still rise"
    for row in emerging.itertuples():
        assert row.scan_observed % 90 == 0, "harm days: whole burglaries times 90, anti-social behaviour weighs 0"
        series = analysis.series[row.hotspot]
        assert row.recent_count == series["observed"].iloc[-row.recent_months :].sum()
        assert row.rate_ratio == pytest.approx(row.recent_count / row.expected_recent, rel=0.01)
