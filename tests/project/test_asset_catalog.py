"""What the Dagster UI shows of each asset: an owner, a group (seeds under reference), descriptions
that render as written, report partitions for the months a run wrote."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from orchestration.definitions import build_definitions

# An HTML-tag-shaped placeholder outside a code span: markdown would swallow it.
_BARE_PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z_ ]*>")


@pytest.fixture(scope="module")
def graph():
    return build_definitions(None).resolve_asset_graph()


def test_every_asset_has_an_owner_and_a_group_and_seeds_are_reference(graph):
    nodes = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    assert [name for name, node in nodes.items() if not node.owners] == []
    assert [name for name, node in nodes.items() if node.group_name in (None, "default")] == []
    seeds = {name for name in nodes if name.startswith("reference/")}
    assert seeds and {nodes[name].group_name for name in seeds} == {"reference"}
    assert "reference" not in {nodes[n].group_name for n in nodes if not n.startswith("reference/")}


def test_descriptions_keep_placeholders_in_code_spans(graph):
    broken = {}
    for key in graph.get_all_asset_keys():
        text = graph.get(key).description or ""
        outside_code = re.sub(r"`[^`]*`", "", text)
        if _BARE_PLACEHOLDER.search(outside_code):
            broken[key.to_user_string()] = text
    assert broken == {}


@pytest.mark.slow
def test_report_partitions_are_materialized_for_the_months_written(sample_build):
    settings = sample_build.settings
    written = sorted(p.name for p in settings.reports_dir.iterdir() if p.is_dir() and any(p.glob("*.xlsx")))
    assert written, "the sample build wrote no report"
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for asset in ("city_quality_reports", "province_quality_summary"):
            materialized = instance.get_materialized_partitions(dg.AssetKey(["reports", asset]))
            assert sorted(materialized) == written, asset
