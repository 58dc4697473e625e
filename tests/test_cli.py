"""The `nnfs-jax` command.

Most calls run in this process through `cli.main`, what the console script runs
(`sys.exit(main())`), with stdout and stderr captured: a subprocess would spend a second
importing JAX and compile everything anew. `test_console_script` runs the command itself, for
the exit statuses a shell sees: 0 success, 2 a usage error, 1 a failed run or an internal
error, 130 interrupted (README, "Errors and exit codes"). Expected values come from the
documents (002's log, 000/001's derivative), the book (chapter 14's printout), the NumPy
transcription in tests/numpy_reference.py, or mathematics."""

import functools
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnfs_jax as nj
from nnfs_jax.images import DataError
from nnfs_jax.logs import DivergenceWarning

PNG = b"\x89PNG\r\n\x1a\n"
PAIRS = ("manual_vs_autodiff", "manual_vs_numerical", "autodiff_vs_numerical")


def nnfs_jax(capsys, *args, check=True):
    """`nnfs-jax ARGS` in this process, its output captured: a CompletedProcess (text)."""
    from nnfs_jax import cli

    capsys.readouterr()
    try:
        code = cli.main(list(args))
    except SystemExit as stop:  # argparse's --help
        code = stop.code
    out, err = capsys.readouterr()
    if check:
        assert code == 0, err
    return subprocess.CompletedProcess(["nnfs-jax", *args], code, out, err)


def json_lines(stdout):
    """Every stdout line as strict JSON: `NaN`, `Infinity` and `-Infinity` (which Python's
    json writes and reads by default, but which are not JSON) fail the test."""

    def not_json(constant):
        raise AssertionError(f"{constant} in a JSON line: not strict JSON")

    return [json.loads(line, parse_constant=not_json) for line in stdout.splitlines() if line]


def assert_one_line(proc, status, label, *fragments):
    """Exit status `status` and one line on stderr, `nnfs-jax COMMAND: LABEL: ...`, holding each
    fragment, and no traceback."""
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f": {label}: " in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_one_line_error(proc, *fragments):
    """A usage error: exit status 2, one line."""
    return assert_one_line(proc, 2, "error", *fragments)


def assert_refused(proc, *fragments):
    """A usage error found before any work: exit status 2, one line, nothing on stdout."""
    assert_one_line_error(proc, *fragments)
    assert proc.stdout == "", proc.stdout


def book_draw(draw, sizes=(2, 64, 3)):
    """The documents' data and weights, `draw`-th time after `nnfs.init()`, from the nnfs
    package itself: spiral_data(100, 3), then 0.01 * randn per layer (float32, as nnfs.init()
    makes randn), zero biases."""
    from conftest import nnfs_initialised
    from nnfs.datasets import spiral_data

    with nnfs_initialised(0):
        for _ in range(draw):
            X, y = spiral_data(100, 3)
            params = [
                {"weights": 0.01 * np.random.randn(n_in, n_out), "biases": np.zeros((1, n_out))}
                for n_in, n_out in itertools.pairwise(sizes)
            ]
    return params, X, y


def test_console_script():
    """The installed command's entry point (pyproject: nnfs_jax.cli:main) and `python -m
    nnfs_jax.cli` as processes, for the exit status a shell sees: a bad subcommand is one line
    on stderr and status 2; a training whose loss diverges is one line and status 1, without
    Python's DivergenceWarning (the line replaces it)."""
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'nnfs-jax = "nnfs_jax.cli:main"' in pyproject
    script = "import sys; from nnfs_jax.cli import main; sys.exit(main())"
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=300)
    assert_one_line_error(run([sys.executable, "-c", script, "fly"]), "invalid choice: 'fly'")
    proc = run([sys.executable, "-m", "nnfs_jax.cli", "train", "--epochs", "4", "--lr", "1e20"])
    assert_one_line(proc, 1, "failed", "nnfs-jax train: failed: the loss diverged at epoch")
    assert "Warning" not in proc.stderr


def test_help_for_every_subcommand(capsys):
    for command in ("train", "search", "sweep", "gradcheck", "derivative", "experiments"):
        proc = nnfs_jax(capsys, command, "--help")
        assert "usage: nnfs-jax" in proc.stdout and "--json" in proc.stdout


# --- train -----------------------------------------------------------------------------------


def test_train_prints_the_documents_log(capsys, tmp_path):
    from conftest import DOCUMENT_002_VS_FLOAT64, float32_allowance

    proc = nnfs_jax(capsys, "train", "--epochs", "201", "--out", str(tmp_path))
    # document 002's printed lines, parsed back: the accuracy exactly (a count of 300 samples,
    # the same on every CPU through epoch 300), the float32 loss within the round-off any CPU
    # may give it (conftest.float32_allowance) plus the document's own distance from float64
    document = [
        (0, 0.3433333333333333, 1.0986183881759644),
        (100, 0.4066666666666667, 1.083395004272461),
        (200, 0.39666666666666667, 1.0709291696548462),
    ]
    assert proc.stdout.startswith("Epoch: 0\nAccuracy: 0.3433333333333333\nLoss: 1.0")
    lines = re.findall(r"^Epoch: (\d+)\nAccuracy: (\S+)\nLoss: (\S+)$", proc.stdout, re.M)
    assert [int(epoch) for epoch, _, _ in lines] == [0, 100, 200]
    for (epoch, accuracy, loss), (_, document_accuracy, document_loss) in zip(
        lines, document, strict=True
    ):
        assert accuracy == repr(document_accuracy), epoch  # printed as Python prints it
        allowed = float32_allowance(int(epoch)) + DOCUMENT_002_VS_FLOAT64
        assert abs(float(loss) - document_loss) <= allowed, epoch
    for name in ("learning_curves.png", "decision_boundary.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_train_json_lines(capsys):
    proc = nnfs_jax(capsys, "train", "--epochs", "11", "--log-every", "5", "--json")
    rows = json_lines(proc.stdout)
    logs = [r for r in rows if "epoch" in r]
    assert [r["epoch"] for r in logs] == [0, 5, 10]
    assert logs[0]["accuracy"] == pytest.approx(0.3433333333333333)
    assert logs[0]["learning_rate"] == 1.0
    # no regularization: the loss is all data loss
    assert all(r["regularization_loss"] == 0 and r["data_loss"] == r["loss"] for r in logs)
    final = rows[-1]
    assert final["final"] is True and final["epochs"] == 11 and final["loss"] > 0


def test_train_other_optimizer_and_float64(capsys):
    args = ["--optimizer", "adam", "--lr", "0.05", "--decay", "1e-3", "--epochs", "21"]
    proc = nnfs_jax(capsys, "train", *args, "--log-every", "10", "--float64", "--json")
    logs = [r for r in json_lines(proc.stdout) if "epoch" in r]
    # float64 throughout: a float32 result is exactly a float32, and a float32 learning rate
    # would be off by ~1e-8 relative. Epoch 10 logs the book's current_learning_rate, which
    # the previous update set after 9 updates: lr / (1 + decay * 9).
    assert logs[1]["learning_rate"] == pytest.approx(0.05 * (1.0 / (1.0 + 1e-3 * 9)), rel=1e-14)
    assert all(float(np.float32(r["loss"])) != r["loss"] for r in logs)


def test_train_activation_tanh(capsys):
    """--activation tanh trains the tanh network: its first logged loss is the documents'
    2-64-3 forward pass with tanh on document 002's draw (the NumPy transcription), and the
    log keeps document 002's format."""
    from numpy_reference import network_loss_and_grads

    params, X, y = book_draw(2)
    expected, _, _ = network_loss_and_grads(params, X.astype(np.float64), y, "tanh")
    args = ["--activation", "tanh", "--epochs", "11", "--log-every", "10"]
    rows = json_lines(nnfs_jax(capsys, "train", *args, "--json").stdout)
    # float32 forward pass of 300 samples against float64: a few float32 ulps
    assert rows[0]["loss"] == pytest.approx(expected, rel=1e-5)
    assert rows[0]["loss"] != pytest.approx(1.0986184, abs=1e-7)  # not ReLU's (002's) loss
    text = nnfs_jax(capsys, "train", *args).stdout
    assert text.startswith("Epoch: 0\nAccuracy: ") and "Epoch: 10\n" in text


BOOK_CHAPTER_14 = [
    "--optimizer",
    "adam",
    "--lr",
    "0.02",
    "--decay",
    "5e-7",
    "--weight-l2",
    "5e-4",
    "--bias-l2",
    "5e-4",
    "--validation",
    "--draw",
    "1",
]


def test_train_chapter_14_log_line(capsys):
    """The book's chapter-14 run prints the book's log line; epoch 10000's learning rate is the
    book's float64 value, printed as Python prints it."""
    proc = nnfs_jax(capsys, "train", *BOOK_CHAPTER_14, "--epochs", "10001", "--log-every", "10000")
    lines = proc.stdout.splitlines()
    # the book's first line (the first draw after nnfs.init(): accuracy 0.36, loss 1.0986)
    assert (
        lines[0]
        == "epoch: 0, acc: 0.360, loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.02"
    )
    number = r"\d\.\d{3}"
    assert re.fullmatch(
        rf"epoch: 10000, acc: {number}, loss: {number} \(data_loss: {number}, reg_loss: "
        rf"{number}\), lr: 0\.019900507413187767",
        lines[1],
    ), lines[1]
    assert re.fullmatch(rf"validation, acc: {number}, loss: {number}", lines[2]), lines[2]
    assert lines[3].startswith("Final (after 10001 epochs): accuracy ")
    assert "Epoch:" not in proc.stdout and "Accuracy:" not in proc.stdout


def test_train_chapter_14_json(capsys):
    """The JSON records carry the data and regularization losses: at epoch 0, the book's L2
    term of the hidden layer only (the output layer is not regularized)."""
    from numpy_reference import Layer_Dense_Regularized, Loss_Regularized

    params, _, _ = book_draw(1)
    hidden = Layer_Dense_Regularized(
        params[0]["weights"],
        params[0]["biases"],
        weight_regularizer_l2=5e-4,
        bias_regularizer_l2=5e-4,
    )
    expected = Loss_Regularized().regularization_loss(hidden)
    proc = nnfs_jax(
        capsys, "train", *BOOK_CHAPTER_14, "--epochs", "3", "--log-every", "2", "--json"
    )
    rows = json_lines(proc.stdout)
    first = rows[0]
    assert first["regularization_loss"] == pytest.approx(expected, rel=1e-5)  # float32 sum
    assert first["loss"] == pytest.approx(first["data_loss"] + first["regularization_loss"])
    assert first["learning_rate"] == 0.02
    assert 0 <= first["validation_accuracy"] <= 1 and first["validation_loss"] > 0
    final = rows[-1]
    assert final["final"] and final["validation_loss"] > 0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--epochs", "0"], ["--epochs", "positive integer"]),
        (["--optimizer", "sgdd"], ["optimizer", "unknown optimizer 'sgdd'"]),
        (["--optimizer", "adam", "--momentum", "0.9"], ["'adam' takes no 'momentum'"]),
        (["--momentum", "1.5"], ["momentum: expected a number in [0, 1)"]),
        (["--activation", "swish"], ["--activation", "invalid choice: 'swish'"]),
        (["--hidden", "64,x"], ["--hidden", "integers separated by commas"]),
        (["--weight-l2", "-1"], ["--weight-l2", "expected a number >= 0"]),
        (["--dropout", "1"], ["--dropout", "expected a rate in [0, 1)"]),
    ],
)
def test_train_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax(capsys, "train", *args, check=False), *fragments)


# --- gradcheck, derivative, experiments ------------------------------------------------------


def test_gradcheck_table_and_json(capsys, tmp_path):
    args = ["gradcheck", "--sizes", "2,8,3", "--samples", "20"]
    proc = nnfs_jax(capsys, *args, "--out", str(tmp_path))
    assert "manual_vs_autodiff" in proc.stdout and "dense2.weights" in proc.stdout
    assert (tmp_path / "gradient_errors.png").read_bytes().startswith(PNG)
    assert "verdict manual_vs_autodiff: " in proc.stdout
    random = ["--float64", "--random-init", "--scale", "0.5", "--json"]
    rows = json_lines(nnfs_jax(capsys, *args, *random).stdout)
    pairs = [r for r in rows if "leaf" in r]
    assert len(pairs) == 4 * 3
    for r in pairs:
        bound = 1e-12 if r["pair"] == "manual_vs_autodiff" else 1e-6
        assert np.isfinite(r["max_rel"]) and r["max_rel"] <= bound, r  # NaN/inf never pass
    # off the kink in float64 every pair agrees: three verdicts, all "ok"
    verdicts = {r["pair"]: r["status"] for r in rows if "status" in r}
    assert verdicts == dict.fromkeys(PAIRS, "ok")
    assert rows[-1]["summary"] and rows[-1]["dtype"] == "float64" and rows[-1]["kinks"] == 0


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
def test_gradcheck_activation(capsys, activation):
    """The three gradients of the tanh / leaky ReLU network agree (float64, random weights and
    biases off the kink): the manual rules to round-off, finite differences to ~h^2."""
    args = ["--sizes", "2,8,3", "--samples", "20", "--float64", "--random-init", "--scale", "0.5"]
    proc = nnfs_jax(capsys, "gradcheck", *args, "--activation", activation, "--json")
    rows = json_lines(proc.stdout)
    pairs = [r for r in rows if "leaf" in r]
    assert len(pairs) == 4 * 3
    for r in pairs:
        bound = 1e-12 if r["pair"] == "manual_vs_autodiff" else 1e-6
        assert np.isfinite(r["max_rel"]) and r["max_rel"] <= bound, r  # NaN/inf never pass
    assert [r["status"] for r in rows if "status" in r] == ["ok"] * 3
    assert rows[-1]["activation"] == activation and rows[-1]["kinks"] == 0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--sizes", "2"], ["--sizes", "at least two widths"]),
        (["--sizes", "3,4,3"], ["X: expected 3 features"]),
        (["--h", "-1"], ["--h", "expected a finite number > 0, got -1.0"]),
        (["--activation", "swish"], ["--activation", "invalid choice: 'swish'"]),
    ],
)
def test_gradcheck_bad_options(capsys, args, fragments):
    proc = nnfs_jax(capsys, "gradcheck", "--samples", "5", *args, check=False)
    assert_one_line_error(proc, *fragments)


def test_derivative_prints_the_documents_lines(capsys, tmp_path):
    proc = nnfs_jax(capsys, "derivative", "--float64", "--out", str(tmp_path))
    # 000/001: x1 = 1, x2 = 1.0001: (2 * 1.0001^2 - 2) / 0.0001 = 4.0002
    assert "(1.0, 2.0) (1.0001, 2.00040002)" in proc.stdout
    assert "Approximate derivative for f(x) where x = 1.0 is 4.000199999" in proc.stdout
    for name in ("tangents.png", "fd_errors.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    rows = json_lines(nnfs_jax(capsys, "derivative", "--at", "2", "--json").stdout)
    assert rows[0]["exact"] == 8.0
    errors = {r["h"]: r for r in rows if "h" in r}
    # central differences are exact for a quadratic up to round-off; forward ones are off by 2h
    assert errors[0.01]["forward_error"] == pytest.approx(0.02, rel=1e-3)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--function", "tan"], ["--function", "invalid choice"]),
        (["--delta", "0"], ["--delta", "expected a finite number > 0, got 0.0"]),
        (["--at", "a,b"], ["--at", "numbers separated by commas"]),
    ],
)
def test_derivative_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax(capsys, "derivative", *args, check=False), *fragments)


def test_experiments_list_and_run(capsys, tmp_path):
    rows = json_lines(nnfs_jax(capsys, "experiments", "list", "--json").stdout)
    names = [r["name"] for r in rows]
    assert names[0].startswith("e01_") and any(n.startswith("e07_") for n in names)
    # Two scripts in one run, named both ways; with --json their prints go to stderr and
    # stdout holds only JSON lines (json_lines parses every line).
    args = ["run", "e02", "5", "--quick", "--json", "--out", str(tmp_path)]
    proc = nnfs_jax(capsys, "experiments", *args)
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
    assert_one_line_error(nnfs_jax(capsys, "experiments", *args, check=False), *fragments)


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
        (["derivative", "--delta", "0"], "--delta"),
        (["derivative", "--out", "{file}"], "exists and is not a folder"),
        (["experiments", "run", "e99"], "unknown experiment 'e99'"),
        (["experiments", "run", "e01", "--out", "{file}"], "exists and is not a folder"),
        (["sweep", "--seeds", "0"], "--seeds"),
        (["sweep", "--out", "{file}"], "exists and is not a folder"),
    ],
)
def test_bad_options_and_files_through_the_command(capsys, a_file, args, fragment):
    """Two bad inputs per subcommand: one line on stderr, exit status 2, nothing computed, and
    a file given as --out left as it was."""
    args = [a.replace("{file}", str(a_file)) for a in args]
    assert_one_line_error(nnfs_jax(capsys, *args, check=False), fragment)
    assert a_file.read_text() == "a file the user keeps"


# --- search ----------------------------------------------------------------------------------


def test_search_prints_the_documents_lines(capsys, tmp_path):
    proc = nnfs_jax(capsys, "search", "--iterations", "2000", "--out", str(tmp_path))
    lines = [x for x in proc.stdout.splitlines() if x.startswith("New set of weights found")]
    assert lines and lines[0].startswith("New set of weights found, iteration: 0 loss: ")
    assert (tmp_path / "search.png").read_bytes().startswith(PNG)
    args = ["search", "--method", "hill", "--iterations", "500", "--json"]
    rows = json_lines(nnfs_jax(capsys, *args).stdout)
    losses = [r["loss"] for r in rows if "iteration" in r]
    assert losses == sorted(losses, reverse=True)  # each improvement lowers the loss
    assert rows[-1]["final"] and rows[-1]["loss"] == pytest.approx(losses[-1])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--method", "annealing"], ["--method", "invalid choice"]),
        (["--iterations", "-5"], ["--iterations", "positive integer"]),
        (["--scale", "0"], ["scale"]),
        (["--activation", "swish"], ["--activation", "invalid choice: 'swish'"]),
    ],
)
def test_search_bad_options(capsys, args, fragments):
    assert_one_line_error(nnfs_jax(capsys, "search", *args, check=False), *fragments)


# --- sweep -----------------------------------------------------------------------------------


def test_sweep_json_lines_and_figures(capsys, tmp_path):
    proc = nnfs_jax(
        capsys,
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


def test_sweep_text_table(capsys):
    args = ["--lr", "0.5", "--seeds", "2", "--epochs", "11", "--hidden", "4"]
    proc = nnfs_jax(capsys, "sweep", *args)
    assert "2 configurations, 11 epochs each" in proc.stdout
    assert "loss" in proc.stdout and "accuracy" in proc.stdout


def test_sweep_weight_l2_on_the_hidden_layer(capsys, tmp_path):
    """--weight-l2 0,5e-4 is an axis on the hidden layer only. With learning rate 0 the
    weights stay as drawn, so the two configurations of a seed differ by the book's L2 term of
    the hidden layer's initial weights (seed s draws them from `seed_keys(s)[0]`)."""
    import nnfs_jax as nj

    args = ["--weight-l2", "0,5e-4", "--lr", "0", "--scale", "1", "--hidden", "8", "--seeds", "2"]
    heatmap = ["--heatmap", "weight-l2,seed", "--out", str(tmp_path)]
    proc = nnfs_jax(capsys, "sweep", *args, "--epochs", "3", *heatmap, "--json")
    configs = [r for r in json_lines(proc.stdout) if "rank" in r]
    assert len(configs) == 4
    assert {r["weight_regularizer_l2"] for r in configs} == {"0/0", "0.0005/0"}
    for seed in (0, 1):
        loss = {r["weight_regularizer_l2"]: r["final_loss"] for r in configs if r["seed"] == seed}
        weights = np.asarray(nj.init_params(nj.seed_keys(seed)[0], (2, 8, 3), 1.0)[0]["weights"])
        expected = 5e-4 * np.sum(weights.astype(np.float64) ** 2)  # ~1e-2
        # float32 losses of ~2: a few ulps (2.4e-7 each) apart
        assert loss["0.0005/0"] - loss["0/0"] == pytest.approx(expected, abs=2e-6)
    assert (tmp_path / "sweep_heatmap.png").read_bytes().startswith(PNG)
    header = nnfs_jax(capsys, "sweep", *args, "--epochs", "3").stdout.splitlines()[1]
    assert header.split()[:5] == ["lr", "scale", "hidden", "weight-l2", "seed"]


def test_sweep_batch_sizes(capsys):
    """--batch-size 32,64 sweeps fit's mini-batch runs, one configuration per batch size."""
    args = ["--batch-size", "32,64", "--epochs", "3", "--lr", "0.1", "--seeds", "1"]
    proc = nnfs_jax(capsys, "sweep", *args, "--hidden", "8", "--json")
    rows = json_lines(proc.stdout)
    configs = [r for r in rows if "rank" in r]
    assert sorted(r["batch_size"] for r in configs) == [32, 64]
    assert all(r["diverged_at"] is None and r["final_loss"] > 0 for r in configs)
    assert rows[-1]["final"] and rows[-1]["configs"] == 2 and rows[-1]["epochs"] == 3


def test_sweep_optax_optimizer(capsys):
    """--optimizer optax.sgd: optax's plain SGD makes the same updates as the book's SGD without
    momentum or decay (w -= lr * g), so the two sweeps end at the same losses."""
    args = ["--lr", "0.1,0.5", "--epochs", "21", "--seeds", "2", "--hidden", "8", "--json"]
    losses, columns = {}, {}
    for optimizer in ("optax.sgd", "sgd"):
        proc = nnfs_jax(capsys, "sweep", "--optimizer", optimizer, *args)
        configs = [r for r in json_lines(proc.stdout) if "rank" in r]
        assert len(configs) == 4
        losses[optimizer] = {(r["learning_rate"], r["seed"]): r["final_loss"] for r in configs}
        columns[optimizer] = set(configs[0])
    # optax.sgd's only hyperparameter here is the learning rate; the book's SGD has more
    assert {"decay", "momentum"} <= columns["sgd"] - columns["optax.sgd"]
    assert set(losses["optax.sgd"]) == {(0.1, 0), (0.1, 1), (0.5, 0), (0.5, 1)}
    # Two float32 runs of the same updates. Measured as for conftest.float32_allowance (these
    # four runs' arrays, 100 float32 realisations each through numpy_reference's
    # spiral_sgd_losses): within 1.8 U (U = 2**-23) of the float64 run after 21 updates, this
    # machine's within 1.2 U. Twice that each, so two runs within 8 U of each other.
    from conftest import ULP

    for key, loss in losses["sgd"].items():
        assert losses["optax.sgd"][key] == pytest.approx(loss, abs=8 * ULP), key


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--lr", "0.1,-1"), "--lr: expected finite numbers >= 0, got -1.0"),
        (("--momentum", "0.5,1"), "momentum: expected a number in [0, 1), got 1.0"),
        (("--seeds", "0"), "--seeds"),
        (("--optimizer", "adam", "--momentum", "0.5"), "the adam optimizer has no momentum"),
        (("--heatmap", "lr,rho"), "--heatmap"),
        (("--optimizer", "optax.adam", "--momentum", "0.5"), "optax.adam optimizer has no"),
        (("--optimizer", "optax.nope"), "optax has no optimizer 'optax.nope'"),
        (("--weight-l2", "0,1e-3", "--hidden", "8", "8,8"), "same number of hidden layers"),
        (("--dropout", "0,1"), "--dropout"),
        (("--batch-size", "0"), "--batch-size"),
        (("--heatmap", "weight-l2,lr"), "--weight-l2 is not swept"),
    ],
)
def test_sweep_bad_options(capsys, args, fragment):
    proc = nnfs_jax(capsys, "sweep", "--epochs", "3", *args, check=False)
    assert_one_line_error(proc, fragment)


# --- errors and exit statuses ----------------------------------------------------------------
# What each kind of exception out of a run becomes (a subcommand's `run` replaced by one that
# raises it), then the real paths: runs that fail, and bad values refused before any work.


def raising(error):
    def run(args, out):
        raise error

    return run


@pytest.mark.parametrize(
    ("error", "status", "label", "fragment"),
    [
        (nj.InputError("learning_rate: expected a number"), 2, "error", "learning_rate"),
        (nj.InputTypeError("X: expected an array"), 2, "error", "X: expected an array"),
        (nj.CheckpointError("run.ckpt: truncated"), 1, "failed", "run.ckpt: truncated"),
        (DataError("train.gz: wrong checksum"), 1, "failed", "train.gz: wrong checksum"),
        (
            FileNotFoundError(2, "No such file or directory", "data/x.npz"),
            1,
            "failed",
            "No such file or directory: 'data/x.npz'",
        ),
        (PermissionError(13, "Permission denied", "out/a.png"), 1, "failed", "'out/a.png'"),
        (MemoryError(), 1, "failed", "out of memory"),
        # A plain ValueError or TypeError is not an InputError: a bug, not the user's option
        (ValueError("shapes (3,) and (4,) not aligned"), 1, "internal error", "ValueError: sha"),
        (TypeError("unhashable type: 'list'"), 1, "internal error", "TypeError: unhashable"),
        (ZeroDivisionError("division by zero"), 1, "internal error", "--debug"),
    ],
)
def test_exit_status_of_each_kind_of_error(capsys, monkeypatch, error, status, label, fragment):
    from nnfs_jax.cli import derivative_command

    monkeypatch.delenv("NNFS_JAX_TRACEBACK", raising=False)
    monkeypatch.setattr(derivative_command, "run", raising(error))
    proc = nnfs_jax(capsys, "derivative", check=False)
    line = assert_one_line(proc, status, label, fragment)
    assert line.startswith("nnfs-jax derivative: ")


def test_internal_error_says_so_and_debug_shows_the_traceback(capsys, monkeypatch):
    """An internal error is one line saying so (not a usage error); --debug, before or after
    the subcommand, or NNFS_JAX_TRACEBACK=1 adds the whole traceback, with the same status."""
    from nnfs_jax.cli import derivative_command

    monkeypatch.delenv("NNFS_JAX_TRACEBACK", raising=False)
    monkeypatch.setattr(derivative_command, "run", raising(ValueError("boom")))
    line = assert_one_line(nnfs_jax(capsys, "derivative", check=False), 1, "internal error")
    assert "ValueError: boom" in line and "rerun with --debug" in line
    for args in (["--debug", "derivative"], ["derivative", "--debug"]):
        proc = nnfs_jax(capsys, *args, check=False)
        assert proc.returncode == 1
        assert "Traceback (most recent call last)" in proc.stderr and "raise error" in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("nnfs-jax derivative: internal")
    monkeypatch.setenv("NNFS_JAX_TRACEBACK", "1")
    proc = nnfs_jax(capsys, "derivative", check=False)
    assert proc.returncode == 1 and "Traceback (most recent call last)" in proc.stderr


def test_debug_is_accepted_on_a_good_run(capsys):
    for args in (["--debug", "derivative", "--at", "1"], ["derivative", "--at", "1", "--debug"]):
        assert "exact: 4.0" in nnfs_jax(capsys, *args).stdout


def test_interrupted(capsys, monkeypatch):
    from nnfs_jax.cli import derivative_command

    monkeypatch.setattr(derivative_command, "run", raising(KeyboardInterrupt()))
    proc = nnfs_jax(capsys, "derivative", check=False)
    assert proc.returncode == 130 and proc.stderr == "nnfs-jax: interrupted\n"


def test_train_that_diverges_fails(capsys, tmp_path):
    """Learning rate 1e20: the loss is NaN from some epoch on. The run prints its log up to the
    end, then one line naming the first epoch whose loss is NaN, exit status 1; no figures from
    NaN weights, no DivergenceWarning (the line replaces it); the JSON lines stay strict JSON
    (the NaN losses written as null)."""
    import warnings

    args = ["train", "--epochs", "6", "--log-every", "1", "--lr", "1e20"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proc = nnfs_jax(capsys, *args, "--json", "--out", str(tmp_path), check=False)
    assert not [w for w in caught if issubclass(w.category, DivergenceWarning)]
    line = assert_one_line(proc, 1, "failed", "nnfs-jax train: failed: the loss diverged at epoch")
    rows = json_lines(proc.stdout)
    logs = [r for r in rows if "epoch" in r]
    assert [r["epoch"] for r in logs] == list(range(6))
    first = next(r["epoch"] for r in logs if r["loss"] is None)
    assert first > 0 and all(r["loss"] > 0 for r in logs[:first])
    assert f"diverged at epoch {first} " in line
    assert rows[-1] == {**rows[-1], "final": True, "diverged_at": first}
    assert list(tmp_path.iterdir()) == []  # --out was probed (and made), nothing drawn
    text = nnfs_jax(capsys, *args, check=False)
    assert text.returncode == 1 and "Loss: nan" in text.stdout and "Final" not in text.stdout


def test_train_json_final_record_says_it_did_not_diverge(capsys):
    rows = json_lines(nnfs_jax(capsys, "train", "--epochs", "3", "--json").stdout)
    assert rows[-1]["final"] and rows[-1]["diverged_at"] is None


def test_gradcheck_that_fails(capsys, tmp_path):
    """Weights of scale 1e30 are finite, but the hidden layer's outputs (~1e30) times the
    output layer's weights (~1e30) overflow float32 (max 3.4e38): the logits are inf and every
    gradient NaN. Each pair's verdict is "fail"; the table and verdicts are printed, the
    figure written, then one line names the failing pairs, exit status 1. With --json, one
    strict JSON record per verdict (NaN as null)."""
    args = ["gradcheck", "--sizes", "2,4,3", "--samples", "5", "--random-init", "--scale", "1e30"]
    proc = nnfs_jax(capsys, *args, "--out", str(tmp_path), check=False)
    line = assert_one_line(proc, 1, "failed", "the gradient check failed for", *PAIRS)
    assert "NaN or infinite" in line
    assert re.search(r"dense1\.weights\s+manual_vs_autodiff\s+nan\s+nan", proc.stdout)
    for pair in PAIRS:
        assert f"verdict {pair}: fail (" in proc.stdout
    assert (tmp_path / "gradient_errors.png").read_bytes().startswith(PNG)
    proc = nnfs_jax(capsys, *args, "--json", check=False)
    assert proc.returncode == 1
    rows = json_lines(proc.stdout)
    assert all(r["max_abs"] is None and r["max_rel"] is None for r in rows if "leaf" in r)
    verdicts = [r for r in rows if "status" in r]
    assert [v["pair"] for v in verdicts] == list(PAIRS)
    for v in verdicts:
        assert set(v) == {"pair", "status", "relative", "absolute", "worst_leaf", "worst", "reason"}
        assert v["status"] == "fail" and v["worst"] is None
        assert v["reason"] == "a gradient is NaN or infinite"


def test_sweep_fails_only_when_every_configuration_diverged(capsys, tmp_path):
    """Some configurations diverging is a result (exit 0, reported in the table:
    test_sweep_json_lines_and_figures); all of them is a failed run: the tables are still
    written, the figures are not, then one line, exit status 1."""
    args = ["sweep", "--lr", "1e20,1e30", "--seeds", "1", "--epochs", "3", "--hidden", "4"]
    proc = nnfs_jax(capsys, *args, "--json", "--out", str(tmp_path), check=False)
    assert_one_line(proc, 1, "failed", "all 2 configurations diverged")
    rows = json_lines(proc.stdout)
    configs = [r for r in rows if "rank" in r]
    assert [r["final_loss"] for r in configs] == [None, None]
    assert all(r["diverged_at"] is not None for r in configs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv", "sweep.jsonl"]


def test_search_without_a_finite_loss_fails(capsys):
    """With a linear hidden layer and weights of scale 1e30 every logit is ~1e30 x 1e30,
    beyond float32's 3.4e38 (a ReLU could zero a sample's hidden layer and keep its loss
    finite; a linear layer cannot): no draw has a finite loss, so there are no best weights to
    report: one line, exit status 1; the final JSON record has loss null."""
    args = ["search", "--scale", "1e30", "--activation", "linear", "--iterations", "20"]
    proc = nnfs_jax(capsys, *args, "--json", check=False)
    assert_one_line(proc, 1, "failed", "no weights with a finite loss in 20 iterations")
    assert json_lines(proc.stdout)[-1] == {**json_lines(proc.stdout)[-1], "loss": None}


def test_train_that_diverges_before_any_update(capsys):
    """The loss of the initial weights is already NaN (scale 1e30: logits beyond float32's
    range, as above): the line says epoch 0, before any update."""
    proc = nnfs_jax(capsys, "train", "--scale", "1e30", "--epochs", "3", check=False)
    assert_one_line(proc, 1, "failed", "diverged at epoch 0 ", "smaller --scale")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["train", "--epochs", "3", "--out", "/proc/nnfs_jax_test"], ["cannot create the"]),
        (["gradcheck", "--out", "/proc/nnfs_jax_test/sub"], ["cannot create the folder"]),
        (["sweep", "--epochs", "3", "--out", "/proc"], ["cannot write into '/proc'"]),
        (["search", "--out", "/proc"], ["cannot write into '/proc'"]),
        (["experiments", "run", "e01", "--out", "/proc"], ["cannot write into '/proc'"]),
    ],
)
def test_out_that_cannot_be_written_is_refused_before_any_work(capsys, args, fragments):
    """/proc takes no new files or folders, not even from root: the probe (make the folder,
    create and remove a file in it) fails before anything is computed, naming --out."""
    assert_refused(nnfs_jax(capsys, *args, check=False), "--out: ", *fragments)


def test_out_is_made_and_the_probe_leaves_nothing(capsys, tmp_path):
    out = tmp_path / "new" / "deeper"
    nnfs_jax(capsys, "derivative", "--at", "1", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["fd_errors.png", "tangents.png"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        # every number finite (and positive where it must be)
        (["gradcheck", "--h", "inf"], ["argument --h", "finite number, got 'inf'"]),
        (["gradcheck", "--h", "nan"], ["argument --h", "finite number, got 'nan'"]),
        (["gradcheck", "--h", "0"], ["argument --h", "finite number > 0"]),
        (["gradcheck", "--scale", "nan"], ["argument --scale", "finite number"]),
        (["derivative", "--delta", "1e400"], ["argument --delta", "got '1e400'"]),
        (["derivative", "--delta", "nan"], ["argument --delta", "finite number"]),
        (["derivative", "--at", "nan"], ["argument --at", "finite numbers, got 'nan'"]),
        (["derivative", "--at", "1,-inf"], ["argument --at", "got '-inf' in '1,-inf'"]),
        (["train", "--lr", "nan"], ["argument --lr", "finite number"]),
        (["train", "--lr", "-5"], ["argument --lr", "finite number >= 0, got -5.0"]),
        (["train", "--lr", "-5", "--optimizer", "optax.adam"], ["argument --lr", ">= 0"]),
        (["train", "--decay", "inf"], ["argument --decay", "finite number"]),
        (["train", "--momentum", "nan"], ["argument --momentum", "finite number"]),
        (["train", "--beta1", "inf", "--optimizer", "adam"], ["argument --beta1", "finite"]),
        (["train", "--scale", "-1"], ["argument --scale", ">= 0"]),
        (["train", "--weight-l2", "inf"], ["argument --weight-l2", "finite number"]),
        (["search", "--scale", "inf"], ["argument --scale", "finite number"]),
        (["sweep", "--lr", "0.1,nan"], ["argument --lr", "got 'nan' in '0.1,nan'"]),
        (["sweep", "--momentum", "0,inf"], ["argument --momentum", "finite numbers"]),
        (["sweep", "--scale", "0.1,-1"], ["argument --scale", ">= 0, got -1.0"]),
        # seeds and counts a run can use
        (["train", "--seed", "-1"], ["argument --seed", "seed in [0, 2**32), got -1"]),
        (["search", "--seed", str(2**32)], ["argument --seed", "[0, 2**32)"]),
        (["train", "--epochs", str(2**31)], ["argument --epochs", "at most 2147483647"]),
        # an empty item in a comma list is an error, not skipped
        (["train", "--hidden", "8,,8"], ["argument --hidden", "'8,,8' (an empty item)"]),
        (["train", "--hidden", "8,"], ["argument --hidden", "an empty item"]),
        (["gradcheck", "--sizes", "2,,3"], ["argument --sizes", "an empty item"]),
        (["derivative", "--at", ",1"], ["argument --at", "an empty item"]),
        (["sweep", "--lr", "0.1,,1"], ["argument --lr", "'0.1,,1' (an empty item)"]),
        (["sweep", "--batch-size", "32,,64"], ["argument --batch-size", "an empty item"]),
        (["sweep", "--hidden", "8", "8,,8"], ["argument --hidden", "an empty item"]),
        (["sweep", "--weight-l2", "0,"], ["argument --weight-l2", "an empty item"]),
        # a value repeated in a sweep list would train the same configuration twice
        (["sweep", "--lr", "0.1,0.1"], ["learning_rate: duplicate values 0.1"]),
        (["sweep", "--lr", "0.1,1e-1"], ["learning_rate: duplicate values 0.1"]),
        (["sweep", "--hidden", "8", "8"], ["hidden: duplicate values (8,)"]),
        (["sweep", "--batch-size", "32,32"], ["batch_size: duplicate values 32"]),
        (["sweep", "--scale", "1,1"], ["scale: duplicate values 1.0"]),
        (["sweep", "--weight-l2", "0,0"], ["weight_regularizer_l2: duplicate values"]),
    ],
)
def test_bad_values_are_refused_before_any_work(capsys, args, fragments):
    """One line naming the option or the library's argument, exit status 2, nothing printed
    on stdout (nothing was computed)."""
    assert_refused(nnfs_jax(capsys, *args, check=False), *fragments)
