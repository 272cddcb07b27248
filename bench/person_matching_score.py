"""Person matching scored against the generator's truth (docs/person_matching.md, "How well it works").

The manifest records, for every rounded or invalid ID the generator planted, the person behind it
(``true_person``: the right ID, or null for someone on no household sheet). A planted ledger case
is right when the table's proposed candidate (``is_proposed``: rank 1 at or above the threshold)
is its true person, and when it has no true person, when nothing is proposed. Used by
tests/quality/test_person_matching.py on the sample and, on a built world of any scale::

    python -m bench.person_matching_score --raw /tmp/prov/raw \\
        --warehouse /tmp/prov/warehouse/training.duckdb --dagster-home /tmp/prov/dagster_home

which prints the figures and, with ``--dagster-home``, the person-matching step's time against
the dbt step's in the last rebuild run of that Dagster instance (its event log). ``--rematch``
first rebuilds dq.person_match_candidates alone on that warehouse (the engine, in this process,
timed): after a change to the engine, without building the world again.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

BROKEN = ("rounded_id_number", "invalid_id_number")
# an old 15-digit ID is an invalid_id_number finding but identifies its person: it is not matched
OLD_ID = re.compile(r"\d{15}")
DBT_STEP = "gansu_training_dbt"
MATCHING_STEP = "dq__person_match_candidates"


def planted_ledger_cases(manifest: dict) -> list[dict]:
    """The manifest's broken-ID ledger rows that person matching is for, with their truth."""
    cases = [
        d
        for d in manifest["defects"]
        if d["kind"] in BROKEN
        and d["source"] == "training_records"
        and not OLD_ID.fullmatch(d["entity"]["id_number"])
    ]
    missing = [d for d in cases if "true_person" not in d]
    if missing:
        raise ValueError(f"the manifest lacks the truth of {len(missing)} broken IDs (generator < 1.0.0?)")
    return cases


@dataclass
class Score:
    """Top candidates of the planted cases against their truth, at the table's threshold."""

    right: int = 0  # the true person proposed
    wrong: int = 0  # someone else proposed, the true person being registered
    missed: int = 0  # a true person, nothing proposed
    stranger_clear: int = 0  # nobody registered, nothing proposed
    stranger_proposed: int = 0  # nobody registered, yet someone proposed
    top_right: int = 0  # rank 1 is the true person, proposed or not
    stranger_listed: int = 0  # nobody registered, some candidate listed for review (below threshold)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> with/without a true person
    failures: list[str] = field(default_factory=list)

    @property
    def with_person(self) -> int:
        return self.right + self.wrong + self.missed

    @property
    def strangers(self) -> int:
        return self.stranger_clear + self.stranger_proposed

    @property
    def proposed(self) -> int:
        return self.right + self.wrong + self.stranger_proposed

    @property
    def precision(self) -> float | None:
        """Of the planted cases given a proposal, the share whose proposal is the true person."""
        return self.right / self.proposed if self.proposed else None

    @property
    def recall(self) -> float | None:
        """Of the planted cases with a registered true person, the share proposed that person."""
        return self.right / self.with_person if self.with_person else None


def score(con: duckdb.DuckDBPyConnection, manifest: dict) -> Score:
    """Score dq.person_match_candidates on ``con`` against the manifest of the raw world it was built from."""
    cases = planted_ledger_cases(manifest)
    top = {
        (f, s, n): (key, proposed, p)
        for f, s, n, key, proposed, p in con.execute(
            "select source_file, sheet, row_number, trainee_key, is_proposed, match_probability "
            "from dq.person_match_candidates where candidate_rank = 1"
        ).fetchall()
    }
    true_ids = sorted({c["true_person"]["id_number"] for c in cases if c["true_person"]})
    key_of = dict(
        con.execute(
            "select id_number_18, trainee_key from staging.int_household_members_resolved "
            "where is_latest_registration and id_number_18 in (select unnest(?))",
            [true_ids],
        ).fetchall()
    )
    result = Score()
    for case in cases:
        where = (case["source_file"], case["sheet"], case["row_number"])
        key, proposed, probability = top.get(where, (None, False, None))
        proposed_key = key if proposed else None
        truth = case["true_person"]
        counts = result.by_kind.setdefault(case["kind"], {"with_person": 0, "without": 0})
        if truth is None:
            counts["without"] += 1
            if proposed_key is None:
                result.stranger_clear += 1
                result.stranger_listed += key is not None
            else:
                result.stranger_proposed += 1
                result.failures.append(
                    f"{where} ({case['detail']}): nobody registered, yet {probability} proposed"
                )
            continue
        counts["with_person"] += 1
        expected = key_of.get(truth["id_number"])
        if expected is None:
            raise ValueError(f"{where}: true person {truth['id_number'][:6]}… is not a registered member")
        result.top_right += key == expected
        if proposed_key == expected:
            result.right += 1
        elif proposed_key is None:
            result.missed += 1
            result.failures.append(
                f"{where} ({case['detail']}): true person not proposed (top {probability})"
            )
        else:
            result.wrong += 1
            result.failures.append(f"{where} ({case['detail']}): someone else proposed at {probability}")
    return result


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds of each step of the last rebuild run of the instance at ``dagster_home``."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = [
            run
            for run in instance.get_runs()  # newest first
            if run.tags.get("training/step", "").startswith("rebuild")
        ]
        if not runs:
            raise ValueError(f"{dagster_home}: no rebuild run")
        return {
            record.dagster_event.step_key: record.dagster_event.event_specific_data.duration_ms / 1000
            for record in instance.all_logs(runs[0].run_id, of_type=DagsterEventType.STEP_SUCCESS)
        }


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.person_matching_score", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--raw", type=Path, required=True, help="the raw folder whose manifest.json is the truth"
    )
    parser.add_argument("--warehouse", type=Path, required=True, help="the warehouse built from it")
    parser.add_argument(
        "--dagster-home", type=Path, help="the build's DAGSTER_HOME: step times of its last rebuild"
    )
    parser.add_argument(
        "--rematch", action="store_true", help="rebuild dq.person_match_candidates first (timed)"
    )
    args = parser.parse_args(argv)
    manifest = json.loads((args.raw / "manifest.json").read_text(encoding="utf-8"))
    if args.rematch:
        from orchestration.lib.quality.person_matching import match

        with duckdb.connect(str(args.warehouse)) as con:
            result = match(con)
        print(
            f"rematched in {result.seconds:.2f} s (the first import of pandas and Splink included): "
            f"{result.ledger_rows} ledger rows, {result.candidates} candidates"
        )
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        result = score(con, manifest)
        (members,) = con.execute(
            "select count(*) from staging.int_household_members_resolved where is_latest_registration"
        ).fetchone()
        (broken,) = con.execute(
            "select count(*) from staging.int_training_enrolments_checked where not is_valid_id"
        ).fetchone()
        (listed, proposed) = con.execute(
            "select count(distinct (source_file, sheet, row_number)), count(*) filter (is_proposed) "
            "from dq.person_match_candidates"
        ).fetchone()
    print(f"world: {manifest['scale']} (seed {manifest['seed']}), {members:,} registered members")
    print(
        f"ledger rows with a rounded, invalid or missing ID: {broken:,}; "
        f"with candidates {listed:,}, proposed {proposed:,}"
    )
    kinds = ", ".join(
        f"{kind}: {c['with_person']} with a true person, {c['without']} without"
        for kind, c in sorted(result.by_kind.items())
    )
    print(f"planted cases: {result.with_person + result.strangers} ({kinds})")
    print(
        f"with a true person: {result.right} proposed right, {result.wrong} wrong, {result.missed} missed "
        f"(rank 1 right: {result.top_right}); without: {result.stranger_clear} none proposed "
        f"({result.stranger_listed} listed below the threshold), {result.stranger_proposed} proposed"
    )
    print(f"precision {_share(result.precision)}, recall {_share(result.recall)}")
    for failure in result.failures:
        print(f"  {failure}")
    if args.dagster_home:
        steps = step_seconds(args.dagster_home)
        dbt, matching = steps[DBT_STEP], steps[MATCHING_STEP]
        print(
            f"time in the last rebuild run: dbt step {dbt:.1f} s, person matching {matching:.2f} s "
            f"({matching / dbt:.1%} of dbt)"
        )


if __name__ == "__main__":
    main()
