# The two commands of the README, and the few an author needs.
#   make run    the app with reload on http://127.0.0.1:8000 (docs at /docs)
#   make test   every lint, every tool test, every checkpoint and step
# Both create .venv when it is missing or stale, with `python -m workshop setup`
# (workshop/setup.py: the path without make calls the same code):
#   requirements.txt          the learner lock: the app, the checks, the hooks
#   requirements-authors.txt  the authors' lock, added by make test
#   requirements-browser.txt  Playwright, for the browser tests only

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AUTHORS := $(VENV)/.installed-authors
BROWSER := $(VENV)/.installed-browser
PORT   ?= 8000
# The offline room kit (make wheelhouse): a folder of wheels, or the address an
# instructor serves one at (make venv WHEELHOUSE=http://192.168.1.10:8080/).
# workshop setup reads the kit's own pip options from there (its kit.txt: those
# wheels alone), still with every hash checked. No index option is set here.
WHEELHOUSE ?= wheelhouse
SETUP := $(PYTHON) -m workshop setup --venv $(VENV) --wheelhouse $(WHEELHOUSE)

.DEFAULT_GOAL := help
.PHONY: help run worker test lint venv browser lock wheelhouse clean

help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-7s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: $(STAMP) ## run the app with reload on port 8000 (make run PORT=8080 for another)
	$(BIN)/workshop serve --port $(PORT)

worker: $(STAMP) ## the Celery worker of step 8 on, restarted on every save (beside make run)
	$(BIN)/workshop worker

test: $(AUTHORS) $(BROWSER) ## authors: every check (lint, tool tests, all checkpoints)
	@$(BIN)/python -m workshop.course.authoring
	$(BIN)/pre-commit run --all-files --show-diff-on-failure
	$(BIN)/pytest -n auto -q
	$(BIN)/workshop verify

lint: $(STAMP) ## ruff and the pre-commit checks only
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

venv: $(STAMP) ## create or refresh .venv

# Playwright, for the browser tests only: learners' make venv never installs it.
browser: $(BROWSER) ## authors: add Playwright to .venv (make test does it)

$(STAMP): requirements.txt pyproject.toml
	@$(SETUP)

$(AUTHORS): $(STAMP) requirements-authors.txt
	@$(SETUP) --authors

$(BROWSER): $(AUTHORS) requirements-browser.txt tests/timeline/package.json
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-browser.txt
	@# axe-core, for the timeline's accessibility test (its version pinned in package.json)
	@if command -v npm > /dev/null; then npm install --silent --no-audit --no-fund --no-package-lock --prefix tests/timeline; fi
	@touch $@

# uvicorn[standard] (fastapi-cli asks for it) brings uvloop, httptools and
# websockets: speedups the app never uses (uvicorn falls back to asyncio and
# h11), 16 MB of a learner's .venv. They are left out of both locks.
UNUSED := --no-emit-package uvloop --no-emit-package httptools --no-emit-package websockets
# SQLAlchemy (the SQLite broker) is locked to its pure-Python wheel: its
# compiled speedups are 9 MB of a learner's .venv (workshop/course/pure.py).
PURE := sqlalchemy
COMPILE = .cache/lock/bin/uv pip compile --universal --python-version 3.11 \
	  --generate-hashes --upgrade --custom-compile-command "make lock"

lock: ## re-resolve requirements*.txt (versions and hashes, no URLs)
	@test -x .cache/lock/bin/uv || { $(PYTHON) -m venv .cache/lock && .cache/lock/bin/python -m pip install --quiet uv==0.13.8; }
	$(COMPILE) pyproject.toml --group pyproject.toml:learner $(UNUSED) --output-file requirements.txt
	.cache/lock/bin/python -m workshop.course.pure requirements.txt $(PURE)
	$(COMPILE) --group pyproject.toml:authors $(UNUSED) --constraints requirements.txt --output-file requirements-authors.txt
	$(COMPILE) --group pyproject.toml:browser --constraints requirements.txt --output-file requirements-browser.txt

wheelhouse: $(STAMP) ## the offline room kit: every locked wheel for Linux, macOS, Windows (3.11-3.13)
	$(BIN)/python -m workshop.course.kit --dest $(WHEELHOUSE)

clean: ## remove the virtual environment and caches (never app/ or data you typed)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
