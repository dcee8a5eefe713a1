# Everything a developer or CI runs. Each target creates the environment when missing.
PY ?= python3
VENV ?= .venv
# The local CPU build of torch; users wanting CUDA run e.g.
#   make setup TORCH="torch --index-url <your CUDA wheel index>"
TORCH ?= torch==2.13.0
EXAMPLE ?= resources/examples/residual_cnn.strata
BIN := $(VENV)/bin

.PHONY: setup studio test lint bench examples clean

$(BIN)/.strata-installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.strata-installed

studio: setup
	$(BIN)/strata $(EXAMPLE)

lint: setup
	$(BIN)/ruff check graph runtime studio tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 2 -q

bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_graph.py
	$(BIN)/python benchmarks/bench_training.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_editor.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_gui.py
	$(BIN)/python benchmarks/bench_scale.py

examples: setup
	$(BIN)/python resources/examples/make_examples.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
