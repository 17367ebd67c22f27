# The two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/sh
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
# Two workers: this machine and CI have two cores. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
# What mypy checks.
MYPY_PATHS ?= dashboard numbers sandbox tests

.PHONY: run test venv install install-dev browser test-sqlite test-postgres test-postgres-all screenshots lint typecheck bench docker-recipe compose-recipe clean

# Creates .venv with a Python 3.12+ (recreated when it holds an older one).
venv:
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		python=$$(scripts/find-python.sh) || exit 1; \
		echo "Creating $(VENV) with $$python"; \
		rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi

# Installs a requirements file once per content (a stamp named by its checksum).
install: venv
	@scripts/pip-install.sh $(PY) requirements.txt

install-dev: venv
	@scripts/pip-install.sh $(PY) requirements-dev.txt

# Debian's chromium for the browser tests (Playwright's own download does not work everywhere).
browser:
	@scripts/ensure-chromium.sh

run: install
	@DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	@DEBUG=$${DEBUG:-true} $(PY) manage.py seed_sandbox
	@DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo_users
	@echo "Dashboard:   http://127.0.0.1:$(PORT)/"
	@echo "Sandbox API: http://127.0.0.1:$(PORT)/sandbox/v1 (key in README.md)"
	@echo "Worker:      background tasks and the periodic schedule (manage.py run_worker); Ctrl-C stops both"
	@DEBUG=$${DEBUG:-true} PORT=$(PORT) PYTHON=$(PY) exec scripts/run-all.sh

# The lint (ruff and mypy) alongside the whole suite on SQLite (the tests mostly wait on processes and
# sockets, so the lint's CPU fits beside them), then the PostgreSQL pass. Any failure fails `make test`;
# the lint's output is printed when it ends, whatever happened.
test: install-dev browser
	@lint_log=$$(mktemp); \
	$(MAKE) --no-print-directory lint > "$$lint_log" 2>&1 & lint_pid=$$!; \
	$(MAKE) --no-print-directory test-sqlite; sqlite=$$?; \
	wait $$lint_pid; lint=$$?; cat "$$lint_log"; rm -f "$$lint_log"; \
	[ $$lint = 0 ] || echo "!! The lint failed (above)." >&2; \
	[ $$sqlite = 0 ] || echo "!! The SQLite pass failed." >&2; \
	[ $$lint = 0 ] && [ $$sqlite = 0 ] || exit 1
	@$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== Test suite on SQLite"
	@env -u DATABASE_URL $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Only the tests where the engine matters (tests/conftest.py POSTGRES_TESTS, @pytest.mark.postgres and
# @pytest.mark.database); `make test-postgres-all` runs every database test on PostgreSQL.
test-postgres:
	@if scripts/postgres-ready.sh "$(POSTGRES_URL)"; then \
		echo "== Test suite on PostgreSQL ($(POSTGRES_URL)): the tests where the engine matters"; \
		DATABASE_URL="$(POSTGRES_URL)" $(PY) -m pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "!! PostgreSQL is not reachable at $(POSTGRES_URL): CI must prove both backends." >&2; exit 1; \
	else \
		echo "!! SKIPPED the PostgreSQL pass: nothing answers at $(POSTGRES_URL) (set POSTGRES_URL)." >&2; \
	fi

test-postgres-all:
	@POSTGRES_ALL=1 $(MAKE) --no-print-directory test-postgres

# The browser tests again, writing their screenshots into docs/screenshots/ (a test run writes them
# to a temporary folder, so that it leaves the tracked pictures alone).
screenshots: install-dev browser
	@SCREENSHOT_DIR="$(CURDIR)/docs/screenshots" env -u DATABASE_URL $(PY) -m pytest -n $(PYTEST_WORKERS) -m browser $(PYTEST_ARGS)

# ruff's lint and formatting check, then mypy: any finding fails `make lint` and so `make test`.
lint: install-dev
	@echo "== Lint: ruff check, ruff format --check, mypy"
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(MAKE) --no-print-directory typecheck

typecheck: install-dev
	@$(PY) -m mypy $(MYPY_PATHS)

bench: install-dev
	@$(PY) bench/pages.py

docker-recipe: install
	@scripts/docker-recipe.sh

compose-recipe: install
	@PYTHON=$(PY) scripts/compose-recipe.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3
