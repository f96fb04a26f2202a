# Set-up, run and test. Every target installs what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: install run test test-fast lint i18n bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Links in mails point at this server unless GIAIBAO_BASE_URL says otherwise.
run: install
	$(BIN)/giaibao migrate
	GIAIBAO_BASE_URL=$${GIAIBAO_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/giaibao demo --if-empty
	GIAIBAO_BASE_URL=$${GIAIBAO_BASE_URL:-http://$(HOST):$(PORT)} \
	  $(BIN)/giaibao serve --host $(HOST) --port $(PORT) --no-migrate

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app tests bench

# Re-extract the messages and merge them into the catalogs (then translate the new ones).
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location -o app/locale/messages.pot .
	$(BIN)/pybabel update -i app/locale/messages.pot -d app/locale -l vi --no-fuzzy-matching

bench: install
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/mixed_load.py
	$(BIN)/python bench/export_memory.py
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/ranking.py
	$(BIN)/python bench/lists.py
	$(BIN)/python bench/national.py

# Each benchmark once at a tiny size, checked for its summary (also part of `make test`).
bench-smoke: install
	$(BIN)/python -m pytest tests/bench $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
