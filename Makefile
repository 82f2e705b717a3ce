# Toolchain entry points. `make setup` is idempotent: each step reruns only when its input
# (pyproject.toml, package-lock.json) is newer than the stamp it left. Everything it installs
# stays inside the checkout (.venv, node_modules, and the solc-js facade in .venv/solcx).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.loanservicing-pip.stamp
NPM_STAMP := node_modules/.loanservicing-npm.stamp
# Where the pinned solc (the solc-js facade) is installed; py-solc-x, and so ape-solidity,
# look there when SOLCX_BINARY_PATH names it. The package's own compile path needs no variable.
SOLCX_DIR := $(CURDIR)/$(VENV)/solcx
CHROMIUM := /usr/bin/chromium

.PHONY: setup test lint demo gas ape-test forge-build forge-test fuzz slither clean

setup: $(PIP_STAMP) $(NPM_STAMP) $(CHROMIUM)
	$(PY) -m loanservicing.deployment.solc

# The portal's browser tests drive Debian's chromium through Playwright (no browser download):
# installed here when it is missing and we may (root); otherwise install it as the README says.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq chromium >/dev/null; \
	else echo "The portal's browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; fi

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PIP_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The pytest suite (ape's pytest plugin off), then the ape workflow on ape-foundry, the forge
# suites and the Slither gate. The index and monitor suites run on SQLite and on the PostgreSQL
# server named here (each test in a schema of its own); an empty value skips PostgreSQL.
LOANSERVICING_TEST_DATABASE_URL ?= postgresql://127.0.0.1:5432/test
export LOANSERVICING_TEST_DATABASE_URL
test: setup
	$(PY) -m pytest -p no:ape_test -n 2 -q
	$(MAKE) --no-print-directory ape-test
	$(MAKE) --no-print-directory forge-test
	$(MAKE) --no-print-directory slither

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict loanservicing
	$(VENV)/bin/lint-imports

demo: setup
	$(VENV)/bin/loanservicing demo

gas: setup
	$(PY) benchmarks/gas.py

# ape-foundry looks for `anvil` on PATH only, so put the pinned one from node_modules first;
# ape-solidity finds the checkout's solc through SOLCX_BINARY_PATH.
# Ape's data folder (with its cache of running nodes) is kept inside the project, and that
# cache is cleared first: a stale entry from another checkout or an earlier run must not be
# reused or signalled.
APE := APE_DATA_FOLDER=$(CURDIR)/.build/ape-data SOLCX_BINARY_PATH=$(SOLCX_DIR) \
	PATH=$(CURDIR)/node_modules/.bin:$$PATH $(VENV)/bin/ape
ape-test: setup
	rm -rf .build/ape-data/processes
	$(APE) compile
	$(APE) test tests/ape -q --network ethereum:local:foundry

# forge from node_modules (pinned in package.json), offline with the checkout's solc: foundry.toml
# names both and the compiler settings (those of loanservicing/deployment/compile.py); out and
# cache under .build/forge. `make fuzz` is the longer search (FOUNDRY_PROFILE=deep), not in CI.
FORGE := $(CURDIR)/node_modules/.bin/forge
forge-build: setup
	$(FORGE) build

forge-test: forge-build
	$(FORGE) test

fuzz: forge-build
	FOUNDRY_PROFILE=deep $(FORGE) test

# Slither over contracts/ (test doubles filtered out): fails on a High or Medium finding that
# slither-triage.json does not explain, or on a stale entry there.
slither: setup
	$(PY) scripts/slither_gate.py

clean:
	rm -rf build .build .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
