"""The Streamlit layer: shared widgets and cache wrappers. The only place that imports Streamlit."""
