# The README's two commands are `make serve` and `make test`; everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# The CPU wheel of torch; see README "Installing PyTorch" for CUDA or other platforms.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
HOST   ?= 127.0.0.1:8000
# Seconds `make test` may spend re-running mutation testing of modules changed since their record.
MUTATE_BUDGET ?= 240
# 0 skips the mutation check in `make test` (it fails while a recorded module is below 90%).
MUTATE_CHECK ?= 1
STAMP  := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export DISABLE_MKDOCS_2_WARNING := true
export PYTHONDONTWRITEBYTECODE := 1
# Import this checkout's notes_code first, even from a venv installed elsewhere.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: help install serve build test test-unit test-browser test-claim test-note lint bench reproduce clean mutate mutate-check

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -qq -e '.[docs,test]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with docs and test extras

serve: $(STAMP) ## Build the site (strict) and serve it with live reload at http://127.0.0.1:8000
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST)

build: $(STAMP) ## Build the site into site/ (strict)
	$(BIN)/mkdocs build --strict --clean

test: $(STAMP) ## Run every check: lint, pytest (unit, claims), strict site build, site and browser tests
	$(BIN)/ruff check .
	$(BIN)/notes check
	$(PY) -m pytest -m "not browser and not site"; status=$$?; \
	start=$$(date +%s%N); \
	$(BIN)/mkdocs build --strict --clean || exit 1; \
	echo "site build with every executed block: $$(( ($$(date +%s%N) - start) / 1000000 )) ms"; \
	$(PY) -m pytest -m "site or browser" --no-claims-report || exit 1; \
	[ $$status -eq 0 ] || exit $$status; \
	if [ "$(MUTATE_CHECK)" != 0 ]; then nice -n 10 $(PY) scripts/mutate.py check --budget $(MUTATE_BUDGET); fi

test-unit: $(STAMP) ## Run pytest without the site and browser tests
	$(PY) -m pytest -m "not browser and not site"

test-browser: build ## Run the site and browser tests against a fresh build
	$(PY) -m pytest -m "site or browser" --no-claims-report

test-claim: $(STAMP) ## Run exactly the tests of one claim: make test-claim CLAIM=pascanu2013/...
	@test -n "$(CLAIM)" || { echo "usage: make test-claim CLAIM=<note>/<id>"; exit 2; }
	$(PY) -m pytest --claim "$(CLAIM)" -v

test-note: $(STAMP) ## Run the tests linked from one note's claims: make test-note NOTE=pascanu2013
	@test -n "$(NOTE)" || { echo "usage: make test-note NOTE=<slug>"; exit 2; }
	$(PY) -m pytest --note "$(NOTE)" -v

lint: $(STAMP) ## ruff and the note linter
	$(BIN)/ruff check .
	$(BIN)/notes check

bench: $(STAMP) ## Benchmarks: ratios against a baseline measured in the same run
	$(PY) benchmarks/run_all.py

reproduce: $(STAMP) ## Train a recorded grid: make reproduce GRID=ci [BUDGET=N] [DEVICE=cuda] [WORKERS=2]
	$(PY) -m notes_code.experiments run $(or $(GRID),ci) --device $(or $(DEVICE),cpu) $(if $(BUDGET),--budget $(BUDGET)) $(if $(WORKERS),--workers $(WORKERS) --threads 1)

mutate: $(STAMP) ## Mutation testing (mutmut), recorded in docs/data/<paper>/mutation.json: make mutate [MODULES=clipping,train]
	nice -n 10 $(PY) scripts/mutate.py run $(if $(MODULES),--modules $(MODULES)) --max-children $(or $(CHILDREN),2)

mutate-check: $(STAMP) ## The CI mutation check alone: re-run stale modules within MUTATE_BUDGET seconds, enforce 90%
	nice -n 10 $(PY) scripts/mutate.py check --budget $(MUTATE_BUDGET)

clean: ## Remove build outputs (keeps .venv)
	rm -rf site reports screenshots .pytest_cache mutants
