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

Beside them, the figures a user of the command sees, each with its floor:
- the command `nnfs-jax sweep --lr 0.05,0.1,0.2,0.5,1,2,3,5 --seeds 8 --epochs 10001 --json`
  run as a fresh process (start-up and compilation included) against the NumPy loop x 64:
  at least 20x faster;
- the steady sweep against its arithmetic limit: 64 x 10,001 epochs x 0.4992 MFLOP (forward and
  backward of 2-64-3 on 300 samples) at the machine's float32 matmul rate, measured here (the
  faster of NumPy's BLAS and XLA on a 2048 x 2048 product): within 2.5x;
- 1,024 configurations of the same run in under 2 minutes, with this process's resident
  memory sampled after every chunk (flat: the chunks reuse their buffers).

    python benchmarks/sweep.py [--epochs 10001] [--repeats 2] [--big 1024] [--json out.json]

Run it on a quiet machine (nothing else running): the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND_RATES = "0.05,0.1,0.2,0.5,1,2,3,5"  # the command's learning rates (8 x 8 seeds = 64)


def flops_per_epoch(samples: int = 300, sizes=(2, 64, 3)) -> int:
    """One full-batch epoch of a dense network: 2 FLOP per multiply-add of the forward
    products (X W per layer) and of the backward ones (dweights per layer, dinputs for all but
    the first); the elementwise work (biases, ReLU, softmax) is left out as negligible."""
    pairs = list(itertools.pairwise(sizes))
    forward = sum(samples * a * b for a, b in pairs)
    backward = forward + sum(samples * a * b for a, b in pairs[1:])
    return 2 * (forward + backward)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> dict[str, float]:
    """The machine's float32 matmul rate, GFLOP/s: the best of `repeats` n x n products,
    by NumPy's BLAS and by XLA (jitted jnp.dot on the first device, all its threads)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    flop = 2 * n**3
    out = {}
    best = min(_time(lambda: a @ b) for _ in range(repeats))
    out["numpy"] = flop / best / 1e9
    dot = jax.jit(jnp.dot)
    ja, jb = jax.device_put(a), jax.device_put(b)
    dot(ja, jb).block_until_ready()
    best = min(_time(lambda: dot(ja, jb).block_until_ready()) for _ in range(repeats))
    out["xla"] = flop / best / 1e9
    return out


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def command_seconds(epochs: int, repeats: int) -> list[float]:
    """Wall seconds of the 64-configuration command as a user runs it: a fresh process each
    time (start-up, compilation and all), no persistent compilation cache."""
    command = [sys.executable, "-m", "nnfs_jax.cli", "sweep", "--lr", COMMAND_RATES]
    command += ["--seeds", "8", "--epochs", str(epochs), "--json", "--quiet"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def rss_mib() -> float:
    """This process's resident memory now (Linux /proc; NaN elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10001)
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats of the sweep")
    parser.add_argument("--timed-runs", type=int, default=4, help="NumPy / torch runs timed")
    parser.add_argument("--torch-epochs", type=int, default=2001, help="epochs per torch run")
    parser.add_argument("--big", type=int, default=1024, help="configurations of the big sweep")
    parser.add_argument("--big-epochs", type=int, help="its epochs (default --epochs)")
    parser.add_argument(
        "--budget", type=float, default=8, help="the big sweep's budget, MiB (several chunks)"
    )
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

    print(f"load average before: {os.getloadavg()}")
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

    # The command, as a user runs it: fresh processes, compilation included.
    times = command_seconds(epochs, args.repeats)
    rows.append(
        Measurement(
            name,
            "nnfs-jax sweep command (fresh process)",
            statistics.median(times),
            0.0,
            f"nnfs-jax sweep --lr {COMMAND_RATES} --seeds 8 --epochs {epochs} --json: "
            "start-up and compilation included",
            times,
        )
    )
    command_s = rows[-1].seconds

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
    budget = int(args.budget * 2**20)
    seen = []
    rss = [rss_mib()]  # before, then after every chunk
    start = time.perf_counter()
    big = sweep(
        data,
        {"learning_rate": rates},
        seeds=seeds_big,
        epochs=big_epochs,
        block=block,
        memory_budget=budget,
        progress=lambda p: (seen.append(p), rss.append(rss_mib())),
    )
    big_seconds = time.perf_counter() - start
    big_name = f"W4 sweep {len(big)} configs spiral 100x3 2-64-3 SGD {big_epochs} ep"
    rows.append(
        Measurement(
            big_name,
            f"nnfs_jax sweep ({jax.device_count()} CPU devices, block {block})",
            big_seconds,
            0.0,
            f"one run, compilation included; {big.chunks} chunks of {big.chunk_size} under a "
            f"{args.budget} MiB budget; resident memory {rss[0]:.0f} MiB before, "
            f"{rss[1]:.0f} after chunk 1, {rss[-1]:.0f} after chunk {len(rss) - 1} "
            f"(max {max(rss[1:]):.0f}); "
            f"{1e6 * big_seconds / (len(big) * big_epochs):.1f} us per model-epoch",
        )
    )

    rates_measured = matmul_gflops()
    print_table(rows, reference="nnfs_jax sweep")
    jax_row = next(r for r in rows if r.implementation.startswith("nnfs_jax sweep"))
    sweep_s = jax_row.seconds
    print()
    print(f"sweep: {per:.1f} us per model-epoch; compile {jax_row.compile_seconds:.1f} s (apart)")
    numpy_s = rows[0].seconds
    ratio = numpy_s / command_s
    verdict = "meets" if ratio >= 20 else "MISSES"
    print(
        f"the command, start-up and compilation included: {command_s:.2f} s, {ratio:.1f}x faster "
        f"than the NumPy loop x {configs} ({numpy_s:.1f} s): {verdict} the 20x floor"
    )
    flop = configs * epochs * flops_per_epoch()
    print(
        f"float32 matmul rate (2048^2): NumPy {rates_measured['numpy']:.0f}, XLA "
        f"{rates_measured['xla']:.0f} GFLOP/s; the steady sweep, {sweep_s:.2f} s, against the "
        f"arithmetic limit of {flop:.3g} FLOP:"
    )
    for who, rate in sorted(rates_measured.items(), key=lambda kv: -kv[1]):
        limit = flop / (rate * 1e9)
        verdict = "meets" if sweep_s <= 2.5 * limit else "MISSES"
        print(
            f"  at {who}'s rate, {limit:.2f} s: {sweep_s / limit:.2f}x the limit ({verdict} the "
            "2.5x ceiling)"
        )
    verdict = "meets" if big_seconds < 120 else "MISSES"
    growth = rss[-1] - rss[1]
    print(
        f"{len(big)} configurations: {big_seconds:.1f} s ({verdict} the 2-minute floor); "
        f"resident memory after chunk 1 {rss[1]:.0f} MiB, after the last {rss[-1]:.0f} MiB "
        f"({growth:+.0f} MiB over {len(rss) - 2} more chunks)"
    )
    for row in (rows[0], rows[2]):
        if row.seconds != row.seconds:  # NaN: a skipped baseline
            print(f"{row.implementation}: {row.note}")
            continue
        ratio = row.seconds / sweep_s
        verdict = "meets" if ratio >= 20 else "MISSES"
        print(f"{row.implementation}: {ratio:.1f}x slower than the sweep ({verdict} the 20x floor)")
    print(f"configuration 0 vs train alone, epochs 0-300: max |loss difference| {drift:.2e}")
    print(f"diverged in the 64-config sweep: {int(result.diverged.sum())}")
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        save_json(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
