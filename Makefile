# The two commands: `make app` and `make test`. Everything else is a helper for those.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/saas_renewal.yaml
PORT ?= 8501
LINT_PATHS := $(wildcard optimizer ui tests examples benchmarks)

.PHONY: app test test-explore lint format venv clean bench bench-app

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -e ".[ui,export,dev]"
	@touch $(STAMP)

venv: $(STAMP)

# The app keeps negotiations in its workspace ($$DEALOPT_WORKSPACE, default
# ~/.local/share/dealopt/workspace.sqlite); `make app WORKSPACE=/path/file.sqlite` uses another.
# EXAMPLE is the scenario the first start opens. Streamlit's settings: .streamlit/config.toml.
WORKSPACE ?=
app: $(STAMP)
	$(if $(WORKSPACE),DEALOPT_WORKSPACE=$(WORKSPACE)) DEALOPT_SCENARIO=$(EXAMPLE) $(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Like `make test`, but the property tests draw new random examples (not the fixed, derandomised
# set `make test` replays): for finding new failures, not for deciding whether a change lands.
test-explore: $(STAMP)
	DEALOPT_HYPOTHESIS=explore $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_frontier.py
	$(BIN)/python benchmarks/bench_speed.py

bench-app: $(STAMP)
	$(BIN)/python benchmarks/bench_app.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
