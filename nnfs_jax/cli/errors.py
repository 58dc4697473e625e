"""The command's exit statuses, and the one line on stderr that says why a run stopped.

0 success; 2 a usage error (a bad option or value, before any work); 1 the run failed (it
diverged, a gradient check failed, a file could not be read or written, memory ran out) or an
internal error (a bug: the line says so, and --debug shows the traceback); 130 interrupted."""

from __future__ import annotations

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
INTERNAL = FAILED  # a bug ends as a failed run (what Python's own uncaught exceptions exit with)


class UsageError(Exception):
    """A bad option or file name: reported in one line, exit status 2."""


class RunFailed(Exception):
    """The run went wrong although its options were good (it diverged, a check failed):
    reported in one line, exit status 1."""


def classify(err: BaseException) -> tuple[int, str]:
    """(exit status, what to call the error in its line) for an exception out of a run."""
    from nnfs_jax.checkpoint import CheckpointError
    from nnfs_jax.checks import InputError
    from nnfs_jax.images import DataError

    if isinstance(err, (UsageError, InputError)):
        return USAGE, "error"
    if isinstance(err, (RunFailed, CheckpointError, DataError, OSError, MemoryError)):
        return FAILED, "failed"
    if _out_of_device_memory(err):
        return FAILED, "failed"
    return INTERNAL, "internal error"


def message(err: BaseException, status: int, label: str) -> str:
    """The error's text for its one line (the caller adds the command and the label)."""
    text = str(err)
    if isinstance(err, MemoryError):
        text = f"out of memory{': ' + text if text else ''}"
    elif _out_of_device_memory(err):
        text = f"out of device memory: {text}"
    elif isinstance(err, OSError) and err.strerror:
        where = err.filename if err.filename is not None else ""
        text = f"{err.strerror}{': ' + repr(str(where)) if where else ''}"
    if status == INTERNAL and label == "internal error":
        text = f"{type(err).__name__}: {text} (a bug in {_package()}; rerun with --debug to see "
        text += "the traceback, and please report it)"
    return " ".join(text.split())


def _out_of_device_memory(err: BaseException) -> bool:
    """XLA's RESOURCE_EXHAUSTED (an accelerator's memory is full): a failed run, not a bug."""
    return type(err).__name__ in ("XlaRuntimeError", "JaxRuntimeError") and (
        "RESOURCE_EXHAUSTED" in str(err)
    )


def _package() -> str:
    return "nnfs_jax"
