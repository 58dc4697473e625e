# Everything a user or CI runs goes through these targets. The virtual environment is
# created and filled on first use (and again whenever pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: demo test lint format bench docs experiments fashion-mnist gpu-check clean

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

## bench: the benchmark tables (installs the optional PyTorch CPU build; W4 takes ~30 minutes)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/fashion_mnist.py || echo "fashion_mnist.py needs dataset-fashion-mnist (make fashion-mnist)"

## docs: redraw the README's figures into docs/ (full-size experiment runs and a small sweep)
docs: $(STAMP)
	$(BIN)/nnfs-jax experiments run e01 e03 e04 e06 e07 e08 e10 e11 --out out/docs --quiet
	$(BIN)/nnfs-jax sweep --lr 0.01,0.03,0.1,0.3,1 --momentum 0,0.5,0.9 --seeds 4 --epochs 2001 --out out/docs/sweep --quiet
	cp out/docs/e01_data_sets/spiral.png docs/data_spiral.png
	cp out/docs/e03_random_search/search_progress.png docs/search_progress.png
	cp out/docs/e04_derivatives/fd_error_sin.png docs/fd_error.png
	cp out/docs/e06_backprop_gradients/gradient_errors_2-64-3.png docs/gradient_errors.png
	cp out/docs/e07_train_spiral/learning_curves.png docs/train_curves.png
	cp out/docs/e07_train_spiral/decision_boundary.png docs/train_boundary.png
	cp out/docs/e07_train_spiral/drift.png docs/train_drift.png
	cp out/docs/e08_perceptron_and_xor/xor_outputs.png docs/xor.png
	cp out/docs/e10_linear_regression/loss.png docs/linear_regression.png
	cp out/docs/e11_regularization/decision_boundary.png docs/regularization.png
	cp out/docs/sweep/sweep_heatmap.png docs/sweep_heatmap.png

## gpu-check: on an accelerator, a subset of the tests and the W3/W4/W5/Fashion-MNIST timings
## in one table (without one it says so and exits 0; needs JAX's CUDA build on a GPU machine)
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

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
