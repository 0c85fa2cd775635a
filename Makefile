# Two commands on a fresh machine: `make run` and `make test`. Both are idempotent and quiet when
# nothing changed (the venv is only reinstalled when pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install ingest bench system-deps clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing into $(VENV) (first time: a few minutes)…"
	@$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

ingest: install
	@$(BIN)/partnership ingest

run: ingest
	@$(BIN)/partnership chat

# The browser tests need Debian's chromium; installing it needs root (as in CI).
system-deps:
	@bash .ci/install-system-deps.sh

test: install system-deps
	@$(BIN)/python -m pytest -q

bench: install
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .partnership
