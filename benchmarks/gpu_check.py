"""The checks to run when an accelerator is at hand: a short subset of the tests (gradients,
train, sharded sweep) and the W3, W4, W5 and Fashion-MNIST workloads, on whatever device JAX
sees, with one table naming the device.

    make gpu-check          # or: python benchmarks/gpu_check.py [--repeats 3] [--json out.json]

Without an accelerator it says so and exits 0. JAX needs its CUDA build on an NVIDIA machine
(`pip install -U "jax[cuda12]"`); the engines pick their kernels per backend (the CPU layouts
only on a CPU, each device's whole share of a sweep as one vmap elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/test_comparison.py",
    "tests/test_kernels.py",
    "tests/test_train.py::test_book_setup_replays_document_002_log",
    "tests/test_train.py::test_float64_tracks_the_numpy_reference",
    "tests/test_train.py::test_any_model_equals_the_books_loop_float64",
    "tests/test_sweep.py::test_float64_trajectories_equal_train_through_epoch_500",
    "tests/test_sweep.py::test_mini_batch_sweep_equals_fit_alone_float64",
    "tests/test_sweep.py::test_model_hyperparameters_equal_train_alone_float64_through_epoch_500",
]


def run_tests() -> tuple[int, str]:
    """The subset of the tests on this machine's default backend: (exit status, summary)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines[-1] if lines else proc.stderr.strip()[-300:]


def timed(fn, repeats: int) -> tuple[float, float]:
    """(compile seconds: first call minus the median, median steady seconds)."""
    import jax

    def once():
        start = time.perf_counter()
        jax.block_until_ready(fn())
        return time.perf_counter() - start

    first = once()
    steady = statistics.median(once() for _ in range(repeats))
    return max(first - steady, 0.0), steady


def workloads():
    import jax

    import nnfs_jax as nj

    params, X, y = nj.book_setup()
    yield (
        "W3",
        "document 002's run, 2-64-3, 10,001 epochs",
        lambda: nj.train(params, X, y, optimizer=nj.optim.sgd(1.0), epochs=10001)[0],
    )
    axes = {"learning_rate": [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0]}
    yield (
        "W4",
        "sweep, 64 configurations of W3",
        lambda: nj.sweep((X, y), axes, seeds=8, epochs=10001).final_loss,
    )
    for hidden in (64, 512):
        nj.book_seed(0)
        big_X, big_y = nj.spiral_data(10_000, 3)
        big = nj.init_params_book((2, hidden, 3))
        yield (
            f"W5-{hidden}",
            f"spiral 10,000 x 3, 2-{hidden}-3, 1,000 epochs",
            (
                lambda b=big, bX=big_X, by=big_y: nj.train(
                    b, bX, by, optimizer=nj.optim.sgd(1.0), epochs=1000
                )[0]
            ),
        )
    try:
        train_X, train_y, test_X, test_y = nj.load_fashion_mnist()
    except Exception as err:  # not installed here
        print(f"Fashion-MNIST skipped: {err}", file=sys.stderr)
        return
    start = nj.init_params(jax.random.key(0), (784, 128, 128, 10))
    yield "FMNIST", "Fashion-MNIST, the chapter-19 model, 10 epochs", lambda: nj.fit(
        start, train_X, train_y, model=nj.make_model(3), optimizer=nj.optim.adam(decay=1e-3),
        epochs=10, key=jax.random.key(1), batch_size=128, validation_data=(test_X, test_y),
    )[0]  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the table to this JSON file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import jax

    backend = jax.default_backend()
    if backend == "cpu":
        print(
            "gpu-check: no accelerator: JAX sees only the CPU "
            f"({', '.join(str(d) for d in jax.devices())}); nothing to check. On a GPU "
            'machine install JAX\'s CUDA build (pip install -U "jax[cuda12]") and run again.'
        )
        return 0
    device = jax.devices()[0]
    name = f"{getattr(device, 'device_kind', device.platform)} x {jax.device_count()} ({backend})"
    status, summary = (0, "skipped") if args.skip_tests else run_tests()
    rows = []
    print(f"gpu-check on {name}, load average {os.getloadavg()}")
    print(f"tests: {summary}")
    print(f"{'workload':<8} {'compile s':>10} {'steady s':>10}  what")
    for key, what, fn in workloads():
        compile_seconds, steady = timed(fn, args.repeats)
        rows.append({"workload": key, "what": what, "compile": compile_seconds, "steady": steady})
        print(f"{key:<8} {compile_seconds:>10.2f} {steady:>10.3f}  {what}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": name, "tests": summary, "rows": rows}))
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
