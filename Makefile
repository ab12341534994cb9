# hotline: the two commands a newcomer needs are `make demo` and `make test` (as root on
# Debian/Ubuntu). Everything they need is installed on first use; later runs reuse it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help lock venv lab lab-down lab-status test unit integration lint demo bench load clean

help:
	@echo "make demo        lab up (Asterisk, Redis, Mosquitto, RT) + the service + simulated calls"
	@echo "make test        install what is missing, start the lab, run lint and every test"
	@echo "make lab         start the lab only;  make lab-down / make lab-status"
	@echo "make bench       run the benchmarks (prints one JSON line each; about 15 minutes)"
	@echo "make load        the 300-seat load test (uses seats 1001-1300: nothing else on the lab)"
	@echo "make lock        refresh requirements.txt (exact versions + hashes) from pyproject.toml"

# Exact versions with hashes (requirements.txt, made by `make lock` from pyproject.toml), then
# hotline itself without dependencies: a fresh machine gets the versions the tests passed with.
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { apt-get update -q && apt-get install -y -q python3 python3-venv; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -q && apt-get install -y -q python3-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Refresh the lock file from pyproject.toml with today's releases (uv, in the venv); commit both.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra speech --universal --python-version 3.11 \
		--generate-hashes --upgrade -o requirements.txt

lab: venv
	$(BIN)/hotline lab up

lab-down: venv
	$(BIN)/hotline lab down

lab-status: venv
	$(BIN)/hotline lab status

# ruff, mypy ([tool.mypy]: files, strict core modules), then the architecture contracts
# ([tool.importlinter]: layers, pure core, lab out); all in pyproject.toml
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest -q tests/unit

integration: lab
	$(BIN)/pytest -q tests/integration

# The test command (README, .ci/run): lint, then every test, against the real lab.
test: lab lint
	$(BIN)/pytest -q -p no:cacheprovider tests

demo: lab
	$(BIN)/hotline demo --json

# Each script measures hotline and its baseline in the same run; last line one JSON object.
bench: lab
	$(BIN)/python bench/ami_ingest.py
	$(BIN)/python bench/routing_latency.py
	$(BIN)/python bench/dispatch_latency.py
	$(BIN)/python bench/wallboard_latency.py
	$(BIN)/python bench/qa_sampling.py
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/asr_accuracy.py

load: lab
	$(BIN)/python bench/load_300.py --steps 100,200,300 --step-s 60

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
