"""Binary logistic regression on two spiral arms (NNFS chapter 16), trained by `nnfs_jax.train`.

The book's chapter-16 run: `nnfs.init()`, `spiral_data(samples=100, classes=2)` with
`y = y.reshape(-1, 1)`, `Layer_Dense(2, 64, weight_regularizer_l2=5e-4,
bias_regularizer_l2=5e-4)`, ReLU, `Layer_Dense(64, 1)`, `Activation_Sigmoid`,
`Loss_BinaryCrossentropy`, `Optimizer_Adam(decay=5e-7)` (learning rate 0.001), 10,001
full-batch epochs with the log line every 100 (printed here every 1,000), then
`spiral_data(samples=100, classes=2)` as the test set, drawn after the training data and the
weights as the book draws them. Accuracy: `(output > 0.5) == y`. `--quick`: 1,001 epochs.
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
    parser.add_argument("--quick", action="store_true", help="1,001 epochs instead of 10,001 (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 1001 if args.quick else 10001
    nj.book_seed(args.seed)
    X, y = nj.spiral_data(100, 2)
    y = y.reshape(-1, 1)
    params0 = nj.init_params_book((2, 64, 1))
    X_test, y_test = nj.spiral_data(100, 2)
    y_test = y_test.reshape(-1, 1)

    model = nj.make_model(
        2, head="sigmoid", weight_regularizer_l2=(5e-4, 0), bias_regularizer_l2=(5e-4, 0)
    )
    print(f"# 2-64-1, sigmoid, binary cross-entropy, L2 5e-4, Adam decay 5e-7, {epochs} epochs")
    start = time.perf_counter()
    params, history = nj.train(
        params0,
        X,
        y,
        model=model,
        optimizer=optim.adam(decay=5e-7),
        epochs=epochs,
        validation_data=(X_test, y_test),
        log_every=LOG_EVERY,
        progress=printer,
    )
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    test_loss, test_acc = nj.evaluate(params, X_test, y_test, model=model)
    print(f"validation, acc: {float(test_acc):.3f}, loss: {float(test_loss):.3f}")
    print(f"\n{epochs} epochs in {seconds:.1f} s")

    out = args.out
    figures = [
        plot.learning_curves(
            {"training": history, "validation": history.validation},
            out / "learning_curves.png",
            title=f"chapter 16: 2-64-1 sigmoid on two spiral arms, {epochs} epochs",
        ),
        plot.decision_boundary(
            params,
            X_test,
            y_test[:, 0],
            out / "decision_boundary.png",
            model=model,  # the book's predictions, (output > 0.5) * 1, as class labels
            title=f"the test arms, validation acc {float(test_acc):.3f}",
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "train_accuracy": float(history.accuracy[-1]),
        "train_loss": float(history.loss[-1]),
        "validation_accuracy": float(test_acc),
        "validation_loss": float(test_loss),
        "seconds": seconds,
        "history": jax.tree.map(np.asarray, history),
        "params": jax.tree.map(np.asarray, params),
        "params0": params0,
        "data": (X, y, X_test, y_test),
        "figures": figures,
    }


if __name__ == "__main__":
    main()
