# The two set-up commands (see README.md):
#   make demo   install, then run a scripted voice conversation on the embedded emulator
#   make test   install everything, then lint, type-check and run the whole test suite
# Both create their own virtual environment in .venv and are safe to run again.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest docs system-deps install bench bench-pipecat clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,speech]'
	touch $(STAMP)

install: system-deps $(STAMP)

# Debian packages the audio tests and the demo need. Installed when run as root;
# otherwise we print what to install and carry on (the affected tests then fail with
# a message that names the package).
system-deps:
	@bash scripts/system-deps.sh
	@bash scripts/node-deps.sh

demo: install
	$(BIN)/python -m voiceagent demo --out out/demo-reply.wav

lint: $(STAMP)
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The documentation site; --strict turns every broken link or reference into an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir out/site

test: install lint typecheck pytest docs

bench: install
	$(BIN)/python bench/emulator_sessions.py
	$(BIN)/python bench/bargein.py

# CPU per Twilio call against Pipecat, side by side (docs/performance.md). Pipecat lives in its
# own environment, .venv-bench (Python 3.11+), so that `make test` and .venv never see it.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
PIPECAT_ARGS ?=

$(BENCH_STAMP): bench/requirements-pipecat.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements-pipecat.txt
	touch $(BENCH_STAMP)

bench-pipecat: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/pipecat_twilio.py $(PIPECAT_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) out .pytest_cache .mypy_cache .ruff_cache
