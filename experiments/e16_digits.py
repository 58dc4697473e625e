"""scikit-learn's 8x8 handwritten digits with the book's chapter-19 recipe, by `nnfs_jax.fit`.

A small sibling of the Fashion-MNIST run (e15) that needs no download: scikit-learn's 1,797
digits (`nnfs_jax.load_digits`: pixels 0..16 scaled to [-1, 1], a shuffled 80/20 split from
`--seed`), a 64-64-10 network (ReLU, softmax with categorical cross-entropy, weights
`0.01 * randn` from the book's initialiser after `nnfs.init()`), the book's Adam with learning
rate 0.005 and decay 1e-3, batches of 32 reshuffled every epoch, the test split evaluated after
every epoch. Printed in the book's chapter-19 format every 10 epochs. Figures: learning curves
and the misclassified test digits. `--quick`: 20 epochs instead of 50.
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
DIGITS = tuple(str(d) for d in range(10))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 epochs instead of 50 (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="split, nnfs.init() and batch seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 20 if args.quick else 50
    X, y, X_test, y_test = nj.load_digits(seed=args.seed)
    nj.book_seed(args.seed)
    params0 = nj.init_params_book((64, 64, 10))
    model = nj.make_model(2)
    print(
        f"# 64-64-10, Adam lr 0.005 decay 1e-3, batch 32, {epochs} epochs, "
        f"{len(X)} training and {len(X_test)} test digits"
    )
    start = time.perf_counter()
    params, _, history = nj.fit(
        params0,
        X,
        y,
        model=model,
        optimizer=optim.adam(learning_rate=0.005, decay=1e-3),
        epochs=epochs,
        batch_size=32,
        key=jax.random.key(args.seed),
        validation_data=(X_test, y_test),
        print_every=10,
        progress=lambda entry: print(nj.format_epoch(entry)),
    )
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    test_loss, test_acc = nj.evaluate(params, X_test, y_test, model=model)
    predicted = np.argmax(np.asarray(nj.predict(params, X_test, model=model)), axis=1)
    print(f"\ntest set: acc {float(test_acc):.4f}, loss {float(test_loss):.4f}")
    print(f"{epochs} epochs in {seconds:.1f} s (compilation included)")

    out = args.out
    figures = [
        plot.learning_curves(
            {"training": history, "validation (test split)": history.validation},
            out / "learning_curves.png",
            title=f"scikit-learn digits, 64-64-10, {epochs} epochs",
        ),
        plot.misclassified(
            X_test, y_test, predicted, DIGITS, out / "misclassified.png", limit=24, ncols=8
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "samples": len(X),
        "test_samples": len(X_test),
        "train_accuracy": float(history.accuracy[-1]),
        "train_loss": float(history.loss[-1]),
        "test_accuracy": float(test_acc),
        "test_loss": float(test_loss),
        "predicted": predicted,
        "seconds": seconds,
        "history": jax.tree.map(np.asarray, history),
        "params": jax.tree.map(np.asarray, params),
        "data": (X, y, X_test, y_test),
        "figures": figures,
    }


if __name__ == "__main__":
    main()
