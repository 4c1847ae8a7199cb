# Two entry points: `make demo` and `make test`. Both set themselves up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
SYSSTAMP := .venv/.system-packages

.PHONY: demo test venv dev system lint clean

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

# System packages the tests need: bubblewrap is the sandbox for untrusted code.
$(SYSSTAMP): | $(BIN)/python
	@if ! command -v bwrap >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap; \
	  else echo "bubblewrap missing: sudo apt-get install bubblewrap"; fi; fi
	touch $@

venv: $(STAMP)
dev: $(DEVSTAMP) $(SYSSTAMP)

demo: $(STAMP) $(SYSSTAMP)
	$(BIN)/jacode demo

test: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: dev
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
