"""L2 regularization on the spiral data (NNFS chapter 14), trained by `nnfs_jax.train`.

The book's chapter-14 runs: `nnfs.init()`, `spiral_data(samples=..., classes=3)`,
`Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)`, ReLU,
`Layer_Dense(64, 3)`, the fused softmax + cross-entropy, `Optimizer_Adam(learning_rate=0.02,
decay=5e-7)`, 10,001 full-batch epochs, the log line
`epoch: ..., acc: ..., loss: ... (data_loss: ..., reg_loss: ...), lr: ...` every 100 epochs
(printed here every 1,000), then a test spiral `spiral_data(samples=100, classes=3)` drawn
after the training data and the weights, as the book draws them, for
`validation, acc: ..., loss: ...` after the last update. `nj.train` logs as the book does:
epoch 0 and every 100th epoch, each measured before that epoch's update (data loss,
regularization loss, accuracy and the learning rate the previous update used), and it also
evaluates the test spiral at every logged epoch, which gives validation curves.

Three runs, each from `nnfs.init()` as each of the book's listings starts:

1. 100 samples per class with L2 (the chapter's first run: training accuracy ~0.95 with a
   smaller gap to validation than without regularization);
2. the same data and weights without regularization (the overfitting it is compared with);
3. 1,000 samples per class with L2 (the chapter's second run: more data, less overfitting;
   the book then widens the hidden layer to 512, which this script does not).

`--quick`: 501 epochs each.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

import nnfs_jax as nj
from nnfs_jax import optim, plot

NAME = Path(__file__).stem
LOG_EVERY = 100  # the book's `if not epoch % 100`: the learning curves' points
PRINT_EVERY = 1000  # the log lines printed


def printer(entry: nj.LogEntry) -> None:
    """Print the book's log line every PRINT_EVERY epochs and at the last logged epoch."""
    if entry.epoch % PRINT_EVERY == 0 or entry.epoch + LOG_EVERY >= entry.epochs:
        print(nj.format_log_line(entry))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="501 epochs instead of 10,001 (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed")
    return parser.parse_args(argv)


def train(params, X, y, X_test, y_test, model, epochs: int):
    """`nj.train` with the book's chapter-14 optimizer; returns (params, history, seconds)."""
    start = time.perf_counter()
    params, history = nj.train(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(learning_rate=0.02, decay=5e-7),
        epochs=epochs,
        log_every=LOG_EVERY,
        validation_data=(X_test, y_test),
        progress=printer,
    )
    jax.block_until_ready(params)
    return params, history, time.perf_counter() - start


def summary(name: str, params, history: nj.History, X, y, X_test, y_test, model, seconds) -> dict:
    """The final numbers of one run, printed and returned."""
    train_loss, train_acc = nj.evaluate(params, X, y, model=model)
    test_loss, test_acc = nj.evaluate(params, X_test, y_test, model=model)
    row = {
        "train_accuracy": float(history.accuracy[-1]),  # the book's last log line
        "train_loss": float(history.loss[-1]),
        "train_accuracy_after": float(train_acc),  # evaluation mode, after the last update
        "train_data_loss_after": float(train_loss),
        "validation_accuracy": float(test_acc),  # the book's validation, after the last update
        "validation_loss": float(test_loss),
        "regularization_loss": float(nj.model_regularization_loss(params, model)),  # after it
        "seconds": seconds,
    }
    print(f"validation, acc: {float(test_acc):.3f}, loss: {float(test_loss):.3f}\n")  # the book's
    print(
        f"{name}: train acc {row['train_accuracy']:.3f} loss {row['train_loss']:.3f} | "
        f"validation acc {row['validation_accuracy']:.3f} loss {row['validation_loss']:.3f} | "
        f"{seconds:.1f} s"
    )
    return row


def book_data(seed: int, samples: int):
    """`nnfs.init()`, the training spiral, the network's weights, the test spiral: the book's
    order of draws from NumPy's global RNG."""
    nj.book_seed(seed)
    X, y = nj.spiral_data(samples, 3)
    params0 = nj.init_params_book((2, 64, 3))
    X_test, y_test = nj.spiral_data(100, 3)
    return params0, X, y, X_test, y_test


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 501 if args.quick else 10001
    regularized = nj.make_model(2, weight_regularizer_l2=(5e-4, 0), bias_regularizer_l2=(5e-4, 0))
    plain = nj.make_model(2)
    setups = {
        "100, L2": (100, regularized),
        "100, none": (100, plain),
        "1000, L2": (1000, regularized),
    }
    runs, histories, finals, data = {}, {}, {}, {}
    for name, (samples, model) in setups.items():
        params0, X, y, X_test, y_test = book_data(args.seed, samples)
        what = "L2 5e-4 on the first layer" if model is regularized else "no regularization"
        print(f"# {samples} samples per class, {what}, Adam lr 0.02 decay 5e-7, {epochs} epochs")
        params, history, seconds = train(params0, X, y, X_test, y_test, model, epochs)
        runs[name] = summary(name, params, history, X, y, X_test, y_test, model, seconds)
        histories[name], finals[name], data[name] = history, params, (X, y, X_test, y_test)
        print()

    out = args.out
    curves = {}
    for name, history in histories.items():
        curves[f"{name}, training"] = history
        curves[f"{name}, validation"] = history.validation
    best = finals["100, L2"]
    X_test, y_test = data["100, L2"][2:]
    figures = [
        plot.learning_curves(
            curves,
            out / "learning_curves.png",
            title=f"chapter 14: 2-64-3 on spiral data (samples per class, L2), {epochs} epochs",
        ),
        plot.decision_boundary(
            best,
            X_test,
            y_test,
            out / "decision_boundary.png",
            model=regularized,
            title="100 per class, L2: the test spiral, "
            f"acc {runs['100, L2']['validation_accuracy']:.3f}",
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "runs": runs,
        "histories": {k: jax.tree.map(np.asarray, h) for k, h in histories.items()},
        "params": {k: jax.tree.map(np.asarray, p) for k, p in finals.items()},
        "data": data,
        "figures": figures,
    }


if __name__ == "__main__":
    main()
