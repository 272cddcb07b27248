"""The real Dagster UI, as `make ui` starts it: its GraphQL API, the page in headless Chromium,
and the offline instance settings it runs with.

The UI runs on the sample build's instance and warehouse (the session's ``sample_build``), so it
shows what a data engineer sees after `make run`: the runs, the materializations with their
column types, row counts and column lineage, and the checks' results.

The lineage assertions follow the layers that exist: each group present must be fed by the
layer before it, so the checks tighten by themselves as quality and report assets arrive.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.cli.instance import prepare_dagster_home
from orchestration.resources import REPO_ROOT
from orchestration.sources import SOURCES

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"

# Which groups may feed each group (the flow in docs/architecture.md). A group present in the code
# location must have at least one asset fed from one of these.
FED_BY = {
    "reference": set(),  # the seeds: fed by nothing
    "staging": {"ingest", "staging", "reference"},
    "marts": {"staging"},
    "quality": {"staging", "marts"},
    "reports": {"marts", "quality"},
    "publish": {"marts", "quality"},
}


@dataclass
class DagsterUI:
    url: str
    log: Path

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:
    # A harness may start us with SIGINT/SIGTERM ignored; dg dev would inherit that and not stop.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


LOCATION_STATUS = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message stack } }
} } } }
"""


CHROMIUM_MISSING = (
    f"{CHROMIUM} is missing: tests/test_ui.py renders the Dagster UI in Chromium. Install Debian's "
    "chromium package (apt-get install -y chromium, as .ci/run does), or run make test-fast."
)


@pytest.fixture(scope="module")
def chromium_installed() -> None:
    """Said first, before minutes spent starting the UI: the browser this module needs is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory, chromium_installed, sample_build) -> Iterator[DagsterUI]:
    """`dg dev` (webserver + daemon) on a free port of 127.0.0.1, on the sample build's instance
    and warehouse (its schedule and sensor are stopped: nothing runs on them)."""
    root = tmp_path_factory.mktemp("ui")
    settings = sample_build.settings
    home = prepare_dagster_home(settings.dagster_home)
    port = free_port()
    log = root / "dg_dev.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TRAINING_RAW_DIR": str(settings.raw_dir),
        "TRAINING_WAREHOUSE": str(settings.warehouse),
        "TRAINING_ANALYTICS_DB": str(settings.analytics_db),
        "TRAINING_REPORTS_DIR": str(settings.reports_dir),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [str(BIN / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_signals,
        )  # fmt: skip
    ui = DagsterUI(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, "dg dev exited:\n" + log.read_text()[-4000:]
            assert time.monotonic() < deadline, (
                "dg dev did not load the code location:\n" + log.read_text()[-4000:]
            )
            try:
                entries = ui.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    errors = [e["locationOrLoadError"] for e in entries]
                    assert all(e["__typename"] == "RepositoryLocation" for e in errors), "\n".join(
                        e.get("message", "") for e in errors
                    )
                    break
            except OSError:
                pass
            time.sleep(1)
        yield ui
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


ASSET_GRAPH = """
{
  assetNodes {
    assetKey { path }
    groupName
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks {
      name
      blocking
      executionForLatestMaterialization { evaluation { severity success } }
    } } }
    assetMaterializations(limit: 1) {
      metadataEntries {
        label
        ... on TableSchemaMetadataEntry { schema { columns { name type } } }
        ... on TableColumnLineageMetadataEntry {
          lineage { columnName columnDeps { assetKey { path } columnName } }
        }
        ... on IntMetadataEntry { intValue }
      }
    }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        jobs { name }
        schedules { name cronSchedule executionTimezone }
        sensors { name }
      }
    }
  }
}
"""


@dataclass
class Graph:
    group: dict[str, str]  # asset -> group
    parents: dict[str, set[str]]
    checks: dict[str, list[str]]

    def groups(self) -> set[str]:
        return set(self.group.values())

    def in_group(self, group: str) -> set[str]:
        return {a for a, g in self.group.items() if g == group}

    def ancestors(self, asset: str) -> set[str]:
        seen, todo = set(), [asset]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen


@pytest.fixture(scope="module")
def ui_data(dagster_ui) -> dict:
    return dagster_ui.graphql(ASSET_GRAPH)


@pytest.fixture(scope="module")
def graph(ui_data) -> Graph:
    nodes = ui_data["assetNodes"]
    key = "/".join
    return Graph(
        group={key(n["assetKey"]["path"]): n["groupName"] for n in nodes},
        parents={key(n["assetKey"]["path"]): {key(d["path"]) for d in n["dependencyKeys"]} for n in nodes},
        checks={
            key(n["assetKey"]["path"]): [c["name"] for c in n["assetChecksOrError"].get("checks", [])]
            for n in nodes
        },
    )


@pytest.mark.slow
def test_graphql_asset_graph_holds_the_chain_from_every_raw_source(graph):
    assert {"ingest", "staging", "marts", "publish"} <= graph.groups()
    raw_sources = {f"raw/{name}" for name in SOURCES}
    assert graph.in_group("ingest") == raw_sources

    for group in sorted(graph.groups() - {"ingest"}):
        feeders = FED_BY.get(group)
        assert feeders is not None, f"group {group!r} is not in the flow: add it to FED_BY"
        if not feeders:
            assert not [a for a in graph.in_group(group) if graph.parents[a]], f"{group} assets have upstream"
            continue
        fed = {a for a in graph.in_group(group) if {graph.group.get(p) for p in graph.parents[a]} & feeders}
        assert fed, f"no asset of {group!r} is fed by {sorted(feeders)}"

    # Every report and the snapshot is built from something (a mart may not be: dim_month is a
    # calendar generated from nothing).
    for group in ("reports", "publish"):
        orphans = [a for a in graph.in_group(group) if not graph.parents[a]]
        assert orphans == [], f"{group} assets without upstream: {orphans}"

    # Every raw source reaches the analysts' snapshot, and every city report when there are any.
    snapshot_upstream = graph.ancestors("publish/analytics_snapshot")
    assert raw_sources <= snapshot_upstream, sorted(raw_sources - snapshot_upstream)
    assert graph.in_group("marts") <= snapshot_upstream
    reports = graph.in_group("reports")
    if reports:
        reaching = set().union(*(graph.ancestors(r) for r in reports))
        assert raw_sources <= reaching, f"raw sources that reach no report: {sorted(raw_sources - reaching)}"


@pytest.mark.slow
def test_graphql_every_asset_has_an_owner_and_a_group_and_seeds_are_reference(ui_data):
    nodes = {"/".join(n["assetKey"]["path"]): n for n in ui_data["assetNodes"]}
    assert [a for a, n in nodes.items() if not n["owners"]] == []
    assert [a for a, n in nodes.items() if not n["groupName"] or n["groupName"] == "default"] == []
    seeds = {a for a in nodes if a.startswith("reference/")}
    assert seeds and {nodes[a]["groupName"] for a in seeds} == {"reference"}


@pytest.mark.slow
def test_graphql_lists_the_checks_jobs_schedule_and_sensor(graph, ui_data):
    checked_marts = [a for a in graph.in_group("marts") if graph.checks[a]]
    assert checked_marts, "no asset check on any mart (dbt tests should appear as checks)"
    if "quality" in graph.groups() or "reports" in graph.groups():
        assert any(graph.checks[a] for a in graph.group), "quality checks expected"

    (repository,) = ui_data["repositoriesOrError"]["nodes"]
    assert {"full_refresh", "monthly_attainment", "city_quality_reports"} <= {
        j["name"] for j in repository["jobs"]
    }
    assert {
        "name": "monthly_attainment_schedule",
        "cronSchedule": "0 2 1 * *",
        "executionTimezone": "Asia/Shanghai",
    } in repository["schedules"]
    assert {"name": "raw_folder_sensor"} in repository["sensors"]


def _dbt_nodes() -> dict[str, dict]:
    """Asset key (user string) -> manifest node of every dbt model and seed."""
    from orchestration.defs.transform.assets import translator
    from orchestration.lib.transform.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    return {
        translator.get_asset_key(node).to_user_string(): node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }


def _latest_metadata(node: dict) -> dict[str, dict]:
    (materialization,) = node["assetMaterializations"] or [{"metadataEntries": []}]
    return {entry["label"]: entry for entry in materialization["metadataEntries"]}


@pytest.mark.slow
def test_graphql_dbt_assets_show_column_types_row_counts_and_column_lineage(ui_data, sample_build):
    """Every dbt model and seed built: each column with its type; tables and seeds with their row
    count; every model with the lineage of each column (issue 17, "Dagster UI complete")."""
    nodes = {"/".join(n["assetKey"]["path"]): n for n in ui_data["assetNodes"]}
    with duckdb.connect(str(sample_build.settings.warehouse), read_only=True) as con:
        warehouse_columns = {}
        for schema, table, column, data_type in con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            warehouse_columns.setdefault(f"{schema}/{table}", []).append({"name": column, "type": data_type})
        dbt_nodes = {
            key: node for key, node in _dbt_nodes().items() if node["config"]["materialized"] != "ephemeral"
        }
        counts = {
            key: con.execute(f'select count(*) from "{node["schema"]}"."{node["alias"]}"').fetchone()[0]
            for key, node in dbt_nodes.items()
            if node["config"]["materialized"] != "view"
        }
    assert len(dbt_nodes) > 80
    for key, node in dbt_nodes.items():
        metadata = _latest_metadata(nodes[key])
        relation = f"{node['schema']}/{node['alias']}"
        assert metadata["dagster/column_schema"]["schema"]["columns"] == warehouse_columns[relation], key
        if key in counts:
            assert metadata["dagster/row_count"]["intValue"] == counts[key], key
        else:  # a view: counting would run its query
            assert "dagster/row_count" not in metadata, key
        if node["resource_type"] == "model":
            lineage = {
                e["columnName"]: e["columnDeps"] for e in metadata["dagster/column_lineage"]["lineage"]
            }
            assert set(lineage) == {c["name"] for c in warehouse_columns[relation]}, key
            for deps in lineage.values():
                assert all("/".join(d["assetKey"]["path"]) in nodes for d in deps), key

    def deps(asset: str, column: str) -> set[tuple[str, str]]:
        metadata = _latest_metadata(nodes[asset])
        (entry,) = [e for e in metadata["dagster/column_lineage"]["lineage"] if e["columnName"] == column]
        return {("/".join(d["assetKey"]["path"]), d["columnName"]) for d in entry["columnDeps"]}

    assert deps("marts/dim_programme", "programme_name_zh") == {("reference/programmes", "name_zh")}
    # through an ephemeral model (dq_ledger_rows) to the table it reads
    assert ("staging/int_training_enrolments_deduplicated", "source_file") in deps(
        "dq/course_too_long", "source_file"
    )
    # from a raw table (the ingest asset) into staging
    assert ("raw/training_records", "id_number") in deps("staging/stg_training_ledgers__records", "id_number")


@pytest.mark.slow
def test_graphql_checks_are_blocking_exactly_when_they_can_fail_with_error(ui_data):
    """GX: ``gx_<suite>_critical`` blocks, ``gx_<suite>`` (warnings) does not; ``ingest_clean``
    does not; a dbt test blocks when its severity is error. And what the sample run evaluated
    agrees: whatever failed with ERROR is blocking, whatever is not blocking failed with WARN."""
    from orchestration.lib.transform.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    dbt_tests = {
        n["name"]: n["config"]["severity"].lower()
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test"
    }
    checks = [
        ("/".join(n["assetKey"]["path"]), check)
        for n in ui_data["assetNodes"]
        for check in n["assetChecksOrError"].get("checks", [])
    ]
    gx = [(a, c) for a, c in checks if c["name"].startswith("gx_")]
    assert len(gx) == 24 and {c["name"] for _, c in gx if c["blocking"]} == {
        c["name"] for _, c in gx if c["name"].endswith("_critical")
    }
    for asset, check in checks:
        name = check["name"]
        if name.startswith("gx_"):
            continue
        expected = False if name == "ingest_clean" else dbt_tests[name] == "error"
        assert check["blocking"] is expected, (asset, name)
    evaluated = [
        (asset, check["name"], check["blocking"], execution["evaluation"])
        for asset, check in checks
        if (execution := check["executionForLatestMaterialization"]) and execution["evaluation"]
    ]
    assert len(evaluated) > 200
    failed = [(a, name, blocking, e["severity"]) for a, name, blocking, e in evaluated if not e["success"]]
    assert failed, "the sample has planted defects: some checks fail"
    assert [f for f in failed if f[3] == "ERROR" and not f[2]] == []
    assert [f for f in failed if not f[2] and f[3] != "WARN"] == []


# --- the page in a browser ---------------------------------------------------------------------


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.fail(CHROMIUM_MISSING)
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            # Nothing leaves the machine: every non-local request goes to a closed port.
            "--proxy-server=http://127.0.0.1:9", f"--user-data-dir={profile}",
            "--window-size=1600,1000", "--virtual-time-budget=30000", *args,
        ],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def is_png(path: Path, size: tuple[int, int]) -> bool:
    header = path.read_bytes()[:24]
    return header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == size


@pytest.mark.slow
def test_ui_renders_the_asset_graph_in_headless_chromium(dagster_ui, graph, ui_data, tmp_path):
    location = ui_data["repositoriesOrError"]["nodes"][0]["location"]["name"]
    profile = tmp_path / "profile"

    # The global lineage: one box per group, joined by edges.
    text = visible_text(chromium("--dump-dom", f"{dagster_ui.url}/asset-groups", profile=profile).stdout)
    assert "Global asset lineage" in text, text[:2000]
    missing = [group for group in graph.groups() if group not in text]
    assert missing == [], f"groups not drawn: {missing}\n{text[:2000]}"

    # The publish group: the snapshot and the tables it is copied from, by name.
    group_page = f"{dagster_ui.url}/locations/__repository__@{location}/asset-groups/publish/lineage"
    text = visible_text(chromium("--dump-dom", group_page, profile=profile).stdout)
    assert "analytics_snapshot" in text, text[:2000]
    upstream_names = {p.split("/")[-1] for p in graph.parents["publish/analytics_snapshot"]}
    drawn = {name for name in upstream_names if name in text}
    assert len(drawn) >= min(3, len(upstream_names)), f"upstream of the snapshot not drawn: {text[:2000]}"

    # Screenshots, kept beside the dg dev log for a person to look at.
    for name, url in [
        ("asset_graph.png", f"{dagster_ui.url}/asset-groups"),
        ("publish_group.png", group_page),
    ]:
        screenshot = tmp_path / name
        chromium(f"--screenshot={screenshot}", url, profile=profile)
        assert is_png(screenshot, (1600, 1000)), name
        # A blank page compresses to a few kilobytes; a drawn graph does not.
        assert screenshot.stat().st_size > 30_000, name
        shutil.copy(screenshot, dagster_ui.log.parent / name)


# --- offline ---------------------------------------------------------------------------------


def test_dagster_home_is_prepared_offline_and_one_run_at_a_time(tmp_path):
    home = prepare_dagster_home(tmp_path / "home")
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["nux"] == {"enabled": False}
    assert config["concurrency"] == {"runs": {"max_concurrent_runs": 1}}

    # An older file of ours is brought up to date; one written by hand is left alone.
    (home / "dagster.yaml").write_text(
        "# Written by orchestration/instance.py. Old.\ntelemetry:\n  enabled: false\n"
    )
    prepare_dagster_home(home)
    assert "max_concurrent_runs: 1" in (home / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_dagster_home(home)
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_dbt_resource_never_runs_dbt_version(tmp_path):
    """`dbt --version` asks pypi.org for the newest release; the offline resource never runs it."""
    from dagster_dbt import DbtCliResource
    from dbt.version import __version__ as dbt_core_version

    from orchestration.resources import OfflineDbtCliResource

    marker = tmp_path / "dbt_was_run"
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(f"#!/bin/sh\ntouch {marker}\necho 'Core: installed: 1.11.16'\n")
    fake_dbt.chmod(0o755)
    project_dir = REPO_ROOT / "dbt_project"

    offline = OfflineDbtCliResource(project_dir=str(project_dir), dbt_executable=str(fake_dbt))
    assert str(offline._cli_version) == dbt_core_version
    assert not marker.exists()

    # The stock resource does run it: the test above can fail.
    stock = DbtCliResource(project_dir=str(project_dir), dbt_executable=str(fake_dbt))
    assert str(stock._cli_version) == "1.11.16"
    assert marker.exists()
