"""Offline: `make run` on the sample in a network namespace with nothing but loopback.

The run is `python -m orchestration.run` inside `unshare -n` (root, or CAP_SYS_ADMIN), after a
probe proves there is no route out. Every Python process of the run (Dagster, dbt, the parsing
workers, GX) also carries a `sitecustomize` that writes down any attempt to resolve a host name
or open a connection beyond loopback: a library that would swallow its failure to phone home
still shows up. The run must pass, attempt nothing, and build what the in-process session build
built.

Analysts query the snapshot in a loop from two other processes while the build runs (issue 8,
item 4): the snapshot in place holds an older build, and every answer must be that build's or
the new one's, never a lock error or anything else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import SAMPLE_RAW_DIR
from tests.support.reliability_helpers import (
    SnapshotReaders,
    assert_readers_saw_old_then_new,
    checksums,
    differing,
    fingerprint,
    publish_older_build,
    run_env,
    run_pipeline,
)

# Writes every non-loopback name lookup and connection of the process to $RELIABILITY_NETWORK_LOG.
SITECUSTOMIZE = """
import os, socket

_LOG = os.environ.get("RELIABILITY_NETWORK_LOG")
_LOCAL = {None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0", socket.gethostname()}


def _note(what):
    with open(_LOG, "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {what}\\n")


def _outside(address):
    return isinstance(address, tuple) and address and address[0] not in _LOCAL


if _LOG:
    # proof that this process carries the hook
    open(f"{_LOG}.{os.getpid()}.hooked", "w").close()
    _getaddrinfo, _connect, _connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if (host.decode() if isinstance(host, bytes) else host) not in _LOCAL:
            _note(f"getaddrinfo {host!r}")
        return _getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if _outside(address):
            _note(f"connect {address!r}")
        return _connect(self, address)

    def connect_ex(self, address):
        if _outside(address):
            _note(f"connect_ex {address!r}")
        return _connect_ex(self, address)

    socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = getaddrinfo, connect, connect_ex
"""

# Run in the namespace before the pipeline, without the hook (-I): there is no way out.
NO_ROUTE_PROBE = """
import socket, sys
for what, attempt in (("route", lambda: socket.create_connection(("1.1.1.1", 443), timeout=5)),
                      ("dns", lambda: socket.getaddrinfo("pypi.org", 443))):
    try:
        attempt()
    except OSError as error:
        print(f"offline probe: no {what} ({error})")
    else:
        sys.exit(f"offline probe: the namespace reaches the network ({what})")
"""


def offline_command() -> list[str]:
    if shutil.which("unshare") is None:
        pytest.fail("`unshare` (util-linux) is needed to cut the network for this test")
    link_up = "ip link set lo up && " if shutil.which("ip") else ""
    script = f'{link_up}"$0" -I -c "$1" && exec "$0" -m orchestration.run'
    return ["unshare", "--net", "sh", "-c", script, sys.executable, NO_ROUTE_PROBE]


@pytest.mark.slow
def test_make_run_passes_offline_and_tries_no_connection_while_analysts_read(sample_build, tmp_path):
    check = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    assert check.returncode == 0, f"cannot create a network namespace here (needs root): {check.stderr}"

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    attempts = tmp_path / "network-attempts.log"
    pythonpath = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    root = tmp_path / "offline"
    env = run_env(root, SAMPLE_RAW_DIR, PYTHONPATH=pythonpath, RELIABILITY_NETWORK_LOG=str(attempts))

    snapshot = Path(env["TRAINING_ANALYTICS_DB"])
    publish_older_build(sample_build.settings.warehouse, snapshot, tmp_path / "older")
    old, new = fingerprint(snapshot), fingerprint(sample_build.settings.analytics_db)
    assert old != new

    with SnapshotReaders(snapshot, tmp_path / "readers") as readers:
        outcome = run_pipeline(env, command=offline_command(), timeout=900)
        results = readers.stop()

    assert "offline probe: no route" in outcome.output and "offline probe: no dns" in outcome.output
    assert outcome.returncode == 0, outcome.output[-5000:]
    assert "update succeeded" in outcome.output and "plan: full" in outcome.output
    assert not attempts.exists(), attempts.read_text()[:3000]
    hooked = list(tmp_path.glob("network-attempts.log.*.hooked"))
    assert len(hooked) >= 3, hooked  # the run, dbt and the parsing workers were all watched

    # the same build as the in-process session build
    warehouse = Path(env["TRAINING_WAREHOUSE"])
    assert differing(checksums(sample_build.settings.warehouse), checksums(warehouse)) == {}
    assert differing(checksums(sample_build.settings.analytics_db), checksums(snapshot)) == {}
    reports = sorted(p.relative_to(root / "reports") for p in (root / "reports").rglob("*.xlsx"))
    assert reports == sorted(
        p.relative_to(sample_build.settings.reports_dir)
        for p in sample_build.settings.reports_dir.rglob("*.xlsx")
    )

    # the Dagster instance the run created is told not to send telemetry, and wrote none
    home = Path(env["DAGSTER_HOME"])
    config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))
    assert config["telemetry"]["enabled"] is False
    assert not (home / "logs").exists(), sorted((home / "logs").rglob("*"))

    # analysts querying all along: the old build, then the new one, never an error
    assert_readers_saw_old_then_new(results, old, new)
