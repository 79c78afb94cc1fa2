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

# Debian packages the browser tests need (Playwright drives the system Chromium; the font
# draws Korean in screenshots). `make browser-deps` installs what is missing; `sudo` would
# drop DEBIAN_FRONTEND, so it goes through `env`. tests/kb/test_makefile_browser_deps.py runs
# the recipe against a fake apt-get.
CHROMIUM ?= /usr/bin/chromium
SUDO     ?= sudo
USER_ID  ?= $(shell id -u)
# The executed-block cache (.cache/exec/): on (read and write), refresh (run every block and
# rewrite the entries), off (run every block, touch nothing). `make build CACHE=off` ignores it.
CACHE ?= on

.PHONY: help install browser-deps serve build test test-unit test-browser test-claim test-note lint bench bench-full reproduce gpu-run mutate mutate-check clean

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -qq -e '.[docs,test,music,cluster]'
	@$(PY) -m pip install -qq -e '.[triton]' || echo "triton not installed: the fused-kernel tests will skip"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with docs and test extras

# axe-core (npm) for the accessibility tests, into node_modules/ (git-ignored).
AXE_SPEC  ?= axe-core@4.14.1
AXE_STAMP ?= node_modules/.installed
$(AXE_STAMP):
	npm install --no-save --no-audit --no-fund $(AXE_SPEC)
	@touch $@

browser-deps: ## Install Debian's chromium and fonts-noto-cjk if missing (apt-get as root, else sudo)
	@need=""; \
	[ -x "$(CHROMIUM)" ] || need="$$need chromium"; \
	{ command -v fc-list >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || need="$$need fonts-noto-cjk"; \
	[ -z "$$need" ] && exit 0; \
	hint="sudo apt-get install -y$$need"; \
	if [ "$(USER_ID)" = 0 ]; then apt=""; hint="apt-get install -y$$need"; \
	elif command -v "$(SUDO)" >/dev/null && "$(SUDO)" -n true 2>/dev/null; then apt="$(SUDO)"; \
	else echo "make: the browser tests need:$$need; install them with: $$hint" >&2; exit 1; fi; \
	echo "== installing$$need (apt-get, about a minute)"; \
	{ $$apt env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$need >/dev/null; } || \
	  { echo "make: apt-get could not install$$need; install them with: $$hint" >&2; exit 1; }; \
	[ -x "$(CHROMIUM)" ] || { echo "make: $(CHROMIUM) is still missing after apt-get; set CHROMIUM=<path of chromium>" >&2; exit 1; }

serve: $(STAMP) ## Build the site and serve it with live reload at http://127.0.0.1:8000 (cached blocks, dirty reload)
	NOTES_EXEC_CACHE=$(CACHE) NOTES_DIRTY_SERVE=1 $(BIN)/mkdocs serve --strict --dirty --dev-addr $(HOST)

build: $(STAMP) ## Build the site into site/ (strict; CACHE=off runs every block without the cache)
	NOTES_EXEC_CACHE=$(CACHE) $(BIN)/mkdocs build --strict --clean

test: $(STAMP) browser-deps $(AXE_STAMP) ## Run every check: lint, pytest (unit, claims), strict site build running every block, site and browser tests
	$(BIN)/ruff check .
	$(BIN)/notes check
	$(PY) -m pytest -m "not browser and not site"; status=$$?; \
	start=$$(date +%s%N); \
	NOTES_EXEC_CACHE=refresh $(BIN)/mkdocs build --strict --clean || exit 1; \
	echo "site build with every executed block: $$(( ($$(date +%s%N) - start) / 1000000 )) ms"; \
	$(PY) -m pytest -m "site or browser" --no-claims-report || exit 1; \
	[ $$status -eq 0 ] || exit $$status; \
	if [ "$(MUTATE_CHECK)" != 0 ]; then nice -n 10 $(PY) scripts/mutate.py check --budget $(MUTATE_BUDGET); fi

test-unit: $(STAMP) ## Run pytest without the site and browser tests
	$(PY) -m pytest -m "not browser and not site"

test-browser: build browser-deps $(AXE_STAMP) ## Run the site and browser tests against a fresh build
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

bench-full: $(STAMP) ## make bench, plus the time of `make test` on a warm environment (long)
	NOTES_BENCH_MAKE_TEST=1 $(PY) benchmarks/run_all.py

reproduce: $(STAMP) ## Train a recorded grid: make reproduce GRID=ci [BUDGET=N] [DEVICE=cuda] [WORKERS=2] [TRAINER=fastcpu]
	$(PY) -m notes_code.experiments run $(or $(GRID),ci) --device $(or $(DEVICE),cpu) $(if $(TRAINER),--trainer $(TRAINER)) $(if $(BUDGET),--budget $(BUDGET)) $(if $(WORKERS),--workers $(WORKERS) --threads 1)

gpu-run: ## On the GPU machine: fused-kernel tests, benchmark, Fig. 7 into OUT=dir (MINUTES=8)
	$(PY) scripts/gpu_run.py --minutes $(or $(MINUTES),8) $(if $(OUT),--out $(OUT))

mutate: $(STAMP) ## Mutation testing (mutmut), recorded in docs/data/<paper>/mutation.json: make mutate [MODULES=clipping,train]
	nice -n 10 $(PY) scripts/mutate.py run $(if $(MODULES),--modules $(MODULES)) --max-children $(or $(CHILDREN),2)

mutate-check: $(STAMP) ## Mutation check against the target: re-run stale modules within MUTATE_BUDGET seconds, enforce 90%
	nice -n 10 $(PY) scripts/mutate.py check --target --budget $(MUTATE_BUDGET)

clean: ## Remove build outputs (keeps .venv)
	rm -rf site reports screenshots .pytest_cache .cache mutants
