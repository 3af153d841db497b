# Set-up is part of each target: a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_PACKAGES := chromium fonts-wqy-microhei

.PHONY: run test lint bench clean browsers

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## run: the embedded default (SQLite + in-process queue) with demo data on http://127.0.0.1:5000
run: $(STAMP)
	SERVICE_HUB_ENV=development $(BIN)/flask --app wsgi demo

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
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
