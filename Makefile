# Two commands a new user runs: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PY_SRC := crm_sync tests $(wildcard bench examples)

.PHONY: demo test lint typecheck unit docs bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crm-sync demo

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SRC)
	$(BIN)/ruff format --check $(PY_SRC)

typecheck: $(STAMP)
	$(BIN)/mypy crm_sync

unit: $(STAMP)
	bash scripts/services.sh
	$(BIN)/python -m pytest -q

# No --quiet: mkdocs 1.6 then drops the warnings and --strict would pass with broken links.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site

test: lint typecheck unit docs

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
