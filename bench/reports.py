"""The city reports alone: every data month, as a full refresh writes them (no Dagster).

``force`` (the default) writes every report, as into an empty folder, so that re-running the
stage measures the same work; ``force=False`` measures a re-run that finds every report up to
date and writes none (``unchanged`` counts them).
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def build_all_reports(warehouse: Path, out_dir: Path, force: bool = True) -> dict:
    from orchestration.lib.reports.builder import Outcome, write_city_reports, write_province_summary
    from orchestration.lib.reports.data import ReportData, data_months

    outcome = Outcome()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        months = data_months(con)
        report_data = ReportData(con)
        for month in months:
            outcome += write_city_reports(con, month, out_dir, report_data=report_data, force=force)
            outcome += write_province_summary(con, month, out_dir, report_data=report_data, force=force)
    return {
        "months": len(months),
        "files": len(outcome.written),
        "unchanged": len(outcome.unchanged),
        "workbooks": sum(p.suffix == ".xlsx" for p in outcome.written),
        "bytes": sum(p.stat().st_size for p in outcome.written),
    }
