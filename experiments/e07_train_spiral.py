"""Document 002's training run: a 2-64-3 network, SGD at learning rate 1.0, on spiral data.

Follows 002 ("Code execution"): `nnfs.init()`, `spiral_data(samples=100, classes=3)`,
DenseLayer(2, 64) and DenseLayer(64, 3) with `0.01 * np.random.randn`, ReLU, the fused softmax +
cross-entropy, `SGD()` (learning rate 1.0), 10,001 full-batch epochs, and every 100 epochs the
log `Epoch: {epoch}\\nAccuracy: {accuracy}\\nLoss: {loss}`, printed here in that format:
accuracy as a count over the samples (`round(acc * n) / n`, a Python float), the float32 loss
as `float(loss)`. `nj.book_setup()` gives the document's starting point (its printed log
comes from the second draw after `nnfs.init()`), `nj.train` the compiled loop.

Beside the document's hand-written gradient (`grad="manual"`) runs `jax.grad`
(`grad="autodiff"`), and a float64 run of the same arrays. SGD at learning rate 1.0 on this
data is chaotic: runs that differ only by round-off agree for a few hundred epochs, then drift
apart; the drift figure shows |loss difference| per logged epoch on a log scale. Also drawn:
the learning curves and the trained network's decision boundary. `--quick`: 501 epochs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import nnfs_jax as nj
from nnfs_jax import optim, plot

NAME = Path(__file__).stem
PRINT_EVERY = 100  # the document's `if not epoch % 100`
LOG_EVERY = 10  # recorded more often than printed, for the drift figure

# Document 002's printed log as far as the export keeps it: (epoch, accuracy, loss).
DOCUMENT_LOG = [
    (0, 0.3433333333333333, 1.0986183881759644),
    (100, 0.4066666666666667, 1.083395004272461),
    (200, 0.39666666666666667, 1.0709291696548462),
    (300, 0.41, 1.069575548171997),
    (400, 0.41333333333333333, 1.0685349702835083),
    (500, 0.41333333333333333, 1.0667901039123535),
    (600, 0.41, 1.0637015104293823),
    (700, 0.4266666666666667, 1.0575783252716064),
    (800, 0.44666666666666666, 1.04678213596344),
    (900, 0.4033333333333333, 1.0477620363235474),
    (1000, 0.39666666666666667, 1.0402601957321167),
    (1100, 0.42, 1.032832384109497),
    (1200, 0.44666666666666666, 1.0229641199111938),
    (1300, 0.47333333333333333, 1.0182338953018188),
    (1400, 0.44, 1.016717553138733),
    (1500, 0.4633333333333333, 1.0010089874267578),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="501 epochs instead of 10,001 (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed")
    return parser.parse_args(argv)


def rows(history: nj.History, samples: int) -> list[tuple[int, float, float]]:
    """(epoch, accuracy, loss) for the epochs the document prints; the accuracy is a count
    over `samples`, so it is rounded to one and divided as NumPy's mean would."""
    return [
        (int(e), round(float(a) * samples) / samples, float(loss))
        for e, a, loss in zip(history.epoch, history.accuracy, history.loss, strict=True)
        if int(e) % PRINT_EVERY == 0
    ]


def print_log(log: list[tuple[int, float, float]]) -> None:
    """The document's log format."""
    for epoch, accuracy, loss in log:
        print(f"Epoch: {epoch}\nAccuracy: {accuracy}\nLoss: {loss}")


def print_side_by_side(logs: dict[str, list[tuple[int, float, float]]]) -> None:
    """One row per printed epoch, accuracy and loss of each run."""
    print(f"{'epoch':>5} " + " ".join(f"{name + ' acc':>13} {name + ' loss':>18}" for name in logs))
    for entries in zip(*logs.values(), strict=True):
        cells = " ".join(f"{acc:>13.4f} {loss:>18.15f}" for _, acc, loss in entries)
        print(f"{entries[0][0]:>5} {cells}")


def run(params, X, y, epochs: int, grad: str) -> tuple[list, nj.History]:
    return nj.train(
        params, X, y, optimizer=optim.sgd(1.0), epochs=epochs, log_every=LOG_EVERY, grad=grad
    )


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 501 if args.quick else 10001
    params, X, y = nj.book_setup(seed=args.seed)
    samples = len(y)

    final, history = run(params, X, y, epochs, "manual")
    _, history_autodiff = run(params, X, y, epochs, "autodiff")
    with jax.enable_x64(True):  # the same float32 numbers, carried in float64
        params64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)
        _, history64 = run(params64, np.asarray(X, np.float64), y, epochs, "manual")
        history64 = jax.tree.map(np.asarray, history64)

    log = rows(history, samples)
    print("# 002's log (hand-written backward pass, float32)")
    print_log(log)
    logs = {
        "manual": log,
        "autodiff": rows(history_autodiff, samples),
        "float64": rows(history64, samples),
    }
    document = [row for row in DOCUMENT_LOG if row[0] < epochs]
    print("\n# Side by side, with the document's log where it has the epoch")
    shown = {name: entries[: len(document)] for name, entries in logs.items()}
    print_side_by_side(shown | {"document": document})

    drift = np.abs(np.asarray(history.loss, np.float64) - history64.loss)
    autodiff_gap = np.abs(np.asarray(history.loss) - np.asarray(history_autodiff.loss))
    epochs_logged = np.asarray(history.epoch)
    apart = epochs_logged[drift > 1e-3]
    onset = int(apart[0]) if apart.size else None
    print(
        f"\nfloat32 vs float64 loss: |difference| {drift[0]:.1e} at epoch 0, "
        f"{drift.max():.1e} at most; above 1e-3 from epoch {onset}"
        if onset is not None
        else f"\nfloat32 vs float64 loss: |difference| at most {drift.max():.1e} in {epochs} epochs"
    )
    for name, entries in logs.items():
        epoch, accuracy, loss = entries[-1]
        print(f"{name:>8}: epoch {epoch}, accuracy {accuracy:.4f}, loss {loss:.6f}")

    out = args.out
    figures = [
        plot.learning_curves(
            {"manual": history, "autodiff": history_autodiff, "manual, float64": history64},
            out / "learning_curves.png",
            title=f"002: 2-64-3, SGD lr 1.0, {epochs} epochs",
        ),
        plot.decision_boundary(
            final, X, y, out / "decision_boundary.png", title=f"after {epochs} epochs"
        ),
        plot.lines(
            epochs_logged,
            {
                "|float32 - float64|": drift,
                "|manual - autodiff| (float32)": autodiff_gap,
                "|manual - document| (printed epochs)": (
                    [e for e, _, _ in document],
                    [abs(ours[2] - theirs[2]) for ours, theirs in zip(log, document, strict=False)],
                ),
            },
            out / "drift.png",
            xlabel="epoch",
            ylabel="|loss difference| per logged epoch",
            logy=True,
            marker=".",
            title="round-off grows: SGD at lr 1.0 is chaotic here",
        ),
    ]
    print("\nfigures:", *map(str, figures), sep="\n  ")
    return {
        "epochs": epochs,
        "samples": samples,
        "log": log,
        "autodiff_log": logs["autodiff"],
        "float64_log": logs["float64"],
        "drift": drift,
        "drift_epochs": epochs_logged,
        "drift_onset": onset,
        "document_gap": [abs(o[2] - d[2]) for o, d in zip(log, document, strict=False)],
        "figures": figures,
    }


if __name__ == "__main__":
    main()
