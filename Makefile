# ShopVideo: `make demo` runs the product on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch first, pinned, so that nothing later resolves torch to a CUDA build.
TORCH_VERSION := 2.13.0

.PHONY: install system-deps demo test lint format migrate messages clean bench

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	$(PIP) install --quiet -c requirements.lock -e '.[dit,dev]'
	touch $@

install: system-deps $(VENV)/.installed messages

system-deps:
	@bash scripts/system-deps.sh

messages: $(VENV)/.installed
	@# Compile the translation catalogues (.mo files are not committed).
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

migrate: install
	$(PY) manage.py migrate --noinput

demo: install
	$(PY) scripts/demo.py

test: install
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/compositor_bench.py

clean:
	rm -rf var/test-* .pytest_cache
