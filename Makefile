# Consultation Portal — developer entry points.
#
#   make run     embedded default: .venv + SQLite in instance/, demo data, http://127.0.0.1:5000
#   make test    whole test suite with throwaway PostgreSQL + Redis (make test ARGS="-k foo")
#   make lint    ruff check + ruff format --check
#   make babel   compile translations
#   make babel-update   extract the translatable strings and update the Russian catalogue
#   make bench   run bench/run.sh if present

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
FLASK  := $(VENV)/bin/flask --app wsgi
# The embedded demo (SQLite, emails on /dev/mail) is switched on here and nowhere else; it serves loopback only.
EMBEDDED := PORTAL_EMBEDDED=1 $(FLASK)
HOST   ?= 127.0.0.1
PORT   ?= 5000
ARGS   ?=
SERVICES := bash scripts/services.sh

.PHONY: help run venv venv-dev babel babel-update test lint format bench screenshots
.NOTPARALLEL:

help:
	@echo "make run    - start the portal on http://$(HOST):$(PORT) (SQLite, demo data)"
	@echo "make test   - run the test suite (ARGS=\"...\" passed to pytest)"
	@echo "make lint   - ruff check and format check"
	@echo "make format - ruff format and autofix"
	@echo "make babel  - compile translations"
	@echo "make babel-update - extract the strings to translate and update portal/translations/ru"
	@echo "make bench  - run bench/run.sh (options: make bench ARGS=\"--scale 10 --seconds 5\")"
	@echo "make screenshots - retake the README screenshots (docs/screenshots/) in Chromium"

venv:
	@$(SERVICES) ensure-venv requirements.txt

venv-dev:
	@$(SERVICES) ensure-venv requirements-dev.txt

babel:
	@$(SERVICES) babel

# One catalogue: strings from portal/ and jobs/ (babel.cfg) into messages.pot, merged into the Russian .po.
babel-update: venv-dev
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location \
		--omit-header -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations -l ru \
		--no-fuzzy-matching --ignore-obsolete

run: venv babel
	@echo "==> Applying database migrations"
	$(EMBEDDED) db upgrade
	@echo "==> Loading demo data (if the database is empty)"
	$(EMBEDDED) seed-demo
	@echo "==> Serving on http://$(HOST):$(PORT)"
	PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} $(EMBEDDED) serve-embedded --host $(HOST) --port $(PORT)

test:
	bash scripts/test.sh $(ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh $(ARGS); else echo "bench/run.sh not found: nothing to run"; fi

screenshots:
	README_SCREENSHOTS_DIR=docs/screenshots bash scripts/test.sh -q tests/e2e/test_readme_screenshots.py
