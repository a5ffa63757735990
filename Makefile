# The two commands of the README: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo local test test-unit lint bench build clean

demo: $(STAMP)  ## the whole system on an embedded AWS with a sample store
	$(BIN)/luxebrain demo

local: $(STAMP)  ## keep the embedded AWS and the API running on localhost until Ctrl-C
	$(BIN)/luxebrain local

test: $(STAMP)  ## lint, template checks and the whole test suite (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/pytest

test-unit: $(STAMP)  ## the fast loop: the unit tier alone (no moto server, about a minute on 2 cores)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)  ## benchmarks against the real baseline libraries (not part of CI)
	$(BIN)/pip install -q -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks.run_all

$(STAMP): requirements.txt shared/requirements.txt requirements-dev.txt layers/ml/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache benchmarks/out
