# One command to run the pipeline on the sample data, one to run the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test test-fast lint format ui sql bench generate-sample clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	# the repo itself goes on the path with a .pth file: no build step, nothing to re-install on edits
	$(BIN)/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "training_repo.pth").write_text("$(CURDIR)")'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m orchestration.run

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check orchestration tests bench
	$(BIN)/ruff format --check orchestration tests bench

format: install
	$(BIN)/ruff format orchestration tests bench
	$(BIN)/ruff check --fix orchestration tests bench

generate-sample: install
	$(BIN)/python -m orchestration.generate --scale sample --seed 2015 --out raw

clean:
	rm -rf warehouse reports .dagster_home dbt_project/target dbt_project/logs
