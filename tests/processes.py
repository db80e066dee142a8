"""Stopping the servers that tests start as child processes."""

from __future__ import annotations

import subprocess

STOP_GRACE_S = 30  # a server still finishing a scan on a loaded machine may take this long to exit


def stop(process: subprocess.Popen | None, grace_s: float = STOP_GRACE_S) -> None:
    """Ask ``process`` to stop (SIGTERM); kill it if it has not exited after ``grace_s`` seconds.

    How fast a server stops is not what these tests check: once, in CI, a demo server still
    computing its default analyses took over 20 s to exit, and the test's teardown failed.
    """
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
