"""The city reports alone: every data month, as a full refresh writes them (no Dagster)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def build_all_reports(warehouse: Path, out_dir: Path) -> dict:
    from orchestration.defs.reports.builder import write_city_reports, write_province_summary
    from orchestration.defs.reports.data import data_months

    written: list[Path] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        months = data_months(con)
        for month in months:
            written += write_city_reports(con, month, out_dir)
            written += write_province_summary(con, month, out_dir)
    return {
        "months": len(months),
        "files": len(written),
        "workbooks": sum(p.suffix == ".xlsx" for p in written),
        "bytes": sum(p.stat().st_size for p in written),
    }
