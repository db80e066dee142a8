"""The modules the router imports in the background on a fresh server (rc_dashboard.ui.startup)."""

from __future__ import annotations

import importlib.util

from rc_dashboard.ui import startup


def test_every_module_warmed_exists():
    """A renamed module would only log a warning at start-up and leave its page slow again."""
    missing = [name for name in startup.WARM_MODULES if importlib.util.find_spec(name) is None]
    assert missing == []


def test_the_warm_imports_start_once_per_process(monkeypatch):
    started = []

    class Thread:
        def __init__(self, *, target, name, daemon):
            self.name = name

        def start(self):
            started.append(self.name)

    monkeypatch.setattr(startup, "_warm_started", False)
    monkeypatch.setattr(startup.threading, "Thread", Thread)
    startup.warm_imports()
    startup.warm_imports()
    assert started == ["rc-warm-imports"]
