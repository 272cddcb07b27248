"""The names promised to users, checked by the shared contract script on the sample build.

Parts of the contract that open issues have not built yet are listed in PENDING with their
issue; the test fails both when something else is missing (a regression) and when a pending
item appears (so the list is kept honest and shrinks to nothing).
"""

import subprocess
import sys

import pytest

from tests.conftest import SHARED_DIR

CONTRACT = SHARED_DIR / "contract" / "check_warehouse.py"

PENDING: set[str] = set()


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
    args = [str(settings.warehouse)]
    if settings.analytics_db.exists() or not any("analytics" in p for p in PENDING):
        args += ["--analytics", str(settings.analytics_db)]
    missing = set(run_contract(*args))
    assert missing - PENDING == set(), "contract broken"
    assert PENDING - missing == set(), "pending items now built: remove them from PENDING"
