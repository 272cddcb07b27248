"""Big files: a 300,000-row sheet loads whole while the reader's memory stays bounded."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from tests.ingest_cases import HOUSEHOLD_HEADERS, household_row

ROWS = 300_000

# Runs parse_file in a fresh interpreter and prints its peak resident memory (MiB). VmHWM, not
# ru_maxrss: the latter keeps the high-water mark of the forked pytest process across exec.
PROBE = """
import sys
from pathlib import Path
from orchestration.lib.ingest.reader import parse_file
result = parse_file(Path(sys.argv[1]), "household_members", Path(sys.argv[2]))
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(result.status, result.rows_read, result.rows_loaded, int(status[0]) // 1024)
"""


@pytest.mark.slow
def test_300k_row_csv_loads_with_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    template = household_row(0)
    with path.open("w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HOUSEHOLD_HEADERS)
        for i in range(ROWS):
            row = template | {"姓名": f"马{i}", "身份证号码": f"6229221990{i:08d}"}
            writer.writerow([row[h] for h in HOUSEHOLD_HEADERS])
    assert path.stat().st_size > 40_000_000
    command = [sys.executable, "-c", PROBE, str(path), str(tmp_path / "out")]
    probe = subprocess.run(command, capture_output=True, text=True, check=True)
    status, read, loaded, peak_mib = probe.stdout.split()
    assert (status, int(read), int(loaded)) == ("loaded", ROWS, ROWS)
    # the interpreter with DuckDB, numpy and calamine is ~100 MiB; a chunk of rows adds the rest,
    # whatever the file's size (the whole file as Python objects would need well over 1 GiB)
    assert int(peak_mib) < 400, peak_mib
