"""Dropout on the spiral data (NNFS chapter 15), trained by `nnfs_jax.train`.

The book's chapter-15 run: `nnfs.init()`, `spiral_data(samples=1000, classes=3)`,
`Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)`, ReLU,
`Layer_Dropout(0.1)`, `Layer_Dense(64, 3)`, the fused softmax + cross-entropy,
`Optimizer_Adam(learning_rate=0.05, decay=5e-5)`, 10,001 full-batch epochs with the log line
every 100 (printed here every 1,000), then `spiral_data(samples=100, classes=3)` as the test
set, drawn after the training data and the weights as the book draws them.

The dropout masks come from a `jax.random` key (`--seed`; epoch e's from `fold_in(key, e)`),
not from NumPy's `np.random.binomial`, so this run cannot replay the book's digits; it follows
its settings. `nj.train` logs as the book does, epoch 0 and every 100th, before that epoch's
update: the training accuracy and loss with dropout on (the masks of that epoch's update), as
the book's are; the validation numbers (and the "evaluation mode" training accuracy printed at
the end) without.
Beside it the same run without dropout, for comparison. `--quick`: 501 epochs.
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
L2 = {"weight_regularizer_l2": (5e-4, 0), "bias_regularizer_l2": (5e-4, 0)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="501 epochs instead of 10,001 (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed and dropout key")
    return parser.parse_args(argv)


def printer(entry: nj.LogEntry) -> None:
    """Print the book's log line every PRINT_EVERY epochs and at the last logged epoch."""
    if entry.epoch % PRINT_EVERY == 0 or entry.epoch + LOG_EVERY >= entry.epochs:
        print(nj.format_log_line(entry))


def run(name: str, model, params0, data, epochs: int, seed: int) -> tuple[dict, object, object]:
    """Train, print the book's log and the final numbers; (numbers, params, history)."""
    X, y, X_test, y_test = data
    print(f"# {name}: Adam lr 0.05 decay 5e-5, {epochs} epochs")
    start = time.perf_counter()
    params, history = nj.train(
        params0,
        X,
        y,
        model=model,
        optimizer=optim.adam(learning_rate=0.05, decay=5e-5),
        epochs=epochs,
        log_every=LOG_EVERY,
        key=jax.random.key(seed),
        validation_data=(X_test, y_test),
        progress=printer,
    )
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    train_loss, train_acc = nj.evaluate(params, X, y, model=model)
    test_loss, test_acc = nj.evaluate(params, X_test, y_test, model=model)
    print(f"validation, acc: {float(test_acc):.3f}, loss: {float(test_loss):.3f}")
    numbers = {
        "train_accuracy": float(history.accuracy[-1]),  # with dropout, as the book logs it
        "train_loss": float(history.loss[-1]),
        "train_accuracy_after": float(train_acc),  # evaluation mode, after the last update
        "train_data_loss_after": float(train_loss),
        "validation_accuracy": float(test_acc),
        "validation_loss": float(test_loss),
        "seconds": seconds,
    }
    print(
        f"{name}: evaluation-mode train acc {numbers['train_accuracy_after']:.3f} | "
        f"{seconds:.1f} s\n"
    )
    return numbers, params, history


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 501 if args.quick else 10001
    nj.book_seed(args.seed)
    X, y = nj.spiral_data(1000, 3)
    params0 = nj.init_params_book((2, 64, 3))
    X_test, y_test = nj.spiral_data(100, 3)
    data = (X, y, X_test, y_test)

    dropout = nj.make_model(2, dropout=0.1, **L2)
    without = nj.make_model(2, **L2)
    numbers, params, history = run(
        "dropout 0.1, L2 5e-4", dropout, params0, data, epochs, args.seed
    )
    numbers_plain, _, history_plain = run(
        "no dropout, L2 5e-4", without, params0, data, epochs, args.seed
    )

    out = args.out
    figures = [
        plot.learning_curves(
            {
                "dropout, training (dropout on)": history,
                "dropout, validation": history.validation,
                "no dropout, training": history_plain,
                "no dropout, validation": history_plain.validation,
            },
            out / "learning_curves.png",
            title=f"chapter 15: 2-64-3, dropout 0.1, {epochs} epochs",
        ),
        plot.decision_boundary(
            params,
            X_test,
            y_test,
            out / "decision_boundary.png",
            model=dropout,  # evaluation mode: no dropout
            title=f"dropout 0.1: the test spiral, acc {numbers['validation_accuracy']:.3f}",
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "dropout": numbers,
        "no_dropout": numbers_plain,
        "history": jax.tree.map(np.asarray, history),
        "params": jax.tree.map(np.asarray, params),
        "data": data,
        "figures": figures,
    }


if __name__ == "__main__":
    main()
