"""Every experiment script runs with --quick and prints the documents' numbers.

Each script is imported by path and its `main(["--quick", "--out", DIR])` run in-process once
per test (one test per script, so pytest-xdist spreads the scripts over workers). Expected
values come from the documents' printed output, from independent NumPy computations
(`numpy_reference`, or a few lines here), or from mathematics, never from nnfs_jax itself.
"""

import contextlib
import importlib.util
import io
import math
import re
from pathlib import Path

import jax
import numpy as np
import numpy_reference as ref
import pytest
from conftest import (
    DOCUMENT_002_VS_FLOAT64,
    document_002_float64_losses,
    float32_allowance,
    nnfs_initialised,
)
from matplotlib import image as mpimg

import nnfs_jax as nj

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Document 002's printed log, epochs 0-300: (epoch, accuracy, loss).
LOG_002 = [
    (0, 0.3433333333333333, 1.0986183881759644),
    (100, 0.4066666666666667, 1.083395004272461),
    (200, 0.39666666666666667, 1.0709291696548462),
    (300, 0.41, 1.069575548171997),
]
# Document 004's printed softmax output of the 2-3-3 network on spiral data, first 5 rows, and
# its loss (In [108], In [118]); 003 runs the same set-up.
FORWARD_004 = np.array(
    [
        [0.33333334, 0.33333334, 0.33333334],
        [0.33331734, 0.3333183, 0.33336434],
        [0.3332888, 0.33329153, 0.33341965],
        [0.33325943, 0.33326396, 0.33347666],
        [0.33323312, 0.33323926, 0.33352762],
    ]
)
LOSS_004 = 1.098445
# float32 round-off allowances: a printed float32 value is rounded to 8 significant digits, and
# XLA's float32 dot rounds differently from nnfs.init()'s float64 dot.
F32_PRINTED = 1e-7  # probabilities near 1/3
LOSS_PRINTED = 8e-7  # '1.098445': 7 digits, plus 2 ulp
NUMBER = r"(-?\d+\.\d+)"  # a printed decimal number, one regex group


def printed(stdout: str, pattern: str) -> list[tuple[float, ...]]:
    """The numbers of every line of stdout that matches `pattern` (its groups), in order."""
    matches = re.findall(f"^{pattern}$", stdout, re.M)
    return [tuple(map(float, m)) if isinstance(m, tuple) else (float(m),) for m in matches]


def assert_printed(value: float, expected: float, decimals: int, slack: float, what: str = ""):
    """A number printed with `decimals` decimals is `expected` (computed independently) to
    half a unit of its last place, plus `slack` (float32 against the float64 computation)."""
    allowed = 0.5 * 10.0**-decimals + slack + 1e-12
    assert abs(value - expected) <= allowed, (what, value, expected)


def run(name: str, out: Path, *extra: str) -> tuple[dict, str]:
    """Import experiments/<name>.py by path, run its main with --quick; (result, stdout)."""
    (path,) = EXPERIMENTS.glob(f"{name}_*.py")
    spec = importlib.util.spec_from_file_location(f"experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        result = module.main(["--quick", "--out", str(out), *extra])
    assert_figures(result, out)
    return result, stdout.getvalue()


def assert_figures(result: dict, out: Path) -> None:
    """Each figure the script reports is a non-empty PNG inside the --out folder, with
    something drawn in it (more colours than a blank canvas and its frame)."""
    figures = result["figures"]
    assert figures
    for figure in figures:
        figure = Path(figure)
        assert figure.is_file() and figure.parent == out, figure
        data = figure.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_SIGNATURE), figure
        pixels = mpimg.imread(figure)[..., :3].reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 2, figure


def test_every_script_has_the_common_interface():
    scripts = sorted(EXPERIMENTS.glob("e[0-9][0-9]_*.py"))
    assert [p.name[:3] for p in scripts] == [f"e{i:02d}" for i in range(1, 18)]
    for path in scripts:
        text = path.read_text()
        assert text.startswith('"""'), path.name
        for needed in (
            '"--quick"',
            '"--out"',
            '"--seed"',
            "def main(argv",
            '__name__ == "__main__"',
        ):
            assert needed in text, (path.name, needed)
        assert "plt.show" not in text and "pyplot" not in text, path.name
    assert (EXPERIMENTS / "README.md").is_file()


def test_e01_data_sets(tmp_path):
    result, stdout = run("e01", tmp_path)
    data = result["data"]
    # The book data sets are those of the nnfs package after nnfs.init() (in 000's order).
    from nnfs.datasets import spiral_data, vertical_data

    with nnfs_initialised(0):
        expected = {"vertical": vertical_data(100, 3), "spiral": spiral_data(100, 3)}
    for name, (X, y) in expected.items():
        np.testing.assert_array_equal(data[name][0], X)
        np.testing.assert_array_equal(data[name][1], y)
        assert data[name][0].dtype == np.float32
    radius = np.linspace(0, 1, 100)
    for name in ("spiral", "make_spiral"):
        X, y = data[name]
        for c in range(3):  # the noise moves the angle only: every point sits at radius r
            np.testing.assert_allclose(np.hypot(*X[y == c].T), radius, atol=2e-6)
    for name in ("vertical", "make_vertical"):
        X, y = data[name]
        assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
        for c in range(3):  # N((c / 3, 0.5), 0.1^2): the mean of 100 is within 4 standard errors
            np.testing.assert_allclose(X[y == c].mean(axis=0), [c / 3, 0.5], atol=0.04)
            np.testing.assert_allclose(X[y == c].std(axis=0), [0.1, 0.1], atol=0.03)
    assert "vertical_data: X (300, 2) float32, y (300,) uint8" in stdout
    assert len(result["figures"]) == 3


def test_e02_single_neuron_and_layers(tmp_path):
    result, stdout = run("e02", tmp_path)
    # By-hand cells: Python floats in the document, float64 here, digit for digit.
    assert result["single_neurons"] == [35.7, 2.3]
    assert "35.7\n2.3\n" in stdout
    assert result["single_neuron_dense"] == pytest.approx(35.7, rel=1e-15)  # a dot's own order
    assert result["layer"] == [4.8, 1.21, 2.385]
    assert result["dot"] == 4.8
    assert repr(result["layer_dot"]) == "array([4.8  , 1.21 , 2.385])"
    assert repr(result["batch_outputs"]) == (
        "array([[ 4.8  ,  1.21 ,  2.385],\n"
        "       [ 8.9  , -1.81 ,  0.2  ],\n"
        "       [ 1.41 ,  1.051,  0.026]])"
    )
    assert repr(result["layer2_outputs"]) == (
        "array([[ 0.5031 , -1.04185, -2.03875],\n"
        "       [ 0.2434 , -2.7332 , -5.7633 ],\n"
        "       [-0.99314,  1.41254, -0.35655]])"
    )
    assert repr(result["layer_dense_seeded"]) == (
        "array([[ 0.148296  , -0.08397602],\n"
        "       [ 0.14100315, -0.01340469],\n"
        "       [ 0.20124979, -0.07290616]])"
    )
    assert result["exp_values"] == [121.51041751873483, 3.353484652549023, 10.859062664920513]
    assert result["softmax"] == [0.8952826639572619, 0.024708306782099374, 0.0800090292606387]
    assert result["softmax_sum"] == 0.9999999999999999
    # Subtracting the maximum first changes the last bits only.
    np.testing.assert_allclose(result["softmax_layers"], result["softmax"], rtol=4e-16, atol=0)
    assert repr(result["norm_bases"]) == (
        "array([[ 135.72296484],\n       [7333.35859605],\n       [   7.98280655]])"
    )
    assert repr(result["batch_softmax"]) == (
        "array([[8.95282664e-01, 2.47083068e-02, 8.00090293e-02],\n"
        "       [9.99811129e-01, 2.23163963e-05, 1.66554348e-04],\n"
        "       [5.13097164e-01, 3.58333899e-01, 1.28568936e-01]])"
    )
    assert str(result["crossentropy_logs"][None, :]) == "[[0.35667494 0.69314718 0.10536052]]"
    assert result["crossentropy_mean"] == 0.38506088005216804
    # After nnfs.init(): float32, to round-off. The document's ReLU rows 0-2 and the last 3.
    relu = result["relu_output"]
    assert relu.dtype == np.float32 and relu.shape == (300, 5)
    expected_rows = {
        1: [0, 0, 0, 4.65504505e-04, 4.56846210e-05],
        2: [0, 5.93469958e-05, 0, 2.03573116e-04, 6.10024377e-04],
        -3: [1.13291524e-01, 0, 0, 8.11079666e-02, 0],
        -2: [1.34588361e-01, 0, 3.09493970e-02, 5.66337556e-02, 0],
        -1: [1.07817926e-01, 0, 0, 8.72561932e-02, 0],
    }
    assert np.all(relu[0] == 0)
    for row, values in expected_rows.items():
        np.testing.assert_allclose(relu[row], values, rtol=1e-6, atol=5e-10)
    np.testing.assert_allclose(result["forward_first5"], FORWARD_004, rtol=0, atol=F32_PRINTED)
    assert result["spiral_loss"] == pytest.approx(LOSS_004, abs=LOSS_PRINTED)


def test_e03_random_search(tmp_path):
    result, stdout = run("e03", tmp_path)
    runs = result["runs"]
    assert set(runs) == {
        f"{method}, {data}"
        for method in ("random search", "hill climbing")
        for data in ("vertical", "spiral")
    }
    line = re.compile(r"^New set of weights found, iteration: \d+ loss: \S+ acc: \S+$", re.M)
    assert len(line.findall(stdout)) >= 8
    for name, outcome in runs.items():
        found = outcome["improvements"]
        assert len(found.iteration) >= 1
        assert np.all(np.diff(found.iteration) > 0), name
        assert np.all(np.diff(found.loss) < 0), name
        # The best parameters' loss and accuracy, recomputed with the documents' NumPy classes
        # (float64 against the search's float32: a few float32 ulps of the loss).
        X, y = result["data"][name.split(", ")[1]]
        params = [{k: np.asarray(v, np.float64) for k, v in p.items()} for p in outcome["params"]]
        loss, probs, _ = ref.network_loss_and_grads(params, X.astype(np.float64), y)
        assert outcome["loss"] == pytest.approx(loss, rel=1e-5), name
        assert found.loss[-1] == pytest.approx(loss, rel=1e-5), name  # the last improvement
        assert outcome["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == y), abs=1e-6)
    # The book's findings: hill climbing solves the vertical data, nothing solves the spiral.
    assert runs["hill climbing, vertical"]["loss"] < 0.5
    assert runs["hill climbing, vertical"]["accuracy"] > 0.8
    for method in ("random search", "hill climbing"):
        assert runs[f"{method}, spiral"]["accuracy"] < 0.6


def test_e04_derivatives(tmp_path):
    result, stdout = run("e04", tmp_path)
    tangents = result["tangents"]
    for i in range(5):  # the documents' loop in plain Python floats
        x1, x2 = i, i + 0.0001
        y1, y2 = 2 * x1**2, 2 * x2**2
        approximate = (y2 - y1) / (x2 - x1)
        assert tangents["approximate"][i] == approximate
        assert f"Approximate derivative for f(x) where x = {x1} is {approximate}\n" in stdout
        assert f" ({x2}, {y2})\n" in stdout
        assert tangents["exact"][i] == 4 * i  # jax.grad of 2x^2
    assert "where x = 1 is 4.0001999999987845" in stdout

    h = result["h"]
    # 2x^2: the forward difference's error is exactly 2h (f(x + h) - f(x) = 4xh + 2h^2) ...
    quadratic = result["quadratic"]["errors"]["forward float64"]
    large = (h >= 1e-4) & (h <= 1e-1)
    np.testing.assert_allclose(quadratic[large], 2 * h[large], rtol=1e-6)
    # ... and the central difference is exact for a quadratic: only round-off remains.
    assert np.nanmax(result["quadratic"]["errors"]["central float64"]) < 1e-6
    # sin at 1: truncation slopes 1 (forward) and 2 (central), round-off slope -1.
    slopes = result["sine"]["slopes"]
    assert slopes["float64"]["forward"] == pytest.approx(1, abs=0.05)
    assert slopes["float64"]["central"] == pytest.approx(2, abs=0.05)
    assert slopes["float32"]["forward"] == pytest.approx(1, abs=0.1)
    assert slopes["float32"]["central"] == pytest.approx(2, abs=0.15)
    for precision in ("float32", "float64"):
        assert -1.5 < slopes[precision]["central round-off"] < -0.6
        assert -1.5 < slopes[precision]["forward round-off"] < -0.6
    # The best steps lie near sqrt(eps) (forward) and eps^(1/3) (central).
    best = result["sine"]["best_h"]["float64"]
    assert 1e-10 < best["forward"] < 1e-6 and 1e-7 < best["central"] < 1e-4
    np.testing.assert_allclose(result["sine"]["exact"], math.cos(1.0), rtol=1e-15)


def test_e05_chain_rule_single_neuron(tmp_path):
    result, stdout = run("e05", tmp_path)
    expected = [-3.0, 1.0, -1.0, -2.0, 2.0, 3.0]  # 003's dx0 dw0 dx1 dw1 dx2 dw2
    assert result["manual"] == expected
    assert result["autodiff"] == expected
    assert "-3.0 1.0 -1.0 -2.0 2.0 3.0\n" in stdout
    assert result["z"] == 6.0 and result["output"] == 6.0
    assert result["dbias"] == [1.0, 1.0]
    # One step of 0.001 against the gradient lowers z by 0.001 * (|x|^2 + 1) = 0.015.
    assert result["after_step"] == pytest.approx(5.985, abs=1e-6)
    partials = result["partials"]
    assert partials["sum"] == [1.0, 1.0]
    assert partials["product"] == [3.0, 2.0]  # d(xy)/dx = y, d(xy)/dy = x at (2, 3)
    assert partials["max"] == [0.0, 1.0]
    assert partials["relu at -1, 0, 2"] == [0.0, 0.0, 1.0]
    assert partials["jnp.maximum(x, 0) at 0"] == [0.5]
    assert partials["chain sin(x^2) at 2"][0] == pytest.approx(4 * math.cos(4), rel=1e-6)
    assert partials["gradient of xy + z"] == [3.0, 2.0, 1.0]


def assert_within(value, tolerance, what=""):
    """`value <= tolerance` and finite (a NaN compares False, but say so explicitly)."""
    value = float(value)
    assert math.isfinite(value) and value <= tolerance, (what, value, tolerance)


def test_e06_backprop_gradients(tmp_path):
    result, stdout = run("e06", tmp_path)
    bonus = result["bonus"]
    # 003's set-up is 004's: the softmax output and loss the document prints.
    np.testing.assert_allclose(bonus["softmax_first5"], FORWARD_004, rtol=0, atol=F32_PRINTED)
    assert bonus["loss"] == pytest.approx(LOSS_004, abs=LOSS_PRINTED)
    # The backward pass against the documents' NumPy classes, run in float64 on the same arrays.
    with nnfs_initialised(0):
        from nnfs.datasets import spiral_data

        X, y = spiral_data(samples=100, classes=3)
        w1 = 0.10 * np.random.randn(2, 3)
        w2 = 0.10 * np.random.randn(3, 3)
    params = [{"weights": w.astype(np.float64), "biases": np.zeros((1, 3))} for w in (w1, w2)]
    loss, probs, grads = ref.network_loss_and_grads(params, X.astype(np.float64), y)
    loss_activation = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    loss_activation.backward(probs, y)
    assert bonus["loss"] == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(bonus["dinputs_first5"], loss_activation.dinputs[:5], atol=1e-9)
    for layer, name in ((1, "dense2"), (0, "dense1")):
        np.testing.assert_allclose(
            bonus[f"{name}_dweights_first5"],
            grads[layer]["weights"].flatten()[:5],
            rtol=1e-4,
            atol=1e-9,
        )
        np.testing.assert_allclose(
            bonus[f"{name}_dbiases"], grads[layer]["biases"], rtol=1e-4, atol=1e-9
        )
    for title in ("Softmax Output (first 5):", "Loss:", "Dense2 dWeights (first 5):"):
        assert title + "\n" in stdout
    assert_within(result["fused_vs_jacobian"], 1e-6, "fused vs Jacobian")
    # Manual and jax.grad agree to round-off; finite differences agree on the last layer.
    # (Finite and below: a NaN or inf error is a failure, whatever the comparison says.)
    for precision, tolerance, fd_tolerance in (("float32", 1e-4, 0.05), ("float64", 1e-12, 1e-6)):
        errors = result["reports"]["2-3-3 (003)"][precision]["errors"]
        for leaf, pairs in errors.items():
            assert_within(pairs["manual_vs_autodiff"]["max_rel"], tolerance, (precision, leaf))
        for leaf in ("dense2.weights", "dense2.biases"):
            error = errors[leaf]["autodiff_vs_numerical"]["max_rel"]
            assert_within(error, fd_tolerance, (precision, leaf))
    assert "manual_vs_autodiff" in stdout


def test_e07_train_spiral(tmp_path):
    """Against the documents' loop in NumPy float64 on the nnfs package's own draw (the true
    trajectory), within float32 round-off as any CPU spreads it (conftest.float32_allowance),
    and against document 002's printed log where it has the epoch (its own distance from the
    float64 run added); the printed lines parsed back and held to the same."""
    result, stdout = run("e07", tmp_path)
    assert result["epochs"] == 501 and result["samples"] == 300
    float64 = document_002_float64_losses()
    document = {epoch: (accuracy, loss) for epoch, accuracy, loss in LOG_002}
    epochs = [0, 100, 200, 300, 400, 500]

    def check(epoch, accuracy, loss, what):
        assert abs(loss - float64[epoch]) <= float32_allowance(epoch), (what, epoch)
        assert (accuracy * 300) == pytest.approx(round(accuracy * 300), abs=1e-9)  # a count
        if epoch in document:  # the accuracy is exact through epoch 300 (conftest)
            assert accuracy == document[epoch][0], (what, epoch)
            allowed = float32_allowance(epoch) + DOCUMENT_002_VS_FLOAT64
            assert abs(loss - document[epoch][1]) <= allowed, (what, epoch)

    for what in ("log", "autodiff_log"):  # the hand-written backward pass and jax.grad
        assert [row[0] for row in result[what]] == epochs, what
        for epoch, accuracy, loss in result[what]:
            check(epoch, accuracy, loss, what)
    # The document's format, "Epoch: 0\nAccuracy: 0.3433333333333333\nLoss: 1.0986...", each
    # number as Python prints it: the printed numbers parsed back.
    lines = re.findall(r"^Epoch: (\d+)\nAccuracy: (0\.\d+)\nLoss: (1\.\d+)$", stdout, re.M)
    assert [int(epoch) for epoch, _, _ in lines] == epochs
    for epoch, accuracy, loss in lines:
        check(int(epoch), float(accuracy), float(loss), "printed")
    # The float64 run is the NumPy one (float64 round-off, ~1e-15, grows to ~1e-12 by epoch 500).
    for epoch, _, loss in result["float64_log"]:
        assert loss == pytest.approx(float64[epoch], abs=1e-9), epoch
    # Chaos: float32 and float64 start within round-off and drift apart. drift is |float32 -
    # float64| of the script's own runs every 10th epoch: within the allowance throughout, and
    # past epoch 400 above the epoch-0 allowance (the loss's own evaluation): in every one of
    # conftest's 400 realisations the largest difference at epochs 400-500 (every 10th) was at
    # least 9.2 units, more than twice the 4 of epoch 0.
    drift, drift_epochs = result["drift"], result["drift_epochs"]
    np.testing.assert_array_equal(drift_epochs, np.arange(0, 501, 10))
    for epoch, difference in zip(drift_epochs, drift, strict=True):
        assert difference <= float32_allowance(epoch) + 1e-9, epoch
    assert drift[drift_epochs >= 400].max() > float32_allowance(0)


def perceptron_numpy(X, y, epochs=10, learning_rate=0.01):
    """Document 001's Perceptron class, transcribed (float64, np.zeros)."""
    weights = np.zeros(X.shape[1] + 1)
    errors = []
    for _ in range(epochs):
        error = 0
        for inputs, target in zip(X, y, strict=True):
            summation = np.dot(inputs, weights[1:]) + weights[0]
            update = learning_rate * (target - (1 if summation > 0 else 0))
            weights[1:] += update * inputs
            weights[0] += update
            error += int(update != 0.0)
        errors.append(error)
    return weights, errors


def test_e08_perceptron_and_xor(tmp_path):
    result, _ = run("e08", tmp_path)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
    targets = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    for gate, y in targets.items():
        weights, errors = perceptron_numpy(X, np.array(y, np.float64))
        got = result["perceptron"][gate]
        assert got["errors"] == errors, gate
        np.testing.assert_allclose(got["weights"], weights, atol=1e-15)
    assert result["perceptron"]["AND"]["errors"][-1] == 0
    assert result["perceptron"]["OR"]["errors"][-1] == 0
    assert result["perceptron"]["XOR"]["errors"][-1] > 0  # not linearly separable
    # 001's network: no hidden layer, no bias. sigmoid(0) = 0.5 for (0, 0), whatever the weights.
    weights = result["no_hidden"]["weights0"].astype(np.float64)
    y = np.array([[0], [1], [1], [0]], np.float64)
    for _ in range(10_000):
        outputs = 1 / (1 + np.exp(-(X @ weights)))
        weights += X.T @ ((y - outputs) * outputs * (1 - outputs))
    outputs = 1 / (1 + np.exp(-(X @ weights)))
    np.testing.assert_allclose(result["no_hidden"]["outputs"], outputs[:, 0], atol=1e-4)
    assert result["no_hidden"]["outputs"][0] == 0.5
    assert np.all(np.abs(result["no_hidden"]["outputs"] - 0.5) < 0.05)
    # A hidden layer with biases learns it.
    hidden = result["hidden"]
    assert hidden["solved"] >= 1
    assert np.all((hidden["outputs"] > 0.5) == (y[:, 0] > 0.5))


def test_e09_autograd_tour(tmp_path):
    result, _ = run("e09", tmp_path)
    x = np.array([1, 2, 3, 4, 5], np.float64)
    v = np.array([0.1, 1.0, 0.001, 0.0001, 0.00001])
    np.testing.assert_allclose(result["mean_gradient"], (4 * x + 1) / 5, rtol=1e-6)
    np.testing.assert_allclose(result["vjp"], 2 * x * v, rtol=1e-6)
    np.testing.assert_allclose(result["vjp_via_jacobian"], 2 * x * v, rtol=1e-6)
    np.testing.assert_array_equal(result["detached_gradient"], x)
    assert [g.tolist() for g in result["fresh"]] == [[3.0] * 4] * 3
    assert [a.tolist() for a in result["accumulated"]] == [[3.0] * 4, [6.0] * 4, [9.0] * 4]
    assert result["loss"] == 1.0 and result["dloss_dw"] == -2.0


def linear_regression_numpy(gradient):
    """001's NumPy loop in float32: per epoch (w after the update, loss before it)."""
    X = np.array([1, 2, 3, 4], np.float32)
    Y = np.array([2, 4, 6, 8], np.float32)
    w = np.float32(0.0)
    ws, losses = [], []
    for _ in range(20):
        y_pred = w * X
        losses.append(((y_pred - Y) ** 2).mean())
        w = np.float32(w - np.float32(0.01) * gradient(X, Y, y_pred))
        ws.append(w)
    return np.array(ws), np.array(losses)


def test_e10_linear_regression(tmp_path):
    result, stdout = run("e10", tmp_path)
    document, mse = (
        linear_regression_numpy(lambda x, y, p: np.dot(2 * x, p - y).mean()),
        linear_regression_numpy(lambda x, y, p: np.mean(2 * x * (p - y))),
    )
    # float32 in both (NumPy here, XLA there). Each step w <- w - 0.01 g shrinks the error
    # w - 2 by rho (0.4 for the document's summed gradient, 0.85 for the mean's), so what one
    # implementation rounds otherwise than the other in a step (half an ulp of w < 2, 2**-24,
    # where an FMA fuses w - 0.01 g or not; plus 0.01 times a few ulps of g, |g| <= 30 (jax.grad
    # sums in another order): another 2**-24 at most) stays below 2**-23 / (1 - rho) for each,
    # twice that between two. The loss, 7.5 (w - 2)**2, moves by 15 |w - 2| times that, plus
    # its own evaluation's ~10 roundings (2**-24 each, relative).
    for name, (ws, losses), rho in (
        ("document", document, 0.4),
        ("mse", mse, 0.85),
        ("autodiff", mse, 0.85),
    ):
        dw = 2 * 2.0**-23 / (1 - rho)
        np.testing.assert_allclose(result[name]["w"], ws, rtol=0, atol=dw, err_msg=name)
        w_before = np.concatenate([[0.0], ws[:-1]])  # each loss is taken before its update
        allowed = 15 * np.abs(w_before - 2) * dw + 10 * 2.0**-24 * losses
        error = np.abs(result[name]["loss"] - losses)
        assert np.all(error <= allowed), (name, error / allowed)
        assert result[name]["before"] == 0.0
    # The document's formula: the error w - 2 shrinks by 0.4 per step; the MSE's by 0.85.
    k = np.arange(1, 21)
    np.testing.assert_allclose(result["document"]["w"], 2 - 2 * 0.4**k, atol=1e-6)
    np.testing.assert_allclose(result["mse"]["w"], 2 - 2 * 0.85**k, atol=1e-5)
    assert "Prediction after training: f(5) = 10.000" in stdout
    assert "Prediction after training: f(5) = 9.612" in stdout
    assert "[INFO]: epoch 1: w = 1.200, loss = 30.00000000" in stdout
    assert "[INFO]: epoch 1: w = 0.300, loss = 30.00000000" in stdout
    # optax.sgd on w x + b from the recorded initialisation, replayed by hand.
    params0 = result["optax"]["params0"]
    w, b = float(params0["weight"][0, 0]), float(params0["bias"][0])
    X, Y = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 6, 8])
    assert result["optax"]["before"] == pytest.approx(5 * w + b, rel=1e-6)
    for epoch in range(20):
        residual = w * X + b - Y
        assert result["optax"]["loss"][epoch] == pytest.approx(np.mean(residual**2), rel=1e-5)
        w, b = w - 0.01 * np.mean(2 * residual * X), b - 0.01 * np.mean(2 * residual)
        assert result["optax"]["w"][epoch] == pytest.approx(w, rel=1e-5)
    assert result["optax"]["after"] == pytest.approx(5 * w + b, rel=1e-5)


def test_seed_reaches_the_data(tmp_path):
    """--seed 1 gives other (equally shaped) data, and no script leaves float64 switched on."""
    other, _ = run("e01", tmp_path, "--seed", "1")
    with nnfs_initialised(1):
        from nnfs.datasets import vertical_data

        X, _ = vertical_data(100, 3)
    np.testing.assert_array_equal(other["data"]["vertical"][0], X)
    assert jax.numpy.zeros(()).dtype == np.float32


# --- the book's later chapters (e11-e14 trained by nnfs_jax.train, e15-e16 by nnfs_jax.fit) ---


def forward_numpy(params, X, head="softmax"):
    """Dense -> ReLU -> ... -> Dense -> head in float64 NumPy, evaluation mode."""
    a = np.asarray(X, np.float64)
    for layer in params[:-1]:
        a = np.maximum(0, a @ np.asarray(layer["weights"], np.float64) + layer["biases"])
    z = a @ np.asarray(params[-1]["weights"], np.float64) + params[-1]["biases"]
    if head == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if head == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def crossentropy_numpy(probs, y):
    return np.mean(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1 - 1e-7)))


def test_e11_regularization(tmp_path):
    result, stdout = run("e11", tmp_path)
    assert result["epochs"] == 501 and set(result["runs"]) == {"100, L2", "100, none", "1000, L2"}
    from nnfs.datasets import spiral_data

    with nnfs_initialised(0):  # the book's order of draws: data, weights, test data
        X, y = spiral_data(100, 3)
        np.random.randn(2, 64), np.random.randn(64, 3)  # the two layers' weights
        X_test, y_test = spiral_data(100, 3)
    data = result["data"]["100, L2"]
    for got, want in zip(data, (X, y, X_test, y_test), strict=True):
        np.testing.assert_array_equal(got, want)
    # train logs as the book's `for epoch in range(501)`: epochs 0, 100, ..., 500, each
    # before its update
    assert result["histories"]["100, L2"].epoch.tolist() == [0, 100, 200, 300, 400, 500]
    for name, run_numbers in result["runs"].items():
        params = result["params"][name]
        X_test, y_test = result["data"][name][2:]
        probs = forward_numpy(params, X_test)
        accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
        assert run_numbers["validation_accuracy"] == pytest.approx(accuracy, abs=1 / 300 + 1e-6)
        assert run_numbers["validation_loss"] == pytest.approx(
            crossentropy_numpy(probs, y_test), rel=1e-4
        )
        w, b = (np.asarray(params[0][k], np.float64) for k in ("weights", "biases"))
        l2 = 5e-4 * (np.sum(w * w) + np.sum(b * b)) if "L2" in name else 0.0
        assert run_numbers["regularization_loss"] == pytest.approx(l2, rel=1e-4, abs=1e-12)
        assert 0.6 < run_numbers["train_accuracy"] <= 1.0
    # The book's lines: epoch 500's log line, then the validation line after the last update
    # and a summary, per run in order; the printed validation numbers are the NumPy ones above
    # to their 3 decimals (a float32 near-tie may flip one sample: 1/300; the float32 loss to
    # 1e-4 relative).
    log_line = rf"epoch: 500, acc: {NUMBER}, loss: {NUMBER} \(data_loss: {NUMBER}, "
    log_line += rf"reg_loss: {NUMBER}\), lr: 0\.01999501124469445"
    assert len(printed(stdout, log_line)) == 3
    validation = printed(stdout, rf"validation, acc: {NUMBER}, loss: {NUMBER}")
    summary = re.findall(
        rf"^(.+): train acc {NUMBER} loss {NUMBER} \| validation acc {NUMBER} loss {NUMBER} \|",
        stdout,
        re.M,
    )
    assert [line[0] for line in summary] == list(result["runs"])
    for (name, *numbers), (accuracy, loss) in zip(summary, validation, strict=True):
        X_test, y_test = result["data"][name][2:]
        probs = forward_numpy(result["params"][name], X_test)
        expected_accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
        expected_loss = crossentropy_numpy(probs, y_test)
        for got_accuracy, got_loss in ((accuracy, loss), tuple(map(float, numbers[2:]))):
            assert_printed(got_accuracy, expected_accuracy, 3, 1 / 300, name)
            assert_printed(got_loss, expected_loss, 3, 1e-4 * expected_loss, name)
    history = result["histories"]["100, L2"]  # the test spiral at every logged epoch too
    assert np.all(np.isfinite(history.validation_loss)) and len(history.validation_loss) == 6
    assert result["runs"]["100, none"]["regularization_loss"] == 0.0


def test_e12_dropout(tmp_path):
    result, stdout = run("e12", tmp_path)
    assert result["epochs"] == 501
    X, y, X_test, y_test = result["data"]
    assert X.shape == (3000, 2) and X_test.shape == (300, 2)
    params = result["params"]
    probs = forward_numpy(params, X_test)  # dropout is off at evaluation
    accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
    numbers = result["dropout"]
    assert numbers["validation_accuracy"] == pytest.approx(accuracy, abs=1 / 300 + 1e-6)
    assert numbers["validation_loss"] == pytest.approx(crossentropy_numpy(probs, y_test), rel=1e-4)
    train = np.mean(np.argmax(forward_numpy(params, X), axis=1) == y)
    assert numbers["train_accuracy_after"] == pytest.approx(train, abs=1 / 3000 + 1e-6)
    assert (
        0.5 < numbers["validation_accuracy"] and 0.5 < result["no_dropout"]["validation_accuracy"]
    )
    # The printed validation line and evaluation-mode training accuracy of the dropout run
    # (the first of two runs) are the NumPy numbers above, to their 3 decimals.
    validation = printed(stdout, rf"validation, acc: {NUMBER}, loss: {NUMBER}")
    assert len(validation) == 2
    assert_printed(validation[0][0], accuracy, 3, 1 / 300, "validation accuracy")
    expected_loss = crossentropy_numpy(probs, y_test)
    assert_printed(validation[0][1], expected_loss, 3, 1e-4 * expected_loss, "validation loss")
    after = printed(stdout, rf"dropout 0\.1, L2 5e-4: evaluation-mode train acc {NUMBER} \| .*")
    assert len(after) == 1
    assert_printed(after[0][0], train, 3, 1 / 3000, "train accuracy after")


def test_e13_binary_logistic(tmp_path):
    result, stdout = run("e13", tmp_path)
    from nnfs.datasets import spiral_data

    with nnfs_initialised(0):
        X, y = spiral_data(100, 2)
    np.testing.assert_array_equal(result["data"][0], X)
    np.testing.assert_array_equal(result["data"][1], y.reshape(-1, 1))
    X_test, y_test = result["data"][2:]
    out = forward_numpy(result["params"], X_test, "sigmoid")
    accuracy = np.mean((out > 0.5) == y_test)
    assert result["validation_accuracy"] == pytest.approx(accuracy, abs=1 / 200 + 1e-6)
    p = np.clip(out, 1e-7, 1 - 1e-7)
    bce = np.mean(-(y_test * np.log(p) + (1 - y_test) * np.log(1 - p)))
    assert result["validation_loss"] == pytest.approx(bce, rel=1e-4)
    assert result["validation_accuracy"] > 0.6  # 1,001 epochs of lr 0.001: on the way
    ((printed_accuracy, printed_loss),) = printed(
        stdout, rf"validation, acc: {NUMBER}, loss: {NUMBER}"
    )
    assert_printed(printed_accuracy, accuracy, 3, 1 / 200, "validation accuracy")
    assert_printed(printed_loss, bce, 3, 1e-4 * bce, "validation loss")


def test_e14_regression(tmp_path):
    result, stdout = run("e14", tmp_path)
    X, y = result["data"]
    np.testing.assert_allclose(X[:, 0], np.arange(1000) / 1000, rtol=1e-7)
    np.testing.assert_allclose(y[:, 0], np.sin(2 * np.pi * np.arange(1000) / 1000), atol=1e-7)
    assert result["precision"] == pytest.approx(np.std(y.astype(np.float64)) / 250, rel=1e-6)
    prediction = forward_numpy(result["params"], X, "linear")
    np.testing.assert_allclose(result["prediction"], prediction, atol=1e-5)
    close = np.abs(prediction - y) < result["precision"]
    # float32 against float64: a prediction within 1e-5 of the tolerance may fall either side
    borderline = np.sum(np.abs(np.abs(prediction - y) - result["precision"]) < 1e-5)
    assert abs(result["accuracy_after"] - close.mean()) <= (borderline + 0.5) / 1000
    assert result["loss_after"] == pytest.approx(np.mean((prediction - y) ** 2), rel=1e-3)
    assert result["accuracy_after"] > 0.5
    ((printed_accuracy, printed_loss),) = printed(
        stdout, rf"after training \(evaluation mode\): acc: {NUMBER}, loss: {NUMBER}"
    )
    slack = (borderline + 0.5) / 1000
    assert_printed(printed_accuracy, close.mean(), 3, slack, "accuracy after")
    mse = np.mean((prediction - y) ** 2)
    assert_printed(printed_loss, mse, 6, 1e-3 * mse, "loss after")


def fashion_mnist_installed() -> bool:
    import os

    from nnfs_jax.images import FASHION_MNIST_DIR, FASHION_MNIST_ENV

    folder = Path(os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR)
    return folder.is_dir() and len(list(folder.glob("*-ubyte*"))) >= 4


@pytest.mark.skipif(
    not fashion_mnist_installed(),
    reason="Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist",
)
def test_e15_fashion_mnist(tmp_path):
    result, stdout = run("e15", tmp_path)
    assert result["samples"] == 6000 and result["test_samples"] == 1000 and result["epochs"] == 1
    _, _, X_test, y_test = nj.load_fashion_mnist()
    X_test, y_test = X_test[:1000], y_test[:1000]
    probs = forward_numpy(result["params"], X_test)
    predicted = np.argmax(probs, axis=1)
    assert np.mean(predicted != result["predicted"]) < 0.005  # float32 near-ties may flip
    assert result["test_accuracy"] == pytest.approx(np.mean(result["predicted"] == y_test))
    assert result["test_loss"] == pytest.approx(crossentropy_numpy(probs, y_test), rel=1e-4)
    # the book's validation after the last epoch is the same evaluation: NumPy's numbers, a
    # float32 near-tie flipping at most 0.5% of the predictions
    accuracy, loss = np.mean(predicted == y_test), crossentropy_numpy(probs, y_test)
    assert result["validation_accuracy"] == pytest.approx(accuracy, abs=0.005)
    assert result["test_accuracy"] > 0.5  # one epoch of 47 steps
    assert "epoch: 1\ntraining, acc: " in stdout
    ((printed_accuracy, printed_loss),) = printed(
        stdout, rf"validation, acc: {NUMBER}, loss: {NUMBER}"
    )
    assert_printed(printed_accuracy, accuracy, 3, 0.005, "validation accuracy")
    assert_printed(printed_loss, loss, 3, 1e-4 * loss, "validation loss")
    ((printed_accuracy, printed_loss),) = printed(stdout, rf"test set: acc {NUMBER}, loss {NUMBER}")
    assert_printed(printed_accuracy, accuracy, 4, 0.005, "test accuracy")
    assert_printed(printed_loss, loss, 4, 1e-4 * loss, "test loss")


def test_e15_without_the_data_set_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNFS_JAX_FASHION_MNIST", str(tmp_path / "empty"))
    (path,) = EXPERIMENTS.glob("e15_*.py")
    spec = importlib.util.spec_from_file_location("experiment_e15_missing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--quick", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt-get install dataset-fashion-mnist" in err


def test_e16_digits(tmp_path):
    result, stdout = run("e16", tmp_path)
    X, _, X_test, y_test = result["data"]
    assert len(X) + len(X_test) == 1797 and result["epochs"] == 20
    probs = forward_numpy(result["params"], X_test)
    accuracy = np.mean(np.argmax(probs, axis=1) == y_test)
    assert result["test_accuracy"] == pytest.approx(accuracy, abs=1 / len(y_test) + 1e-6)
    assert result["test_loss"] == pytest.approx(crossentropy_numpy(probs, y_test), rel=1e-4)
    assert result["test_accuracy"] >= 0.95
    ((printed_accuracy, printed_loss),) = printed(stdout, rf"test set: acc {NUMBER}, loss {NUMBER}")
    expected_loss = crossentropy_numpy(probs, y_test)
    assert_printed(printed_accuracy, accuracy, 4, 1 / len(y_test), "test accuracy")
    assert_printed(printed_loss, expected_loss, 4, 1e-4 * expected_loss, "test loss")


def check_sweep_cells(result, X_val, y_val) -> np.ndarray:
    """Every configuration's final validation numbers from its parameters by NumPy (no
    dropout at evaluation); returns the NumPy validation accuracies."""
    accuracies = []
    for i in range(len(result)):
        probs = forward_numpy(result.params[i], X_val)
        accuracy = np.mean(np.argmax(probs, axis=1) == y_val)
        assert result.final_validation_accuracy[i] == pytest.approx(
            accuracy, abs=1 / len(y_val) + 1e-6
        ), i
        assert result.final_validation_loss[i] == pytest.approx(
            crossentropy_numpy(probs, y_val), rel=1e-4
        ), i
        accuracies.append(accuracy)
    return np.array(accuracies)


def best_cell_by_hand(configs, accuracies, x_axis: str, y_axis: str) -> tuple[float, float]:
    """The highest mean over seeds of the (NumPy) final validation accuracy, and its spread."""
    cells = {}
    for config, value in zip(configs, accuracies, strict=True):
        cells.setdefault((repr(config[x_axis]), repr(config[y_axis])), []).append(value)
    best = max(cells.values(), key=np.mean)
    assert all(len(values) == 4 for values in cells.values())  # 4 seeds each
    return float(np.mean(best)), float(np.std(best))


def assert_best_cell(printed_cell, mean, std, n_val):
    """The printed best cell, 'validation accuracy 0.6383 ± 0.0273', against the NumPy mean
    and spread: a float32 near-tie may flip one validation sample of a run (1 / n_val), which
    moves a mean or a spread of four runs by at most that."""
    printed_mean, printed_std = printed_cell
    assert_printed(printed_mean, mean, 4, 1 / n_val, "best cell mean")
    assert_printed(printed_std, std, 4, 1 / n_val, "best cell spread")


def test_e17_sweeps(tmp_path):
    result, stdout = run("e17", tmp_path)
    spiral = result["spiral"]
    sweep = spiral["result"]
    assert len(sweep) == 2 * 2 * 4 and sweep.engine == "train" and sweep.epochs == 201
    assert {c["weight_regularizer_l2"] for c in sweep.configs} == {(0.0, 0.0), (5e-4, 0.0)}
    assert {c["dropout"] for c in sweep.configs} == {0.0, 0.1}
    assert [np.shape(layer["weights"]) for layer in sweep.params[0]] == [(2, 64), (64, 3)]
    X, y, X_test, y_test = spiral["data"]
    accuracies = check_sweep_cells(sweep, X_test, y_test)
    # Without dropout the final training loss is the data loss plus L2 on the hidden weights
    # only (the per-layer value (l2, 0)): recomputed from the parameters.
    for i, config in enumerate(sweep.configs):
        if config["dropout"] == 0.0:
            params = sweep.params[i]
            data_loss = crossentropy_numpy(forward_numpy(params, X), y)
            w = np.asarray(params[0]["weights"], np.float64)
            l2 = config["weight_regularizer_l2"][0] * np.sum(w * w)
            assert sweep.final_loss[i] == pytest.approx(data_loss + l2, rel=1e-4), i
    mean, std = best_cell_by_hand(sweep.configs, accuracies, "weight_regularizer_l2", "dropout")
    assert spiral["best_cell"]["mean"] == pytest.approx(mean, abs=1 / len(y_test) + 1e-12)
    best_cells = printed(stdout, rf"best cell: .*: validation accuracy {NUMBER} ± {NUMBER}")
    assert_best_cell(best_cells[-1], mean, std, len(y_test))  # (b) spiral comes last
    assert "best runs:" in stdout
    names = [Path(f).name for f in result["figures"]]
    assert names[-3:] == ["spiral_heatmap.png", "spiral_curves.png", "spiral_boundary.png"]
    if not fashion_mnist_installed():
        assert result["fashion"] is None and "(a) skipped: " in stdout
        assert "sudo apt-get install dataset-fashion-mnist" in stdout
        return
    fashion = result["fashion"]
    sweep = fashion["result"]
    assert len(sweep) == 2 * 2 * 4 and sweep.engine == "fit" and sweep.batch_size == 128
    assert {c["weight_regularizer_l2"] for c in sweep.configs} == {
        (0.0, 0.0, 0.0),
        (5e-4, 5e-4, 0.0),
    }
    shapes = [np.shape(layer["weights"]) for layer in sweep.params[0]]
    assert shapes == [(784, 128), (128, 128), (128, 10)]  # the chapter-19 model
    X_test, y_test = fashion["test_data"]
    assert len(y_test) == 500
    accuracies = check_sweep_cells(sweep, X_test, y_test)
    mean, std = best_cell_by_hand(
        sweep.configs, accuracies, "learning_rate", "weight_regularizer_l2"
    )
    assert fashion["best_cell"]["mean"] == pytest.approx(mean, abs=1 / len(y_test) + 1e-12)
    assert len(best_cells) == 2
    assert_best_cell(best_cells[0], mean, std, len(y_test))
    assert names[:2] == ["fashion_heatmap.png", "fashion_curves.png"]


def test_e17_without_fashion_mnist_runs_the_spiral_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("NNFS_JAX_FASHION_MNIST", str(tmp_path / "empty"))
    result, stdout = run("e17", tmp_path)
    assert result["fashion"] is None
    assert "(a) skipped: Fashion-MNIST is not installed: sudo apt-get install" in stdout
    assert [Path(f).name for f in result["figures"]] == [
        "spiral_heatmap.png",
        "spiral_curves.png",
        "spiral_boundary.png",
    ]
