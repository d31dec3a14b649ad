# The two commands of the README: `make run` and `make test`. Both create the virtualenv they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format messages clean

# Two stamps: `make run` installs only what the app needs (requirements.txt); `make test` and the other developer
# commands add the tests' and linters' tools (requirements-dev.txt) on top. Each is redone when its file changes.
RUNTIME := $(BIN)/.installed-runtime
DEV := $(BIN)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): requirements.txt | $(BIN)/python
	scripts/system-packages run
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	scripts/system-packages test
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The compiled catalogs (.mo, not in git): each is rebuilt whenever its .po changes, before the app runs or tests.
CATALOGS := $(wildcard eventreg/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

%.mo: %.po | $(RUNTIME)
	$(BIN)/pybabel compile --statistics -i $< -o $@

run: $(RUNTIME) $(COMPILED)
	VENV=$(VENV) scripts/run-dev

test: $(DEV) $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Collect every translatable string (Python _() / _l() / ngettext, Jinja {% trans %} / _()) and bring every catalog
# up to date with them (scripts/messages.py); new and changed entries are then translated in each .po.
messages: $(RUNTIME)  # pybabel comes with flask-babel
	$(BIN)/python scripts/messages.py update
	$(MAKE) $(COMPILED)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
