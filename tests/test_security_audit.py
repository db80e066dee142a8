"""`make audit` says what it checked, and the offline minimum-version check cannot be hollow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from rc_dashboard import security_audit as sa

ROOT = Path(__file__).resolve().parent.parent
ADVISORY_ID = re.compile(r"^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|CVE-\d{4}-\d{4,}|PYSEC-\d{4}-\d+)$")


def _pip_audit_json(audited: dict[str, list[dict]], skipped: list[str]) -> str:
    """pip-audit -f json output as version 2.x writes it."""
    deps = [{"name": n, "version": "1.0", "vulns": v} for n, v in audited.items()]
    deps += [
        {"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"} for n in skipped
    ]
    return json.dumps({"dependencies": deps, "fixes": []})


OFFLINE = _pip_audit_json({}, [f"pkg{i}" for i in range(92)])
CLEAN = _pip_audit_json({"streamlit": [], "pandas": []}, ["rc-dashboard"])
VULNERABLE = _pip_audit_json(
    {"streamlit": [{"id": "GHSA-7p48-42j8-8846", "fix_versions": ["1.54.0"], "aliases": [], "description": ""}]}, []
)


def _run(tmp_path: Path, text: str, *flags: str) -> tuple[int, str]:
    path = tmp_path / "audit.json"
    path.write_text(text)
    out = subprocess.run(
        [sys.executable, "-m", "rc_dashboard.security_audit", "--pip-audit-json", str(path), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode, out.stdout + out.stderr


def test_nothing_audited_is_reported_as_nothing_checked_and_passes_unless_strict(tmp_path):
    status, out = _run(tmp_path, OFFLINE)
    assert status == 0
    assert "advisory service was unreachable" in out and "0 of 92 packages audited" in out
    assert "no known vulnerabilities" not in out.lower()
    strict_status, _ = _run(tmp_path, OFFLINE, "--strict")
    assert strict_status != 0


def test_a_real_audit_says_how_many_packages_it_checked(tmp_path):
    status, out = _run(tmp_path, CLEAN, "--strict")
    assert status == 0
    assert "2 of 3 packages audited" in out
    assert "not audited (1): rc-dashboard" in out


@pytest.mark.parametrize("flags", [(), ("--strict",)])
def test_a_vulnerability_fails_always(tmp_path, flags):
    status, out = _run(tmp_path, VULNERABLE, *flags)
    assert status == sa.EXIT_VULNERABLE
    assert "streamlit 1.0: GHSA-7p48-42j8-8846 (fixed in 1.54.0)" in out


def test_output_that_is_not_pip_audit_json_is_nothing_checked(tmp_path):
    status, out = _run(tmp_path, "Traceback (most recent call last):", "--strict")
    assert status == sa.EXIT_NOTHING_CHECKED
    assert "Nothing was checked" in out


def test_make_audit_runs_this_script_and_passes_strict():
    recipe = (ROOT / "Makefile").read_text()
    assert "-m rc_dashboard.security_audit $(if $(STRICT),--strict)" in recipe
    assert "make audit" in (ROOT / ".ci" / "run").read_text()


# --- the offline check --------------------------------------------------------------------------------------


def test_every_minimum_names_a_real_advisory_and_a_date():
    data = yaml.safe_load(sa.MINIMUMS_FILE.read_text())["packages"]
    assert {"streamlit", "starlette", "h11", "python-multipart"} <= set(data), "Streamlit's web stack must be covered"
    for package, entry in data.items():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry["checked"])), package
        for advisory in entry["advisories"]:
            assert ADVISORY_ID.match(advisory["id"]), (package, advisory["id"])
            if "aka" in advisory:
                assert ADVISORY_ID.match(advisory["aka"]), (package, advisory["aka"])
        assert Version(str(entry["minimum"])) == max(Version(str(a["fixed"])) for a in entry["advisories"]), package


def test_installed_packages_are_at_or_above_their_minimum():
    minimums = sa.load_minimums()
    assert len(minimums) >= 10
    assert sa.below_minimum(minimums) == []
    assert any(sa.installed_version(m.package) for m in minimums), "none of the listed packages is installed"


def test_an_old_installed_version_is_caught():
    minimums = sa.load_minimums()
    old = {"streamlit": "1.53.9", "h11": "0.14.0"}
    problems = sa.below_minimum(minimums, installed=lambda p: old.get(p))
    assert len(problems) == 2
    assert problems[0].startswith("streamlit 1.53.9 is installed but 1.54.0 or later is needed (GHSA-7p48-42j8-8846")


def test_requirements_lower_bounds_agree_with_the_minimums():
    floors = sa.requirement_floors(ROOT / "requirements.txt")
    for m in sa.load_minimums():
        name = sa.normalise(m.package)
        assert name in floors, f"requirements.txt does not name {m.package}"
        assert floors[name] is not None, f"requirements.txt has no lower bound for {m.package}"
        assert Version(floors[name]) >= Version(m.minimum), f"requirements.txt allows {m.package} {floors[name]}"


def test_a_minimum_below_its_own_advisory_is_refused(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "packages:\n  h11:\n    minimum: '0.14.0'\n    checked: 2026-11-26\n"
        "    advisories:\n      - {id: GHSA-vqfr-h8mv-ghfj, fixed: '0.16.0'}\n"
    )
    with pytest.raises(ValueError, match="below an advisory's fixed version"):
        sa.load_minimums(path)
