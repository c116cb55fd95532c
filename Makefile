# Omni's commands. Two are all a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test test-fast mutation install browser lint format lock benchmark benchmark-segments benchmark-campaigns benchmark-attribution clean

# Creates the environment, migrates, loads the demo data, then runs web + worker + beat.
# DEBUG=1 gives the demo's defaults (fixed key, demo payments, SQLite); never in production.
run: export DEBUG = 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	PATH="$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.dev start

# The lint, then the whole suite on a throwaway PostgreSQL server (or on $$DATABASE_URL if set).
test: lint browser
	$(BIN)/pytest

# The inner loop: the suite without its slow lanes (races that commit, a real Celery worker,
# the browser), which tests/conftest.py marks. `make test` runs them all.
test-fast: install
	$(BIN)/pytest -m "not concurrency and not worker and not browser"

# Mutation testing of services modules (not part of `make test`): mutmut changes the code one
# small way at a time and reports the changes no test catches ("survived").
# PATHS are files or packages under [tool.mutmut] only_mutate in pyproject.toml; TESTS the test
# folders that may kill a mutant (all by default; the app's own folder is much faster):
#   make mutation PATHS="loyalty/services.py" TESTS=tests/loyalty
# `$(BIN)/mutmut results` lists the survivors, `$(BIN)/mutmut show NAME` shows one.
PATHS ?= customers/notifications.py
TESTS ?= tests
mutation: install
	rm -rf mutants
	set -f; names=$$(for path in $(PATHS); do echo "$${path%.py}" | sed 's|/*$$||; s|/|.|g; s|$$|.*|'; done); \
	MUTATION_TESTS="$(TESTS)" $(BIN)/python -m omni.core.testing.throwaway \
		$(BIN)/mutmut run --max-children 1 $$names

install: $(INSTALLED)

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable ".[dev]"
	touch $(INSTALLED)

# The clerk dashboard is tested in a real headless Chromium: installs Debian's if it is missing.
browser:
	bash scripts/ensure-chromium.sh

# Ruff; the layers of DESIGN.md as import contracts (pyproject: tool.importlinter); mypy over
# every module (strict on the kernel, services and selectors).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/lint-imports
	DEBUG=1 $(BIN)/mypy

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency after changing pyproject.toml.
lock:
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache mutants

# Figures at scale on a throwaway PostgreSQL (see inventory/management/commands/benchmark_inventory.py).
benchmark: export DEBUG = 1
benchmark: install
	$(BIN)/python -m omni.core.testing.throwaway sh -c '$(BIN)/python manage.py migrate -v0 && $(BIN)/python manage.py benchmark_inventory $(ARGS)'

# Segment refresh times (see omni/management/commands/benchmark_segments.py), e.g.
#   make benchmark-segments ARGS="--customers 1000000 --touchpoints 10000000"
benchmark-segments: export DEBUG = 1
benchmark-segments: install
	$(BIN)/python -m omni.core.testing.throwaway sh -c '$(BIN)/python manage.py migrate -v0 && $(BIN)/python manage.py benchmark_segments $(ARGS)'

# Campaign send speed through a real worker (see
# campaigns/management/commands/benchmark_campaign_send.py), e.g.
#   make benchmark-campaigns ARGS="--customers 100000"
benchmark-campaigns: export DEBUG = 1
benchmark-campaigns: install
	$(BIN)/python -m omni.core.testing.throwaway sh -c '$(BIN)/python manage.py migrate -v0 && $(BIN)/python manage.py benchmark_campaign_send $(ARGS)'

# Attribution times (see omni/management/commands/benchmark_attribution.py), e.g.
#   make benchmark-attribution ARGS="--customers 1000000 --touchpoints 10000000"
benchmark-attribution: export DEBUG = 1
benchmark-attribution: install
	$(BIN)/python -m omni.core.testing.throwaway sh -c '$(BIN)/python manage.py migrate -v0 && $(BIN)/python manage.py benchmark_attribution $(ARGS)'
