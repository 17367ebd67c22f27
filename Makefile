# The two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/sh
PORT ?= 8000
VENV := .venv
# Python caches the project's compiled modules even where the environment says not to: the suite
# starts a hundred-odd Python processes (workers, servers, recipes), and each would compile again.
unexport PYTHONDONTWRITEBYTECODE
PY := $(VENV)/bin/python
# Two workers: this machine and CI have two cores. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
# The PostgreSQL pass's workers, under `make test` too: its standalone tests mostly wait (a killed
# server's write living out its 46 s, recipes starting servers), and with one worker each wait held
# the pass up (244 s against the SQLite pass's 192 s); with two they overlap the other's work.
POSTGRES_WORKERS ?= $(PYTEST_WORKERS)
# xdist hands each worker one test at a time (not a quarter of the suite at once): the long tests,
# which tests/conftest.py puts first, are then shared between the workers.
XDIST = --maxschedchunk=1
# pytest's options for N workers: one worker runs in pytest's own process (no xdist controller
# collecting the suite a second time).
workers = $(if $(filter 0 1,$(1)),-n 0,-n $(1) $(XDIST))
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

# The app is production unless told otherwise: `make run` asks for DEBUG and the embedded sandbox. With no
# key of yours, it serves the sandbox's organisation: its org key reaches both of its projects (README,
# "Several projects").
SANDBOX_ORG = if [ -z "$${STAFFIFY_API_KEY:-}$${STAFFIFY_API_KEY_FILE:-}" ]; then export \
	STAFFIFY_API_KEY=sfy_org_0123456789abcdef0123456789abcdef0123456789abcdef \
	STAFFIFY_PROJECTS="$${STAFFIFY_PROJECTS:-proj_demo=Demo,proj_eu=Europe}"; fi;

run: export DEBUG ?= true
run: export STAFFIFY_SANDBOX ?= true
run: install
	@$(SANDBOX_ORG) $(PY) manage.py migrate --noinput
	@$(SANDBOX_ORG) $(PY) manage.py seed_sandbox
	@$(SANDBOX_ORG) $(PY) manage.py seed_demo_users
	@echo "Dashboard:   http://127.0.0.1:$(PORT)/ (projects: /p/demo/, /p/eu/; the organisation: /org/billing/)"
	@echo "Sandbox API: http://127.0.0.1:$(PORT)/sandbox/v1 (keys in README.md)"
	@echo "Worker:      background tasks and the periodic schedule (manage.py run_worker); Ctrl-C stops both"
	@$(SANDBOX_ORG) PORT=$(PORT) PYTHON=$(PY) exec scripts/run-all.sh

# The lint (ruff and mypy), the SQLite pass and the PostgreSQL pass run at the same time: the tests
# wait on processes, sockets and the browser much of the time, so the three together fill the two
# cores. The SQLite pass prints as it goes; the lint's and the PostgreSQL pass's output come when they
# end. Any failure fails `make test`. The tests that start processes on a migrated SQLite file share
# one `manage.py migrate` across both passes (MIGRATED_SQLITE_DIR: tests/conftest.py, migrated_sqlite).
test: install-dev browser
	@logs=$$(mktemp -d); export MIGRATED_SQLITE_DIR="$$logs/migrated"; \
	if scripts/postgres-ready.sh "$(POSTGRES_URL)"; then export STANDALONE_PASS=postgres; fi; \
	$(MAKE) --no-print-directory lint > "$$logs/lint" 2>&1 & lint_pid=$$!; \
	$(MAKE) --no-print-directory test-postgres > "$$logs/postgres" 2>&1 & postgres_pid=$$!; \
	$(MAKE) --no-print-directory test-sqlite; sqlite=$$?; \
	wait $$lint_pid; lint=$$?; wait $$postgres_pid; postgres=$$?; \
	cat "$$logs/lint" "$$logs/postgres"; rm -rf "$$logs"; \
	[ $$lint = 0 ] || echo "!! The lint failed (above)." >&2; \
	[ $$sqlite = 0 ] || echo "!! The SQLite pass failed." >&2; \
	[ $$postgres = 0 ] || echo "!! The PostgreSQL pass failed (above)." >&2; \
	[ $$lint = 0 ] && [ $$sqlite = 0 ] && [ $$postgres = 0 ]

test-sqlite:
	@echo "== Test suite on SQLite"
	@env -u DATABASE_URL $(PY) -m pytest $(call workers,$(PYTEST_WORKERS)) $(PYTEST_ARGS)

# Only the tests where the engine matters (@pytest.mark.postgres and @pytest.mark.database, chosen in
# tests/conftest.py); `make test-postgres-all` runs every database test on PostgreSQL.
test-postgres:
	@if scripts/postgres-ready.sh "$(POSTGRES_URL)"; then \
		echo "== Test suite on PostgreSQL ($(POSTGRES_URL)): the tests where the engine matters"; \
		DATABASE_URL="$(POSTGRES_URL)" $(PY) -m pytest $(call workers,$(POSTGRES_WORKERS)) $(PYTEST_ARGS); \
		status=$$?; [ $$status != 5 ] || { echo "(no test of this selection is on the PostgreSQL pass)"; status=0; }; \
		exit $$status; \
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
	@SCREENSHOT_DIR="$(CURDIR)/docs/screenshots" env -u DATABASE_URL $(PY) -m pytest $(call workers,$(PYTEST_WORKERS)) -m browser $(PYTEST_ARGS)

# ruff's lint and formatting check, mypy, then import-linter's contracts between the app's packages
# (.importlinter): any finding fails `make lint` and so `make test`.
lint: install-dev
	@echo "== Lint: ruff check, ruff format --check, mypy, lint-imports"
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(MAKE) --no-print-directory typecheck
	@PYTHONPATH=numbers $(VENV)/bin/lint-imports --no-logo

# django-stubs loads the settings: the sandbox's, which need no secrets (production refuses to start without).
typecheck: install-dev
	@STAFFIFY_SANDBOX=true $(PY) -m mypy $(MYPY_PATHS)

bench: install-dev
	@$(PY) bench/pages.py

docker-recipe: install
	@scripts/docker-recipe.sh

compose-recipe: install
	@PYTHON=$(PY) scripts/compose-recipe.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3
