"""Measured detection: dq.findings against the generator's ground truth (raw/manifest.json).

Every planted defect must be found (recall 1.0 per kind), and a world generated without
defects must give no error finding at all. The per-kind table is printed (pytest -s) and
written beside the build as detection.md, for the README.

A finding and a planted defect are the same when they name the same entity (docs/defects.md):
- a sheet row (file, sheet, row) for the kinds whose entity is a row or an invalid/rounded ID;
- the pseudonymous person key (trainee_key, HMAC of the ID) for kinds about a valid ID;
- county, township, village, programme and period for the reconciliations.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.quality.catalog import CHECKS
from orchestration.lib.transform.duckdb_pii_plugin import hmac_sha256_hex
from tests.conftest import SAMPLE_RAW_DIR, build_settings

ROW_KINDS = {
    "invalid_id_number",
    "rounded_id_number",
    "unclassified_training_need",
    "course_too_short",
    "course_too_long",
    "institution_not_on_roster",
    "trade_not_approved",
    "institution_qualification_expired",
}


# Checks the generator does not plant (the sample is one clean submission per region and period):
# on the sample they must find nothing. Copies of the sample plant them: superseded_submission
# in tests/quality/test_rules_tightened.py, the ledger checks in tests/quality/test_record_outcomes.py,
# the ingest checks in tests/ingest/test_ingest_findings.py and
# tests/quality/test_every_record_counted.py.
NOT_PLANTED = {
    "superseded_submission",
    "no_task_allocated",
    "unknown_programme",
    "missing_start_date",
    "unknown_region",
    "file_not_loaded",
    "row_not_loaded",
    "report_missing",
}


def person_key(id_number: str) -> str:
    """dbt's pseudonymous_key('person', id): HMAC-SHA256 hex, 32 characters, digits as g-p."""
    digest = hmac_sha256_hex(f"person:{id_number}")[:32]
    return digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def manifest_key(defect: dict) -> tuple:
    kind, entity = defect["kind"], defect["entity"]
    if kind in ROW_KINDS:
        return (defect["source_file"], defect["sheet"] or "", defect["row_number"])
    if kind in ("id_region_mismatch", "trainee_not_registered"):
        return (person_key(entity["id_number"]),)
    if kind == "duplicate_training":
        return (person_key(entity["id_number"]), entity["programme_code"], str(entity["year"]))
    if kind == "target_persons_mismatch":
        return (entity["county_code"], entity["township"])
    if kind in ("report_overclaims_ledger", "report_underclaims_ledger"):
        return (entity["county_code"], entity["programme_code"], entity["month"])
    if kind == "task_inflated":
        return (entity["county_code"], entity["programme_code"], str(entity["year"]))
    if kind == "village_count_mismatch":
        return (entity["county_code"], entity["township"], entity["village"])
    raise KeyError(kind)


def finding_key(row: dict) -> tuple:
    kind = row["check_name"]
    if kind in NOT_PLANTED:
        return (row["finding_key"],)
    if kind in ROW_KINDS:
        return (row["source_file"], row["sheet"] or "", row["row_number"])
    if kind in ("id_region_mismatch", "trainee_not_registered"):
        return (row["entity_key"],)
    if kind == "duplicate_training":
        return (row["entity_key"], row["programme_code"], row["period"])
    if kind == "target_persons_mismatch":
        return (row["county_code"], row["township"])
    if kind in ("report_overclaims_ledger", "report_underclaims_ledger", "task_inflated"):
        return (row["county_code"], row["programme_code"], row["period"])
    if kind == "village_count_mismatch":
        return (row["county_code"], row["township"], row["village"])
    raise KeyError(kind)


def read_findings(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from dq.findings")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def detection_table(manifest: dict, findings: list[dict]) -> list[dict]:
    """Per kind: planted, found, recall, precision (a finding is right when it matches any
    defect of the manifest, planted or side effect)."""
    planted, expected, found = defaultdict(set), defaultdict(set), defaultdict(set)
    for defect in manifest["defects"]:
        key = manifest_key(defect)
        expected[defect["kind"]].add(key)
        if not defect.get("side_effect"):
            planted[defect["kind"]].add(key)
    for row in findings:
        found[row["check_name"]].add(finding_key(row))
    table = []
    for check in CHECKS:
        kind = check.name
        hits = planted[kind] & found[kind]
        correct = found[kind] & expected[kind]
        table.append(
            {
                "kind": kind,
                "severity": check.severity,
                "planted": len(planted[kind]),
                "found": len(found[kind]),
                "recall": len(hits) / len(planted[kind]) if planted[kind] else None,
                "precision": len(correct) / len(found[kind]) if found[kind] else None,
                "missed": sorted(planted[kind] - found[kind], key=str),
                "extra": sorted(found[kind] - expected[kind], key=str),
            }
        )
    return table


def markdown(table: list[dict]) -> str:
    def fmt(value):
        return "–" if value is None else f"{value:.2f}"

    lines = ["| kind | severity | injected | found | recall | precision |", "|---|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r['kind']} | {r['severity']} | {r['planted']} | {r['found']} "
        f"| {fmt(r['recall'])} | {fmt(r['precision'])} |"
        for r in table
    ]
    planted = sum(r["planted"] for r in table)
    found = sum(r["found"] for r in table)
    lines.append(f"| **all** | | {planted} | {found} | | |")
    return "\n".join(lines)


def test_every_planted_defect_is_found_on_the_sample(sample_build):
    manifest = json.loads((SAMPLE_RAW_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["defect_mode"] == "all" and manifest["defects"], "the sample should carry planted defects"
    table = detection_table(manifest, read_findings(sample_build.settings.warehouse))
    report = markdown(table)
    print("\n" + report)
    (sample_build.settings.warehouse.parent / "detection.md").write_text(report + "\n", encoding="utf-8")

    for row in table:
        if row["kind"] in NOT_PLANTED:
            assert row["found"] == 0, f"{row['kind']} fired on the sample, which plants none"
            continue
        assert row["planted"] > 0, f"the sample plants no {row['kind']}: the test would prove nothing"
        assert row["recall"] == 1.0, f"{row['kind']}: planted but not found: {row['missed']}"
    # The checks implement docs/defects.md, so nothing should fire that the manifest does not list.
    extras = {r["kind"]: r["extra"] for r in table if r["extra"]}
    assert not extras, f"findings the manifest does not list: {extras}"


def test_the_clean_world_check_passes_the_dirty_one_fails(sample_build):
    """The detection table itself can fail: with a defect removed, recall drops below 1."""
    manifest = json.loads((SAMPLE_RAW_DIR / "manifest.json").read_text(encoding="utf-8"))
    findings = read_findings(sample_build.settings.warehouse)
    dropped = next(r for r in findings if r["check_name"] == "course_too_short")
    table = detection_table(manifest, [r for r in findings if r is not dropped])
    short = next(r for r in table if r["kind"] == "course_too_short")
    assert short["recall"] < 1.0 and len(short["missed"]) == 1


@pytest.mark.slow
def test_a_world_without_defects_gives_no_error_finding(tmp_path):
    from orchestration.cli.runs import run_full_refresh
    from orchestration.generate.run import generate

    raw_dir = tmp_path / "raw"
    with open(os.devnull, "w") as quiet:
        manifest = generate("sample", 2015, raw_dir, defects="none", stream=quiet)
    assert manifest["defects"] == []

    settings = build_settings(tmp_path, raw_dir)
    result = run_full_refresh(settings)
    assert result.success

    findings = read_findings(settings.warehouse)
    errors = [
        (r["check_name"], r["source_file"], r["row_number"], r["detail"])
        for r in findings
        if r["severity"] == "error"
    ]
    assert errors == [], f"{len(errors)} error findings on a clean world, e.g. {errors[:5]}"

    # and every GX suite on the sources and reconciliations passes (findings.json alone notes
    # whether dq.findings is empty, which it need not be: warnings may remain)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        outcomes = con.execute(
            "select suite, outcome from dq.validation_runs where run_id = ? and suite != 'findings'",
            [result.run_id],
        ).fetchall()
    assert len(outcomes) == 11
    assert {suite for suite, outcome in outcomes if outcome != "pass"} == set()
