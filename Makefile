# Two commands on a fresh machine: `make train` (the main job) and `make test`.
VENV ?= .venv
BB := $(VENV)/bin/bucket-brigade
ARGS ?=
# Optional dependency groups (pyproject.toml): EXTRAS=dev,ray make install adds Ray; by
# default those of the last install (dev at first).
EXTRAS ?= $(or $(shell cat $(VENV)/.extras 2>/dev/null),dev)
export EXTRAS

.PHONY: train test test-all lint bench install FORCE

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh $(VENV)/.extras
	bash scripts/install.sh $(VENV)
	touch $@

# The EXTRAS of the last install, rewritten only when they change: a new list installs again.
$(VENV)/.extras: FORCE
	@mkdir -p $(VENV)
	@echo '$(EXTRAS)' | cmp -s - $@ || echo '$(EXTRAS)' > $@

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
