"""nnfs_jax.plot: every function writes a PNG of the expected size with something drawn in it,
atomically, creating the folders it needs."""

import types
from pathlib import Path

import jax
import numpy as np
import pytest
from matplotlib import image as mpimg
from matplotlib.figure import Figure

import nnfs_jax as nj
from nnfs_jax import plot
from nnfs_jax.search import Improvements

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 100  # plot.save's default
# The documents' class colours, `cmap="brg"` at 0, 1/2 and 1 (classes 0, 1, 2 of three),
# as 8-bit RGB: blue, red, green (the colour map's 256-entry table puts 1/2 at (254, 1, 0)).
BRG = {"blue": (0, 0, 255), "red": (255, 0, 0), "green": (0, 255, 0)}
COLOUR_LEVELS = 3  # per channel: the table's steps of 1/255 and the PNG's 8-bit rounding


def pixels(path: Path) -> np.ndarray:
    """The PNG as (height, width, RGB) 8-bit integers."""
    rgba = mpimg.imread(path)  # float32 in [0, 1] for PNG files
    return np.round(rgba[..., :3] * 255).astype(np.int64)


def assert_png(path, expected: Path, size: tuple[float, float] | None = None) -> np.ndarray:
    """`path` is `expected`, a PNG of `size` inches (width, height) at DPI when given, with
    more than background and frame drawn in it (at least 3 colours, some not white)."""
    assert isinstance(path, Path) and path == expected
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)
    image = pixels(path)
    if size is not None:
        assert image.shape[:2] == (round(size[1] * DPI), round(size[0] * DPI))
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) >= 3, "blank figure"
    assert np.mean(np.all(image == 255, axis=-1)) < 0.99, "nearly all white"
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # no temporary left behind
    return image


def has_colour(image: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    """Some pixel is `rgb` (a marker's inside, not a blend with the background)."""
    return bool(np.any(np.all(np.abs(image - rgb) <= COLOUR_LEVELS, axis=-1)))


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
    image = assert_png(plot.scatter(*spiral, target, title="spiral"), target, (5.0, 4.0))
    for name, rgb in BRG.items():  # each class in the documents' colour
        assert has_colour(image, rgb), name


def test_scatter_accepts_one_hot_labels(tmp_path, spiral):
    X, y = spiral
    target = tmp_path / "one_hot.png"
    image = assert_png(plot.scatter(X, np.eye(3)[y], str(target)), target)  # a str path works too
    for name, rgb in BRG.items():
        assert has_colour(image, rgb), name


def test_scatter_panels(tmp_path, spiral):
    target = tmp_path / "panels.png"
    panels = {"one": spiral, "two": spiral, "three": spiral}
    assert_png(plot.scatter_panels(panels, target, ncols=2), target, (10.0, 8.0))  # 2 x 2 cells


def history(epochs: np.ndarray) -> nj.History:
    n = len(epochs)
    return nj.History(
        epochs,
        1.1 - epochs / 1e3,
        0.3 + epochs / 1e3,
        np.full(n, 1.0),
        1.1 - epochs / 1e3,
        np.zeros(n),
        np.full(n, np.nan),
        np.full(n, np.nan),
    )


def test_learning_curves_one_history_or_several(tmp_path):
    h = history(np.arange(0, 500, 100))
    single = tmp_path / "single.png"
    assert_png(plot.learning_curves(h, single), single, (10.0, 4.0))  # two panels
    several = tmp_path / "several.png"
    assert_png(plot.learning_curves({"a": h, "b": h}, several, title="t"), several)


def test_learning_curves_of_fit_histories_and_their_validation(tmp_path):
    epochs = np.arange(1, 6)
    fitted = nj.FitHistory(
        epochs,
        epochs * 3,
        1.0 / epochs,
        1.0 / epochs,
        np.zeros(5),
        0.5 + epochs / 20,
        np.full(5, 1e-3),
        1.2 / epochs,
        0.4 + epochs / 20,
    )
    target = tmp_path / "fit.png"
    curves = {"training": fitted, "validation": fitted.validation}
    assert_png(plot.learning_curves(curves, target), target, (10.0, 4.0))


def test_decision_boundary_from_params_or_a_predict_function(tmp_path, spiral, params):
    X, y = spiral
    target = tmp_path / "boundary.png"
    image = assert_png(plot.decision_boundary(params, X, y, target, resolution=40), target)
    assert image.shape[:2] == (500, 550)
    labels_only = tmp_path / "labels.png"
    predict = lambda points: (points[:, 0] > 0).astype(int)  # noqa: E731
    assert_png(plot.decision_boundary(None, X, y, labels_only, predict=predict), labels_only)


def test_decision_boundary_of_any_model(tmp_path, spiral):
    X, y = spiral
    key = jax.random.key(1)
    deep = nj.make_model(3, activation="tanh", dropout=0.5)  # dropout is off when predicting
    target = tmp_path / "deep.png"
    deep_params = nj.init_params(key, (2, 8, 8, 3), scale=1.0)
    image = assert_png(plot.decision_boundary(deep_params, X, y, target, model=deep), target)
    for name, rgb in BRG.items():
        assert has_colour(image, rgb), name
    binary = nj.make_model(2, head="sigmoid")  # one output: class output > 0.5
    target = tmp_path / "binary.png"
    binary_params = nj.init_params(key, (2, 8, 1), scale=1.0)
    y01 = (y > 0).astype(np.float32).reshape(-1, 1)
    assert_png(plot.decision_boundary(binary_params, X, y01, target, model=binary), target)
    regression = nj.make_model(2, head="linear_mse")
    with pytest.raises(ValueError, match="model: a decision boundary needs"):
        plot.decision_boundary(binary_params, X, y01, tmp_path / "no.png", model=regression)
    assert not (tmp_path / "no.png").exists()


def test_tangent_lines(tmp_path):
    x = np.arange(0, 5, 0.01)
    points = [(i, 2.0 * i**2) for i in range(5)]
    target = tmp_path / "tangents.png"
    slopes = [4.0 * i for i in range(5)]
    assert_png(plot.tangent_lines(x, 2 * x**2, points, slopes, target), target, (6.0, 4.5))


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
    assert_png(plot.gradient_errors(report(), single), single, (6.0, 4.0))
    several = tmp_path / "two.png"
    reports = {"float32": report(), "float64": report(1e-15)}
    assert_png(plot.gradient_errors(reports, several, metric="max_abs"), several, (12.0, 4.0))


def test_gradient_errors_draws_exact_zeros(tmp_path):
    target = tmp_path / "zeros.png"  # manual and autodiff agreeing exactly: drawn at the floor
    assert_png(plot.gradient_errors(report(0.0), target), target)


def test_lines_shared_x_own_x_and_log_axes(tmp_path):
    x = np.arange(1, 11)
    series = {"a": x**2, "b": (np.array([2, 4, 8]), np.array([1.0, 0.0, 3.0]))}
    target = tmp_path / "lines.png"
    assert_png(plot.lines(x, series, target, logy=True, marker="."), target, (6.0, 4.0))
    many = tmp_path / "many.png"  # more than four lines: wider, the legend beside the axes
    assert_png(plot.lines(x, {str(i): x * i for i in range(6)}, many, title="six"), many, (9, 4))


def test_search_progress_from_improvements(tmp_path):
    found = Improvements(np.array([0, 3, 40]), np.array([1.1, 1.0, 0.9]), np.array([0.3] * 3))
    target = tmp_path / "search.png"
    runs = {"random search": (found.iteration, found.loss), "empty": ([], [])}
    assert_png(plot.search_progress(runs, target, end=100), target)
    per_run = tmp_path / "per_run.png"
    assert_png(plot.search_progress(runs, per_run, end={"random search": 50}), per_run)


def test_image_grid_and_misclassified(tmp_path):
    images = np.linspace(-1, 1, 6 * 16).reshape(6, 16)  # six 4x4 images, flattened
    target = tmp_path / "grid.png"
    assert_png(plot.image_grid(images, list("abcdef"), target, ncols=3), target, (4.5, 3.5))
    wrong = tmp_path / "wrong.png"
    y_true, y_pred = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 2, 1, 1, 0])
    assert_png(plot.misclassified(images, y_true, y_pred, "xyz", wrong), wrong, (4.5, 1.75))
    with pytest.raises(ValueError, match="images: rows of 15 pixels"):
        plot.image_grid(np.zeros((2, 15)), ["a", "b"], tmp_path / "bad.png")


def test_save_is_atomic(tmp_path):
    # A figure whose rendering dies half-way (a kill, a full disk) leaves the good PNG in place.
    target = tmp_path / "keep.png"
    fig, (ax,) = plot.new_figure()
    ax.plot([0, 1], [1, 0])
    plot.save(fig, target)
    good = target.read_bytes()

    class Broken(Figure):
        def savefig(self, f, **kwargs):
            f.write(PNG_SIGNATURE + b"truncated")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        plot.save(Broken(), target)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


# --- sweeps ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fit_sweep():
    """A mini-batch sweep with validation data and per-layer model values (tuples)."""
    nj.book_seed(0)
    X, y = nj.spiral_data(30, 3)
    X_val, y_val = nj.spiral_data(20, 3)
    return nj.sweep(
        (X, y),
        {"learning_rate": [0.01, 0.05], "weight_regularizer_l2": [(0.0, 0.0), (1e-3, 0.0)]},
        model=nj.make_model(2),
        optimizer="adam",
        seeds=2,
        epochs=3,
        batch_size=32,
        validation_data=(X_val, y_val),
    )


def test_axis_labels_are_readable():
    assert plot.axis_label("hidden", (64, 32)) == "64-32"
    assert plot.axis_label("weight_regularizer_l2", (0.0005, 0.0)) == "0.0005/0"
    assert plot.axis_label("learning_rate", 0.001) == "0.001"
    assert plot.axis_label("batch_size", None) == "full"
    assert plot.axis_label("batch_size", 128) == "128"


def test_ranking_puts_the_best_first_and_diverged_last():
    result = types.SimpleNamespace(
        final_loss=np.array([0.5, 0.2, np.nan, 0.1, 0.3]),
        final_accuracy=np.array([0.6, 0.9, np.nan, 0.95, 0.7]),
        final_validation_loss=None,
        final_validation_accuracy=None,
        diverged=np.array([False, False, True, True, False]),
    )
    assert plot.ranking(result) == [1, 4, 0, 2, 3]  # lowest loss first, diverged ones last
    assert plot.ranking(result, "final_accuracy") == [1, 4, 0, 2, 3]  # highest accuracy first
    with pytest.raises(ValueError, match="metric"):
        plot.ranking(result, "final_validation_accuracy")  # no validation data


def test_sweep_heatmap_of_validation_accuracy(tmp_path, fit_sweep):
    assert fit_sweep.engine == "fit"
    target = tmp_path / "heat.png"
    path = plot.sweep_heatmap(fit_sweep, target, metric="final_validation_accuracy")
    # 2 x 2 cells: max(1.2 * 2 + 3.0, 6.5) by 0.7 * 2 + 2.5 inches
    image = assert_png(path, target, (6.5, 3.9))
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10  # viridis cells, text, colour bar
    default = tmp_path / "loss.png"
    assert_png(plot.sweep_heatmap(fit_sweep, default), default, (6.5, 3.9))
    with pytest.raises(ValueError, match="metric"):
        plot.sweep_heatmap(fit_sweep, tmp_path / "bad.png", metric="validation_accuracy")
    assert not (tmp_path / "bad.png").exists()


def test_sweep_figures_of_a_fit_sweep_with_model_axes(tmp_path, fit_sweep):
    out = tmp_path / "figs"
    paths = plot.sweep_figures(fit_sweep, out, metric="final_validation_accuracy")
    assert [p.name for p in paths] == [
        "sweep_heatmap.png",
        "sweep_curves.png",
        "sweep_boundary.png",
    ]
    for path in paths:
        assert_png(path, out / path.name)


def test_sweep_figures_skip_the_boundary_of_other_heads(tmp_path):
    X = np.linspace(0, 1, 40, dtype=np.float32).reshape(-1, 1)
    result = nj.sweep(
        (X, np.sin(2 * np.pi * X)),
        {"learning_rate": [0.01, 0.02]},
        model=nj.make_model(2, head="linear_mse"),
        optimizer="adam",
        epochs=3,
        log_every=1,
    )
    paths = plot.sweep_figures(result, tmp_path)
    assert [p.name for p in paths] == ["sweep_heatmap.png", "sweep_curves.png"]
    for path in paths:
        assert_png(path, tmp_path / path.name)
    with pytest.raises(ValueError, match="metric"):  # no validation data in this sweep
        plot.sweep_figures(result, tmp_path / "v", metric="final_validation_accuracy")
    assert not (tmp_path / "v").exists()


def test_plot_never_uses_pyplot():
    # Figures are drawn on matplotlib.figure.Figure with the Agg canvas: no global backend
    # switch, no window, nothing to close.
    sources = sorted(Path(plot.__file__).parent.glob("*.py"))
    assert len(sources) >= 5  # the package's modules
    for source in sources:
        text = source.read_text()
        assert "import matplotlib.pyplot" not in text, source.name
        assert "from matplotlib import pyplot" not in text, source.name
        assert ".show(" not in text, source.name
