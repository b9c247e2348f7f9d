# Everything a fresh machine needs: `make demo` runs the main job, `make test` the whole suite.
# Each target creates and fills the local virtual environment (.venv) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-tensorflow lint bench bench-quick clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m keras_lrfind demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The suite runs on every Keras backend: TensorFlow (with the notebooks), then JAX and PyTorch.
test: lint
	$(BIN)/python -m pytest --nbmake tests notebooks
	KERAS_BACKEND=jax $(BIN)/python -m pytest -m "not distributed" -q tests
	KERAS_BACKEND=torch $(BIN)/python -m pytest -m "not distributed" -q tests

test-tensorflow: lint
	$(BIN)/python -m pytest --nbmake tests notebooks

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
