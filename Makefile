# The two commands: `make run` and `make test`. Everything lives in .venv; Python 3.11+ is all you need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The web server (bugsink/webserver.py: waitress, immune to slow clients): one process (one owner of the in-process
# digest lock and registry), threads for concurrency.
THREADS ?= 8
# DSNs and links are built from BASE_URL; by default it follows PORT.
BASE_URL ?= http://127.0.0.1:$(PORT)
export BASE_URL

.PHONY: run serve test test-fast test-postgres test-mariadb lint install install-dev install-mysql migrate clean lock upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the locks only (requirements*.txt: every package pinned, with hashes; --no-deps: nothing that
# the lock does not list). The runtime (`make run`, `make serve`) installs requirements.txt alone; the tests install
# requirements-dev.txt, which holds the same runtime versions plus the test tools.
PIP_INSTALL := $(BIN)/pip install --quiet --require-hashes --no-deps

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(VENV)/.installed $@

$(VENV)/.installed-mysql: requirements-mysql.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements-mysql.txt
	touch $@

# The locks are written from the .in files (the direct dependencies, as ranges) by uv (in the dev lock).
# `make lock` after editing an .in file keeps every pin it can; `make upgrade` moves every package to the newest
# version the ranges allow. Review the diff, then `make test`.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 --custom-compile-command "make lock" $(UV_FLAGS)

lock: install-dev
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) requirements-mysql.in -o requirements-mysql.txt

upgrade: UV_FLAGS = --upgrade
upgrade: lock

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-mysql: $(VENV)/.installed-mysql

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py bootstrap
	$(BIN)/python -m bugsink.webserver --port $(PORT) --workers 1 --threads $(THREADS) --access-log

# Single-server mode: web server + digest worker + alerts worker + scheduler on Redis (see Procfile).
serve: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
serve: migrate
	$(BIN)/python manage.py bootstrap
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -S bin/procfile-run -f Procfile -p $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# makemigrations --check is a test (bugsink/tests/test_isolation.py): the suite writes only into a temporary folder.
test: install-dev lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit loop's lane: no live servers, workers, browsers, SDK processes or clock waits (conftest.py's _fast_lane
# skips a test that tries); `make test` stays the whole suite.
test-fast: install-dev
	CULVERT_TEST_FAST=1 $(BIN)/python -m pytest -q -m "not live and not slow" $(PYTEST_ARGS)

# The same suite on the other databases (the services on their standard loopback ports unless overridden).
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/bugsink
MARIADB_URL ?= mysql://root@127.0.0.1:3306/bugsink

test-postgres: install-dev
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-mariadb: install-dev install-mysql
	DATABASE_URL=$(MARIADB_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
