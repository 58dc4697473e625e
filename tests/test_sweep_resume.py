"""A sweep that dies goes on where it stopped: `checkpoint_dir` under a real `kill -9`."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nnfs_jax as nj

AXES = {"learning_rate": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "hidden": [(8,)]}
OPTIONS = {"seeds": 4, "epochs": 301, "log_every": 50, "memory_budget": 140_000}  # 6 chunks
SCRIPT = textwrap.dedent(
    f"""
    import sys
    import nnfs_jax as nj
    nj.book_seed(0)
    X, y = nj.spiral_data(30, 3)
    nj.sweep((X, y), {AXES!r}, checkpoint_dir=sys.argv[1], **{OPTIONS!r})
    """
)


def data():
    nj.book_seed(0)
    return nj.spiral_data(30, 3)


def test_a_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    folder = tmp_path / "sweep"
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, str(folder)])
    try:
        deadline = time.monotonic() + 240
        while not (folder / "chunk-00000.npz").exists():
            assert child.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    finished = sorted(p.name for p in folder.glob("chunk-*.npz"))
    first = (folder / "chunk-00000.npz").stat().st_mtime_ns
    seen = []
    resumed = nj.sweep(data(), AXES, checkpoint_dir=folder, progress=seen.append, **OPTIONS)
    assert resumed.chunks > len(finished) >= 1  # killed part-way: some chunks were left
    assert (folder / "chunk-00000.npz").stat().st_mtime_ns == first  # loaded, not retrained
    assert [p.chunk for p in seen] == list(range(1, resumed.chunks + 1))
    whole = nj.sweep(data(), AXES, **OPTIONS)
    np.testing.assert_array_equal(resumed.history.loss, whole.history.loss)
    np.testing.assert_array_equal(resumed.final_loss, whole.final_loss)
    np.testing.assert_array_equal(resumed.diverged_at, whole.diverged_at)
    for a, b in zip(resumed.params, whole.params, strict=True):
        np.testing.assert_array_equal(a[0]["weights"], b[0]["weights"])


def test_another_sweep_cannot_resume_from_a_folder(tmp_path):
    folder = tmp_path / "sweep"
    small = {**OPTIONS, "epochs": 11}
    nj.sweep(data(), AXES, checkpoint_dir=folder, **small)
    for other in ({"epochs": 12}, {"seeds": 3}):
        with pytest.raises(nj.InputError, match=r"checkpoint_dir: .* another sweep"):
            nj.sweep(data(), AXES, checkpoint_dir=folder, **{**small, **other})
    X, y = data()
    with pytest.raises(nj.InputError, match="another sweep"):
        nj.sweep((X + 1e-3, y), AXES, checkpoint_dir=folder, **small)
    (tmp_path / "file").write_text("x")
    with pytest.raises(nj.InputError, match=r"checkpoint_dir: .* is not a folder"):
        nj.sweep(data(), AXES, checkpoint_dir=tmp_path / "file", **small)
