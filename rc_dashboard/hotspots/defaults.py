"""Default settings of the hotspot analysis, in one place: the command line, the page's form, the
reports and the estimators all read them from here. Distances in metres (British National Grid)."""

# The space-time permutation scan (the detector of emerging places).
DEFAULT_SCAN_CELL_M = 125.0  # a street block: small enough for a panel to act on
DEFAULT_MAX_RADIUS_M = 1_000.0  # a cluster is a neighbourhood, not a district
DEFAULT_MAX_SHARE = 0.02  # share of all incidents in the study period one circle may hold
DEFAULT_MAX_WINDOW_MONTHS = 6  # windows of 1 .. 6 months ending at the as-of month
DEFAULT_PERMUTATIONS = 999  # p-values down to 0.001
DEFAULT_SEED = 20050301  # fixed, so the same data give the same p-values on every page and replica

# Emerging hot spot analysis (EHSA: Gi* and the 17 patterns, which describe each place's history).
DEFAULT_CELL_M = 250
DEFAULT_DISTANCE_M = 500
DEFAULT_ALPHA = 0.05
DEFAULT_RECENT_MONTHS = 3
DEFAULT_BASELINE_MONTHS = 12

# Access: squares smaller than this come close to single addresses, so only roles that see all points get them.
RESTRICTED_MIN_CELL_M = 250.0
