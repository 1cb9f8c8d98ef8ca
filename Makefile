# wagate — see README.md. Every target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
NODE_DIR := tests/node
BUF    := $(NODE_DIR)/node_modules/.bin/buf
PROTOS := $(wildcard proto/wagate/v1/*.proto)

.PHONY: install run test test-fast bench proto proto-check lint clean

install: $(VENV)/.installed $(NODE_DIR)/node_modules/.installed

# The test plugins (a third-party provider and a third-party bot package) are
# installed beside wagate.
PLUGINS := tests/plugins/acme_provider tests/plugins/acme_bot

$(VENV)/.installed: pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	$(PY) -m pip install -q --disable-pip-version-check $(addprefix -e ,$(PLUGINS))
	touch $@

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(VENV)/bin/wagate serve

# Generated code is committed; `make proto` rewrites it from proto/.
proto: $(VENV)/.installed
	$(PY) -m grpc_tools.protoc -I proto --python_out=proto --pyi_out=proto \
		--grpc_python_out=proto $(PROTOS)

# Fails when the committed generated code is not what `make proto` produces.
proto-check: $(VENV)/.installed
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

test: install proto-check lint
	bash tests/run.sh

# The fast lane: unit tests only, no gateway, PostgreSQL or Node process (under 30 s).
test-fast: install
	bash tests/run.sh -m "not integration"

bench: install
	$(PY) -m bench
	$(PY) -m bench.bots

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules data .pytest_cache .mypy_cache .ruff_cache
