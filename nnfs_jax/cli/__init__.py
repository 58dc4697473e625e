"""The `nnfs-jax` command: the package's main jobs from a shell.

    nnfs-jax train          document 002's spiral run (every option has the document's default)
    nnfs-jax search         random search or hill climbing (documents 000, 001)
    nnfs-jax sweep          many trainings in one compiled call
    nnfs-jax gradcheck      manual vs jax.grad vs finite differences, leaf by leaf
    nnfs-jax derivative     numerical derivatives of f(x) = 2x^2 against the exact one
    nnfs-jax experiments    list or run the experiment scripts

Every subcommand takes --seed, --out DIR (figures), --json (one strict JSON object per line
on stdout), --quiet (no progress bar; the bar is drawn on stderr only when it is a terminal)
and --debug (a traceback with any error). Exit status: 0 success, 2 a bad option or value (one
line on stderr, before any work), 1 the run failed or an internal error (one line), 130
interrupted; see `nnfs_jax.cli.errors`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence

from nnfs_jax.cli import (
    derivative_command,
    errors,
    experiments_command,
    gradcheck_command,
    search_command,
    sweep_command,
    train_command,
)
from nnfs_jax.cli.common import PROG, Output, Parser, probe_out

SUBCOMMANDS = (
    train_command,
    search_command,
    sweep_command,
    gradcheck_command,
    derivative_command,
    experiments_command,
)
DEBUG_HELP = "show the full traceback with any error (as NNFS_JAX_TRACEBACK=1 does)"


def build_parser() -> Parser:
    """The command's parser: one subparser per subcommand module; --debug is accepted before
    and after the subcommand."""
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    for subparser in sub.choices.values():
        # SUPPRESS: without --debug after the subcommand, the main parser's value stands.
        subparser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


def _version() -> str:
    from nnfs_jax import __version__

    return f"{PROG} {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status: 0 success, 2 a usage error, 1 a failed
    run or an internal error, 130 interrupted (`nnfs_jax.cli.errors`). Each error is one line
    on stderr; --debug (or NNFS_JAX_TRACEBACK=1) adds the traceback.

    --float64 enables x64 for the run only (`jax.enable_x64`), so calling `main` in a process
    leaves JAX's precision as it was."""
    debug = os.environ.get("NNFS_JAX_TRACEBACK", "") not in ("", "0")
    command = ""
    try:
        args = build_parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # what a launcher passes on
        debug = debug or args.debug
        command = args.command
        if getattr(args, "out", None) is not None:
            probe_out(args.out)
        with _precision(getattr(args, "float64", False)), _no_divergence_warnings():
            return args.run(args, Output(args.json))
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"{PROG}: interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except Exception as err:
        status, label, text = errors.describe(err)
        if debug:
            traceback.print_exc()
        prog = err.prog if isinstance(err, errors.UsageError) and err.prog else None
        prog = prog or f"{PROG} {command}".strip()
        print(errors.one_line(f"{prog}: {label}: {text}"), file=sys.stderr)
        if errors.peer_lost(err):
            # The multi-process run is broken: JAX's shutdown at exit would wait for the lost
            # peer, or abort from C++ with a stack trace. Leave now, with the line said.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        return status


def _precision(float64: bool):
    if not float64:
        return contextlib.nullcontext()
    import jax

    return jax.enable_x64(True)


@contextlib.contextmanager
def _no_divergence_warnings():
    """The commands report a diverged run themselves (train: one line and exit status 1; sweep:
    its table), so the library's DivergenceWarning would only repeat it."""
    from nnfs_jax.logs import DivergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        yield
