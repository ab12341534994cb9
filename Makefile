# hotline: the two commands a newcomer needs are `make demo` and `make test` (as root on
# Debian/Ubuntu). Everything they need is installed on first use; later runs reuse it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv lab lab-down lab-status test unit integration lint demo bench clean

help:
	@echo "make demo        lab up (Asterisk, Redis, Mosquitto, RT) + the service + simulated calls"
	@echo "make test        install what is missing, start the lab, run lint and every test"
	@echo "make lab         start the lab only;  make lab-down / make lab-status"
	@echo "make bench       run the benchmarks (prints one JSON line each)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { apt-get update -q && apt-get install -y -q python3 python3-venv; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -q && apt-get install -y -q python3-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,speech]'
	touch $(STAMP)

venv: $(STAMP)

lab: venv
	$(BIN)/hotline lab up

lab-down: venv
	$(BIN)/hotline lab down

lab-status: venv
	$(BIN)/hotline lab status

lint: venv
	$(BIN)/ruff check .

unit: venv
	$(BIN)/pytest -q tests/unit

integration: lab
	$(BIN)/pytest -q tests/integration

# The test command (README, .ci/run): lint, then every test, against the real lab.
test: lab lint
	$(BIN)/pytest -q -p no:cacheprovider tests

demo: lab
	$(BIN)/hotline demo

bench: lab
	$(BIN)/python bench/ami_ingest.py
	$(BIN)/python bench/routing_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
