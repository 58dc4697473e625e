"""`nnfs-jax sweep` over several processes for real (127.0.0.1, jax.distributed with gloo):
the same rows as one process, files written once, and a worker killed with `kill -9` stops the
run with one line within 30 s, after which the same command resumes from its checkpoints."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds worker processes through /proc"
)

COMMAND = [sys.executable, "-m", "nnfs_jax.cli", "sweep", "--json", "--quiet"]
LR = ["--lr", "0.05,0.1,0.2,0.5,1,2,3,5"]
# 16 configurations. A budget of 5.15 MiB holds one unit of 2 devices x block 4 = 8 of them
# (the activations of the two blocks in flight take 5.1 MB, each configuration 21 kB): 2 chunks,
# checkpointed one by one. Devices pinned: the budget is sized for them, whatever the cores.
LONG = [*LR, "--seeds", "2", "--epochs", "10001", "--log-every", "100", "--budget", "5.15"]
STOP_WITHIN = 30  # seconds, from the kill to the last process gone


def run(args, cwd):
    done = subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return done, records


def rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "sweep.jsonl").read_text().splitlines()]


def files(records) -> list[str]:
    return [r["file"] for r in records if "file" in r]


def final(records) -> dict:
    return next(r for r in records if r.get("final"))


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def process_id(pid: int) -> int | None:
    """The --process-id on a worker's command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return None
    return int(argv[argv.index("--process-id") + 1]) if "--process-id" in argv else None


def wait_for(path: Path, *running: subprocess.Popen, limit: float = 240) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        for p in running:
            assert p.poll() is None, f"ended before the kill: {p.communicate()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def stop(*processes: subprocess.Popen) -> None:
    for p in processes:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_two_processes_give_the_rows_of_one_and_write_each_file_once(tmp_path):
    args = [*LR, "--seeds", "2", "--epochs", "301", "--log-every", "50"]  # 16 configurations
    one, one_records = run([*args, "--out", "one"], tmp_path)
    two, two_records = run([*args, "--processes", "2", "--out", "two"], tmp_path)
    assert one.returncode == two.returncode == 0, (one.stderr, two.stderr)
    assert final(two_records)["processes"] == 2 and final(one_records)["processes"] == 1
    assert final(two_records)["configs"] == 16
    assert rows(tmp_path / "two") == rows(tmp_path / "one")  # every row, exactly
    assert (tmp_path / "two" / "sweep.csv").read_text() == (
        tmp_path / "one" / "sweep.csv"
    ).read_text()
    # one process printed (each record once) and wrote: one record per file, no other file
    assert [r for r in two_records if not r.get("final") and "file" not in r] == [
        r for r in one_records if not r.get("final") and "file" not in r
    ]
    written = files(two_records)
    assert len(written) == len(set(written)) >= 3
    assert sorted(os.listdir(tmp_path / "two")) == sorted(Path(f).name for f in written)


def test_a_killed_worker_stops_the_run_then_the_command_resumes(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    args = [*LONG, "--processes", "2", "--devices", "1"]
    args += ["--checkpoint-dir", str(checkpoints), "--out", "run"]
    launcher = subprocess.Popen(
        [*COMMAND, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(checkpoints / "chunk-00000.npz", launcher)  # the run is under way
        workers = children(launcher.pid)
        assert sorted(map(process_id, workers)) == [0, 1]
        victim = next(w for w in workers if process_id(w) == 0)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        _, err = launcher.communicate(timeout=STOP_WITHIN)
        assert not any(alive(w) for w in workers)
        assert time.monotonic() - killed < STOP_WITHIN
    finally:
        stop(launcher)
    assert launcher.returncode == 1
    assert err.splitlines() == [
        "nnfs-jax sweep: failed: worker 0 of 2 was killed by signal 9; stopped the other workers"
    ]
    assert not (tmp_path / "run").exists() or not os.listdir(
        tmp_path / "run"
    )  # nothing half-written
    finished = sorted(p.name for p in checkpoints.glob("chunk-*.npz"))
    first = (checkpoints / "chunk-00000.npz").stat().st_mtime_ns

    resumed, records = run(args, tmp_path)  # the same command again
    assert resumed.returncode == 0, resumed.stderr
    assert final(records)["chunks"] == 2 > len(finished)  # killed part-way
    assert (checkpoints / "chunk-00000.npz").stat().st_mtime_ns == first  # loaded, not redone
    # one process, one device (so other chunks), uninterrupted
    whole, whole_records = run([*LONG, "--devices", "1"], tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert final(whole_records)["chunks"] == 1
    assert rows(tmp_path / "run") == [r for r in whole_records if "rank" in r]


def test_joined_processes_stop_with_one_line_when_a_peer_dies(tmp_path):
    """Processes joined by --coordinator (as on several hosts, no launcher): a worker killed
    by the system stops its peer through jax.distributed's heartbeat, each with one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checkpoints = tmp_path / "checkpoints"
    join = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--devices", "1"]
    args = [*LONG, *join, "--checkpoint-dir", str(checkpoints)]
    procs = [
        subprocess.Popen(
            [*COMMAND, *args, "--process-id", str(i)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        wait_for(checkpoints / "chunk-00000.npz", *procs)
        (worker,) = children(procs[1].pid)  # the process that computes, under its supervisor
        os.kill(worker, signal.SIGKILL)  # as the OOM killer would
        killed = time.monotonic()
        errors = [p.communicate(timeout=STOP_WITHIN)[1] for p in procs]
        assert time.monotonic() - killed < STOP_WITHIN
        assert not any(alive(c) for p in procs for c in children(p.pid))
    finally:
        stop(*procs)
    assert [p.returncode for p in procs] == [1, 1]
    assert errors[1].splitlines() == [
        "nnfs-jax sweep: failed: the sweep's process was killed by signal 9"
    ]
    # The peer says so when its next collective fails, or when the heartbeat is missed: which
    # comes first depends on timing. Either way: one line, exit status 1.
    (line,) = errors[0].splitlines()
    assert re.fullmatch(
        r"nnfs-jax sweep: failed: (another process|process 1) of the run stopped.*", line
    )
