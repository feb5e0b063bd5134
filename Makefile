# The two commands: `make app` and `make test`. Everything else is a helper for those.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/saas_renewal.yaml
PORT ?= 8501

.PHONY: app test lint format venv clean bench

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -e ".[ui,export,dev]"
	@touch $(STAMP)

venv: $(STAMP)

app: $(STAMP)
	DEALOPT_SCENARIO=$(EXAMPLE) $(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(BIN)/ruff check optimizer ui tests examples benchmarks
	$(BIN)/ruff format --check optimizer ui tests examples benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check optimizer ui tests examples benchmarks

format: $(STAMP)
	$(BIN)/ruff format optimizer ui tests examples benchmarks
	$(BIN)/ruff check --fix optimizer ui tests examples benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_frontier.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
