# The two commands of the README, and the few an author needs.
#   make run    the app with reload on http://127.0.0.1:8000 (docs at /docs)
#   make test   every lint, every tool test, every checkpoint and step
# Both create .venv from requirements.txt when it is missing or stale.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER := $(VENV)/.installed-browser
PORT   ?= 8000
# The offline room kit (make wheelhouse): a folder of wheels, or the address an
# instructor serves one at (make venv WHEELHOUSE=http://192.168.1.10:8080/).
# When it is there, make venv reads the kit's own pip options (its kit.txt:
# those wheels alone), still --require-hashes. No index option is set here.
WHEELHOUSE ?= wheelhouse
KIT := $(if $(findstring ://,$(WHEELHOUSE)),$(WHEELHOUSE),$(if $(wildcard $(WHEELHOUSE)/kit.txt),$(WHEELHOUSE)))
FROM_KIT := $(if $(KIT),-r $(patsubst %/,%,$(KIT))/kit.txt)

.DEFAULT_GOAL := help
.PHONY: help run worker test lint venv browser lock wheelhouse clean

help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-7s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: $(STAMP) ## run the app with reload on port 8000 (make run PORT=8080 for another)
	$(BIN)/workshop serve --port $(PORT)

worker: $(STAMP) ## the Celery worker of step 8 on, restarted on every save (beside make run)
	$(BIN)/workshop worker

test: $(STAMP) $(BROWSER) ## authors: every check (lint, tool tests, all checkpoints)
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
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "error: Python 3.11 or newer is needed (found $$($(PYTHON) --version))" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(KIT),@echo "installing from the kit in $(KIT) (no package index)")
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(FROM_KIT) --require-hashes --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(FROM_KIT) --no-deps --no-build-isolation --editable .
	@touch $@

$(BROWSER): $(STAMP) requirements-browser.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-browser.txt
	@touch $@

lock: ## re-resolve requirements*.txt (versions and hashes, no URLs)
	@test -x .cache/lock/bin/uv || { $(PYTHON) -m venv .cache/lock && .cache/lock/bin/python -m pip install --quiet uv==0.13.8; }
	.cache/lock/bin/uv pip compile pyproject.toml --group dev --universal \
	  --python-version 3.11 --generate-hashes --upgrade \
	  --custom-compile-command "make lock" --output-file requirements.txt
	.cache/lock/bin/uv pip compile --group pyproject.toml:browser --constraints requirements.txt \
	  --universal --python-version 3.11 --generate-hashes --upgrade \
	  --custom-compile-command "make lock" --output-file requirements-browser.txt

wheelhouse: $(STAMP) ## the offline room kit: every locked wheel for Linux, macOS, Windows (3.11-3.13)
	$(BIN)/python -m workshop.course.kit --dest $(WHEELHOUSE)

clean: ## remove the virtual environment and caches (never app/ or data you typed)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
