"""`nnfs-jax experiments`: list the experiment scripts (one per topic of the documents) or run
them, each with its figures under OUT/<script>."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from pathlib import Path

from nnfs_jax.cli.common import (
    PROG,
    Output,
    ProgressBar,
    UsageError,
    out_dir,
    probe_out,
    seed,
)


def experiments_dir() -> Path:
    """The repository's experiments/ folder (or $NNFS_JAX_EXPERIMENTS)."""
    env = os.environ.get("NNFS_JAX_EXPERIMENTS")
    folder = Path(env) if env else Path(__file__).resolve().parents[2] / "experiments"
    if not folder.is_dir():
        raise UsageError(
            f"no experiments folder at {folder} (they ship with the source "
            "checkout; set NNFS_JAX_EXPERIMENTS to its path)"
        )
    return folder


def experiment_scripts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(experiments_dir().glob("e[0-9][0-9]_*.py"))}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "experiments",
        help="list or run the experiment scripts (one per topic of the documents)",
        description="'list' shows the scripts; 'run NAME [NAME ...]' or 'run all' runs them "
        "(a name may be its number, e.g. e07 or 7).",
    )
    p.add_argument("action", choices=("list", "run"))
    p.add_argument("names", nargs="*", help="scripts to run, or 'all'")
    p.add_argument("--quick", action="store_true", help="the scripts' small CI settings")
    p.add_argument("--out", type=out_dir, help="figures go to OUT/<script> (default OUT: out)")
    p.add_argument("--seed", type=seed, help="passed on to each script")
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _resolve(name: str, scripts: dict[str, Path]) -> str:
    if name in scripts:
        return name
    number = name.removeprefix("e").zfill(2)
    matches = [s for s in scripts if s.startswith(f"e{number}_")]
    if len(matches) != 1:
        raise UsageError(f"unknown experiment {name!r}; see '{PROG} experiments list'")
    return matches[0]


def run(args: argparse.Namespace, out: Output) -> int:
    scripts = experiment_scripts()
    if args.action == "list":
        for name, path in scripts.items():
            doc = (_module_doc(path) or "").strip().splitlines()
            out.record(
                {"name": name, "summary": doc[0] if doc else ""},
                f"{name:<36} {doc[0] if doc else ''}",
            )
        return 0
    if not args.names:
        raise UsageError("run: name the scripts to run, or 'all'")
    names = list(scripts) if args.names == ["all"] else [_resolve(n, scripts) for n in args.names]
    out_root = args.out
    if out_root is None:  # the default folder (an --out given is probed before any command)
        out_root = Path("out")
        probe_out(out_root)
    bar = ProgressBar(len(names), "experiments", not args.quiet and not args.json)
    for i, name in enumerate(names):
        bar.update(i, name)
        argv = ["--out", str(out_root / name)]
        argv += ["--quick"] if args.quick else []
        argv += ["--seed", str(args.seed)] if args.seed is not None else []
        start = time.perf_counter()
        out.text(f"== {name}")
        # With --json, stdout carries only JSON lines: the scripts' own prints go to stderr.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            result = _load(scripts[name]).main(argv)
        out.record(
            {"experiment": name, "seconds": time.perf_counter() - start, "result": result},
            f"== {name} done in {time.perf_counter() - start:.1f} s",
        )
    bar.update(len(names))
    bar.close()
    return 0


def _module_doc(path: Path) -> str | None:
    import ast

    return ast.get_docstring(ast.parse(path.read_text()))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"nnfs_jax_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
