"""The benchmark table: the documents' NumPy code, PyTorch eager (CPU, best thread setting)
and nnfs_jax, side by side in one run.

    W1  pure random search, vertical data 100 x 3, 2-3-3, 100,000 candidates (document 000)
    W2  hill climbing, 10,000 iterations, vertical and spiral data 100 x 3, 2-3-3 (001)
    W3  SGD lr 1.0, spiral 100 x 3, 2-64-3, 10,001 epochs (002)
    W5  SGD lr 1.0, spiral 10,000 x 3, 2-64-3 and 2-512-3, 1,000 epochs

Steady-state times are medians of interleaved repeats; nnfs_jax's compile time is reported
apart (first call minus the steady median). Long baselines are timed on a slice of the work
(fewer epochs / iterations) and scaled linearly — the table says so. W4 (sweeps) and the
Fashion-MNIST run have their own scripts: sweep.py, fashion_mnist.py.

    python benchmarks/run.py [--only W3,W5] [--repeats 3] [--quick] [--json results.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import book_numpy
from harness import (
    TORCH_MISSING,
    Measurement,
    have_torch,
    interleaved,
    nnfs_numpy,
    print_table,
    save_json,
    torch_threads,
)

import nnfs_jax as nj
from nnfs_jax import optim


def spiral_setup(samples, sizes):
    """The documents' order after nnfs.init(): data, then weights (float32)."""
    params, X, y = nj.book_setup(sizes, samples=samples, draw=1)
    return X, y, [np.asarray(p["weights"]) for p in params], params


# --- PyTorch eager -----------------------------------------------------------------------------


def torch_sgd(X, y, W1, W2, epochs, autograd):
    """Document 002's loop in PyTorch eager: the fused rule by hand under no_grad, or autograd
    with torch.optim.SGD (the faster of the two is reported)."""
    import torch

    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    n = len(y)
    if autograd:
        W1 = torch.tensor(W1, requires_grad=True)
        W2 = torch.tensor(W2, requires_grad=True)
        b1 = torch.zeros(1, W1.shape[1], requires_grad=True)
        b2 = torch.zeros(1, W2.shape[1], requires_grad=True)
        opt = torch.optim.SGD([W1, b1, W2, b2], lr=1.0)
        for epoch in range(epochs):
            logits = torch.relu(X @ W1 + b1) @ W2 + b2
            loss = torch.nn.functional.cross_entropy(logits, y)
            if not epoch % 100:
                (logits.argmax(1) == y).float().mean().item(), loss.item()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return W1
    W1, W2 = torch.tensor(W1), torch.tensor(W2)
    b1, b2 = torch.zeros(1, W1.shape[1]), torch.zeros(1, W2.shape[1])
    onehot = torch.nn.functional.one_hot(y, W2.shape[1]).to(X.dtype)
    with torch.no_grad():
        for epoch in range(epochs):
            z1 = X @ W1 + b1
            a1 = torch.relu(z1)
            p = torch.softmax(a1 @ W2 + b2, dim=1)
            if not epoch % 100:
                loss = -torch.log(p.clamp(1e-7, 1 - 1e-7)[torch.arange(n), y]).mean()
                (p.argmax(1) == y).float().mean().item(), loss.item()
            d2 = (p - onehot) / n
            da1 = (d2 @ W2.T) * (z1 > 0)
            W2 -= a1.T @ d2
            b2 -= d2.sum(0, keepdim=True)
            W1 -= X.T @ da1
            b1 -= da1.sum(0, keepdim=True)
    return W1


def best_torch(name, run, repeats, scale=1.0, note=""):
    """The best of {1, 2} threads x {manual, autograd}: PyTorch's default two threads collapse
    when another process holds a core, so small workloads take the better setting."""
    if not have_torch():
        return Measurement(name, "pytorch eager", float("nan"), 0.0, TORCH_MISSING)
    results = {}
    for threads in (1, 2):
        with torch_threads(threads):
            for autograd in (False, True):
                label = f"{'autograd' if autograd else 'manual'}, {threads} thread(s)"
                results[label] = interleaved({label: lambda a=autograd: run(a)}, repeats)[label]
    label, (median, _, times) = min(results.items(), key=lambda kv: kv[1][0])
    return Measurement(name, f"pytorch eager ({label})", median * scale, 0.0, note, times)


# --- workloads ---------------------------------------------------------------------------------


def numpy_and_torch(name, X, y, W1, W2, slice_epochs, scale, repeats):
    """The documents' NumPy loop (under nnfs.init) and PyTorch eager on `slice_epochs` epochs,
    scaled to the workload's length."""
    note = f"timed {slice_epochs} epochs, scaled x{scale:.2f}"
    with nnfs_numpy():
        t = interleaved(
            {"numpy": lambda: book_numpy.train_002(X, y, W1, W2, slice_epochs)}, repeats
        )
    return [
        Measurement(name, "numpy (documents' code)", t["numpy"][0] * scale, 0, note),
        best_torch(name, lambda a: torch_sgd(X, y, W1, W2, slice_epochs, a), repeats, scale, note),
    ]


def jax_train(name, params, X, y, epochs, repeats, grad="manual"):
    def run():
        return nj.train(params, X, y, optimizer=optim.sgd(1.0), epochs=epochs, grad=grad)[0]

    median, compile_s, times = interleaved({grad: run}, repeats, warm={grad})[grad]
    return Measurement(name, f"nnfs_jax train ({grad})", median, compile_s, "", times)


def w3(repeats, quick):
    epochs, slice_epochs = (1001, 501) if quick else (10001, 2001)
    X, y, (W1, W2), params = spiral_setup(100, (2, 64, 3))
    name = f"W3 SGD spiral 100x3 2-64-3 {epochs} ep"
    rows = numpy_and_torch(name, X, y, W1, W2, slice_epochs, epochs / slice_epochs, repeats)
    return rows + [
        jax_train(name, params, X, y, epochs, repeats, g) for g in ("manual", "autodiff")
    ]


def w5(repeats, quick):
    epochs = 101 if quick else 1000
    rows = []
    for hidden in (64, 512):
        X, y, (W1, W2), params = spiral_setup(10_000, (2, hidden, 3))
        name = f"W5 SGD spiral 10000x3 2-{hidden}-3 {epochs} ep"
        slice_epochs = min(epochs, 50 if hidden == 512 else 100)
        rows += numpy_and_torch(name, X, y, W1, W2, slice_epochs, epochs / slice_epochs, repeats)
        rows.append(jax_train(name, params, X, y, epochs, repeats))
    return rows


def torch_random_search(X, y, iterations, block):
    """Document 000's search in PyTorch, batched: a block of candidates per bmm."""
    import torch

    g = torch.Generator().manual_seed(0)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    Xb, idx, best = Xt.expand(block, -1, -1), yt.view(1, -1, 1).expand(block, -1, 1), np.inf
    for _ in range(0, iterations, block):
        W1, b1 = (
            0.05 * torch.randn(block, 2, 3, generator=g),
            0.05 * torch.randn(block, 1, 3, generator=g),
        )
        W2, b2 = (
            0.05 * torch.randn(block, 3, 3, generator=g),
            0.05 * torch.randn(block, 1, 3, generator=g),
        )
        p = torch.softmax(torch.bmm(torch.relu(torch.bmm(Xb, W1) + b1), W2) + b2, dim=2)
        loss = -torch.log(torch.gather(p.clamp(1e-7, 1 - 1e-7), 2, idx)).squeeze(2).mean(1)
        (p.argmax(2) == yt).float().mean(1)
        best = min(best, float(loss.min()))
    return best


def w1(repeats, quick):
    iterations, numpy_iterations = (10_000, 2_000) if quick else (100_000, 10_000)
    nj.book_seed(0)
    X, y = nj.vertical_data(100, 3)
    name = f"W1 random search vertical 2-3-3 {iterations:,}"
    scale = iterations / numpy_iterations
    with nnfs_numpy():
        t = interleaved(
            {"numpy": lambda: book_numpy.random_search_000(X, y, numpy_iterations)}, repeats
        )
    rows = [
        Measurement(
            name,
            "numpy (documents' code)",
            t["numpy"][0] * scale,
            0,
            f"timed {numpy_iterations:,} iterations, scaled x{scale:.0f}",
        )
    ]
    torch_runs = {}
    for threads in (1, 2) if have_torch() else ():
        with torch_threads(threads):
            for block in (1_000, 10_000):
                label = f"pytorch batched (bmm, block {block}, {threads} thr)"
                torch_runs[label] = interleaved(
                    {label: lambda b=block: torch_random_search(X, y, iterations, b)}, repeats
                )[label]
    if torch_runs:
        label, (median, _, times) = min(torch_runs.items(), key=lambda kv: kv[1][0])
        rows.append(Measurement(name, label, median, 0, "", times))
    else:
        rows.append(Measurement(name, "pytorch batched", float("nan"), 0, TORCH_MISSING))
    key = jax.random.key(0)

    def run():
        return nj.random_search(key, X, y, (2, 3, 3), iterations=iterations).loss

    median, compile_s, times = interleaved({"jax": run}, repeats, warm={"jax"})["jax"]
    result = nj.random_search(key, X, y, (2, 3, 3), iterations=iterations)
    with nnfs_numpy():
        numpy_best = min(loss for _, loss, _ in book_numpy.random_search_000(X, y, iterations))
    rows.append(
        Measurement(
            name,
            "nnfs_jax random_search",
            median,
            compile_s,
            f"best loss {float(result.loss):.5f} vs the NumPy loop's {numpy_best:.5f} "
            f"at the same budget",
            times,
        )
    )
    return rows


def w2(repeats, quick):
    iterations = 2_000 if quick else 10_000
    return [row for d in ("vertical", "spiral") for row in _w2_one(d, iterations, repeats)]


def _w2_one(dataset, iterations, repeats):
    nj.book_seed(0)
    X, y = nj.BOOK_DATA[dataset](100, 3)
    name = f"W2 hill climbing {dataset} 2-3-3 {iterations:,}"
    with nnfs_numpy():
        t = interleaved({"numpy": lambda: book_numpy.hill_climb_001(X, y, iterations)}, repeats)
    key = jax.random.key(0)

    def run():
        return nj.hill_climb(key, X, y, (2, 3, 3), iterations=iterations).loss

    median, compile_s, times = interleaved({"jax": run}, repeats, warm={"jax"})["jax"]
    return [
        Measurement(name, "numpy (documents' code)", t["numpy"][0], 0),
        Measurement(name, "nnfs_jax hill_climb", median, compile_s, "", times),
    ]


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W5": w5}


def main(argv=None) -> list[Measurement]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W1,W3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = []
    for name in args.only.split(","):
        rows += WORKLOADS[name.strip()](args.repeats, args.quick)
    print_table(rows)
    if args.json:
        save_json(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
