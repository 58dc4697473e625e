"""The command's exit statuses, and the one line on stderr that says why a run stopped.

0 success; 2 a usage error (a bad option or value, found before any work); 1 the run failed
(it diverged, a gradient check failed, a file could not be read or written, memory ran out)
or an internal error (a bug: the line says so, and --debug shows the traceback); 130
interrupted (Ctrl-C)."""

from __future__ import annotations

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
INTERNAL = 1  # a bug ends as Python's own uncaught exceptions do; its line says which it was


class UsageError(Exception):
    """A bad option, value or file name: one line, exit status 2. `prog`: who reports it
    (argparse's parser; None: the subcommand that ran)."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


class RunFailed(Exception):
    """The run went wrong although its options were good (it diverged, a check failed): one
    line, exit status 1."""


def describe(err: Exception) -> tuple[int, str, str]:
    """(exit status, label, text) for an exception out of a run: its line on stderr is
    `PROG COMMAND: label: text`."""
    from nnfs_jax.checkpoint import CheckpointError
    from nnfs_jax.checks import InputError
    from nnfs_jax.images import DataError

    text = str(err)
    if isinstance(err, (UsageError, InputError)):
        return USAGE, "error", text
    if isinstance(err, MemoryError) or _out_of_device_memory(err):
        return FAILED, "failed", f"out of memory{': ' + text if text else ''}"
    if isinstance(err, OSError) and err.strerror:
        where = f": {str(err.filename)!r}" if err.filename is not None else ""
        return FAILED, "failed", f"{err.strerror}{where}"
    if isinstance(err, (RunFailed, CheckpointError, DataError, OSError)):
        return FAILED, "failed", text
    if peer_lost(err):
        return FAILED, "failed", f"another process of the run stopped: {one_line(text)[:200]}"
    return (
        INTERNAL,
        "internal error",
        f"{type(err).__name__}: {text} (a bug in nnfs_jax, not in your options; rerun with "
        "--debug for the traceback)",
    )


def one_line(text: str) -> str:
    return " ".join(text.split())


def peer_lost(err: Exception) -> bool:
    """A multi-process run whose peer stopped (jax.distributed's heartbeat, a broken
    collective): the run failed, no bug."""
    text = str(err)
    return type(err).__name__ in ("XlaRuntimeError", "JaxRuntimeError") and any(
        word in text for word in ("heartbeat", "UNAVAILABLE", "Gloo", "gloo", "coordination")
    )


def _out_of_device_memory(err: Exception) -> bool:
    """XLA's RESOURCE_EXHAUSTED (an accelerator's memory is full): a failed run, not a bug."""
    return "RESOURCE_EXHAUSTED" in str(err) and type(err).__name__ in (
        "XlaRuntimeError",
        "JaxRuntimeError",
    )
