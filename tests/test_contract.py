"""The names promised to users, checked by the shared contract script on the sample build.

The script reports what open issues promise but have not built yet as ``pending:`` lines and
names it does not know yet as ``note:`` lines; those are information. Every other line is a
promised name that is missing: a regression.
"""

import subprocess
import sys

import pytest

from tests.conftest import SHARED_DIR

CONTRACT = SHARED_DIR / "contract" / "check_warehouse.py"

INFORMATION = ("pending:", "note:")


def run_contract(*args: str) -> list[str]:
    assert CONTRACT.exists(), f"the shared contract script is missing: {CONTRACT}"
    result = subprocess.run(
        [sys.executable, str(CONTRACT), *args], capture_output=True, text=True, timeout=600
    )
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("contract:"), result.stdout + result.stderr
    return lines[:-1]


@pytest.mark.slow
def test_sample_build_meets_the_contract(sample_build):
    settings = sample_build.settings
    assert settings.analytics_db.exists(), "the sample build published no snapshot"
    lines = run_contract(str(settings.warehouse), "--analytics", str(settings.analytics_db))
    missing = [line for line in lines if not line.startswith(INFORMATION)]
    assert missing == [], "contract broken"
