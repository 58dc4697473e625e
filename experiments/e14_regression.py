"""Regression on the sine (NNFS chapter 17), trained by `nnfs_jax.train`.

The book's final chapter-17 run: `nnfs.init()`, `X, y = sine_data()` (1,000 points of
sin(2 pi x) on [0, 1)), `Layer_Dense(1, 64)`, ReLU, `Layer_Dense(64, 64)`, ReLU,
`Layer_Dense(64, 1)`, `Activation_Linear`, `Loss_MeanSquaredError`, weights initialised as
`0.1 * np.random.randn` (the chapter's change from 0.01), `Optimizer_Adam(learning_rate=0.005,
decay=1e-3)`, 10,001 full-batch epochs with the log line every 100 (printed here every
1,000). Accuracy is the book's regression accuracy: the fraction of predictions within
`std(y) / 250` of the target. Then the book's check, `X_test, y_test = sine_data()` (the
same points), drawn as the prediction over the sine. `--quick`: 501 epochs.
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


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 501 if args.quick else 10001
    nj.book_seed(args.seed)
    X, y = nj.sine_data()
    X, y = X.astype(np.float32), y.astype(np.float32)  # float32, as the rest of the package
    params0 = nj.init_params_book((1, 64, 64, 1), scale=0.1)
    precision = float(np.std(y) / 250)  # the book's accuracy_precision, from the training y

    model = nj.make_model(3, head="linear_mse")
    print(f"# 1-64-64-1, ReLU, ReLU, linear, MSE, Adam lr 0.005 decay 1e-3, {epochs} epochs")
    print(f"accuracy precision: std(y) / 250 = {precision:.6f}")
    start = time.perf_counter()
    params, history = nj.train(
        params0,
        X,
        y,
        model=model,
        optimizer=optim.adam(learning_rate=0.005, decay=1e-3),
        epochs=epochs,
        log_every=LOG_EVERY,
        progress=printer,
    )
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    loss, acc = nj.evaluate(params, X, y, model=model, precision=precision)
    prediction = np.asarray(nj.predict(params, X, model=model))
    print(f"after training (evaluation mode): acc: {float(acc):.3f}, loss: {float(loss):.6f}")
    print(f"largest |prediction - sin|: {np.abs(prediction - y).max():.4f}")
    print(f"\n{epochs} epochs in {seconds:.1f} s")

    out = args.out
    figures = [
        plot.lines(
            X[:, 0],
            {"sin(2 pi x) (sine_data)": y[:, 0], "prediction": prediction[:, 0]},
            out / "prediction.png",
            xlabel="x",
            ylabel="y",
            title=f"chapter 17: 1-64-64-1 after {epochs} epochs, acc {float(acc):.3f}",
        ),
        plot.learning_curves(
            history,
            out / "learning_curves.png",
            title=f"MSE and accuracy (precision std(y)/250 = {precision:.4f})",
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "precision": precision,
        "train_accuracy": float(history.accuracy[-1]),  # the book's last log line
        "train_loss": float(history.loss[-1]),
        "accuracy_after": float(acc),
        "loss_after": float(loss),
        "seconds": seconds,
        "prediction": prediction,
        "params": jax.tree.map(np.asarray, params),
        "data": (X, y),
        "figures": figures,
    }


if __name__ == "__main__":
    main()
