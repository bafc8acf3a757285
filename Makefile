# Liêm Chính — one entry point for people and CI.
#   make run    install into .venv, init the instance, serve intake :8080 and review :8081
#   make test   install dev tools into .venv, run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# Tests run in parallel, one pytest-xdist worker per core: every test has its own
# installation (tests/conftest.py), so they share nothing. PYTEST_WORKERS= runs them in
# one process (a debugger, or reading one failure's output in order).
PYTEST_WORKERS ?= -n auto
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi:review_app
INTAKE_BIND ?= 127.0.0.1:8080
REVIEW_BIND ?= 127.0.0.1:8081
CATALOGS := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test lint js bench translations extract-messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

%.mo: %.po $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -i $< -o $@ 2>&1 | tail -1

translations: $(COMPILED)

run: $(VENV)/.runtime translations
	$(FLASK) init
	@$(FLASK) setup-link 2>/dev/null && { \
	  echo "  ^ open this one-time link to create the first administrator (valid 1 hour)"; \
	  echo "  Reports sent before the intake unit has a member open only with the recovery key:"; \
	  echo "  flask --app wsgi:review_app grants fulfil --identity RECOVERY_KEY_FILE (README, First run)"; \
	} || true
	@echo "intake (reporters): http://$(INTAKE_BIND)   review (staff): http://$(REVIEW_BIND)   Ctrl-C stops both"
	@# Ctrl-C sends SIGINT to every process in the terminal's group: both gunicorn masters
	@# and their workers shut down quickly on it. This shell must not signal them again: a
	@# second SIGINT makes a master wait out graceful_timeout and SIGKILL its workers. It
	@# stops the other server only when one exits on its own (a port in use), and forwards
	@# a SIGTERM (a service manager's stop) as one SIGINT each.
	@stopping=; \
	trap 'stopping=1' INT; \
	trap 'stopping=1; kill -INT $$intake $$review 2>/dev/null' TERM; \
	$(BIN)/gunicorn -c config/gunicorn.py --bind $(INTAKE_BIND) wsgi:intake_app & intake=$$!; \
	$(BIN)/gunicorn -c config/gunicorn.py --bind $(REVIEW_BIND) wsgi:review_app & review=$$!; \
	wait -n; \
	[ -n "$$stopping" ] || kill -INT $$intake $$review 2>/dev/null; \
	wait

test: $(VENV)/.dev translations
	@# node_modules first: the browser tests inject axe-core from it.
	@if command -v npm >/dev/null; then \
	  [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; \
	fi
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@if command -v node >/dev/null; then node --test tests/js/; \
	else echo "node not installed: browser-encryption tests (tests/js) skipped"; fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app config
	$(BIN)/mypy --strict crypto

js:
	npm ci --no-audit --no-fund
	$$(cat assets/js/BUILD)

bench: $(VENV)/.dev translations
	$(BIN)/python bench/run_all.py

extract-messages: $(VENV)/.dev
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
