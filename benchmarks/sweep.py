"""W4: a hyperparameter sweep of document 002's spiral run, three ways, in one run.

    64 configurations (8 learning rates x 8 seeds) of SGD on spiral 100 x 3, 2-64-3, 10,001
    epochs: the documents' NumPy loop run once per configuration, one after another; PyTorch
    eager the same way (CPU, the better of 1 and 2 threads, hand-written rule or autograd);
    and one `nnfs_jax.sweep` call. Then the same sweep at 1,024 configurations (8 rates x 128
    seeds) under a memory budget, for nnfs_jax alone.

The sequential baselines are timed on a few of the 64 runs (`--timed-runs`, and PyTorch on
`--torch-epochs` epochs of each) and scaled linearly to 64 x 10,001 epochs: a run's time does
not depend on its learning rate or seed (the same operations on the same shapes). The output
says what was timed and how it was scaled. nnfs_jax's compile time (first call minus the
steady median) is reported apart.

JAX is given one CPU device per core (`--devices`, default: every core), so the sweep's
configuration axis is sharded over both cores of the reference machine; PyTorch gets the better
of 1 and 2 threads, NumPy its single-threaded loop.

    python benchmarks/sweep.py [--epochs 10001] [--repeats 2] [--big 1024] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10001)
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats of the sweep")
    parser.add_argument("--timed-runs", type=int, default=4, help="NumPy / torch runs timed")
    parser.add_argument("--torch-epochs", type=int, default=2001, help="epochs per torch run")
    parser.add_argument("--big", type=int, default=1024, help="configurations of the big sweep")
    parser.add_argument("--big-epochs", type=int, help="its epochs (default --epochs)")
    parser.add_argument("--budget", type=int, default=64, help="the big sweep's budget, MiB")
    parser.add_argument("--block", type=int, help="models per block (default: the library's)")
    parser.add_argument("--devices", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="1,001 epochs: a smoke test")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.torch_epochs, args.big, args.timed_runs = 1001, 501, 128, 1

    import jax

    # Before anything touches the backend: one CPU device per core.
    jax.config.update("jax_num_cpu_devices", args.devices)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import book_numpy
    import numpy as np
    from harness import Measurement, interleaved, nnfs_numpy, print_table, save_json
    from run import best_torch, torch_sgd

    import nnfs_jax as nj
    from nnfs_jax import optim
    from nnfs_jax.sweeping import plan

    sweep, train = nj.sweep, nj.train

    epochs, n_rates, n_seeds = args.epochs, 8, 8
    configs = n_rates * n_seeds
    rates = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    params, X, y = nj.book_setup((2, 64, 3), draw=1)
    W1, W2 = (np.asarray(p["weights"]) for p in params)
    name = f"W4 sweep {configs} configs spiral 100x3 2-64-3 SGD {epochs} ep"
    rows = []

    # The documents' NumPy loop, sequentially: timed on `timed_runs` runs, scaled to 64.
    runs = args.timed_runs
    with nnfs_numpy():
        t = interleaved(
            {"numpy": lambda: [book_numpy.train_002(X, y, W1, W2, epochs) for _ in range(runs)]},
            1,
        )
    rows.append(
        Measurement(
            name,
            "numpy sequential (documents' code)",
            t["numpy"][0] * configs / runs,
            0.0,
            f"timed {runs} runs of {epochs} epochs, scaled x{configs / runs:g}",
        )
    )

    # PyTorch eager, sequentially: the best setting, timed on one run of `torch_epochs`.
    torch_scale = configs * epochs / args.torch_epochs
    rows.append(
        best_torch(
            name,
            lambda autograd: torch_sgd(X, y, W1, W2, args.torch_epochs, autograd),
            1,
            torch_scale,
            f"timed 1 run of {args.torch_epochs} epochs per setting, scaled x{torch_scale:.0f}",
        )
    )
    rows[-1].implementation = rows[-1].implementation.replace("eager", "eager sequential")

    # One model alone with nnfs_jax.train, for scale.
    def one():
        return train(params, X, y, optimizer=optim.sgd(1.0), epochs=epochs)[0]

    median, compile_s, times = interleaved({"train": one}, args.repeats, warm={"train"})["train"]
    rows.append(
        Measurement(
            name,
            "nnfs_jax train, 1 model (x64 sequential)",
            median * configs,
            compile_s,
            f"{1e6 * median / epochs:.1f} us/epoch for one model, scaled x{configs}",
            times,
        )
    )

    # One nnfs_jax.sweep call for all 64.
    block = args.block or plan.default_block()  # the library's default: None off a CPU
    data = (X, y)

    def run_sweep():
        return sweep(
            data, {"learning_rate": rates}, seeds=n_seeds, epochs=epochs, block=block
        ).final_loss

    median, compile_s, times = interleaved({"sweep": run_sweep}, args.repeats, warm={"sweep"})[
        "sweep"
    ]
    per = 1e6 * median / (configs * epochs)
    rows.append(
        Measurement(
            name,
            f"nnfs_jax sweep ({jax.device_count()} CPU devices, block {block})",
            median,
            compile_s,
            f"{per:.1f} us per model-epoch",
            times,
        )
    )
    result = sweep(data, {"learning_rate": rates}, seeds=n_seeds, epochs=epochs, block=block)
    # Same first trajectory as train (a correctness spot check beside the timing).
    _, history = train(*result.setup(0)[:3], optimizer=result.setup(0)[3], epochs=epochs)
    early = np.asarray(history.epoch) <= 300
    drift = float(np.max(np.abs(np.asarray(history.loss)[early] - result.history.loss[0][early])))

    # The big sweep under a memory budget, once.
    big_epochs = args.big_epochs or epochs
    seeds_big = max(1, args.big // n_rates)
    budget = args.budget * 2**20
    seen = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    big = sweep(
        data,
        {"learning_rate": rates},
        seeds=seeds_big,
        epochs=big_epochs,
        block=block,
        memory_budget=budget,
        progress=seen.append,
    )
    big_seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    big_name = f"W4 sweep {len(big)} configs spiral 100x3 2-64-3 SGD {big_epochs} ep"
    rows.append(
        Measurement(
            big_name,
            f"nnfs_jax sweep ({jax.device_count()} CPU devices, block {block})",
            big_seconds,
            0.0,
            f"one run, compilation included; {big.chunks} chunks of {big.chunk_size} under a "
            f"{args.budget} MiB budget; peak RSS {rss_after / 1024:.0f} MiB (was "
            f"{rss_before / 1024:.0f} MiB before it); "
            f"{1e6 * big_seconds / (len(big) * big_epochs):.1f} us per model-epoch",
        )
    )

    print_table(rows, reference="nnfs_jax sweep")
    sweep_s = rows[3].seconds
    print()
    print(f"sweep: {per:.1f} us per model-epoch; compile {rows[3].compile_seconds:.1f} s (apart)")
    for row in rows[:2]:
        if row.seconds != row.seconds:  # NaN: a skipped baseline
            print(f"{row.implementation}: {row.note}")
            continue
        ratio = row.seconds / sweep_s
        verdict = "meets" if ratio >= 20 else "MISSES"
        print(f"{row.implementation}: {ratio:.1f}x slower than the sweep ({verdict} the 20x floor)")
    print(f"configuration 0 vs train alone, epochs 0-300: max |loss difference| {drift:.2e}")
    print(f"diverged in the 64-config sweep: {int(result.diverged.sum())}")
    if args.json:
        save_json(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
