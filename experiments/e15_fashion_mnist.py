"""Fashion-MNIST with the book's chapter-19 model, trained by `nnfs_jax.fit`.

The book's chapter-19 run: `nnfs.init()`, the 60,000 training and 10,000 test images scaled to
[-1, 1] (`(X - 127.5) / 127.5`) and flattened to 784 values, the training set shuffled once
(`np.random.shuffle(keys)`), then `Layer_Dense(784, 128)`, ReLU, `Layer_Dense(128, 128)`, ReLU,
`Layer_Dense(128, 10)`, softmax with categorical cross-entropy, `Optimizer_Adam(decay=1e-3)`
(learning rate 0.001), `model.train(X, y, validation_data=(X_test, y_test), epochs=10,
batch_size=128, print_every=100)`. Its end-of-epoch lines (`epoch: ...`, `training, acc: ...,
loss: ... (data_loss: ..., reg_loss: ...), lr: ...`, `validation, acc: ..., loss: ...`) are
printed here in its format; its per-step lines are not (the steps run inside one compiled
`lax.scan` per epoch). Unlike the book's loop, `fit` also reshuffles the batches every epoch
(from the key `--seed`).

The images come from Debian's `dataset-fashion-mnist` (or `NNFS_JAX_FASHION_MNIST`, see
`nnfs_jax.load_fashion_mnist`); without them the script says how to install them and exits
with status 2. Figures: the learning curves (training and validation), and a grid of
misclassified test images labelled with `FASHION_MNIST_LABELS`. `--quick`: one epoch on the
first 6,000 training and 1,000 test images.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

import nnfs_jax as nj
from nnfs_jax import optim, plot

NAME = Path(__file__).stem
INSTALL = (
    "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist "
    "(or point NNFS_JAX_FASHION_MNIST to a folder with its four IDX files)"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch on 6,000 / 1,000 images (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed and batch key")
    return parser.parse_args(argv)


def load(quick: bool):
    """The data set as the book prepares it, or exit with status 2 and the install line."""
    try:
        X, y, X_test, y_test = nj.load_fashion_mnist()
    except FileNotFoundError:
        print(f"{NAME}: {INSTALL}", file=sys.stderr)
        raise SystemExit(2) from None
    if quick:
        X, y, X_test, y_test = X[:6000], y[:6000], X_test[:1000], y_test[:1000]
    return X, y, X_test, y_test


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    X, y, X_test, y_test = load(args.quick)
    epochs = 1 if args.quick else 10
    nj.book_seed(args.seed)
    keys = np.array(range(X.shape[0]))
    np.random.shuffle(keys)  # the book's one shuffle, before training
    X, y = X[keys], y[keys]
    params0 = nj.init_params_book((X.shape[1], 128, 128, 10))

    model = nj.make_model(3)
    print(
        f"# 784-128-128-10, Adam decay 1e-3, batch 128, {epochs} epoch(s), "
        f"{len(X)} training and {len(X_test)} test images"
    )
    start = time.perf_counter()
    params, _, history = nj.fit(
        params0,
        X,
        y,
        model=model,
        optimizer=optim.adam(decay=1e-3),
        epochs=epochs,
        batch_size=128,
        key=jax.random.key(args.seed),
        validation_data=(X_test, y_test),
        progress=lambda entry: print(nj.format_epoch(entry), flush=True),
    )
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    test_loss, test_acc = nj.evaluate(params, X_test, y_test, model=model, batch_size=128)
    predicted = np.argmax(np.asarray(nj.predict(params, X_test, model=model, batch_size=128)), 1)
    print(f"\ntest set: acc {float(test_acc):.4f}, loss {float(test_loss):.4f}")
    print(f"{epochs} epoch(s) in {seconds:.1f} s (compilation included)")
    wrong = predicted != y_test
    pairs = {}
    for true, guess in zip(y_test[wrong], predicted[wrong], strict=True):
        pairs[(int(true), int(guess))] = pairs.get((int(true), int(guess)), 0) + 1
    confusions = sorted(pairs.items(), key=lambda item: -item[1])[:5]
    names = nj.FASHION_MNIST_LABELS
    print("most frequent mistakes (true -> predicted):")
    for (true, guess), count in confusions:
        print(f"  {names[true]:>11} -> {names[guess]:<11} {count}")

    out = args.out
    figures = [
        plot.learning_curves(
            {"training": history, "validation (test set)": history.validation},
            out / "learning_curves.png",
            title=f"chapter 19: Fashion-MNIST, 784-128-128-10, {epochs} epoch(s)",
        ),
        plot.misclassified(
            X_test, y_test, predicted, names, out / "misclassified.png", limit=32, ncols=8
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "samples": len(X),
        "test_samples": len(X_test),
        "train_accuracy": float(history.accuracy[-1]),
        "train_loss": float(history.loss[-1]),
        "validation_accuracy": float(history.validation_accuracy[-1]),
        "validation_loss": float(history.validation_loss[-1]),
        "test_accuracy": float(test_acc),
        "test_loss": float(test_loss),
        "predicted": predicted,
        "confusions": confusions,
        "seconds": seconds,
        "history": jax.tree.map(np.asarray, history),
        "params": jax.tree.map(np.asarray, params),
        "figures": figures,
    }


if __name__ == "__main__":
    main()
