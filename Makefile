# Jingzhun: the two commands are `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.8
DEMO_DATA ?= jingzhun-data
DEMO_PERSONS ?= 20000
export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: install demo test test-fast sysdeps bench harden lint check clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The virtualenv with the package and every extra, exactly as locked in uv.lock.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --quiet
	touch $@

install: $(VENV)/.installed

# System packages the tests need: Chromium and its driver for browser tests, a CJK font for
# screenshots, Java for Spark. Installed only when missing, and only when running as root.
sysdeps:
	@bash scripts/install-sysdeps.sh

demo: install
	$(VENV)/bin/jingzhun demo --data $(DEMO_DATA) --persons $(DEMO_PERSONS)

# Test areas run in parallel (pytest-xdist), each area on one worker (tests/conftest.py).
TEST_WORKERS ?= 2

test: install sysdeps
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup --durations=15

test-fast: install
	$(VENV)/bin/python -m pytest -q -x -m "not spark and not browser and not slow"

bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

# Hardening figures (docs/RELIABILITY.md): hostile files, fuzzing, kill -9, the access sweep, API fuzzing
# and load (minutes); every script in bench/harden/ writes its own section. Quick variants run in `make test`.
harden: install
	for f in bench/harden/*.py; do $(PY) $$f || exit 1; done

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

check: lint test

clean:
	rm -rf $(VENV) .tools $(DEMO_DATA)
