# One command to set up and run the main job (`make demo`), one to run every test (`make test`).
# `make book` renders the chapters as a static site; `make lab` opens them in JupyterLab.
# TORCH pins the CPU wheel that lies on the project's build machines; elsewhere: make demo TORCH=torch
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup demo test data notebooks book lab clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[all]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/gapd-lite demo

test: setup
	$(BIN)/python -m pytest -n 2 -q

notebooks: setup
	for f in notebooks/src/*.py; do $(BIN)/jupytext --to ipynb --set-kernel python3 -q --output notebooks/$$(basename $${f%.py}).ipynb $$f; done

# the ten chapters as committed (with their outputs) and a landing page, as a static site in book/_build/html
book: setup
	$(BIN)/jupyter-book build book/

# the chapters in JupyterLab, on the kernel of the same environment as `make demo` (root, as in a container, is allowed)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

data: setup
	$(BIN)/python data_samples/build_kb.py
	$(BIN)/python data_samples/build_questions.py

clean:
	rm -rf $(VENV) build *.egg-info book/_build
