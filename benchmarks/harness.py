"""Timing helpers shared by the benchmark scripts: medians of interleaved repeats, the
documents' NumPy set-up (`nnfs.init()`), PyTorch thread settings, and the results table."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import jax
import numpy as np


@contextlib.contextmanager
def nnfs_numpy(seed: int = 0):
    """`nnfs.init()` (float64 `np.dot` rounded to float32, float32 `randn`/`zeros`) as the
    documents run their code, undone afterwards so nothing else sees patched NumPy."""
    import nnfs

    saved = (np.dot, np.zeros, np.eye, np.random.randn)
    try:
        nnfs.init(random_seed=seed)
        yield
    finally:
        np.dot, np.zeros, np.eye, np.random.randn = saved


@contextlib.contextmanager
def torch_threads(n: int):
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


TORCH_MISSING = "skipped: PyTorch is not installed (pip install '.[bench]')"


def have_torch() -> bool:
    """Whether PyTorch can be imported (the `bench` extra); without it the PyTorch baselines
    are reported as skipped rows (NaN seconds) rather than failing the whole run."""
    return importlib.util.find_spec("torch") is not None


def seconds(fn: Callable[[], object]) -> float:
    """Wall time of one call, waiting for JAX's asynchronous results."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


@dataclass
class Measurement:
    """One implementation of one workload: steady-state seconds (median) and compile seconds
    (first call minus the steady median; 0 for eager code)."""

    workload: str
    implementation: str
    seconds: float
    compile_seconds: float = 0.0
    note: str = ""
    repeats: list[float] = field(default_factory=list)


def interleaved(
    candidates: dict[str, Callable[[], object]], repeats: int, warm: set[str] = frozenset()
) -> dict[str, tuple[float, float, list[float]]]:
    """Time each candidate `repeats` times, round-robin (so machine noise hits all alike).

    Candidates in `warm` are called once first (JAX: that call compiles); its time minus the
    steady median is reported as compile time. Returns {name: (median, compile, all runs)}.
    """
    first = {name: seconds(fn) for name, fn in candidates.items() if name in warm}
    runs: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            runs[name].append(seconds(fn))
    out = {}
    for name, times in runs.items():
        median = statistics.median(times)
        out[name] = (median, max(first.get(name, median) - median, 0.0), times)
    return out


def print_table(rows: list[Measurement], reference: str = "nnfs_jax") -> None:
    """One block per workload: each implementation's time and its ratio to `reference`."""
    workloads = list(dict.fromkeys(r.workload for r in rows))
    print(f"{'workload':<42} {'implementation':<48} {'seconds':>9} {'compile':>8} {'vs ref':>8}")
    for w in workloads:
        group = [r for r in rows if r.workload == w]
        ref = next((r for r in group if r.implementation.startswith(reference)), None)
        for r in group:
            measured = ref and ref.seconds > 0 and not math.isnan(r.seconds)
            ratio = f"{r.seconds / ref.seconds:7.1f}x" if measured else ""
            compile_s = f"{r.compile_seconds:8.2f}" if r.compile_seconds else ""
            print(f"{w:<42} {r.implementation:<48} {r.seconds:9.3f} {compile_s:>8} {ratio:>8}")
            if r.note:
                print(f"{'':<42}   ({r.note})")


def save_json(rows: list[Measurement], path: str) -> None:
    with open(path, "w") as f:
        json.dump([asdict(r) for r in rows], f, indent=1)
