# Everything a user or CI runs goes through these targets. The virtual environment is
# created and filled on first use (and again whenever pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: demo test lint format bench experiments fashion-mnist clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## demo: the main job — train the documents' spiral classifier (seed 002) and print its log
demo: $(STAMP)
	$(BIN)/nnfs-jax train

## test: lint, format check and the whole test suite
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmark tables (installs the optional PyTorch CPU build; takes minutes)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

## fashion-mnist: install Debian's Fashion-MNIST files (optional, ~31 MB; needs root or sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
fashion-mnist:
	@if [ -f $(FASHION_MNIST) ]; then echo "Fashion-MNIST is installed"; else \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y dataset-fashion-mnist || \
	  { $$SUDO apt-get update && $$SUDO apt-get install -y dataset-fashion-mnist; }; fi

## experiments: run every experiment script, figures into out/
experiments: $(STAMP)
	$(BIN)/nnfs-jax experiments run all --out out

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache *.egg-info
