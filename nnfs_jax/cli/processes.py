"""`nnfs-jax sweep` on every core and across processes: the devices of this process, the local
launcher of `--processes N`, and joining a run (`--coordinator`, or SLURM's variables).

A sweep runs on one CPU device per core unless `--devices N` says otherwise. With `--processes
N` this process starts N workers on 127.0.0.1 (the same command, each with `--coordinator
--num-processes --process-id`), passes worker 0's output through, and stops the others as soon
as one fails. A worker joins the run through `jax.distributed` (CPU collectives via gloo); only
process 0 prints and writes files. Under SLURM (several tasks) the run is joined from SLURM's
variables, as JAX does it, when no `--coordinator` is given.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from nnfs_jax.cli.common import UsageError, positive_int
from nnfs_jax.cli.errors import RunFailed


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "devices and processes",
        "One CPU device per core by default (JAX alone makes one). --processes N starts N "
        "local workers; --coordinator/--num-processes/--process-id join a run over several "
        "hosts (each runs the same command with its own --process-id); under SLURM with "
        "several tasks the run is joined from SLURM's variables.",
    )
    group.add_argument("--devices", type=positive_int, help="CPU devices in this process")
    group.add_argument("--processes", type=positive_int, help="local worker processes to start")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address")
    group.add_argument("--num-processes", type=positive_int, help="processes in the run")
    group.add_argument("--process-id", type=int, help="this process's index, 0 .. N - 1")


def joined(args: argparse.Namespace) -> bool:
    """Whether this process is one of several (a worker, a host of a run, a SLURM task)."""
    return args.coordinator is not None or _slurm_tasks() > 1


def setup(args: argparse.Namespace) -> None:
    """Before any JAX computation: this process's devices, and joining the run if any."""
    from nnfs_jax import devices

    given = [args.coordinator, args.num_processes, args.process_id]
    if any(v is not None for v in given) and not all(v is not None for v in given):
        raise UsageError("--coordinator, --num-processes and --process-id go together")
    if args.processes is not None and args.coordinator is not None:
        raise UsageError("--processes starts its own workers: leave out --coordinator")
    count = args.devices
    if count is None and args.processes:
        count = max(1, devices.cpu_cores() // args.processes)
    try:
        devices.use_cpu_cores(count)
    except ValueError:
        if args.devices is not None:  # asked for, and JAX had already started: say so
            raise
        # JAX already started in this process (nnfs_jax.cli.main called from Python): its
        # devices stand.
    if args.coordinator is not None:
        devices.join(args.coordinator, args.num_processes, args.process_id)
    elif _slurm_tasks() > 1:
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(heartbeat_timeout_seconds=10)


def _slurm_tasks() -> int:
    try:
        return int(os.environ.get("SLURM_NTASKS", "1")) if "SLURM_PROCID" in os.environ else 1
    except ValueError:
        return 1


def is_first() -> bool:
    """Whether this process prints and writes (process 0, or the only one)."""
    import jax

    return jax.process_index() == 0


def launch(args: argparse.Namespace) -> int:
    """Start `--processes` workers running this command, wait for them; worker 0's output
    goes through. The first worker to fail stops the others; the run then fails with one line."""
    n = args.processes
    port = _free_port()
    argv = _without(args.argv, "--processes")
    workers = []
    for i in range(n):
        join = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n)]
        command = [sys.executable, "-m", "nnfs_jax.cli", *argv, *join, "--process-id", str(i)]
        if args.devices is not None:
            command += ["--devices", str(args.devices)]
        quiet = subprocess.DEVNULL if i else None
        workers.append(subprocess.Popen(command, stdout=quiet, stderr=quiet))
    try:
        while True:
            codes = [w.poll() for w in workers]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                _stop(workers)
                if i == 0 and code in (1, 2):  # worker 0 said why itself
                    return code
                how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                raise RunFailed(f"worker {i} of {n} {how}; stopped the other workers")
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)
    except BaseException:
        _stop(workers)
        raise


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGKILL)
    for w in workers:
        w.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _without(argv: list[str], flag: str) -> list[str]:
    """`argv` without `flag` and its value (as `--flag N` or `--flag=N`)."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == flag:
            skip = True
        elif not item.startswith(flag + "="):
            out.append(item)
    return out


def check_process_id(args: argparse.Namespace) -> None:
    if args.process_id is not None and not 0 <= args.process_id < (args.num_processes or 1):
        raise UsageError(
            f"--process-id: expected 0 .. {(args.num_processes or 1) - 1}, got {args.process_id}"
        )
