# Set-up is part of each target: a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
PORT ?= 5000
PIP := $(BIN)/pip install --disable-pip-version-check --progress-bar off
# pip's own lines, but only what it fetches and what it installed; pipefail keeps its failure.
PROGRESS := awk '/^(Collecting|Successfully installed)/ { print "   " $$0; fflush() }'
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
BROWSER_PACKAGES := chromium fonts-wqy-microhei

.PHONY: run test lint bench clean browsers

# What the service needs to run (requirements.txt): all `make run` installs.
$(RUNTIME): requirements.txt
	@echo ">> Creating $(VENV) and installing the service's requirements (about 30 s the first time)…"
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt | $(PROGRESS)
	touch $(RUNTIME)

# Plus the tools to test and lint (requirements-dev.txt: pytest, ruff, Playwright, …).
$(STAMP): $(RUNTIME) requirements-dev.txt
	@echo ">> Installing the test and lint tools (requirements-dev.txt)…"
	$(PIP) -r requirements-dev.txt | $(PROGRESS)
	touch $(STAMP)

## run: the embedded default (SQLite + in-process queue) with demo data on http://127.0.0.1:$(PORT)
run: $(RUNTIME)
	SERVICE_HUB_ENV=development $(BIN)/flask --app wsgi demo --port $(PORT)

## browsers: Debian's Chromium (and a Chinese font) for tests/browser, installed when absent
browsers:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "The browser tests need Debian's chromium and a Chinese font. As root, run:"; \
		echo "  apt-get update -qq && apt-get install -y -qq $(BROWSER_PACKAGES)"; \
		exit 1; \
	fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES)

## test: lint, then the whole suite (PostgreSQL + Redis where reachable, and SQLite)
test: $(STAMP) browsers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
