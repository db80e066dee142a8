"""Production settings: what ``python -m rc_dashboard serve`` checks and sets before starting Streamlit.

A council runs the app behind its own TLS proxy, often as several replicas on one PostgreSQL.
Each replica must then sign cookies with the *same* secret (else a user's XSRF token or sign-in
cookie from one replica fails on the next), error details must not reach the browser (they can
carry file paths, SQL and data), and XSRF protection must be on. The secret comes from the
secrets file (never from the repository); everything else is fixed here so nobody forgets it.
"""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rc_dashboard.config import DEMO_ENV

MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = {"a long random string, fixed across replicas", "CHANGE_ME", "changeme"}

# Streamlit options for production, as the environment variables Streamlit reads (and ours).
PRODUCTION_OPTIONS = {
    "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none",
    "STREAMLIT_CLIENT_TOOLBAR_MODE": "viewer",
    "STREAMLIT_CLIENT_DISABLE_DATA_EXPORT": "true",  # table exports go through our audited, neutralised download
    "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "true",
    "STREAMLIT_SERVER_ENABLE_CORS": "true",
    "STREAMLIT_SERVER_HEADLESS": "true",
    "STREAMLIT_SERVER_RUN_ON_SAVE": "false",
    "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "STREAMLIT_GLOBAL_DEVELOPMENT_MODE": "false",
    "STREAMLIT_RUNNER_POST_SCRIPT_GC": "false",  # see .streamlit/config.toml: a full GC per run stalls all sessions
    DEMO_ENV: "0",  # never build the demo borough in production, even on an empty embedded database
    # glibc keeps one malloc arena per thread; Streamlit runs a thread per session, and with many
    # arenas freed memory is not reused across sessions (measured: +63 MB instead of +148 MB a batch).
    "MALLOC_ARENA_MAX": "2",
}


@dataclass
class ProductionPlan:
    """The environment to start Streamlit with, and what is wrong (``blocking``) or worth a look."""

    environment: dict[str, str] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_secrets(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"The secrets file {path} is not valid TOML: {exc}") from exc


def plan_production(
    secrets: dict, secrets_path: Path, *, database_url: str, default_database_url: str, users_count: int
) -> ProductionPlan:
    """Check the deployment and build the environment for a production start."""
    plan = ProductionPlan(environment=dict(PRODUCTION_OPTIONS))
    auth = secrets.get("auth") if isinstance(secrets.get("auth"), dict) else None
    secret = secrets.get("cookie_secret") or (auth or {}).get("cookie_secret")
    if not secret:
        plan.blocking.append(
            f'No cookie_secret in {secrets_path}: add a line cookie_secret = "..." with at least '
            f'{MIN_SECRET_LENGTH} random characters (python -c "import secrets; print(secrets.token_urlsafe(48))"); '
            "every replica must use the same one."
        )
    elif str(secret) in PLACEHOLDER_SECRETS or len(str(secret)) < MIN_SECRET_LENGTH:
        plan.blocking.append(
            f"The cookie_secret in {secrets_path} is the example text or shorter than {MIN_SECRET_LENGTH} characters."
        )
    else:
        plan.environment["STREAMLIT_SERVER_COOKIE_SECRET"] = str(secret)
    if secrets_path.exists() and secrets_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        plan.blocking.append(f"{secrets_path} can be read by other users of the server: chmod 600 it.")
    if auth is None and users_count == 0:
        plan.warnings.append(
            "Neither single sign-on ([auth] in the secrets file) nor local users are set up, so nobody can "
            "sign in: python -m rc_dashboard users add NAME --role admin"
        )
    if database_url == default_database_url:
        plan.warnings.append(
            "The embedded SQLite database suits one server; for several replicas set RC_DATABASE_URL to PostgreSQL."
        )
    return plan
