# One command to run the pipeline on the sample data, one to run the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
# DAGSTER_HOME, the paths and the port come from the shell or .env, read by orchestration/settings.py
# (the `instance --shell` lines below), never set here: one mechanism for every command.
INSTANCE_ENV = eval "$$($(BIN)/python -m orchestration.cli.instance --shell)"

.PHONY: install run test test-fast lint format ui sql backfill bench generate-sample clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# pip's own progress (a few minutes on a fresh machine): which package, how far the download is
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -r requirements.lock
	# the repo itself goes on the path with a .pth file: no build step, nothing to re-install on edits
	$(BIN)/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "training_repo.pth").write_text("$(CURDIR)")'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m orchestration.run $(ARGS)

# tests/test_ui.py renders the UI in Chromium: say so at once rather than fail 15 minutes in.
test: install
	@command -v chromium >/dev/null 2>&1 || { echo "make test needs Chromium for tests/test_ui.py: apt-get install -y chromium (as .ci/run does), or make test-fast" >&2; exit 1; }
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check orchestration tests bench
	$(BIN)/ruff format --check orchestration tests bench
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

format: install
	$(BIN)/ruff format orchestration tests bench
	$(BIN)/ruff check --fix orchestration tests bench

# The Dagster UI and daemon (schedules, sensors, queued runs and backfills) on 127.0.0.1 only.
# DAGSTER_HOME is prepared first: a fresh instance without dagster.yaml would send telemetry.
ui: install
	$(INSTANCE_ENV) && PATH="$(CURDIR)/$(BIN):$$PATH" \
	$(BIN)/dg dev --host 127.0.0.1 --port "$${DAGSTER_PORT:-3000}"

# Monthly attainment for a range of months, in one run on the project's instance (make ui shows it):
# make backfill FROM=2015-01 TO=2015-12
backfill: install
	@test -n "$(FROM)" && test -n "$(TO)" || { echo "usage: make backfill FROM=2015-01 TO=2015-12" >&2; exit 2; }
	$(INSTANCE_ENV) && $(BIN)/dg launch --job monthly_attainment --partition-range "$(FROM)...$(TO)"

# The analysts' snapshot, read-only, in the DuckDB command-line client.
sql: install
	@db="$$($(BIN)/python -c 'from orchestration.settings import Settings; print(Settings.from_env().analytics_db)')" && \
	if [ -f "$$db" ]; then exec $(BIN)/duckdb -readonly "$$db"; \
	else echo "no snapshot at $$db yet: run 'make run' first" >&2; exit 1; fi

# Province-scale benchmark (bench/, docs/scaling.md): the world is generated once and cached in
# BENCH_CACHE_DIR (~/.cache/gansu-training-bench); e.g. make bench BENCH_ARGS="--only dbt queries".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

generate-sample: install
	$(BIN)/python -m orchestration.generate --scale sample --seed 2015 --out raw

clean:
	rm -rf warehouse reports .dagster_home dbt_project/target dbt_project/logs
