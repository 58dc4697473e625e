"""Nothing a user saved is lost or half-written: atomic writes under a real `kill -9`, stale
temporaries removed, symbolic links written through, the umask honoured (nnfs_jax.files and the
writers built on it: checkpoints, figures, sweep tables)."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nnfs_jax as nj
from nnfs_jax import files

# A child that writes the same file over and over until it is killed.
WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    target, kind = sys.argv[1], sys.argv[2]
    if kind == "checkpoint":
        import nnfs_jax as nj
        params = [{"weights": np.random.default_rng(0).standard_normal((3000, 2000), np.float32),
                   "biases": np.zeros((1, 2000), np.float32)}]
        while True:
            nj.save_checkpoint(target, params=params, step=1)
    else:
        from nnfs_jax import plot
        fig, (ax,) = plot.new_figure(size=(30.0, 30.0))
        ax.plot(np.sin(np.linspace(0, 100, 200_000)))
        while True:
            plot.save(fig, target, dpi=150)
    """
)


def kill_mid_write(target: Path, kind: str) -> None:
    """Start a writer, wait until a complete file exists and a new one is being written (its
    temporary exists), then kill the writer with SIGKILL."""
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target), kind])
    try:
        deadline = time.monotonic() + 120
        while not (target.exists() and files.temporary_names(target)):
            assert child.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never started a second write"
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL


def test_a_killed_checkpoint_save_keeps_the_last_one_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "ckpt.npz"
    kill_mid_write(target, "checkpoint")
    stale = files.temporary_names(target)
    assert stale, "the kill should leave the temporary of the interrupted write"
    like = {
        "params": [
            {
                "weights": np.zeros((3000, 2000), np.float32),
                "biases": np.zeros((1, 2000), np.float32),
            }
        ],
        "opt_state": None,
    }
    whole = nj.load_checkpoint(target, like=like)  # the last complete save, intact
    assert whole.step == 1 and float(np.abs(whole.params[0]["weights"]).sum()) > 0
    small = [{"weights": np.ones((2, 3), np.float32), "biases": np.zeros((1, 3), np.float32)}]
    nj.save_checkpoint(target, params=small, step=2)  # the writer is dead: its leftover goes
    assert files.temporary_names(target) == []
    assert nj.read_checkpoint_header(target)["step"] == 2


def test_a_killed_figure_save_never_leaves_a_truncated_png(tmp_path):
    target = tmp_path / "figure.png"
    kill_mid_write(target, "figure")
    with Image.open(target) as image:
        image.verify()  # raises on a truncated or corrupt PNG
    with Image.open(target) as image:
        assert image.size == (4500, 4500)


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "table.csv"
    mine = target.with_name(f".{target.name}.{os.getpid()}.abcd1234.tmp")  # this process: alive
    mine.write_text("half")
    files.write_text(target, "a,b\n")
    assert mine.exists() and target.read_text() == "a,b\n"


def test_writing_through_a_symbolic_link_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "ckpt.npz"
    real.parent.mkdir()
    link = tmp_path / "ckpt.npz"
    link.symlink_to(real)
    params = [{"weights": np.ones((2, 3), np.float32), "biases": np.zeros((1, 3), np.float32)}]
    for step in (1, 2):
        assert nj.save_checkpoint(link, params=params, step=step) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert nj.read_checkpoint_header(real)["step"] == 2


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_new_files_honour_the_umask(tmp_path, umask):
    saved = os.umask(umask)
    try:
        params = [{"weights": np.ones((2, 3), np.float32), "biases": np.zeros((1, 3), np.float32)}]
        paths = [
            nj.save_checkpoint(tmp_path / "c.npz", params=params),
            files.write_text(tmp_path / "t.csv", "a\n"),  # what SweepResult.to_csv/to_jsonl use
            files.write_bytes(tmp_path / "f.png", b"\x89PNG"),
        ]
    finally:
        os.umask(saved)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_errors_name_the_path_given_not_the_temporary(tmp_path):
    # /proc refuses new files even to root: the temporary cannot be created there
    with pytest.raises(OSError, match=r"path: cannot write '/proc/nnfs_jax_test\.csv'") as info:
        files.write_text("/proc/nnfs_jax_test.csv", "x")
    assert ".tmp" not in str(info.value)
    with pytest.raises(FileNotFoundError, match=r"directory '.*nowhere' does not exist"):
        files.atomic_write(tmp_path / "nowhere" / "c.npz", lambda f: f.write(b""))
    with pytest.raises(IsADirectoryError, match="is a directory"):
        files.write_text(tmp_path, "x")


def test_strict_json_writes_null_for_nan_and_infinities():
    text = files.strict_json({"loss": float("nan"), "values": [np.float32(np.inf), 1.5], "n": 3})

    def refuse(constant):
        raise ValueError(constant)

    assert json.loads(text, parse_constant=refuse) == {"loss": None, "values": [None, 1.5], "n": 3}
