"""``python -m rc_dashboard``: the command line (see :mod:`rc_dashboard.cli`)."""

from rc_dashboard.cli import main

raise SystemExit(main())
