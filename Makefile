# The two commands of the README: `make run` and `make test`. Each installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MO := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/messages.po))

.PHONY: install run test lint format messages bench bench-ocr clean

install: $(STAMP) $(MO)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compiled catalogs are build output: made from the .po files, never committed.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d locales -D messages

run: install
	$(PY) -m bot

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install lint
	$(VENV)/bin/pybabel compile -d locales -D messages
	$(PY) -m pytest -q

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-extract the texts after changing any user-facing string; Spanish is the source, so its
# catalog fills itself; other languages' .po files then need their new entries translated.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -o locales/messages.pot --no-location --sort-output .
	$(PY) tools/fill_source_catalog.py
	for po in locales/*/LC_MESSAGES/messages.po; do \
	  case $$po in locales/es/*) ;; *) $(VENV)/bin/pybabel update -i locales/messages.pot \
	    -l $$(echo $$po | cut -d/ -f2) -o $$po --no-fuzzy-matching ;; esac; done

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(PY) -m bench

# Reading a photo of a document: seconds per photo and the OCR worker's memory.
bench-ocr: install
	$(PY) -m bench.ocr

clean:
	rm -rf $(VENV) data .pytest_cache
