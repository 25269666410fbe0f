# Solo OMS. `make run` starts everything on a laptop; `make test` runs the whole suite.
# Both set up what they need on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test screenshots bench bench-web bench-invoices bench-forecasts bench-dashboard bench-import install install-test assets system-packages system-packages-test migrate seed clean

run: install
	@scripts/run_local.sh

test: install-test system-packages-test
	@scripts/run_tests.sh

screenshots: install-test system-packages-test
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/test_browser.py tests/test_dashboard_browser.py tests/test_browser_forecasts.py tests/test_browser_paste_and_import.py \
		tests/test_invoices.py::test_invoice_page_picture

bench: install-test
	@command -v wrk >/dev/null || scripts/apt_install.sh wrk
	$(BIN)/python bench/all.py

bench-web: install-test
	@command -v wrk >/dev/null || scripts/apt_install.sh wrk
	$(BIN)/python bench/run.py

bench-invoices: install-test
	$(BIN)/python bench/invoices.py

bench-dashboard: install-test
	@command -v wrk >/dev/null || scripts/apt_install.sh wrk
	$(BIN)/python bench/dashboard.py

bench-forecasts: install-test
	$(BIN)/python bench/forecasts.py

# BENCH_DATABASE=postgresql://... (an empty database) measures PostgreSQL instead of SQLite.
bench-import: install-test
	$(BIN)/python bench/import.py $(if $(BENCH_DATABASE),--database $(BENCH_DATABASE))

install: $(VENV)/.installed assets system-packages

install-test: $(VENV)/.installed-test assets

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || scripts/apt_install.sh npm
	npm ci --no-audit --no-fund --loglevel=error

system-packages:
	@command -v redis-server >/dev/null || scripts/apt_install.sh redis-server
	@ldconfig -p | grep -q libpango-1.0 || scripts/apt_install.sh libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

system-packages-test: system-packages
	@command -v chromium >/dev/null || scripts/apt_install.sh chromium fonts-dejavu-core
	@command -v pdftoppm >/dev/null || scripts/apt_install.sh poppler-utils

migrate: install
	$(FLASK) db upgrade

seed: install
	$(FLASK) demo seed --if-empty

clean:
	rm -rf $(VENV) node_modules .pytest_cache
