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
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(RUNTIME)
	VENV=$(VENV) scripts/run-dev

test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Collect every translatable string (Python _() / lazy_gettext, Jinja {% trans %} / _()) into a template.
messages: $(RUNTIME)  # pybabel comes with flask-babel
	mkdir -p eventreg/translations
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -o eventreg/translations/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
