"""`nnfs-jax train`: the book's full-batch training loop on the documents' data.

With no options it is document 002's run and prints 002's log; the model options (L1/L2
regularization, dropout, a validation set: the book's chapters 14-15) switch the log to the
book's chapter-14 line."""

from __future__ import annotations

import argparse
import time

from nnfs_jax.cli.common import (
    PLURAL,
    REGULARIZER_OPTIONS,
    Output,
    ProgressBar,
    activation_option,
    common_options,
    hidden_only,
    int_list,
    non_negative,
    optimizer_from,
    optimizer_options,
    out_path,
    positive_int,
    rate,
    strength,
)
from nnfs_jax.cli.errors import RunFailed

BOOK_OPTIONS = (*REGULARIZER_OPTIONS, "dropout", "validation")  # switch to the chapter-14 log


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the classifier (defaults: document 002's spiral run)",
        description="Train Dense -> activation -> Dense -> softmax full-batch. With no "
        "options: spiral data 100 x 3, 2-64-3, SGD lr 1.0, 10,001 epochs, logged every 100, "
        "drawn from NumPy's RNG in the documents' order (document 002's printed log). With "
        "--weight-l1/--weight-l2/--bias-l1/--bias-l2, --dropout or --validation (the book's "
        "chapters 14-15) each logged epoch prints the book's chapter-14 line instead: 'epoch: "
        "N, acc: A, loss: L (data_loss: D, reg_loss: R), lr: RATE'.",
    )
    common_options(p, "NumPy seed for the documents' data and weights (nnfs.init uses 0)")
    p.add_argument("--data", choices=("spiral", "vertical"), default="spiral")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument("--classes", type=positive_int, default=3)
    p.add_argument("--hidden", type=int_list, default=[64], help="hidden widths, e.g. 64 or 64,64")
    p.add_argument(
        "--scale", type=non_negative, default=0.01, help="initial weights: scale * N(0, 1)"
    )
    p.add_argument(
        "--draw",
        type=positive_int,
        default=2,
        help="which (data, weights) draw after seeding; 002's printed log is the 2nd",
    )
    optimizer_options(p, lr_default=1.0)
    p.add_argument("--epochs", type=positive_int, default=10001)
    p.add_argument("--log-every", type=positive_int, default=100)
    p.add_argument("--grad", choices=("manual", "autodiff"), default="manual")
    activation_option(p)
    model = p.add_argument_group(
        "the book's chapters 14-15",
        "Regularization strengths apply to every hidden dense layer and not to the output "
        "layer, as the book sets them (Layer_Dense(2, 64, weight_regularizer_l2=5e-4, "
        "bias_regularizer_l2=5e-4), then Layer_Dense(64, 3)): make_model(n, "
        "weight_regularizer_l2=(v,) * (n - 1) + (0,)). The book's chapter-14 run: --optimizer "
        "adam --lr 0.02 --decay 5e-7 --weight-l2 5e-4 --bias-l2 5e-4 --validation --draw 1.",
    )
    for option in REGULARIZER_OPTIONS:
        kind, norm = option.split("_")
        model.add_argument(
            f"--{kind}-{norm}",
            dest=option,
            type=strength,
            metavar="S",
            help=f"{norm.upper()} strength on the hidden layers' {PLURAL[kind]}",
        )
    model.add_argument(
        "--dropout",
        type=rate,
        metavar="RATE",
        help="dropout after every hidden activation (fraction dropped, in [0, 1)); the masks "
        "come from jax.random.key(SEED), epoch e's from fold_in(key, e)",
    )
    model.add_argument(
        "--validation",
        action="store_true",
        help="measure a validation set at every logged epoch and print the book's "
        "'validation, acc: A, loss: L' at the end: the next draw of the same data set from "
        "the seeded NumPy RNG, after the training data and weights (as chapter 14 draws it)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    import jax

    import nnfs_jax as nj

    sizes = (2, *args.hidden, args.classes)
    n_layers = len(sizes) - 1
    model = nj.make_model(
        n_layers,
        activation=args.activation,
        dropout=args.dropout or 0.0,
        **{
            name: hidden_only(getattr(args, option) or 0.0, n_layers)
            for option, name in REGULARIZER_OPTIONS.items()
        },
    )
    optimizer = optimizer_from(args)
    book_log = any(getattr(args, option) not in (None, False) for option in BOOK_OPTIONS)
    params, X, y = nj.book_setup(
        sizes,
        dataset=args.data,
        samples=args.samples,
        classes=args.classes,
        scale=args.scale,
        seed=args.seed,
        draw=args.draw,
    )
    validation = nj.BOOK_DATA[args.data](args.samples, args.classes) if args.validation else None
    if args.float64:
        params = jax.tree.map(lambda a: a.astype("float64"), params)
        X = X.astype("float64")
        if validation is not None:
            validation = (validation[0].astype("float64"), validation[1])
    n = len(y)
    bar = ProgressBar(args.epochs, "train", not args.quiet and not args.json)

    def report(entry) -> None:
        # Accuracy is a count over n samples; print it as the documents' float64 mean does.
        accuracy = round(entry.accuracy * n) / n
        record = {
            "epoch": entry.epoch,
            "accuracy": accuracy,
            "loss": entry.loss,
            "data_loss": entry.data_loss,
            "regularization_loss": entry.regularization_loss,
            "learning_rate": entry.learning_rate,
        }
        if validation is not None:
            record["validation_loss"] = entry.validation_loss
            record["validation_accuracy"] = entry.validation_accuracy
        line = (
            nj.format_log_line(entry)
            if book_log
            else f"Epoch: {entry.epoch}\nAccuracy: {accuracy}\nLoss: {entry.loss}"
        )
        out.record(record, line)
        bar.update(entry.epoch, f"loss {entry.loss:.4f}")

    start = time.perf_counter()
    final, history = nj.train(
        params,
        X,
        y,
        optimizer=optimizer,
        epochs=args.epochs,
        model=model,
        log_every=args.log_every,
        grad=args.grad,
        key=jax.random.key(args.seed) if model.has_dropout else None,
        validation_data=validation,
        progress=report,
    )
    jax.block_until_ready(final)
    jax.effects_barrier()
    seconds = time.perf_counter() - start
    bar.close()
    if history.diverged_at >= 0:
        # The parameters from there on are NaN: no final evaluation, no figures.
        out.record(
            {
                "final": True,
                "epochs": args.epochs,
                "diverged_at": history.diverged_at,
                "seconds": seconds,
            }
        )
        hint = (
            "a lower --lr may help"
            if history.diverged_at
            else "before any update: a smaller --scale may help"
        )
        raise RunFailed(
            f"the loss diverged at epoch {history.diverged_at} (NaN or infinite); {hint}"
        )
    _report_final(args, out, final, X, y, model, validation, seconds)
    if args.out:
        from nnfs_jax import plot

        curves = history
        if validation is not None:
            curves = {"training": history, "validation": history.validation}
        paths = [
            plot.learning_curves(curves, out_path(args, "learning_curves.png")),
            plot.decision_boundary(
                final, X, y, out_path(args, "decision_boundary.png"), model=model
            ),
        ]
        for path in paths:
            out.record({"figure": str(path)}, f"wrote {path}")
    return 0


def _report_final(args, out, final, X, y, model, validation, seconds) -> None:
    """The final line (evaluation mode: no dropout; the loss with regularization), and the
    book's validation line with --validation (data loss only, as chapter 14 measures it)."""
    import nnfs_jax as nj

    n = len(y)
    loss = float(nj.model_loss(final, X, y, model))
    accuracy = round(float(nj.model_accuracy(final, X, y, model)) * n) / n
    record = {
        "final": True,
        "epochs": args.epochs,
        "accuracy": accuracy,
        "loss": loss,
        "diverged_at": None,
        "seconds": seconds,
    }
    if validation is not None:
        val_loss = float(nj.model_data_loss(final, *validation, model))
        val_accuracy = float(nj.model_accuracy(final, *validation, model))
        record.update(validation_loss=val_loss, validation_accuracy=val_accuracy)
        out.text(f"validation, acc: {val_accuracy:.3f}, loss: {val_loss:.3f}")
    out.record(
        record,
        f"Final (after {args.epochs} epochs): accuracy {accuracy:.4f}, loss {loss:.6f}"
        f" — {seconds:.2f} s including compilation",
    )
