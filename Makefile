# Everything runs from a project-local virtualenv built from pyproject.toml, so a fresh clone
# needs nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bots

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

# Many chats at once against the fake OpenAI server on loopback; bounded by SOAK_SECONDS.
SOAK_SECONDS ?= 120
SOAK_CHATS ?= 200
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CHATS=$(SOAK_CHATS) $(BIN)/python -m tests.reliability.soak

# Benchmarks (issue 5): a few minutes; not part of `make test`. `make bench ARGS=--quick`.
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
