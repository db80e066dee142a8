"""Production settings: the ``serve`` command's checks, and a real production start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from rc_dashboard import deploy

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = "k" * 20 + "0123456789abcdefghij"


def plan(secrets: dict, path: Path, users: int = 1, url: str = "postgresql://db/rc") -> deploy.ProductionPlan:
    return deploy.plan_production(
        secrets, path, database_url=url, default_database_url="sqlite:///data/x.sqlite", users_count=users
    )


def secrets_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_good_secret_gives_every_production_setting(tmp_path):
    path = secrets_file(tmp_path, f'cookie_secret = "{GOOD_SECRET}"\n')
    result = plan(deploy.read_secrets(path), path)
    assert not result.blocking and not result.warnings
    env = result.environment
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"] == GOOD_SECRET
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] == "none"
    assert env["STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION"] == "true"
    assert env["RC_DEMO"] == "0"


def test_the_sign_on_cookie_secret_is_used_when_there_is_no_other(tmp_path):
    path = secrets_file(tmp_path, f'[auth]\ncookie_secret = "{GOOD_SECRET}"\nclient_id = "x"\n')
    result = plan(deploy.read_secrets(path), path, users=0)
    assert result.environment["STREAMLIT_SERVER_COOKIE_SECRET"] == GOOD_SECRET
    assert not result.warnings, "single sign-on counts as a way in"


@pytest.mark.parametrize(
    ("text", "mode", "problem"),
    [
        ("", 0o600, "No cookie_secret"),
        ('cookie_secret = "a long random string, fixed across replicas"\n', 0o600, "example text"),
        ('cookie_secret = "short"\n', 0o600, "shorter than 32"),
        (f'cookie_secret = "{GOOD_SECRET}"\n', 0o644, "chmod 600"),
    ],
)
def test_unsafe_deployments_are_refused(tmp_path, text, mode, problem):
    path = secrets_file(tmp_path, text, mode)
    result = plan(deploy.read_secrets(path), path)
    assert any(problem in sentence for sentence in result.blocking), result.blocking


def test_warnings_for_no_way_in_and_the_embedded_database(tmp_path):
    path = secrets_file(tmp_path, f'cookie_secret = "{GOOD_SECRET}"\n')
    result = plan(deploy.read_secrets(path), path, users=0, url="sqlite:///data/x.sqlite")
    assert len(result.warnings) == 2 and "users add" in result.warnings[0] and "PostgreSQL" in result.warnings[1]


def test_the_shipped_config_is_safe_by_default():
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert shipped["client"]["showErrorDetails"] == "none"
    assert shipped["server"]["enableXsrfProtection"] is True
    assert shipped["browser"]["gatherUsageStats"] is False
    assert "cookieSecret" not in shipped["server"], "the secret comes from the secrets file, never the repository"
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_without_a_secret_and_starts_hardened_with_one(tmp_path):
    env = {
        **os.environ,
        "RC_DATABASE_URL": f"sqlite:///{tmp_path / 'council.sqlite'}",
        "RC_DATA_DIR": str(tmp_path),
        "RC_SECRETS_FILE": str(tmp_path / "secrets.toml"),
    }
    refused = subprocess.run(
        [sys.executable, "-m", "rc_dashboard", "serve", "--check"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "No cookie_secret" in refused.stderr
    secrets_file(tmp_path, f'cookie_secret = "{GOOD_SECRET}"\n')
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rc_dashboard", "serve", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stdout.read().decode() if server.poll() is not None else "no answer"
                    raise AssertionError(output) from exc
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as health:
            cookies = health.headers.get_all("Set-Cookie") or []
        assert any(c.startswith("_streamlit_xsrf=") for c in cookies), f"XSRF protection is on: {cookies}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
