"""deploy/nginx.conf in front of a real `streamlit run`: security headers, the page, the websocket, no metrics.

Runs Debian's nginx (apt-get install nginx) as a non-daemon child on a free loopback port, with the
shipped site file made local: the TLS listen and certificate lines replaced by plain HTTP on that
port (TLS itself is nginx's, not ours, to test) and the upstream pointed at the app. Skips cleanly
when nginx is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import stop

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "deploy" / "nginx.conf"
STARTUP_TIMEOUT_S = 90
TILE_HOST = "https://tiles.example.test"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGE_TIMEOUT_MS = 60_000
STREAMLIT_FLAGS = ("--server.address", "127.0.0.1", "--server.headless", "true")

pytestmark = pytest.mark.slow


def _nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {STARTUP_TIMEOUT_S} s; see {log}")


def local_site(shipped: str, listen_port: int, app_port: int) -> str:
    """The shipped site file, served over plain HTTP on loopback in front of the app on `app_port`."""
    site = shipped.split("# Plain HTTP: redirect")[0]  # the HTTP-to-HTTPS redirect needs port 80
    site = re.sub(r"^\s*ssl_\w+ .*;\n", "", site, flags=re.MULTILINE)
    site = re.sub(r"^\s*listen \[::\]:443 ssl;\n", "", site, flags=re.MULTILINE)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_port};")
    site = site.replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{app_port};")
    site = re.sub(r'set \$basemap_tiles "([^"]*)";', rf'set $basemap_tiles "\1 {TILE_HOST}";', site)
    assert f"listen 127.0.0.1:{listen_port};" in site and f"127.0.0.1:{app_port}" in site, "the shipped file changed"
    return site


def nginx_conf(site: str, prefix: Path) -> str:
    temp = {name: prefix / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    return f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {prefix}/access.log;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{site}
}}
"""


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    """(proxy URL, direct app URL) with nginx and streamlit running as this test's children."""
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    folder = tmp_path_factory.mktemp("proxy")
    app_port, proxy_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RC_DATA_DIR": str(folder),
        "RC_DATABASE_URL": f"sqlite:///{folder / 'app.sqlite'}",
        "RC_DEMO": "1",
        "RC_USERS_FILE": str(folder / "users.yaml"),
    }
    app_log = folder / "streamlit.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "rc_dashboard.ui.launch", "app.py", "--server.port", str(app_port), *STREAMLIT_FLAGS],
        cwd=ROOT,
        env=env,
        stdout=app_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    conf = folder / "nginx.conf"
    conf.write_text(nginx_conf(local_site(SHIPPED.read_text(), proxy_port, app_port), folder))
    proxy_log = folder / "error.log"
    proxy = None
    try:
        _wait_for(f"http://127.0.0.1:{app_port}/_stcore/health", app, app_log)
        checked = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stderr=subprocess.STDOUT)
        _wait_for(f"http://127.0.0.1:{proxy_port}/_stcore/health", proxy, proxy_log)
        yield f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{app_port}"
    finally:
        for process in (proxy, app):
            stop(process)


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), ""


def test_the_page_comes_through_with_every_security_header(proxied_app):
    proxy, _ = proxied_app
    status, headers, body = fetch(f"{proxy}/")
    assert status == 200 and '<div id="root">' in body, "Streamlit's page"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert re.search(rf"img-src 'self' data: blob: [^;]*{TILE_HOST}", csp), "the configured basemap host is allowed"
    assert re.search(rf"connect-src 'self' [^;]*{TILE_HOST}", csp)
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = fetch(f"{proxy}/static/does-not-exist.js")
    assert headers.get("X-Content-Type-Options") == "nosniff", "on errors too (always)"


@pytest.mark.parametrize(
    "path", ["/_stcore/metrics", "/_stcore/%6detrics", "//_stcore/metrics", "/_stcore/metrics?x=1"]
)
def test_metrics_are_blocked_at_the_proxy(proxied_app, path):
    proxy, direct = proxied_app
    assert fetch(f"{direct}/_stcore/metrics")[0] == 200, "Streamlit itself serves them: the block is what stops it"
    status, headers, _ = fetch(f"{proxy}{path}")
    assert status == 403
    assert headers["X-Frame-Options"] == "DENY"


def test_the_websocket_upgrades_through_the_proxy(proxied_app):
    from websockets.sync.client import connect

    proxy, _ = proxied_app
    url = proxy.replace("http://", "ws://") + "/_stcore/stream"
    with connect(url, subprotocols=["streamlit"], origin=proxy, open_timeout=10) as socket_:
        assert socket_.response.status_code == 101
        assert socket_.response.headers["Upgrade"].lower() == "websocket"


def test_the_app_runs_in_chromium_under_the_policy(proxied_app):
    """No Content-Security-Policy violation while plotly charts (Overview, SPC) and deck.gl maps draw."""
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    proxy, _ = proxied_app
    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        for path, title in (
            ("", "Overview"),
            ("measures", "Performance measures"),
            ("hotspots", "Hotspots"),
            ("map", "Map"),
        ):
            page.goto(f"{proxy}/{path}", timeout=PAGE_TIMEOUT_MS)
            page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS * 2)
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PAGE_TIMEOUT_MS
            )
            page.wait_for_timeout(2_500)  # plotly and deck.gl draw after the script ends
            assert page.locator('[data-testid="stException"]').count() == 0
        drawn = page.locator("canvas").count()
        browser.close()
    assert violations == [], "\n".join(violations)
    assert drawn > 0, "the map drew (deck.gl canvas) under the policy"
