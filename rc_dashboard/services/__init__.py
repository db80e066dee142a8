"""Services: where storage meets analysis. Each function takes an Engine, reads through
:mod:`rc_dashboard.queries`, calls the pure analysis modules and writes through :mod:`rc_dashboard.ingest.store`;
pages, reports and the command line call these."""
