"""`make audit`: known vulnerabilities in the installed packages, and a check that cannot be hollow.

Two checks, because one alone can pass without checking anything:

1. pip-audit against the PyPI advisory service. Offline, pip-audit marks every package "could not be
   audited" and still prints "No known vulnerabilities found"; we read its JSON and say how many packages
   were really audited. None audited means the service was unreachable: we say so, and exit 0 so CI on
   such a machine still runs the tests, unless ``--strict`` (``make audit STRICT=1``) asks for a failure.
   Any vulnerability found fails, always.
2. config/security_minimums.yaml: the lowest safe version of each package whose published advisories
   affect us, compared with the installed versions. Needs no network, so it always checks something.

Usage: ``python -m rc_dashboard.security_audit [--strict] [--pip-audit-json FILE]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

from rc_dashboard.config import DEFAULT_CONFIG_DIR

MINIMUMS_FILE = DEFAULT_CONFIG_DIR / "security_minimums.yaml"  # ships with the code, not with an area's RC_CONFIG_DIR
EXIT_OK = 0
EXIT_VULNERABLE = 1
EXIT_NOTHING_CHECKED = 3  # only with --strict
PIP_AUDIT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    advisory: str
    fix_versions: tuple[str, ...]


@dataclass
class AuditResult:
    """What pip-audit really did: packages audited, skipped (with why), vulnerabilities found."""

    audited: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    vulnerabilities: list[Vulnerability] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.audited) + len(self.skipped)


def parse_pip_audit_json(text: str) -> AuditResult:
    """Read `pip-audit -f json` output; raises ValueError if it is not that format."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"pip-audit did not write JSON ({exc.msg}).") from exc
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise ValueError("pip-audit's JSON has no 'dependencies' list.")
    result = AuditResult()
    for dep in data["dependencies"]:
        name = str(dep.get("name", "?"))
        if dep.get("skip_reason"):
            result.skipped[name] = str(dep["skip_reason"])
            continue
        result.audited.append(name)
        for vuln in dep.get("vulns") or []:
            result.vulnerabilities.append(
                Vulnerability(
                    package=name,
                    version=str(dep.get("version", "?")),
                    advisory=str(vuln.get("id", "?")),
                    fix_versions=tuple(str(v) for v in vuln.get("fix_versions") or ()),
                )
            )
    return result


def report_pip_audit(result: AuditResult, strict: bool) -> tuple[list[str], int]:
    """The lines to print and the exit status for one pip-audit run."""
    if result.vulnerabilities:
        lines = [
            f"pip-audit: {len(result.vulnerabilities)} known vulnerabilities in {len(result.audited)} audited packages:"
        ]
        for v in result.vulnerabilities:
            fix = ", ".join(v.fix_versions) or "no fixed release yet"
            lines.append(f"  {v.package} {v.version}: {v.advisory} (fixed in {fix})")
        return lines, EXIT_VULNERABLE
    if not result.audited:
        lines = [
            f"pip-audit: the advisory service was unreachable; nothing was checked (0 of {result.total} packages"
            " audited). This is not a clean result."
        ]
        return lines, EXIT_NOTHING_CHECKED if strict else EXIT_OK
    lines = [f"pip-audit: {len(result.audited)} of {result.total} packages audited; no known vulnerabilities in them."]
    if result.skipped:
        lines.append(f"  not audited ({len(result.skipped)}): {', '.join(sorted(result.skipped))}")
    return lines, EXIT_OK


@dataclass(frozen=True)
class Minimum:
    package: str
    minimum: str
    advisories: tuple[str, ...]
    checked: str


def load_minimums(path: Path = MINIMUMS_FILE) -> list[Minimum]:
    """The minimum-version table; raises ValueError on an entry without advisory, date or valid version."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[Minimum] = []
    for package, entry in (data.get("packages") or {}).items():
        advisories = tuple(str(a["id"]) for a in entry.get("advisories") or [])
        if not advisories:
            raise ValueError(f"{path.name}: {package} lists no advisory.")
        if not entry.get("checked"):
            raise ValueError(f"{path.name}: {package} has no 'checked' date.")
        try:
            minimum = Version(str(entry["minimum"]))
            fixed = [Version(str(a["fixed"])) for a in entry["advisories"]]
        except (KeyError, InvalidVersion) as exc:
            raise ValueError(f"{path.name}: {package} has a missing or invalid version ({exc}).") from exc
        if minimum < max(fixed):
            raise ValueError(
                f"{path.name}: {package} minimum {minimum} is below an advisory's fixed version {max(fixed)}."
            )
        out.append(Minimum(package, str(minimum), advisories, str(entry["checked"])))
    return out


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def below_minimum(minimums: Sequence[Minimum], installed=installed_version) -> list[str]:
    """One sentence per installed package older than its minimum (packages not installed are not at risk)."""
    problems = []
    for m in minimums:
        have = installed(m.package)
        if have is not None and Version(have) < Version(m.minimum):
            problems.append(
                f"{m.package} {have} is installed but {m.minimum} or later is needed ({', '.join(m.advisories)})."
            )
    return problems


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*([^#;]*)")


def requirement_floors(path: Path) -> dict[str, str | None]:
    """Package (normalised name) -> its `>=` lower bound in a requirements file (None if unbounded)."""
    floors: dict[str, str | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        match = _REQUIREMENT.match(line)
        if not match:
            continue
        name = normalise(match.group(1))
        bound = re.search(r">=\s*([0-9][^,\s]*)", match.group(2))
        floors[name] = bound.group(1) if bound else None
    return floors


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run_pip_audit() -> str:
    """pip-audit's JSON for this environment (the network call; skipped in tests)."""
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--local", "--progress-spinner", "off", "-f", "json"],
            capture_output=True,
            text=True,
            timeout=PIP_AUDIT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ""  # reported as "did not write JSON ... Nothing was checked"
    return completed.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rc_dashboard.security_audit", description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when the advisory service audited nothing")
    parser.add_argument(
        "--pip-audit-json", type=Path, help="read pip-audit's JSON from this file instead of running it"
    )
    args = parser.parse_args(argv)

    status = EXIT_OK
    minimums = load_minimums()
    problems = below_minimum(minimums)
    if problems:
        print(f"Minimum safe versions (config/security_minimums.yaml): {len(problems)} below:")
        for p in problems:
            print("  " + p)
        status = EXIT_VULNERABLE
    else:
        print(f"Minimum safe versions: all {len(minimums)} listed packages are at or above their minimum.")

    text = args.pip_audit_json.read_text(encoding="utf-8") if args.pip_audit_json else run_pip_audit()
    try:
        result = parse_pip_audit_json(text)
    except ValueError as exc:
        print(f"pip-audit: {exc} Nothing was checked.")
        return status or (EXIT_NOTHING_CHECKED if args.strict else EXIT_OK)
    lines, audit_status = report_pip_audit(result, strict=args.strict)
    print("\n".join(lines))
    return status or audit_status


if __name__ == "__main__":
    sys.exit(main())
