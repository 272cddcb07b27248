"""The code location loads, and `dg check defs` agrees."""

import subprocess
import sys
from pathlib import Path

from orchestration.resources import REPO_ROOT


def test_definitions_load_with_full_refresh_job():
    from orchestration.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def("full_refresh")
    assert job.name == "full_refresh"
    assert job.executor_def.name == "in_process"


def test_dg_check_defs_passes():
    dg_cli = Path(sys.executable).parent / "dg"
    result = subprocess.run(
        [str(dg_cli), "check", "defs"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr
