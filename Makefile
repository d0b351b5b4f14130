# Everything here installs what it needs on a fresh machine: Python packages into .venv,
# the pinned CDK CLI into node_modules, checkov into its own tool environment.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .tools/checkov
CHECKOV_VERSION := 3.3.30

# Node 20 is past jsii's support window; the value is the silenced major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Synth is offline: no instance-metadata probing, no notices, no telemetry.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true
export CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: setup system-tools synth test test-fast collector lint bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed:
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

setup: $(VENV)/.installed node_modules/.installed

## synth: synthesize every environment in cdk.json into cdk.out (offline, no AWS credentials)
synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet --no-notices --no-version-reporting
	@ls cdk.out/*.template.json

## collector: build (once; cached by manifest hash) the collectors and telemetrygen the tests run
collector: setup
	$(PY) tools/collector.py build
	$(PY) tools/collector.py telemetrygen
	$(PY) tools/collector.py build-ecs

## system-tools: iproute2 for the network-namespace tests (installed only when missing, as root)
system-tools:
	@command -v ip >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq iproute2; }

## test: every test, including linters, the probe's Go tests and end-to-end tests
test: setup system-tools $(CHECKOV_VENV)/.installed collector
	$(PY) -m pytest

## test-fast: the tests without the end-to-end ones
test-fast: setup
	$(PY) -m pytest -m "not e2e"

## lint: every linter CI runs (ruff, mypy, import-linter, hadolint, gofmt and go vet); pre-commit runs this
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	PYTHONPATH=constructs:. $(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint docker/Dockerfile docker/*.Dockerfile
	@for module in healthcheck supervisor; do \
	  unformatted=$$(cd $$module && gofmt -l .); \
	  if [ -n "$$unformatted" ]; then echo "gofmt: $$module: $$unformatted"; exit 1; fi; \
	  (cd $$module && go vet ./...); \
	done

bench: setup collector
	$(PY) benchmarks/synth_bench.py
	bash benchmarks/probe_bench.sh
	$(PY) benchmarks/e2e_bench.py
	$(PY) benchmarks/queue_bench.py
	$(PY) benchmarks/sampling_bench.py
	$(PY) benchmarks/instrument_bench.py
	$(PY) benchmarks/agent_startup_bench.py

clean:
	rm -rf cdk.out .pytest_cache
