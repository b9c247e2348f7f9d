# Everything a fresh machine needs: `make demo` runs the main job, `make test` the whole suite.
# Each target creates and fills the local virtual environment (.venv) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-tensorflow doctest lint docs wheel-check test-keras-newest bench bench-quick clean

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

# The notebooks the TensorFlow suite executes (nbmake). .ci/run passes NOTEBOOKS= because
# its docs step executes them anyway, to render them (a notebook that raises fails it).
NOTEBOOKS ?= notebooks

# Test processes in parallel (pytest-xdist): one per core; `make test JOBS=0` runs serially.
JOBS ?= auto

# The suite runs on every Keras backend: TensorFlow (with the notebooks), then JAX and PyTorch;
# then every docstring Example runs as a doctest.
test: lint
	$(BIN)/python -m pytest -n $(JOBS) --nbmake tests $(NOTEBOOKS)
	KERAS_BACKEND=jax $(BIN)/python -m pytest -n $(JOBS) -m "not distributed" -q tests
	KERAS_BACKEND=torch $(BIN)/python -m pytest -n $(JOBS) -m "not distributed" -q tests
	$(BIN)/python -m pytest --doctest-modules -q keras_lrfind

test-tensorflow: lint
	$(BIN)/python -m pytest -n $(JOBS) --nbmake tests $(NOTEBOOKS)

doctest: $(STAMP)
	$(BIN)/python -m pytest --doctest-modules -q keras_lrfind

# The documentation site, into site/: the pages in docs/, the notebooks (executed while
# building), the API reference from the docstrings, the benchmark reports. Strict: a broken
# link or reference, or a notebook that raises, fails the build. No network needed.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Builds the sdist and wheel, installs the wheel into a fresh environment outside the source
# tree and runs the demo there for one epoch (.ci/wheel-check says more).
wheel-check: $(STAMP)
	PYTHON=$(PYTHON) VENV_BIN=$(BIN) .ci/wheel-check

# The TensorFlow suite against the newest Keras on the registry, when it is newer than ours;
# allowed to fail (a banner, exit 0).
test-keras-newest: $(STAMP)
	PYTHON=$(PYTHON) VENV_BIN=$(BIN) .ci/keras-newest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache
