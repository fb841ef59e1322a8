# The two commands of the README: `make demo` and `make test`. Both set everything up on a fresh machine
# with Python 3.11+ and make: a virtualenv with Meltano and the plugins, then Meltano's own plugin venvs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := tap-billbee target-wemalo tap-wemalo-shipments target-billbee
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The installs of this venv and of Meltano's plugin venvs (by pip or uv) keep to the lock (scripts/lock.py).
# Only those: the tests' own throw-away venvs (release, orchestration) resolve freely.
LOCKED := PIP_CONSTRAINT=$(CURDIR)/requirements-dev.lock UV_CONSTRAINT=$(CURDIR)/requirements-dev.lock

.PHONY: setup demo test unit e2e chaos lint sandbox bench clean

$(VENV)/.installed: requirements-dev.txt requirements-dev.lock $(foreach p,$(PLUGINS),$(p)/pyproject.toml) core/pyproject.toml reconcile/pyproject.toml events/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(LOCKED) $(BIN)/python -m pip install -q -r requirements-dev.txt -e ./core $(foreach p,$(PLUGINS),-e ./$(p)) -e ./reconcile -e ./events
	touch $@

.meltano/.installed: $(VENV)/.installed meltano.yml requirements-dev.lock
	$(LOCKED) $(BIN)/meltano install
	touch $@

setup: $(VENV)/.installed .meltano/.installed

demo: setup  ## sandbox with demo data, sync, ship, sync again, summary
	$(BIN)/python -m sandbox.demo

# Tests run in parallel (pytest-xdist; each test has its own sandbox ports and Meltano system directory): one
# worker more than cores, as the end-to-end tests spend part of their time waiting for Billbee's simulated rate
# limits (with 2 workers on 2 cores the CPUs were busy 73 % of the run). `--dist loadgroup` hands tests out
# one by one, except a module marked xdist_group (one build of the release artifacts); PYTEST_ARGS adds options
# (e.g. PYTEST_ARGS="-x"; PYTEST_PARALLEL= runs in one process).
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; f = getattr(os, "sched_getaffinity", None); print((len(f(0)) if f else os.cpu_count() or 1) + 1)')
PYTEST_PARALLEL ?= -n $(PYTEST_WORKERS) --dist loadgroup

test: setup  ## the whole test suite (unit, sandbox fidelity, end to end, the chaos suite)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

chaos: setup  ## the chaos suite alone: 30 cycles (nightly in CI; CHAOS_SEED=N varies it)
	CHAOS_CYCLES=$${CHAOS_CYCLES:-30} $(BIN)/python -m pytest tests/chaos/test_chaos.py $(PYTEST_ARGS)

unit: setup
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not e2e and not release and not orchestration and not chaos"

lint: setup  ## ruff, then mypy (strict; what it checks: [tool.mypy] in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/mypy

sandbox: setup  ## the simulated Billbee and wemalo APIs with demo data, until Ctrl-C
	$(BIN)/python -m sandbox --demo

bench: setup  ## benchmark against the throttled sandbox, ~65 min (BENCH_ARGS=--quick: a few minutes); not part of test
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .meltano output .pytest_cache
