"""One CPU device per core (before JAX starts), the hint when a sweep runs on one, and the
checks of joining several processes."""

import subprocess
import sys
import textwrap

import jax
import pytest

import nnfs_jax as nj
from nnfs_jax import devices


def run(code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter (JAX fixes its devices at its first computation)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )


def test_use_cpu_cores_before_jax_starts():
    proc = run(
        """
        import nnfs_jax as nj
        assert nj.use_cpu_cores(3) == 3
        import jax
        assert jax.device_count() == 3, jax.devices()
        print(jax.device_count())
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"


def test_use_cpu_cores_after_jax_started_says_so():
    jax.numpy.zeros(1).block_until_ready()  # this process's devices are fixed by now
    with pytest.raises(nj.InputError, match="use_cpu_cores: JAX has already started"):
        nj.use_cpu_cores(2)
    with pytest.raises(nj.InputError, match="count: expected a positive integer"):
        nj.use_cpu_cores(0)


def test_a_sweep_on_one_device_with_free_cores_hints_once():
    proc = run(
        """
        import warnings
        import nnfs_jax as nj
        from nnfs_jax import devices
        devices.cpu_cores = lambda: 4  # as on a 4-core machine
        warnings.simplefilter("always")
        data = nj.spiral_data(5, 3)
        for _ in range(2):
            nj.sweep(data, {"learning_rate": [0.1], "hidden": [(4,)]}, epochs=3)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("sweep: running on one CPU device while 4 cores are free") == 1
    assert "nnfs_jax.use_cpu_cores()" in proc.stderr


def test_one_device_chosen_with_use_cpu_cores_is_not_hinted_at():
    proc = run(
        """
        import warnings
        import nnfs_jax as nj
        from nnfs_jax import devices
        devices.cpu_cores = lambda: 4
        nj.use_cpu_cores(1)  # one device, on purpose
        warnings.simplefilter("always")
        nj.sweep(nj.spiral_data(5, 3), {"learning_rate": [0.1], "hidden": [(4,)]}, epochs=3)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "cores are free" not in proc.stderr


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (("127.0.0.1:1234", 2, 2), "process_id: expected 0 .. 1 for 2 processes, got 2"),
        (("127.0.0.1", 2, 0), "coordinator: expected 'host:port'"),
        (("127.0.0.1:1234", 0, 0), "num_processes: expected a positive integer"),
    ],
)
def test_join_checks_its_arguments(arguments, match):
    with pytest.raises(nj.InputError, match=match):
        devices.join(*arguments)


def test_gpu_check_without_an_accelerator_says_so():
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gpu-check: no accelerator: JAX sees only the CPU")
