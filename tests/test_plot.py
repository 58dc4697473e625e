"""nnfs_jax.plot: every function writes a non-empty PNG, creating the folders it needs."""

from pathlib import Path

import jax
import numpy as np
import pytest

import nnfs_jax as nj
from nnfs_jax import plot
from nnfs_jax.search import Improvements
from nnfs_jax.train import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, expected: Path) -> None:
    assert isinstance(path, Path) and path == expected
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


@pytest.fixture(scope="module")
def spiral():
    nj.book_seed(0)
    X, y = nj.spiral_data(30, 3)
    return X, y


@pytest.fixture(scope="module")
def params():
    return nj.init_params(jax.random.key(0), (2, 8, 3), scale=1.0)


def test_scatter_creates_parent_folders(tmp_path, spiral):
    target = tmp_path / "a" / "b" / "spiral.png"
    assert_png(plot.scatter(*spiral, target, title="spiral"), target)


def test_scatter_accepts_one_hot_labels(tmp_path, spiral):
    X, y = spiral
    target = tmp_path / "one_hot.png"
    assert_png(plot.scatter(X, np.eye(3)[y], str(target)), target)  # a str path works too


def test_scatter_panels(tmp_path, spiral):
    target = tmp_path / "panels.png"
    panels = {"one": spiral, "two": spiral, "three": spiral}
    assert_png(plot.scatter_panels(panels, target, ncols=2), target)


def test_learning_curves_one_history_or_several(tmp_path):
    epochs = np.arange(0, 500, 100)
    history = History(epochs, 1.1 - epochs / 1e3, 0.3 + epochs / 1e3, np.full(5, 1.0))
    single = tmp_path / "single.png"
    assert_png(plot.learning_curves(history, single), single)
    several = tmp_path / "several.png"
    assert_png(plot.learning_curves({"a": history, "b": history}, several, title="t"), several)


def test_decision_boundary_from_params_or_a_predict_function(tmp_path, spiral, params):
    X, y = spiral
    target = tmp_path / "boundary.png"
    assert_png(plot.decision_boundary(params, X, y, target, resolution=40), target)
    labels_only = tmp_path / "labels.png"
    predict = lambda points: (points[:, 0] > 0).astype(int)  # noqa: E731
    assert_png(plot.decision_boundary(None, X, y, labels_only, predict=predict), labels_only)


def test_tangent_lines(tmp_path):
    x = np.arange(0, 5, 0.01)
    points = [(i, 2.0 * i**2) for i in range(5)]
    target = tmp_path / "tangents.png"
    assert_png(plot.tangent_lines(x, 2 * x**2, points, [4.0 * i for i in range(5)], target), target)


def test_finite_difference_errors_with_guides_and_zeros(tmp_path):
    h = np.logspace(0, -12, 25)
    errors = {"forward": h + 1e-16 / h, "central": np.where(h > 1e-6, h**2, 0.0)}
    target = tmp_path / "fd.png"
    guides = [("forward", 1, 1e-2), ("central", 2, 1e-2)]
    assert_png(plot.finite_difference_errors(h, errors, target, guides=guides), target)


def report(manual_vs_autodiff: float = 1e-7) -> nj.GradientReport:
    """A GradientReport as compare_gradients makes one (only `errors` is drawn)."""
    pairs = {
        "autodiff_vs_numerical": 1e-3,
        "manual_vs_autodiff": manual_vs_autodiff,
        "manual_vs_numerical": 1e-3,
    }
    errors = {
        leaf: {pair: {"max_abs": value / 10, "max_rel": value} for pair, value in pairs.items()}
        for leaf in ("dense1.biases", "dense1.weights", "dense2.biases", "dense2.weights")
    }
    return nj.GradientReport(errors, {}, np.int32(0), np.int32(0), np.float32(5e-3))


def test_gradient_errors_from_a_report_or_several(tmp_path):
    single = tmp_path / "one.png"
    assert_png(plot.gradient_errors(report(), single), single)
    several = tmp_path / "two.png"
    reports = {"float32": report(), "float64": report(1e-15)}
    assert_png(plot.gradient_errors(reports, several, metric="max_abs"), several)


def test_gradient_errors_draws_exact_zeros(tmp_path):
    target = tmp_path / "zeros.png"  # manual and autodiff agreeing exactly: drawn at the floor
    assert_png(plot.gradient_errors(report(0.0), target), target)


def test_lines_shared_x_own_x_and_log_axes(tmp_path):
    x = np.arange(1, 11)
    series = {"a": x**2, "b": (np.array([2, 4, 8]), np.array([1.0, 0.0, 3.0]))}
    target = tmp_path / "lines.png"
    assert_png(plot.lines(x, series, target, logy=True, marker="."), target)
    many = tmp_path / "many.png"
    assert_png(plot.lines(x, {str(i): x * i for i in range(6)}, many, title="six"), many)


def test_search_progress_from_improvements(tmp_path):
    found = Improvements(np.array([0, 3, 40]), np.array([1.1, 1.0, 0.9]), np.array([0.3] * 3))
    target = tmp_path / "search.png"
    runs = {"random search": (found.iteration, found.loss), "empty": ([], [])}
    assert_png(plot.search_progress(runs, target, end=100), target)
    per_run = tmp_path / "per_run.png"
    assert_png(plot.search_progress(runs, per_run, end={"random search": 50}), per_run)


def test_plot_never_uses_pyplot():
    # Figures are drawn on matplotlib.figure.Figure with the Agg canvas: no global backend
    # switch, no window, nothing to close.
    source = Path(plot.__file__).read_text()
    assert "import matplotlib.pyplot" not in source
    assert "from matplotlib import pyplot" not in source
    assert ".show(" not in source
