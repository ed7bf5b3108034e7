# ShopVideo: `make demo` runs the product on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
# torch first, pinned, so that nothing later resolves torch to a CUDA build.
TORCH_VERSION := 2.13.0
# The DiT engine's drawing utilities (canny, OpenPose). Installed without its dependencies: they would pull
# torchvision and timm, and a torch build of their choosing. What it imports is already in the lock.
CONTROLNET_AUX := controlnet_aux==0.0.10
# Translation catalogues: sources are committed, compiled .mo files are not.
PO_FILES := $(shell find . \( -path ./.venv -o -path ./var -o -path ./.git \) -prune -o -name '*.po' -print)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install system-deps demo test lint format migrate messages clean bench openapi

install: system-deps $(STAMP) messages

# Rebuilt only when the dependency lists change; a second `make install` does nothing.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	$(PIP) install --quiet -c requirements.lock -e '.[dit,dev]'
	$(PIP) install --quiet --no-deps $(CONTROLNET_AUX)
	touch $@

system-deps:
	@bash scripts/system-deps.sh

messages: $(MO_FILES)

%.mo: %.po
	msgfmt --check-format -o $@ $<

migrate: install
	$(PY) manage.py migrate --noinput

# Embedded Redis + SQLite + gunicorn + a Celery worker; first videos through the queue; Ctrl-C stops everything.
# PORT=8000 by default; DEMO_ARGS=--resubmit sends a new demo batch even if one exists.
demo: install
	$(PY) scripts/demo.py $(DEMO_ARGS)

# With DATABASE_URL/REDIS_URL set the suite runs on PostgreSQL/Redis, otherwise on SQLite and an embedded Redis.
# With REDIS_URL set: TEST_PROCESSES pytest-xdist processes, a module at a time each (module-scoped workers and
# fixtures stay in one process), each with its own test database and Redis database number (REDIS_URL's and the
# next ones). On the embedded defaults one process: there the worker tests do not yet run in parallel processes.
# pytest's exit code 5 (no tests collected) is a failure here, not a silent pass.
TEST_PROCESSES ?= $(if $(REDIS_URL),2,0)
test: install
	@rc=0; $(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

# The committed OpenAPI snapshot that tests/api/test_openapi_snapshot.py compares with; run after a deliberate API change.
openapi: $(STAMP)
	DJANGO_SETTINGS_MODULE=shop_video.settings_test DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-openapi-snapshot-$$(date +%s%N)-not-a-secret}" \
		$(PY) manage.py spectacular --file tests/api/openapi.yaml

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/compositor_bench.py

clean:
	rm -rf var/test-* .pytest_cache $(MO_FILES)

# Failure drills (tests/drills) on whatever DATABASE_URL/REDIS_URL say, then docs/reliability.md from their figures
# under $(SHOPVIDEO_VAR_DIR)/reliability (var/ by default). RELIABILITY_RUN=0 only re-renders the page.
.PHONY: reliability
RELIABILITY_RUN ?= 1
reliability:
	if [ "$(RELIABILITY_RUN)" = 1 ]; then $(PY) -m pytest tests/drills -q; fi
	$(PY) -m shop_video.ops.reliability

# Dashboard screenshots: the e2e tests write them under $(SHOPVIDEO_VAR_DIR)/screens (var/ by default); this copies
# them, made small, to docs/screens/ and regenerates docs/screens.md. SCREENS_RUN=0 only copies.
.PHONY: screens
SCREENS_RUN ?= 1
screens:
	if [ "$(SCREENS_RUN)" = 1 ]; then $(PY) -m pytest tests/e2e -q; fi
	$(PY) tests/e2e/make_screens.py
