"""The README's set-up: what `make run` and `make test` install on a fresh clone, and the password rule it states."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from eventreg.auth.services import MIN_PASSWORD_LENGTH

ROOT = Path(__file__).resolve().parent.parent


def planned(target: str, clone: Path) -> str:
    """The commands `make -n <target>` would run in `clone` (nothing is installed)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAKE", "MFLAGS", "VENV"))}
    env.pop("PYTHON", None)
    return subprocess.run(
        ["make", "-n", target], cwd=clone, env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_make_run_installs_only_the_runtime_requirements_and_make_test_adds_the_development_ones(tmp_path):
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)  # a fresh clone: no .venv yet
    run = planned("run", tmp_path)
    assert "pip install --quiet -r requirements.txt" in run
    assert "requirements-dev.txt" not in run
    assert "scripts/run-dev" in run
    test = planned("test", tmp_path)
    assert "pip install --quiet -r requirements-dev.txt" in test
    assert test.rstrip().splitlines()[-1].startswith(".venv/bin/pytest")
    # Each pass runs the README's command, `make test` (timed: .ci/run prints how long each pass takes).
    assert re.search(r"^timed SQLite make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_readme_states_the_minimum_password_length():
    readme = (ROOT / "README.md").read_text()
    stated = re.findall(r"password[^|]{0,80}?at least (\d+) characters", readme, re.IGNORECASE)
    assert stated, "the README no longer states the minimum password length"
    assert set(stated) == {str(MIN_PASSWORD_LENGTH)}
