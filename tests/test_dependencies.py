"""No pinned runtime dependency has a known vulnerability: pip-audit checks requirements.txt against PyPI's advisory
data (then OSV's). Skipped, saying why, when neither database can be reached; a failure names each advisory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
SERVICES = ("pypi", "osv")  # PyPI's JSON API first: the registry pip already uses
TIMEOUT_SECONDS = 15  # per request; the whole audit takes a few seconds


def verdict(report: dict) -> tuple[str, list[str]]:
    """Read pip-audit's JSON report: ("vulnerable", advisories), ("clean", audited names) or ("unreachable", why).

    A package the service does not know is skipped by pip-audit; when it knows none of ours, the service
    answered nothing useful (a mirror without the per-release API, say), which is not a clean bill.
    """
    dependencies = report.get("dependencies", [])
    advisories = [
        f"{package['name']} {package['version']}: {vuln['id']} (fixed in {', '.join(vuln['fix_versions']) or '?'})"
        for package in dependencies
        for vuln in package.get("vulns", [])
    ]
    if advisories:
        return "vulnerable", advisories
    audited = [package["name"] for package in dependencies if "skip_reason" not in package]
    if not audited:
        reasons = sorted({package["skip_reason"].split(":", 1)[0] for package in dependencies}) or ["no packages"]
        return "unreachable", [f"it knew none of the {len(dependencies)} pins: {reason}" for reason in reasons]
    return "clean", audited


def audit(service: str) -> tuple[str, list[str]]:
    """Run pip-audit over requirements.txt against one service (the pins as written: no resolving, no pip)."""
    command = [
        str(PIP_AUDIT),
        "--requirement",
        str(REQUIREMENTS),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--vulnerability-service",
        service,
        "--timeout",
        str(TIMEOUT_SECONDS),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ | {"NO_COLOR": "1"})
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:  # pip-audit stopped before writing a report: the service could not be reached
        last_line = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        return "unreachable", [last_line[:300]]
    return verdict(report)


def test_no_pinned_dependency_has_a_known_vulnerability():
    if not PIP_AUDIT.exists():
        message = f"{PIP_AUDIT} is missing: pip install -r requirements-dev.txt"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    unreachable = []
    for service in SERVICES:
        outcome, details = audit(service)
        if outcome == "vulnerable":
            pytest.fail("Known vulnerabilities in requirements.txt; bump these pins:\n" + "\n".join(details))
        if outcome == "clean":
            assert len(details) >= 20  # most of requirements.txt was really audited
            return
        unreachable.append(f"{service}: {'; '.join(details)}")
    pytest.skip("no advisory database could be reached, nothing was audited (" + " | ".join(unreachable) + ")")


REPORT_PACKAGE = {"name": "werkzeug", "version": "3.0.0"}
NOT_FOUND = "Dependency not found on PyPI and could not be audited"


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (
            {"dependencies": [REPORT_PACKAGE | {"vulns": [{"id": "GHSA-x", "fix_versions": ["3.0.6"]}]}]},
            ("vulnerable", ["werkzeug 3.0.0: GHSA-x (fixed in 3.0.6)"]),
        ),
        ({"dependencies": [REPORT_PACKAGE | {"vulns": []}]}, ("clean", ["werkzeug"])),
        (
            {"dependencies": [{"name": "flask", "skip_reason": f"{NOT_FOUND}: flask (3.1.3)"}]},
            ("unreachable", [f"it knew none of the 1 pins: {NOT_FOUND}"]),
        ),
        ({"dependencies": []}, ("unreachable", ["it knew none of the 0 pins: no packages"])),
    ],
)
def test_the_report_is_read_strictly(report, expected):
    """A vulnerability fails; an audit in which the service knew none of our packages is no pass."""
    assert verdict(report) == expected
