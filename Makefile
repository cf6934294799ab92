# WattNet: every target installs what is missing first (idempotent), then does its job.
#   make demo   the main job: a local network end to end (anvil + SQLite)
#   make test   every test: contracts (Ape test network and anvil), off-chain, web app, slither
#   make app    build the web app (app/dist), served by `wattnet app`
#   make coverage | audit | mutate   what auditors run (docs/auditing.md)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
STAMPS := $(ROOT)/.stamps
SOLC := $(ROOT)/.solcx/solc-v0.8.30
ANVIL_DIR := $(ROOT)/node_modules/@foundry-rs/anvil-linux-amd64/bin
OZ_REMAP := @openzeppelin/contracts/=node_modules/@openzeppelin/contracts/

# Everything stays inside the project: Ape's data, the compiler, anvil.
export APE_DATA_FOLDER := $(ROOT)/.ape-data
export SOLCX_BINARY_PATH := $(ROOT)/.solcx
export PATH := $(ANVIL_DIR):$(BIN):$(PATH)
export PYTHONUNBUFFERED := 1
# A free port for the anvil that Ape starts, unless the caller chose one.
export APE_FOUNDRY_HOST ?= http://127.0.0.1:$(shell python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

PYTEST_OFFCHAIN := $(BIN)/pytest -p no:ape_test tests/offchain

.PHONY: help setup compile test test-unit test-anvil test-offchain test-app test-web app chromium \
        app-abi-check slither lint demo bench coverage test-forge audit mutate \
        bench-gas bench-oracle bench-gateway bench-sim bench-network bench-app bench-indexer clean

help:
	@echo "make demo | test | setup | compile | app | bench | bench-gas | bench-oracle | bench-gateway | bench-sim | bench-network | bench-indexer | lint | clean"
	@echo "make coverage | test-forge | audit | mutate   (auditors: docs/auditing.md)"

## ---- setup (idempotent: stamps are redone only when their inputs change) ----
# The web app is its own npm project (app/package.json, app/node_modules); its stamp lives in the
# node_modules it describes, so a fresh or deleted app/node_modules is always reinstalled.
APP_NPM := app/node_modules/.wattnet-installed
setup: $(STAMPS)/python $(STAMPS)/npm $(SOLC) $(APP_NPM) chromium

$(STAMPS)/python: pyproject.toml requirements.lock
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,dask]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json .npmrc
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(APP_NPM): app/package.json app/package-lock.json
	cd app && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's chromium for the browser tests (Playwright's own browser download cannot work here);
# installed only where missing.
chromium:
	@command -v chromium >/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

$(SOLC): tools/solc.js $(STAMPS)/npm
	@mkdir -p $(dir $@)
	ln -sf ../tools/solc.js $@
	@$@ --version | grep -q 0.8.30

# Compiles only when a source or a compiler setting changed (tools/compile_if_changed.py hashes
# contracts/**/*.sol, ape-config.yaml, package-lock.json and tools/solc.js into
# .build/sources.sha256); `make compile FORCE=1` compiles regardless.
# --force when it does compile: Ape's incremental compile misses changes to inherited contracts.
# Then remove the copy of OpenZeppelin that installing the dependency leaves in contracts/.cache:
# Ape finds sources by scanning at most 500 files under contracts/, and those 500+ files can
# hide ours.
compile: setup
	@if [ -n "$${FORCE:-}" ]; then rm -f .build/sources.sha256; fi
	$(BIN)/python tools/compile_if_changed.py -- \
		bash -c '$(BIN)/ape compile --force && rm -rf contracts/.cache'

## ---- the web app ----
APP_SOURCES := $(shell find app/src -type f 2>/dev/null) app/index.html app/vite.config.ts \
	app/tsconfig.json
app/dist/index.html: $(APP_NPM) $(APP_SOURCES)
	cd app && npm run build --silent

app: setup app/dist/index.html

# The app's ABIs (app/src/abi/contracts.ts) are generated from the compiled contracts: fail on drift.
app-abi-check: compile
	$(BIN)/python tools/app_abis.py --check

## ---- tests ----
# The unit tests run once, under the coverage hook (`coverage`), which also checks the floor.
test: setup compile lint app-abi-check test-app coverage test-forge test-anvil test-offchain \
      test-web slither
	@echo "make test: all green"

test-unit: compile
	$(BIN)/ape test tests/contracts/unit

# The oracle's storage tests (off-chain, and its settlement on anvil) also run against a real
# PostgreSQL: start one unless the caller gave a DSN (WATTNET_TEST_PG_DSN) or opted out
# explicitly (WATTNET_TEST_PG=off).
test-anvil: compile
	@if [ -z "$${WATTNET_TEST_PG_DSN:-}" ] && [ "$${WATTNET_TEST_PG:-}" != off ]; then \
		eval "$$(tools/ci_postgres.sh)"; fi; \
	$(BIN)/ape test tests/contracts/invariants tests/contracts/e2e --network ethereum:local:foundry

test-offchain: setup
	@if [ -z "$${WATTNET_TEST_PG_DSN:-}" ] && [ "$${WATTNET_TEST_PG:-}" != off ]; then \
		eval "$$(tools/ci_postgres.sh)"; fi; \
	$(PYTEST_OFFCHAIN)

# TypeScript: type check and unit tests (vitest).
test-app: $(APP_NPM)
	cd app && npx tsc --noEmit && npx vitest run

# The app in headless chromium against anvil with the protocol deployed (tests/web).
test-web: app compile
	$(BIN)/pytest -p no:ape_test tests/web

slither: setup compile
	$(BIN)/python tools/slither_check.py

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

## ---- main job ----
# A small network through the real stack on a local anvil: 20 chargers (OCPP 1.6 and 2.0.1),
# 100 drivers, one simulated day; reconciled on chain; the report goes to out/demo/.
demo: setup compile $(if $(APP),app)
	$(BIN)/wattnet sim network --chargers 20 --drivers 100 --days 1 --oracle-nodes 3 --out out/demo \
		$(if $(OCPI),--ocpi) $(if $(APP),--serve-app)

## ---- benchmarks (print tables; figures go to README's performance table) ----
bench: bench-gas bench-oracle bench-gateway bench-sim bench-network

bench-gas: setup compile
	$(BIN)/python bench/gas.py

bench-oracle: setup
	$(BIN)/python bench/oracle_throughput.py

bench-gateway: setup
	$(BIN)/python bench/gateway_load.py

bench-sim: setup
	$(BIN)/python bench/sim_model.py

bench-network: setup compile
	$(BIN)/python bench/network.py

bench-indexer: setup compile  # not in `make bench`: ~1 min to settle and index 5,000 sessions
	$(BIN)/python bench/indexer.py

bench-app: app compile
	$(BIN)/python bench/app_page_load.py
	$(BIN)/python bench/app_page_load.py --demo

## ---- auditors (docs/auditing.md) ----
# Solidity line and branch coverage of the unit tests. ape-solidity implements no coverage
# support, so `ape test --coverage` finds nothing: tools/solcov records the program counters
# py-evm executes and maps them through solc's source maps. Fails below the floor.
COVERAGE_MIN_LINES ?= 95
COVERAGE_MIN_BRANCHES ?= 90
coverage: compile
	@mkdir -p out/coverage && rm -f out/coverage/hits.json
	SOLCOV_OUT=$(ROOT)/out/coverage/hits.json PYTHONPATH=$(ROOT)/src:$(ROOT) \
		$(BIN)/ape test tests/contracts/unit -p tools.solcov.hits
	$(BIN)/python tools/solcov/report.py out/coverage/hits.json --lcov out/coverage/lcov.info \
		--min-lines $(COVERAGE_MIN_LINES) --min-branches $(COVERAGE_MIN_BRANCHES)

# Foundry invariant suites (tests/foundry/): CI's shallow budget, and the deep campaign.
# RUNS=, DEPTH=, SEED= override (a failure prints the command that reproduces it).
FORGE_ARGS = $(if $(RUNS),--runs $(RUNS)) $(if $(DEPTH),--depth $(DEPTH)) $(if $(SEED),--seed $(SEED))
test-forge: setup
	$(BIN)/python tools/forge_invariants.py --profile default $(FORGE_ARGS)

audit: setup
	$(BIN)/python tools/forge_invariants.py --profile deep $(FORGE_ARGS)

# Mutation testing with the unit tests as the oracle (tools/mutate.py). Each mutant costs a
# compile and a test run (about a minute here): MUTATE_MAX samples that many per contract.
MUTATE_CONTRACTS ?= SessionSettlement CreditLedger OperatorStaking RewardsEngine
MUTATE_MAX ?= 0
mutate: setup compile
	$(BIN)/python tools/mutate.py $(MUTATE_CONTRACTS) --max $(MUTATE_MAX)

clean:
	rm -rf .build contracts/.cache .pytest_cache .mypy_cache .ruff_cache crytic-export
