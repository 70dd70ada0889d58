# Two commands matter: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PELICAN := $(BIN)/pelican content -s site/pelicanconf.py

.PHONY: run test site lint soak catalogs extract lock install stack stack-stop bench clean

# The environment is rebuilt whenever the lock file changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Test judges (axe-core, vnu-jar, the HTTP Observatory) from npm; none ships to readers.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed

# Compile every translation catalog (.mo files are build output; tools/catalogs.py lists them).
catalogs: $(VENV)/.installed
	$(BIN)/python -m tools.catalogs compile

# Build the static site into output/.
site: $(VENV)/.installed
	$(PELICAN) -o output --fatal warnings --delete-output-directory

# Serve the whole system (site, public form, staff desk) on http://127.0.0.1:$(PORT).
run: site catalogs
	PORT=$(PORT) $(BIN)/python -m tools.devserver

test: $(VENV)/.installed node_modules/.installed catalogs
	$(BIN)/python -m pytest -n 2

# The production topology from local processes: nginx + TLS on 127.0.0.1:8443 (desk :8444),
# two intake and one review gunicorn, on the local PostgreSQL and Redis (docs/deployment.md).
stack: catalogs
	$(BIN)/python -m tools.stack start

stack-stop:
	$(BIN)/python -m tools.stack stop

# Every benchmark with a progress display, then bench/results/<timestamp>.{json,md}, latest.md
# and SVG charts (bench/run.py). Not part of `make test`; QUICK=1 for short runs.
bench: catalogs
	STACK_PORT_OFFSET=$${STACK_PORT_OFFSET:-0} $(BIN)/python bench/run.py $(if $(QUICK),--quick)

# bandit: no Medium or High finding (each accepted one carries a nosec with its reason);
# tools.audit: pip-audit on the lock file, saying how many packages it could NOT audit.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -r form_service tools deploy --severity-level medium --quiet
	$(BIN)/python -m tools.audit requirements.lock

# A longer run of the crash and property tests (not part of `make test`): 2,000 tips under
# worker kills per database for up to 15 minutes, 10,000 generated submissions per database.
soak: $(VENV)/.installed catalogs
	RELIABILITY_CRASH_TIPS=2000 RELIABILITY_CRASH_SECONDS=900 RELIABILITY_EXAMPLES=10000 \
	  $(BIN)/python -m pytest tests/reliability -p no:cacheprovider -q

# Refresh every catalog template (theme, intake, desk) and merge new strings into each language.
extract: $(VENV)/.installed
	$(BIN)/python -m tools.catalogs extract

# Re-resolve the pinned dependencies (maintainers only; needs uv): requirements.lock for
# development and CI, and requirements-app.lock, the same pins without the extras (site, test
# and lint tools), for the app image.
lock: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes --python-version 3.11 \
	  -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
	  -c requirements.lock -o requirements-app.lock

clean:
	rm -rf output artifacts var .pytest_cache .mypy_cache .ruff_cache
