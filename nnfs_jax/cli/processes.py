"""`nnfs-jax sweep` on every core and across processes: the devices of this process, the local
launcher of `--processes N`, and joining a run (`--coordinator`, or SLURM's variables).

A sweep runs on one CPU device per core unless `--devices N` says otherwise. With `--processes
N` this process starts N workers on 127.0.0.1 (the same command, each with `--coordinator
--num-processes --process-id`), passes worker 0's output through, and stops the others as soon
as one fails. A worker joins the run through `jax.distributed` (CPU collectives via gloo); only
process 0 prints and writes files. Under SLURM (several tasks) the run is joined from SLURM's
variables, as JAX does it, when no `--coordinator` is given.

A process that joins a run by itself (a host of a multi-host run, a SLURM task) runs the sweep in
a child it supervises: when a peer dies, JAX's coordination service aborts the survivors from
C++ (a stack trace, no Python exception), so the supervisor reads the child's stderr and turns
that into one line and exit status 1. Children die with their parent (Linux's PDEATHSIG), so a
`kill -9` of a launcher or supervisor leaves no worker behind.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from nnfs_jax.cli.common import PROG, UsageError, positive_int
from nnfs_jax.cli.errors import FAILED, INTERRUPTED, OK, USAGE, RunFailed

WORKER = "NNFS_JAX_WORKER"  # set in a child already supervised (by a launcher or supervisor)
# The start of an absl/glog line from XLA's C++ ("E1203 20:29:19.868375  651 file.cc:12] ...").
XLA_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^ ]+:\d+\]")


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "devices and processes",
        "One CPU device per core by default (JAX alone makes one). --processes N starts N "
        "local workers; --coordinator/--num-processes/--process-id join a run over several "
        "hosts (each runs the same command with its own --process-id); under SLURM with "
        "several tasks the run is joined from SLURM's variables.",
    )
    group.add_argument(
        "--devices",
        type=positive_int,
        help="CPU devices per process (default: one per core, shared out among --processes)",
    )
    group.add_argument("--processes", type=positive_int, help="local worker processes to start")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address")
    group.add_argument("--num-processes", type=positive_int, help="processes in the run")
    group.add_argument("--process-id", type=int, help="this process's index, 0 .. N - 1")


def joined(args: argparse.Namespace) -> bool:
    """Whether this process is one of several (a worker, a host of a run, a SLURM task)."""
    return args.coordinator is not None or _slurm_tasks() > 1


def supervised() -> bool:
    """Whether a launcher or supervisor started this process (and reports its death)."""
    return os.environ.get(WORKER) == "1"


def setup(args: argparse.Namespace) -> None:
    """Before any JAX computation: this process's devices, and joining the run if any."""
    from nnfs_jax import devices

    given = [args.coordinator, args.num_processes, args.process_id]
    if any(v is not None for v in given) and not all(v is not None for v in given):
        raise UsageError("--coordinator, --num-processes and --process-id go together")
    if args.processes is not None and args.coordinator is not None:
        raise UsageError("--processes starts its own workers: leave out --coordinator")
    try:
        devices.use_cpu_cores(args.devices)
    except ValueError:
        if args.devices is not None:  # asked for, and JAX had already started: say so
            raise
        # JAX already started in this process (nnfs_jax.cli.main called from Python): its
        # devices stand.
    if joined(args):
        _stdout_for_python_only(args.debug)
    if args.coordinator is not None:
        devices.join(args.coordinator, args.num_processes, args.process_id)
    elif _slurm_tasks() > 1:
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(heartbeat_timeout_seconds=10)


def _stdout_for_python_only(debug: bool) -> None:
    """Keep stdout for the command's own output (--json's lines must stay JSON): gloo prints
    its connections on the process's stdout from C++, so file descriptor 1 goes to /dev/null
    (to stderr with --debug) and Python's sys.stdout to a copy of the real one."""
    sys.stdout.flush()
    real = os.dup(1)
    target = 2 if debug else os.open(os.devnull, os.O_WRONLY)
    os.dup2(target, 1)
    if target != 2:
        os.close(target)
    sys.stdout = open(real, "w", encoding=sys.stdout.encoding, errors=sys.stdout.errors)


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
    from nnfs_jax import devices

    n = args.processes
    port = _free_port()
    argv = _without(_without(args.argv, "--processes"), "--devices")
    # The cores shared out: one CPU device per core in all, at least one per worker.
    per_worker = args.devices or max(1, devices.cpu_cores() // n)
    workers = []
    for i in range(n):
        join = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n)]
        command = [sys.executable, "-m", "nnfs_jax.cli", *argv, *join, "--process-id", str(i)]
        command += ["--devices", str(per_worker)]
        quiet = subprocess.DEVNULL if i else None
        workers.append(
            subprocess.Popen(
                command, stdout=quiet, stderr=quiet, env=_worker_env(), preexec_fn=_die_with_parent
            )
        )
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


def supervise(args: argparse.Namespace) -> int:
    """Run this command in a child and wait for it. Its stdout goes through, its stderr line by
    line until XLA's C++ logs (which come only with trouble); those are held, and if the child
    is then aborted because a peer stopped, they become one line (all of them with --debug).
    SIGTERM is passed on; Ctrl-C reaches the child itself (same process group)."""
    command = [sys.executable, "-m", "nnfs_jax.cli", *args.argv]
    child = subprocess.Popen(
        command, stderr=subprocess.PIPE, env=_worker_env(), preexec_fn=_die_with_parent
    )
    held: list[str] = []
    said: list[str] = []  # the child's own error line, if it printed one
    relay = threading.Thread(target=_relay, args=(child.stderr, held, said), daemon=True)
    relay.start()
    previous = signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # the child got it too: wait for its own report
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
    relay.join(timeout=5)
    text = "".join(held)
    lost = _lost_peer_in_logs(text)
    if held and (args.debug or not lost):
        sys.stderr.write(text)
    if code in (OK, FAILED, USAGE, INTERRUPTED):
        return code
    if said:  # it said why, then JAX aborted it on the way out: one line is enough
        return FAILED
    if lost:
        raise RunFailed(f"{lost}; stopped this process too")
    how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
    raise RunFailed(f"the sweep's process {how}")


def _relay(stream, held: list[str], said: list[str]) -> None:
    """The child's stderr through to ours, line by line, from its first XLA log line into
    `held` instead; the command's own error line (`nnfs-jax sweep: ...`) also into `said`."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        if held or XLA_LOG.match(line):
            held.append(line)
            continue
        if line.startswith(f"{PROG} "):
            said.append(line)
        sys.stderr.write(line)
        sys.stderr.flush()


def _lost_peer_in_logs(text: str) -> str | None:
    """What XLA's logs say about a stopped peer, in a few words; None when they say nothing."""
    found = re.search(r"tasks are unhealthy \(stopped sending heartbeats\):\s*([\d ,]+)", text)
    if found:
        ids = ", ".join(found.group(1).replace(",", " ").split())
        return f"process {ids} of the run stopped answering (no heartbeat)"
    if "distributed service detected fatal errors" in text or "heartbeat" in text.lower():
        return "another process of the run (or its coordinator) stopped"
    return None


def _worker_env() -> dict[str, str]:
    return {**os.environ, WORKER: "1"}


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent dies (Linux); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


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
