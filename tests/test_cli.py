"""The `nnfs-jax` command, run as a user runs it: a subprocess per call.

Usage errors and --help end before any computation; most of those are checked in this process
through `cli.main` (what the command runs: `sys.exit(main())`), which skips a subprocess's
second of importing JAX. `test_unknown_subcommand` checks the same path end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest

PNG = b"\x89PNG\r\n\x1a\n"


def nnfs_jax(*args, check=True):
    """Run `python -m nnfs_jax.cli ARGS`; returns the CompletedProcess (text)."""
    proc = subprocess.run(
        [sys.executable, "-m", "nnfs_jax.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def nnfs_jax_in_process(capsys, *args):
    """`cli.main(ARGS)` in this process, its output captured: a CompletedProcess like
    `nnfs_jax`'s. Only for calls that stop before any computation (usage errors, --help)."""
    from nnfs_jax import cli

    capsys.readouterr()
    try:
        code = cli.main(list(args))
    except SystemExit as stop:  # argparse's --help
        code = stop.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["nnfs-jax", *args], code, out, err)


def json_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_for_every_subcommand(capsys):
    for command in ("train", "search", "sweep", "gradcheck", "derivative", "experiments"):
        proc = nnfs_jax_in_process(capsys, command, "--help")
        assert proc.returncode == 0
        assert "usage: nnfs-jax" in proc.stdout and "--json" in proc.stdout


def test_train_prints_the_documents_log(tmp_path):
    proc = nnfs_jax("train", "--epochs", "201", "--out", str(tmp_path))
    # document 002's first printed lines
    assert proc.stdout.startswith("Epoch: 0\nAccuracy: 0.3433333333333333\nLoss: 1.09861")
    assert "Epoch: 200\nAccuracy: 0.39666666666666667\nLoss: 1.0709291" in proc.stdout
    for name in ("learning_curves.png", "decision_boundary.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_train_json_lines():
    rows = json_lines(nnfs_jax("train", "--epochs", "11", "--log-every", "5", "--json").stdout)
    logs = [r for r in rows if "epoch" in r]
    assert [r["epoch"] for r in logs] == [0, 5, 10]
    assert logs[0]["accuracy"] == pytest.approx(0.3433333333333333)
    assert logs[0]["learning_rate"] == 1.0
    final = rows[-1]
    assert final["final"] is True and final["epochs"] == 11 and final["loss"] > 0


def test_train_other_optimizer_and_float64():
    rows = json_lines(
        nnfs_jax(
            "train",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--decay",
            "1e-3",
            "--epochs",
            "21",
            "--log-every",
            "10",
            "--float64",
            "--json",
        ).stdout
    )
    logs = [r for r in rows if "epoch" in r]
    # float64 throughout: a float32 result is exactly a float32, and a float32 learning rate
    # would be off by ~1e-8 relative
    assert logs[1]["learning_rate"] == pytest.approx(0.05 / (1 + 1e-3 * 10), rel=1e-14)
    assert all(float(np.float32(r["loss"])) != r["loss"] for r in logs)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--epochs", "0"], ["--epochs", "positive integer"]),
        (["--optimizer", "sgdd"], ["optimizer", "unknown optimizer 'sgdd'"]),
        (["--optimizer", "adam", "--momentum", "0.9"], ["'adam' takes no 'momentum'"]),
        (["--momentum", "1.5"], ["momentum: expected a number in [0, 1)"]),
        (["--activation", "tanh"], ["activation: unknown activation 'tanh'"]),
        (["--hidden", "64,x"], ["--hidden", "integers separated by commas"]),
    ],
)
def test_train_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax_in_process(capsys, "train", *args), *fragments)


def test_gradcheck_table_and_json(tmp_path):
    proc = nnfs_jax("gradcheck", "--sizes", "2,8,3", "--samples", "20", "--out", str(tmp_path))
    assert "manual_vs_autodiff" in proc.stdout and "dense2.weights" in proc.stdout
    assert (tmp_path / "gradient_errors.png").read_bytes().startswith(PNG)
    rows = json_lines(
        nnfs_jax(
            "gradcheck",
            "--sizes",
            "2,8,3",
            "--samples",
            "20",
            "--float64",
            "--random-init",
            "--scale",
            "0.5",
            "--json",
        ).stdout
    )
    pairs = [r for r in rows if "pair" in r]
    assert len(pairs) == 4 * 3
    for r in pairs:
        bound = 1e-12 if r["pair"] == "manual_vs_autodiff" else 1e-6
        assert r["max_rel"] <= bound, r
    assert rows[-1]["summary"] and rows[-1]["dtype"] == "float64" and rows[-1]["kinks"] == 0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--sizes", "2"], ["--sizes", "at least two widths"]),
        (["--sizes", "3,4,3"], ["X: expected 3 features"]),
        (["--h", "-1"], ["h: expected a positive step"]),
    ],
)
def test_gradcheck_bad_options(capsys, args, fragments):
    proc = nnfs_jax_in_process(capsys, "gradcheck", "--samples", "5", *args)
    assert_one_line_error(proc, *fragments)


def test_derivative_prints_the_documents_lines(tmp_path):
    proc = nnfs_jax("derivative", "--float64", "--out", str(tmp_path))
    # 000/001: x1 = 1, x2 = 1.0001: (2 * 1.0001^2 - 2) / 0.0001 = 4.0002
    assert "(1.0, 2.0) (1.0001, 2.00040002)" in proc.stdout
    assert "Approximate derivative for f(x) where x = 1.0 is 4.000199999" in proc.stdout
    for name in ("tangents.png", "fd_errors.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    rows = json_lines(nnfs_jax("derivative", "--at", "2", "--json").stdout)
    assert rows[0]["exact"] == 8.0
    errors = {r["h"]: r for r in rows if "h" in r}
    # central differences are exact for a quadratic up to round-off; forward ones are off by 2h
    assert errors[0.01]["forward_error"] == pytest.approx(0.02, rel=1e-3)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--function", "tan"], ["--function", "invalid choice"]),
        (["--delta", "0"], ["--delta", "positive step"]),
        (["--at", "a,b"], ["--at", "numbers separated by commas"]),
    ],
)
def test_derivative_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax_in_process(capsys, "derivative", *args), *fragments)


def test_experiments_list_and_run(tmp_path):
    rows = json_lines(nnfs_jax("experiments", "list", "--json").stdout)
    names = [r["name"] for r in rows]
    assert names[0].startswith("e01_") and any(n.startswith("e07_") for n in names)
    # Two scripts in one run, named both ways; with --json their prints go to stderr and
    # stdout holds only JSON lines (json_lines parses every line).
    proc = nnfs_jax("experiments", "run", "e02", "5", "--quick", "--json", "--out", str(tmp_path))
    assert "35.7" in proc.stderr  # e02 prints document 004's first neuron
    rows = json_lines(proc.stdout)
    assert [r["experiment"][:4] for r in rows] == ["e02_", "e05_"]
    assert any((tmp_path / rows[0]["experiment"]).iterdir())  # e02's figures, under OUT/<script>


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "e99"], ["unknown experiment 'e99'"]),
        (["run"], ["name the scripts to run"]),
        (["launch"], ["invalid choice: 'launch'"]),
    ],
)
def test_experiments_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax_in_process(capsys, "experiments", *args), *fragments)


@pytest.fixture(scope="module")
def a_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "not_a_folder"
    path.write_text("a file the user keeps")
    return path


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--out", "{file}"], "exists and is not a folder"),
        (["search", "--scale", "0"], "scale"),
        (["search", "--out", "{file}/sub"], "exists and is not a folder"),
        (["gradcheck", "--sizes", "2"], "at least two widths"),
        (["gradcheck", "--out", "{file}"], "exists and is not a folder"),
        (["derivative", "--delta", "0"], "positive step"),
        (["derivative", "--out", "{file}"], "exists and is not a folder"),
        (["experiments", "run", "e99"], "unknown experiment 'e99'"),
        (["experiments", "run", "e01", "--out", "{file}"], "exists and is not a folder"),
        (["sweep", "--seeds", "0"], "--seeds"),
        (["sweep", "--out", "{file}"], "exists and is not a folder"),
    ],
)
def test_bad_options_and_files_through_the_command(a_file, args, fragment):
    """Two bad inputs per subcommand, end to end: one line on stderr, exit status 2, nothing
    computed, and a file given as --out left as it was."""
    proc = nnfs_jax(*(a.replace("{file}", str(a_file)) for a in args), check=False)
    assert_one_line_error(proc, fragment)
    assert a_file.read_text() == "a file the user keeps"


def test_unknown_subcommand():
    assert_one_line_error(nnfs_jax("fly", check=False), "invalid choice: 'fly'")


def test_search_prints_the_documents_lines(tmp_path):
    proc = nnfs_jax("search", "--iterations", "2000", "--out", str(tmp_path))
    lines = [x for x in proc.stdout.splitlines() if x.startswith("New set of weights found")]
    assert lines and lines[0].startswith("New set of weights found, iteration: 0 loss: ")
    assert (tmp_path / "search.png").read_bytes().startswith(PNG)
    rows = json_lines(
        nnfs_jax("search", "--method", "hill", "--iterations", "500", "--json").stdout
    )
    losses = [r["loss"] for r in rows if "iteration" in r]
    assert losses == sorted(losses, reverse=True)  # each improvement lowers the loss
    assert rows[-1]["final"] and rows[-1]["loss"] == pytest.approx(losses[-1])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--method", "annealing"], ["--method", "invalid choice"]),
        (["--iterations", "-5"], ["--iterations", "positive integer"]),
        (["--scale", "0"], ["scale"]),
    ],
)
def test_search_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax_in_process(capsys, "search", *args), *fragments)


# --- sweep -----------------------------------------------------------------------------------


def test_sweep_json_lines_and_figures(tmp_path):
    proc = nnfs_jax(
        "sweep",
        "--lr",
        "0.1,1,1000",
        "--momentum",
        "0,0.5",
        "--seeds",
        "2",
        "--epochs",
        "51",
        "--log-every",
        "25",
        "--hidden",
        "8",
        "--json",
        "--quiet",
        "--out",
        str(tmp_path),
    )
    rows = json_lines(proc.stdout)  # every line is one JSON object
    configs = [r for r in rows if "rank" in r]
    assert [r["rank"] for r in configs] == list(range(12))
    assert {r["learning_rate"] for r in configs} == {0.1, 1.0, 1000.0}
    assert [r["diverged_at"] is not None for r in configs] == [False] * 8 + [True] * 4
    losses = [r["final_loss"] for r in configs[:8]]
    assert losses == sorted(losses)
    final = next(r for r in rows if r.get("final"))
    assert final["configs"] == 12 and final["diverged"] == 4 and final["seconds"] > 0
    files = {r["file"].rsplit("/", 1)[-1] for r in rows if "file" in r}
    assert files == {
        "sweep.csv",
        "sweep.jsonl",
        "sweep_heatmap.png",
        "sweep_curves.png",
        "sweep_boundary.png",
    }
    for name in ("sweep_heatmap.png", "sweep_curves.png", "sweep_boundary.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    assert len((tmp_path / "sweep.csv").read_text().splitlines()) == 13


def test_sweep_text_table():
    proc = nnfs_jax("sweep", "--lr", "0.5", "--seeds", "2", "--epochs", "11", "--hidden", "4")
    assert "2 configurations, 11 epochs each" in proc.stdout
    assert "loss" in proc.stdout and "accuracy" in proc.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--lr", "0.1,-1"), "learning_rate: expected a finite number >= 0, got -1.0"),
        (("--momentum", "0.5,1"), "momentum: expected a number in [0, 1), got 1.0"),
        (("--seeds", "0"), "--seeds"),
        (("--optimizer", "adam", "--momentum", "0.5"), "the adam optimizer has no momentum"),
        (("--heatmap", "lr,rho"), "--heatmap"),
    ],
)
def test_sweep_bad_options(args, fragment):
    assert_one_line_error(nnfs_jax("sweep", "--epochs", "3", *args, check=False), fragment)
