"""Python style is part of the build: ruff check and ruff format, as `make lint` runs them."""

import subprocess
import sys
from pathlib import Path

from orchestration.resources import REPO_ROOT

RUFF = Path(sys.executable).parent / "ruff"
PATHS = [p for p in ("orchestration", "tests", "bench") if (REPO_ROOT / p).exists()]


def test_ruff_check_is_clean():
    result = subprocess.run([str(RUFF), "check", *PATHS], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [str(RUFF), "format", "--check", *PATHS], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
