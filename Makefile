# wagate: see README.md and docs/contributing.md. Every target installs what it needs
# first: `make run` only the runtime (Python, no Node, no development tools); `make install`,
# `make test` and the rest the development tools, the Node test clients and the test plugins.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check
NODE_DIR := tests/node
BUF    := $(NODE_DIR)/node_modules/.bin/buf
PROTOS := $(wildcard proto/wagate/v1/*.proto)

# The test plugins (third-party provider and bot packages, tests/plugins/*) go into a folder
# of their own, not into the venv's site-packages: the user's `wagate` never lists them, and
# the tests put the folder on PYTHONPATH (tests/support/plugins.py).
PLUGINS     := $(wildcard tests/plugins/*/pyproject.toml)
PLUGIN_SRC  := $(shell find tests/plugins -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*')
PLUGIN_DIR  := $(VENV)/test-plugins

.PHONY: help install run test test-fast bench proto proto-check lint clean

help:
	@echo "make run        start the gateway (installs the runtime into .venv; Python only)"
	@echo "make test       the whole suite, after proto-check and lint (installs everything)"
	@echo "make test-fast  unit tests only, no gateway, PostgreSQL or Node process (< 30 s)"
	@echo "make lint       ruff, mypy and buf lint"
	@echo "make install    the development setup: tools, Node test clients, test plugins"
	@echo "make proto      regenerate the committed gRPC/protobuf code from proto/"
	@echo "make bench      the benchmarks (see bench/README.md)"
	@echo "make clean      remove .venv, node_modules, caches and data/"

install: $(VENV)/.dev $(PLUGIN_DIR)/.installed $(NODE_DIR)/node_modules/.installed

# The runtime: wagate and its dependencies, nothing else.
$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || { bash tests/system-deps.sh $(PYTHON) && $(PYTHON) -m venv $(VENV); }
	$(PIP) -e .
	touch $@

# Development tools: pytest, grpcio-testing, Playwright (driving the system's Chromium),
# ruff, mypy, grpcio-tools; the servers the tests start (PostgreSQL, Redis).
$(VENV)/.dev: $(VENV)/.runtime
	bash tests/system-deps.sh $(PYTHON) node postgres chromium redis
	$(PIP) -e '.[dev]'
	touch $@

# Rebuilt when a plugin's files change, from a copy (a build leaves nothing in the tree);
# a copy an older setup installed into the venv itself is taken out.
$(PLUGIN_DIR)/.installed: $(VENV)/.runtime $(PLUGINS) $(PLUGIN_SRC)
	rm -rf $(PLUGIN_DIR)
	$(PY) -m pip uninstall -q -y wagate-acme-provider wagate-acme-bot 2>/dev/null || true
	tmp=$$(mktemp -d) && cp -r $(dir $(PLUGINS)) $$tmp/ && \
	$(PIP) --no-deps --target $(PLUGIN_DIR) $$tmp/*/; status=$$?; rm -rf $$tmp; exit $$status
	touch $@

# `npm ci` installs exactly the committed lock file and never rewrites it.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	bash tests/system-deps.sh $(PYTHON) node
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.runtime
	$(VENV)/bin/wagate serve

# Generated code is committed; `make proto` rewrites it from proto/.
proto: $(VENV)/.dev
	$(PY) -m grpc_tools.protoc -I proto --python_out=proto --pyi_out=proto \
		--grpc_python_out=proto $(PROTOS)

# Fails when the committed generated code is not what `make proto` produces.
proto-check: $(VENV)/.dev
	@tmp=$$(mktemp -d) && \
	$(PY) -m grpc_tools.protoc -I proto --python_out=$$tmp --pyi_out=$$tmp \
		--grpc_python_out=$$tmp $(PROTOS) && \
	for f in $$tmp/wagate/v1/*; do \
		cmp -s $$f proto/wagate/v1/$$(basename $$f) || { echo "generated code is stale: $$(basename $$f) (run make proto)"; exit 1; }; \
	done && rm -rf $$tmp && echo "generated code up to date"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy core gateway providers realtime storage tests bench
	$(BUF) lint

# Everything: unit and integration tests (gateway processes, PostgreSQL, Node clients).
test: install proto-check lint
	bash tests/run.sh

# The fast lane: unit tests only, no gateway, PostgreSQL or Node process (under 30 s).
test-fast: install
	bash tests/run.sh -m "not integration"

bench: install
	$(PY) -m bench
	$(PY) -m bench.bots
	$(PY) -m bench.scale

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules data .pytest_cache .mypy_cache .ruff_cache
