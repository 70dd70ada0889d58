# Two commands matter: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PELICAN := $(BIN)/pelican content -s site/pelicanconf.py
CATALOGS := theme/translations form_service/translations form_service/review/translations

.PHONY: run test site lint catalogs extract lock install stack stack-stop clean

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

# Compile every translation catalog that exists (.mo files are build output).
catalogs: $(VENV)/.installed
	@for dir in $(CATALOGS); do \
	  if [ -d $$dir ]; then $(BIN)/pybabel compile -d $$dir || exit 1; fi; \
	done

# Build the static site into output/.
site: $(VENV)/.installed
	$(PELICAN) -o output --fatal warnings --delete-output-directory

# Serve the whole system (site, public form, staff desk) on http://127.0.0.1:$(PORT).
run: site catalogs
	PORT=$(PORT) $(BIN)/python -m form_service.devserver

test: $(VENV)/.installed node_modules/.installed catalogs
	$(BIN)/python -m pytest -n 2

# The production topology from local processes: nginx + TLS on 127.0.0.1:8443 (desk :8444),
# two intake and one review gunicorn, on the local PostgreSQL and Redis (docs/deployment.md).
stack: site catalogs
	$(BIN)/python deploy/stack.py start

stack-stop:
	$(BIN)/python deploy/stack.py stop

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Refresh the theme's translation template after changing theme strings.
extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k _ -k N_ --no-location \
	  --omit-header --sort-output -o theme/translations/messages.pot theme/templates site/plugins

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
	rm -rf output artifacts .pytest_cache .mypy_cache .ruff_cache
