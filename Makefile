# Portail usager — the two commands: `make run` and `make test` (then `make deploy-check`, `make docs`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
export PIP_NO_INPUT := 1

UV_VERSION := 0.13.9

.PHONY: run test install install-test system-packages bench-packages lint unit integration bench messages clean lock docs deploy-check screenshots soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Exactly the versions in the lock files (requirements/*.txt, with hashes; `make lock` refreshes them),
# then the portal itself, editable, without touching them; `pip check` fails when pyproject.toml asks
# for something the lock lacks (run `make lock`). Reinstall whenever a lock changes.
$(VENV)/.installed: requirements/portail.txt pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements/portail.txt
	$(PIP) install --no-deps -e .
	$(BIN)/python -m pip check
	@touch $@

$(VENV)/.installed-test: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements/dev.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@ $(VENV)/.installed

# Resolve pyproject.toml's ranges again (newest versions) into the lock files, hashes included.
UV_COMPILE = $(BIN)/uv pip compile --quiet --upgrade --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock"
lock: | $(BIN)/python
	$(PIP) install uv==$(UV_VERSION)
	$(UV_COMPILE) pyproject.toml --extra postgres -o requirements/portail.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra postgres --extra test --extra docs \
	  -c requirements/portail.txt -o requirements/dev.txt

# axe-core (npm) for the accessibility checks of the browser tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test system-packages node_modules/.installed

# Debian packages the browser tests need (only when run as root, and only if missing).
system-packages:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

run: install
	$(BIN)/portail migrate
	$(BIN)/portail demo
	$(BIN)/portail serve --host 127.0.0.1 --port 8000

# mypy: [tool.mypy] in pyproject.toml (--strict's flags for portail_domain); radon: no function of src/
# above cyclomatic complexity 15 (grade C from 16 on).
lint: install-test
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench examples deploy
	$(BIN)/mypy
	@$(BIN)/radon cc src -s -n C | awk -F'[()]' '/ - [C-F] \([0-9]+\)$$/ && $$2 > 15 {print; bad = 1} \
	  END {if (bad) {print "complexity above 15 (radon cc src -s -n C)"; exit 1}}'

test: install-test lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The production layout of docs/production.md on this machine (PostgreSQL, SeaweedFS as S3, an SMTP
# relay, two workers), started from the guide's own commands, and a subscriber's journey through it.
deploy-check: install-test
	$(BIN)/python deploy/check/run.py

# The fault-and-load suite (bench/soak.py): PostgreSQL, two workers, SeaweedFS, an SMTP relay; 50
# subscribers' journeys for 10 minutes while the database, S3 and SMTP fail in turn; then invariants.
soak: install-test
	$(BIN)/python bench/soak.py

# The embedders' documentation (MkDocs + mkdocstrings), warnings are errors.
docs: install-test
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site

# Every subscriber page at 1280 and 390 px in Chromium: var/screenshots/$(LABEL)-WIDTH-PAGE.png (not
# committed), and per width the pages that scroll sideways and axe's violations.
LABEL ?= now
screenshots: install-test
	$(BIN)/python -m tests.browser.tour $(LABEL)

unit: install-test
	$(BIN)/python -m pytest tests/unit

integration: install-test
	$(BIN)/python -m pytest tests/integration

# wrk drives the page benchmark (Debian package; only when run as root, and only if missing).
bench-packages:
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's wrk for bench/bench_pages.py"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi

bench: install-test bench-packages
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Refresh the English catalog from the French source strings (then translate what is new).
messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --omit-header --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d src/portail_web/locale -D messages --ignore-obsolete --no-fuzzy-matching -w 110

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules
