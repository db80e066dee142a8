"""RC Dashboard: community safety intelligence for Community Safety Partnerships.

The package is a functional core (pure, typed functions on DataFrames) plus a thin
Streamlit layer in :mod:`rc_dashboard.ui`. Nothing outside ``ui`` imports Streamlit.
"""

__version__ = "0.1.0"
