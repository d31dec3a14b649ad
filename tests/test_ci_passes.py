"""The suite's two passes (.ci/run): the browser and fuzz tests run on SQLite only, skipped with their reason on
PostgreSQL, and the option that skips them cannot be used on SQLite, where they must run."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A browser test, a fuzz test and a plain test that touches no database.
SELECTED = [
    "tests/test_e2e.py::test_delegate_registers_in_a_real_browser",
    "tests/test_fuzz.py::test_no_input_breaks_a_route",
    "tests/test_project_setup.py::test_the_readme_states_the_minimum_password_length",
]


def run_pytest(*args: str, database_url: str | None) -> subprocess.CompletedProcess:
    """pytest on SELECTED in a child process, with TEST_DATABASE_URL set or removed."""
    env = {name: value for name, value in os.environ.items() if name != "TEST_DATABASE_URL"}
    if database_url is not None:
        env["TEST_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args, *SELECTED]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_second_pass_skips_browser_and_fuzz_tests_saying_why():
    # Nothing listens on port 1: a test that reached the database would fail, not pass.
    result = run_pytest("--skip-engine-independent", database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    fuzz_cases = sum("test_fuzz.py" in line for line in skipped)
    assert any("test_e2e.py" in line for line in skipped), result.stdout
    assert fuzz_cases >= 1, result.stdout
    assert all("does not depend on the database engine: runs in the SQLite pass only" in line for line in skipped)
    assert "1 passed" in result.stdout


def test_the_option_is_refused_on_sqlite():
    result = run_pytest("--skip-engine-independent", "--collect-only", database_url=None)
    assert result.returncode == 4  # pytest's usage error
    assert "the SQLite pass is where the browser and fuzz tests run" in result.stderr


def test_ci_skips_them_in_the_postgresql_pass_only():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    passes = [line for line in lines if line.startswith("timed ")]
    assert len(passes) == 2, passes
    sqlite, postgresql = passes
    assert "SQLite" in sqlite and "--skip-engine-independent" not in sqlite
    assert "TEST_DATABASE_URL" in postgresql and "--skip-engine-independent" in postgresql
