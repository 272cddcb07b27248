"""The dbt project as Dagster sees it, and the manifest its assets are read from.

dagster-dbt builds the asset graph from ``target/manifest.json``. A fresh clone has none, and
an edited model makes it stale, so ``ensure_manifest`` runs ``dbt parse`` (no warehouse
connection, about 5 s from scratch, under 4 s when dbt can parse partially) whenever the
manifest is missing or older than any file of the project. A file lock keeps the code
server, the daemon and parallel tests from parsing at the same time. By hand:
``python -c 'from orchestration.lib.transform.project import ensure_manifest; ensure_manifest()'``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from dagster_dbt import DbtProject
from filelock import FileLock

from orchestration.settings import DBT_PROJECT_DIR, OFFLINE_ENV

# Folders and files whose change changes the manifest (target/ and logs/ are dbt's output).
SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt of this virtual environment, whatever PATH says."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else "dbt"


def project_files(project_dir: Path) -> Iterator[Path]:
    for name in SOURCE_FILES:
        path = project_dir / name
        if path.exists():
            yield path
    for folder in SOURCE_FOLDERS:
        yield from (p for p in (project_dir / folder).rglob("*") if p.is_file())


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in project_files(project.project_dir))


def parse_project(project: DbtProject = dbt_project) -> None:
    """``dbt parse``: writes target/manifest.json without touching the warehouse."""
    env = {**os.environ, **OFFLINE_ENV}
    env.pop("DBT_TARGET_PATH", None)  # the manifest belongs in the project's own target/
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(project.project_dir),
            "--profiles-dir",
            str(project.profiles_dir),
        ],
        cwd=project.project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not project.manifest_path.exists():
        raise RuntimeError(f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """The manifest's path, after parsing the project if the manifest is missing or stale."""
    if manifest_is_stale(project):
        project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(project.manifest_path.with_suffix(".lock")), timeout=300):
            if manifest_is_stale(project):  # another process may have parsed while we waited
                parse_project(project)
    return project.manifest_path
