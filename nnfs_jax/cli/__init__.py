"""The `nnfs-jax` command: the package's main jobs from a shell.

    nnfs-jax train          document 002's spiral run (every option has the document's default)
    nnfs-jax search         random search or hill climbing (documents 000, 001)
    nnfs-jax sweep          many trainings in one compiled call
    nnfs-jax gradcheck      manual vs jax.grad vs finite differences, leaf by leaf
    nnfs-jax derivative     numerical derivatives of f(x) = 2x^2 against the exact one
    nnfs-jax experiments    list or run the experiment scripts

Every subcommand takes --seed, --out DIR (figures), --json (one JSON object per line on
stdout) and --quiet (no progress bar; the bar is drawn on stderr only when it is a terminal).
Bad options and bad files end with a one-line error and exit status 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from nnfs_jax.cli import (
    derivative_command,
    experiments_command,
    gradcheck_command,
    search_command,
    sweep_command,
    train_command,
)
from nnfs_jax.cli.common import PROG, Output, Parser, UsageError

SUBCOMMANDS = (
    train_command,
    search_command,
    sweep_command,
    gradcheck_command,
    derivative_command,
    experiments_command,
)


def build_parser() -> Parser:
    """The command's parser: one subparser per subcommand module."""
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def _version() -> str:
    from nnfs_jax import __version__

    return f"{PROG} {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad options or files).

    --float64 enables x64 for the run only (`jax.enable_x64`), so calling `main` in a process
    leaves JAX's precision as it was."""
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        with _precision(getattr(args, "float64", False)):
            status = args.run(args, Output(args.json))
    except UsageError as err:
        print(_one_line(str(err)), file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as err:
        # Validation errors from the library name the bad argument; one line is enough.
        # NNFS_JAX_TRACEBACK=1 shows the whole traceback instead (for debugging).
        if os.environ.get("NNFS_JAX_TRACEBACK"):
            raise
        command = getattr(args, "command", "")
        print(_one_line(f"{PROG} {command}: error: {err}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


def _precision(float64: bool):
    if not float64:
        return contextlib.nullcontext()
    import jax

    return jax.enable_x64(True)


def _one_line(message: str) -> str:
    return " ".join(message.split())
