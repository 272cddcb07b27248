"""`dq/person_match_candidates`: who is probably behind a ledger row with a rounded, invalid or
missing ID (engine: orchestration/lib/quality/person_matching.py, method: docs/person_matching.md).

Proposals for the county to confirm by correcting its ledger; never merged into a count.
"""

import dagster as dg

from orchestration.resources import WarehouseResource

# The staging tables the engine reads: the ledger rows with their ID status, the registered members.
UPSTREAM = [
    dg.AssetKey(["staging", "int_training_enrolments_checked"]),
    dg.AssetKey(["staging", "int_household_members_resolved"]),
]


@dg.asset(
    key=["dq", "person_match_candidates"],
    group_name="quality",
    deps=UPSTREAM,
    kinds={"duckdb", "python"},
    owners=["team:data-quality"],
    # the monthly job runs a partition range as one run: every asset in it must allow that
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="疑似本人候选 For each ledger row whose ID number is rounded, invalid or missing, up to "
    "three registered members of its county who may be that person (Splink, Fellegi–Sunter), with "
    "match probability, rank and the fields that agreed. Pseudonymous keys only; never counted.",
)
def person_match_candidates(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from orchestration.lib.quality.person_matching import THRESHOLD, match  # keeps the load light

    with warehouse.get_connection() as con:
        result = match(con)
    return dg.MaterializeResult(
        metadata={
            "ledger_rows_to_match": result.ledger_rows,
            "registered_members_compared": result.members,
            "candidates": result.candidates,
            "proposed_at_threshold": result.proposed,
            "threshold": THRESHOLD,
            "seconds": round(result.seconds, 2),
        }
    )
