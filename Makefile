# Two commands on a fresh machine: `make train` (the main job) and `make test`.
VENV ?= .venv
BB := $(VENV)/bin/bucket-brigade
ARGS ?=

.PHONY: train test test-all lint bench install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh $(VENV)
	touch $@

train: install
	$(BB) train $(ARGS)

test: install
	$(VENV)/bin/python -m pytest -q

test-all: install
	$(VENV)/bin/python -m pytest -q -m ""

lint: install
	$(VENV)/bin/ruff check src tests experiments examples

bench: install
	$(BB) bench env
