# Two entry points: `make study` runs the embedded study, `make test` runs the test suite.
# Both create the virtual environment from requirements.lock first (offline except PyPI).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup study test report

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# A run killed mid-way (kill -9, a crash) continues with the same command: its stale lock is cleared
# (latentfacts/study.py) and the training runs go on from their last finished epoch.
study: setup
	$(PY) -m latentfacts.study --profile profiles/local

report: setup
	$(VENV)/bin/snakemake --profile profiles/local --report results/report.html

test: setup
	$(VENV)/bin/pytest -q
