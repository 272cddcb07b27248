"""The city reports alone: every data month, as a full refresh writes them (no Dagster).

``force`` (the default) writes every report, as into an empty folder, so that re-running the
stage measures the same work; ``force=False`` measures a re-run that finds every report up to
date and writes none (``unchanged`` counts them).
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def build_all_reports(warehouse: Path, out_dir: Path, force: bool = True, workers: int | None = None) -> dict:
    from orchestration.lib.reports.builder import (
        Outcome,
        ReportWriters,
        in_writing_order,
        write_city_reports,
        write_province_summary,
    )
    from orchestration.lib.reports.data import ReportData, data_months

    outcome = Outcome()
    # as the assets write them: in worker processes
    with duckdb.connect(str(warehouse), read_only=True) as con, ReportWriters(workers) as writers:
        months = data_months(con)
        report_data = ReportData(con)
        for month in in_writing_order(months):
            for write in (write_city_reports, write_province_summary):
                outcome += write(con, month, out_dir, report_data=report_data, force=force, writers=writers)
    return {
        "months": len(months),
        "files": len(outcome.written),
        "unchanged": len(outcome.unchanged),
        "workbooks": sum(p.suffix == ".xlsx" for p in outcome.written),
        "bytes": sum(p.stat().st_size for p in outcome.written),
    }
