# modelyard: `make demo` runs the main job, `make test` runs everything CI runs.
# Both create .venv on first use (Python 3.11 + pip is all a fresh machine needs).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
EXTRAS := --extra dev --extra server --extra aws --extra postgres
STAMP := $(VENV)/.modelyard-synced

.PHONY: install demo test lint typecheck importlint pytest bench clean

install: $(STAMP)

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "uv==$(UV_VERSION)"

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen $(EXTRAS)
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/modelyard quickstart

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

importlint: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP)
	$(VENV)/bin/pytest -n 2 --timeout 600

test: lint typecheck importlint pytest

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/records.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
