"""What every subcommand shares: one-line usage errors, the output (text or strict JSON lines),
the progress bar, the option parsers (every number finite, no empty list items), --out (probed
before any work), and the book's optimizer and model options."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nnfs_jax.cli.errors import UsageError
from nnfs_jax.files import strict_json

PROG = "nnfs-jax"

# The model options of `train` and `sweep`: option -> make_model's keyword. Regularization
# strengths apply to the hidden layers only (the book's `Layer_Dense(2, 64,
# weight_regularizer_l2=5e-4, ...)` then a plain `Layer_Dense(64, 3)`).
REGULARIZER_OPTIONS = {
    "weight_l1": "weight_regularizer_l1",
    "weight_l2": "weight_regularizer_l2",
    "bias_l1": "bias_regularizer_l1",
    "bias_l2": "bias_regularizer_l2",
}
PLURAL = {"weight": "weights", "bias": "biases"}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str):
        raise UsageError(message, self.prog)


# --- output ----------------------------------------------------------------------------------


class Output:
    """Where a subcommand's results go: human text, or JSON lines with --json."""

    def __init__(self, as_json: bool, silent: bool = False):
        self.as_json, self.silent = as_json, silent

    def text(self, line: str = "") -> None:
        if not self.as_json and not self.silent:
            print(line, flush=True)

    def record(self, obj: dict[str, Any], line: str | None = None) -> None:
        """One result: a strict JSON line with --json (NaN and infinities as null), else `line`
        (if any) as text."""
        if self.silent:
            return
        if self.as_json:
            print(strict_json(obj, default=_json_default), flush=True)
        elif line is not None:
            print(line, flush=True)


def _json_default(value: Any) -> Any:
    """An array as a (nested) list, its NaN and infinities as None; anything else as text."""
    if hasattr(value, "tolist"):
        return _finite_or_none(value.tolist())
    return str(value)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ProgressBar:
    """A one-line bar on stderr, redrawn in place; silent unless stderr is a terminal."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label = max(int(total), 1), label
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        frac = min(max(done / self.total, 0.0), 1.0)
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r{self.label} [{bar}] {100 * frac:5.1f}% {elapsed:6.1f}s {note}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


# --- option parsers --------------------------------------------------------------------------
# Each rejects what the run could not use, so that argparse reports it as `argument --NAME:
# ...` before any work: numbers must be finite, lists must not have empty items.


def _items(text: str, what: str) -> list[str]:
    """'1,2' -> ['1', '2']; an empty item ('8,,8', '8,') is an error, not skipped."""
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise argparse.ArgumentTypeError(
            f"expected {what} separated by commas, got {text!r} (an empty item)"
        )
    return items


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def int_list(text: str) -> list[int]:
    """'64' or '64,32' -> [64] / [64, 32]."""
    items = _items(text, "integers")
    try:
        return [int(v) for v in items]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None


def number(text: str) -> float:
    """A finite number ('nan', 'inf' and overflowing ones like '1e400' are errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def float_list(text: str) -> list[float]:
    """'0.01,0.1,1' -> [0.01, 0.1, 1.0], each finite."""
    values = []
    for item in _items(text, "numbers"):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected numbers separated by commas, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected finite numbers, got {item!r} in {text!r}")
        values.append(value)
    return values


MAX_COUNT = 2**31 - 1  # epochs, samples, iterations: beyond this no run could hold them
MAX_SEED = 2**32 - 1  # NumPy's seeds (the documents' data) lie in [0, 2**32)


def positive_int(text: str) -> int:
    """A count: an integer in [1, 2**31)."""
    value = _int(text, "a positive integer")
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer (at most {MAX_COUNT}), got {value}"
        )
    return value


def seed(text: str) -> int:
    """A seed: an integer in [0, 2**32), as NumPy's RNG takes it."""
    value = _int(text, "an integer seed")
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**32), got {value}")
    return value


def positive_int_list(text: str) -> list[int]:
    """'32,64' -> [32, 64], each a positive integer."""
    values = int_list(text)
    bad = [v for v in values if not 1 <= v <= MAX_COUNT]
    if bad:
        raise argparse.ArgumentTypeError(
            f"expected positive integers (at most {MAX_COUNT}), got {bad[0]}"
        )
    return values


def positive(text: str) -> float:
    """A finite number > 0 (a step, an initial scale where 0 would not search)."""
    return _check_each([number(text)], lambda v: v > 0, "a finite number > 0")[0]


def non_negative(text: str) -> float:
    """A finite number >= 0 (a learning rate, a decay, an initial scale)."""
    return _check_each([number(text)], lambda v: v >= 0, "a finite number >= 0")[0]


def non_negative_list(text: str) -> list[float]:
    return _check_each(float_list(text), lambda v: v >= 0, "finite numbers >= 0")


def _is_strength(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def _is_rate(value: float) -> bool:
    return 0 <= value < 1


def strength(text: str) -> float:
    """A regularization strength: a finite number >= 0."""
    return _check_each([number(text)], _is_strength, "a number >= 0")[0]


def strength_list(text: str) -> list[float]:
    return _check_each(float_list(text), _is_strength, "numbers >= 0")


def rate(text: str) -> float:
    """A dropout rate (the fraction of units dropped): in [0, 1)."""
    return _check_each([number(text)], _is_rate, "a rate in [0, 1)")[0]


def rate_list(text: str) -> list[float]:
    return _check_each(float_list(text), _is_rate, "rates in [0, 1)")


def _check_each(values: list[float], ok: Callable[[float], bool], what: str) -> list[float]:
    bad = [v for v in values if not ok(v)]
    if bad:
        raise argparse.ArgumentTypeError(f"expected {what}, got {bad[0]}")
    return values


def out_dir(text: str) -> Path:
    """--out: a folder that exists or can be made; checked before any computation, so a bad
    path does not cost a whole run."""
    path = Path(text)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} exists and is not a folder")
    return path


def probe_out(path: Path) -> None:
    """Make sure --out can take files, before any computation: create the folder if needed,
    then create and remove a probe file in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out: cannot create the folder {str(path)!r}: {_reason(err)}") from err
    try:
        fd, probe = tempfile.mkstemp(prefix=".nnfs-jax-probe.", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise UsageError(f"--out: cannot write into {str(path)!r}: {_reason(err)}") from err


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def out_path(args: argparse.Namespace, name: str) -> Path:
    """Where output `name` goes under --out. The library's writers (`nnfs_jax.files`, the
    figures, `SweepResult.to_csv`) create the folder and write atomically."""
    return args.out / name


# --- options shared by several subcommands ---------------------------------------------------


def common_options(parser: argparse.ArgumentParser, seed_help: str) -> None:
    parser.add_argument("--seed", type=seed, default=0, help=seed_help)
    parser.add_argument("--out", type=out_dir, help="write figures (PNG) into this folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--float64", action="store_true", help="compute in float64 (default: float32)"
    )


def activation_option(parser: argparse.ArgumentParser, what: str = "hidden layers") -> None:
    from nnfs_jax.layers import ACTIVATIONS

    parser.add_argument(
        "--activation",
        choices=tuple(ACTIVATIONS),
        default="relu",
        help=f"the {what}' activation (leaky_relu: slope 0.01)",
    )


def optimizer_options(parser: argparse.ArgumentParser, lr_default: float | None) -> None:
    parser.add_argument(
        "--optimizer", default="sgd", help="sgd | adagrad | rmsprop | adam | optax.<name>"
    )
    parser.add_argument(
        "--lr",
        type=non_negative,
        default=lr_default,
        help="learning rate (default: the optimizer's)",
    )
    parser.add_argument("--decay", type=non_negative, help="1/t learning-rate decay")
    parser.add_argument("--momentum", type=number, help="SGD momentum in [0, 1)")
    parser.add_argument("--epsilon", type=number, help="adagrad / rmsprop / adam epsilon")
    parser.add_argument("--rho", type=number, help="rmsprop cache decay")
    parser.add_argument("--beta1", type=number, help="adam beta_1")
    parser.add_argument("--beta2", type=number, help="adam beta_2")


def optimizer_from(args: argparse.Namespace):
    """The optimizer named by --optimizer, with only the hyperparameters given on the line."""
    from nnfs_jax import optim

    given = {
        "learning_rate": args.lr,
        "decay": args.decay,
        "momentum": args.momentum,
        "epsilon": args.epsilon,
        "rho": args.rho,
        "beta_1": args.beta1,
        "beta_2": args.beta2,
    }
    return optim.get_optimizer(args.optimizer, **{k: v for k, v in given.items() if v is not None})


def hidden_only(value: float, n_layers: int) -> tuple[float, ...]:
    """A regularization strength on every hidden dense layer and none on the output layer, as
    the book sets it (`make_model`'s per-layer form)."""
    return (value,) * (n_layers - 1) + (0.0,)
