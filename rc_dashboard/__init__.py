"""RC Dashboard: community safety intelligence for Community Safety Partnerships.

The analysis modules (``explore``, ``measures``, ``spc``, ``scorecard``, ``hotspots/``) are pure,
typed functions and estimators on DataFrames. Reads of the database are in ``queries``; writes of
data in ``ingest/`` (``ingest/store.py`` for incidents, boundaries and measure values,
``ingest/areas.py`` for lookups, localities and populations), with the audit log (``audit``), stored
analyses (``results``) and migrations (``db``) writing their own tables. ``services/`` joins reads,
analyses and writes for pages, reports and the command line. A thin Streamlit layer lives in
:mod:`rc_dashboard.ui`; nothing outside ``ui`` imports Streamlit (``tests/test_layers.py`` checks both).
"""

__version__ = "0.1.0"
