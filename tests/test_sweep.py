"""`nnfs_jax.sweep`: every configuration trains exactly as `train` or `fit` trains it alone."""

import contextlib
import functools
import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import numpy_reference as ref
import pytest
from conftest import ULP

import nnfs_jax as nj
from nnfs_jax import optim, plot
from nnfs_jax.logs import DivergenceWarning, FitHistory, History
from nnfs_jax.sweeping import engine
from nnfs_jax.sweeping.driver import sweep
from nnfs_jax.sweeping.grammar import configurations, log_uniform, uniform
from nnfs_jax.sweeping.results import SweepProgress
from nnfs_jax.training import train

PNG = b"\x89PNG\r\n\x1a\n"
HIDDEN = (8,)  # small networks keep the tests quick; the 2-64-3 run is the benchmark's


def spiral(dtype=np.float32, samples=30):
    nj.book_seed(0)
    X, y = nj.spiral_data(samples, 3)
    return X.astype(dtype), y


def assert_trajectories_equal_train(result, indices, tolerance, through, near_tie=None):
    """Configuration i's logged losses equal `train`'s on `result.setup(i)` through epoch
    `through`, and its learning rates; with `near_tie`, its final accuracy too, but for the
    samples whose two largest probabilities are closer than that (round-off may flip them)."""
    for i in indices:
        params, X, y, optimizer = result.setup(i)
        final, history = train(
            params, X, y, optimizer=optimizer, epochs=result.epochs, log_every=result.log_every
        )
        logged = np.asarray(history.epoch) <= through
        np.testing.assert_array_equal(result.history.epoch, history.epoch)
        err = np.max(np.abs(np.asarray(history.loss)[logged] - result.history.loss[i][logged]))
        assert err <= tolerance, (result.configs[i], err)
        np.testing.assert_allclose(
            result.history.learning_rate[i], history.learning_rate, rtol=1e-6
        )
        if near_tie is not None:
            probs = np.asarray(nj.forward(final, X))
            top = np.sort(probs, axis=1)[:, -2:]
            flips = np.sum(top[:, 1] - top[:, 0] < near_tie)
            final_accuracy = np.mean(np.argmax(probs, axis=1) == np.asarray(y))
            assert abs(final_accuracy - result.final_accuracy[i]) <= (flips + 1e-3) / len(y)


def test_float64_trajectories_equal_train_through_epoch_500(x64):
    data = spiral(np.float64)
    result = sweep(
        data,
        {"learning_rate": [0.5], "momentum": [0.0, 0.5], "hidden": [HIDDEN]},
        seeds=2,
        epochs=501,
        log_every=50,
    )
    assert len(result) == 4 and result.history.loss.dtype == np.float64
    assert_trajectories_equal_train(result, range(4), 1e-9, 500)


def test_float32_trajectories_equal_train_through_epoch_300():
    result = sweep(
        spiral(),
        {"learning_rate": [0.1], "decay": [0.0, 1e-3], "hidden": [HIDDEN]},
        seeds=2,
        epochs=301,
        log_every=50,
    )
    assert result.history.loss.dtype == np.float32
    # float32 round-off here (weights 0.01 N(0, 1), lr 0.1: the loss stays near ln 3, nothing
    # chaotic), measured as for conftest.float32_allowance with numpy_reference's
    # spiral_sgd_losses: 100 float32 realisations per configuration (seeds 0-24, fused or
    # chained gradient, exact or +-4-ulp exp and log) stay within 2.6 U (U = 2**-23) of the
    # float64 run at every epoch through 300; this machine's train within 2.1 U, the sweep 1.1 U.
    # Allowed: twice that against the float64 run, and twice again between two float32 runs.
    allowance = 6 * ULP
    for i, config in enumerate(result.configs):
        params, X, y, _ = result.setup(i)
        float64 = ref.spiral_sgd_losses(
            [{k: np.asarray(v) for k, v in layer.items()} for layer in params],
            np.asarray(X),
            np.asarray(y),
            301,
            learning_rate=config["learning_rate"],
            decay=config["decay"],
        )
        error = np.abs(result.history.loss[i] - float64[result.history.epoch])
        assert np.all(error <= allowance), (config, error.max())
    # the final accuracies agree but where two probabilities are within 1e-5 (~80 U)
    assert_trajectories_equal_train(result, range(len(result)), 2 * allowance, 300, near_tie=1e-5)


def test_other_optimizers_deeper_networks_and_per_seed_data(x64):
    # The general path (two hidden layers, sigmoid), Adam's hyperparameters as axes, and a
    # key-based generator: every seed trains on its own draw of the data.
    data = functools.partial(nj.make_spiral, samples=20, classes=3)
    result = sweep(
        data,
        {"learning_rate": [0.05], "beta_1": [0.8, 0.9], "hidden": [(6, 5)]},
        optimizer="adam",
        seeds=[3, 4],
        epochs=101,
        log_every=25,
        activation="sigmoid",
    )
    X3, _ = result.setup(0)[1:3]
    X4, _ = result.setup(1)[1:3]
    assert not np.allclose(X3, X4)  # each seed its own data
    for i in range(len(result)):
        params, X, y, optimizer = result.setup(i)
        _, history = train(
            params, X, y, optimizer=optimizer, epochs=101, log_every=25, activation="sigmoid"
        )
        np.testing.assert_allclose(result.history.loss[i], history.loss, rtol=0, atol=1e-9)


def test_divergence_is_isolated_and_reported_at_its_epoch():
    data = spiral()
    axes = {"learning_rate": [0.1, 0.5], "hidden": [HIDDEN]}
    plain = sweep(data, axes, seeds=2, epochs=301, log_every=50)
    wild = sweep(
        data, {**axes, "learning_rate": [0.1, 0.5, 1e3, 1e20]}, seeds=2, epochs=301, log_every=50
    )
    assert list(wild.diverged) == [False] * 4 + [True] * 4
    # The others' numbers are those of the sweep without the diverging rates, bit for bit
    # (the README: "every model is computed apart, so the others' numbers are unchanged").
    for name in ("loss", "accuracy", "learning_rate"):
        np.testing.assert_array_equal(getattr(wild.history, name)[:4], getattr(plain.history, name))
    np.testing.assert_array_equal(wild.final_loss[:4], plain.final_loss)
    np.testing.assert_array_equal(wild.final_accuracy[:4], plain.final_accuracy)
    # lr 1e3: the loss jumps to the clip (finite) - diverged where train's loss first passes
    # 4x its start; lr 1e20: NaN, and NaN results.
    for i in (4, 6):
        params, X, y, optimizer = wild.setup(i)
        # train warns of the NaN (lr 1e20); the clipped loss of lr 1e3 stays finite
        warns = pytest.warns(DivergenceWarning) if i == 6 else contextlib.nullcontext()
        with warns:
            _, history = train(params, X, y, optimizer=optimizer, epochs=301, log_every=1)
        loss = np.asarray(history.loss)
        bad = ~np.isfinite(loss) | (loss > 4 * loss[0])
        assert wild.diverged_at[i] == np.flatnonzero(bad)[0]
    assert np.isnan(wild.final_loss[6]) and np.isnan(wild.final_accuracy[6])
    table = wild.table()
    assert [row["diverged_at"] is not None for row in table] == [False] * 4 + [True] * 4
    assert table[0]["final_loss"] <= table[3]["final_loss"]


def test_one_compilation_per_architecture_reused_across_calls():
    data = spiral()
    sweep(data, {"learning_rate": [0.2], "hidden": [HIDDEN]}, seeds=2, epochs=301, log_every=50)
    before = engine.run_chunk._cache_size()
    # other values, other seeds, a new but equal data set: the compiled chunk is reused
    sweep(
        (data[0] + 1, data[1]),
        {"learning_rate": [0.7], "momentum": [0.3], "scale": [0.1], "hidden": [HIDDEN]},
        seeds=[5, 6],
        epochs=301,
        log_every=50,
    )
    assert engine.run_chunk._cache_size() == before
    # two architectures in one call: one more compilation, for the new shape only
    sweep(
        data, {"learning_rate": [0.2], "hidden": [HIDDEN, (5,)]}, seeds=2, epochs=301, log_every=50
    )
    assert engine.run_chunk._cache_size() == before + 1


def test_memory_budget_splits_into_chunks_with_progress():
    data = spiral()
    axes = {"learning_rate": [0.1, 0.2, 0.3, 0.4, 0.5], "hidden": [HIDDEN]}
    whole = sweep(data, axes, seeds=4, epochs=101, log_every=50, block=4)
    seen = []
    budget = 170_000  # bytes: 12 configurations at a time
    parts = sweep(
        data,
        axes,
        seeds=4,
        epochs=101,
        log_every=50,
        block=4,
        memory_budget=budget,
        progress=seen.append,
    )
    assert parts.chunks > 1 and parts.chunk_size < len(parts)
    assert [p.chunk for p in seen] == list(range(1, parts.chunks + 1))
    assert all(isinstance(p, SweepProgress) and p.configs == 20 for p in seen)
    assert seen[-1].configs_done == 20
    np.testing.assert_allclose(parts.history.loss, whole.history.loss, rtol=1e-6)
    with pytest.raises(ValueError, match=r"memory_budget: .* too small"):
        sweep(data, axes, epochs=101, memory_budget=1000)


def test_random_sampling():
    key = jax.random.key(7)
    axes = {"learning_rate": log_uniform(1e-3, 1.0), "momentum": uniform(0.0, 0.9)}
    configs = configurations(axes, seeds=2, samples=5, key=key)
    assert len(configs) == 10
    rates = np.array([c["learning_rate"] for c in configs])
    assert np.all((rates >= 1e-3) & (rates < 1.0)) and len(set(rates)) == 5
    assert all(0 <= c["momentum"] < 0.9 for c in configs)
    assert configs == configurations(axes, seeds=2, samples=5, key=key)
    assert configs != configurations(axes, seeds=2, samples=5, key=jax.random.key(8))
    # grid axes multiply the draws
    assert len(configurations({**axes, "decay": [0, 1e-3]}, samples=5, key=key)) == 10


def test_results_table_files_and_figures(tmp_path):
    result = sweep(
        spiral(),
        {"learning_rate": [0.1, 0.5, 1e3], "momentum": [0.0, 0.5], "hidden": [HIDDEN]},
        seeds=2,
        epochs=101,
        log_every=50,
    )
    table = result.table()
    losses = [row["final_loss"] for row in table]
    assert losses[:8] == sorted(losses[:8])
    assert set(table[0]) >= {"learning_rate", "momentum", "seed", "final_loss", "accuracy"}
    rows = [
        json.loads(line)
        for line in result.to_jsonl(tmp_path / "s.jsonl").read_text().split("\n")
        if line
    ]
    assert rows == json.loads(json.dumps(table))
    csv_lines = result.to_csv(tmp_path / "s.csv").read_text().splitlines()
    assert csv_lines[0].startswith("rank,index,learning_rate") and len(csv_lines) == 13
    assert result.history_of(0).loss.shape == (3,)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind
    paths = plot.sweep_figures(result, tmp_path / "figs", heatmap=("learning_rate", "momentum"))
    assert [p.name for p in paths] == [
        "sweep_heatmap.png",
        "sweep_curves.png",
        "sweep_boundary.png",
    ]
    for path in paths:
        assert path.read_bytes().startswith(PNG)


FOUR_DEVICES = textwrap.dedent(
    """
    import os, sys
    import jax
    jax.config.update("jax_num_cpu_devices", 4)
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    import nnfs_jax as nj
    sweep, train = nj.sweep, nj.train
    assert jax.device_count() == 4
    nj.book_seed(0)
    X, y = nj.spiral_data(30, 3)
    result = sweep((X.astype(np.float64), y), {AXES}, seeds=3, epochs=501, log_every=50, block=2)
    for i in (0, len(result) - 1):
        params, X1, y1, optimizer = result.setup(i)
        _, history = train(params, X1, y1, optimizer=optimizer, epochs=501, log_every=50)
        assert np.max(np.abs(np.asarray(history.loss) - result.history.loss[i])) <= 1e-9
    np.savez(sys.argv[1], loss=result.history.loss, final=result.final_loss,
             diverged=result.diverged_at)
    """
)


def test_four_cpu_devices_equal_one_device(tmp_path, x64):
    # 3 seeds x 3 rates = 9 configurations over 4 devices x block 2: padded to 16, dropped.
    axes = {"learning_rate": [0.2, 0.6, 1e20], "hidden": [HIDDEN]}
    out = tmp_path / "four.npz"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    proc = subprocess.run(
        [sys.executable, "-c", FOUR_DEVICES.replace("{AXES}", repr(axes)), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    four = np.load(out)
    one = sweep(spiral(np.float64), axes, seeds=3, epochs=501, log_every=50, block=2)
    np.testing.assert_array_equal(four["diverged"], one.diverged_at)
    np.testing.assert_allclose(four["loss"], one.history.loss, rtol=0, atol=1e-12)
    np.testing.assert_allclose(four["final"], one.final_loss, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"axes": {"learnin_rate": [0.1]}}, ValueError, "axes: unknown axis 'learnin_rate'"),
        ({"axes": {"momentum": [0.5]}, "optimizer": "adam"}, ValueError, "unknown axis 'momentum'"),
        ({"axes": {"learning_rate": [-0.1]}}, ValueError, "learning_rate: expected a finite"),
        ({"axes": {"learning_rate": []}}, ValueError, "learning_rate: empty axis"),
        ({"axes": {"momentum": [1.0]}}, ValueError, r"momentum: expected a number in \[0, 1\)"),
        ({"axes": {"decay": ["x"]}}, TypeError, "decay: expected numbers"),
        ({"axes": {"scale": [float("nan")]}}, ValueError, "scale: expected a finite number"),
        ({"axes": {"hidden": [0]}}, ValueError, "hidden: expected positive integer widths"),
        ({"optimizer": "nadam"}, ValueError, "optimizer: unknown optimizer 'nadam'"),
        ({"seeds": 0}, ValueError, "seeds: expected a positive number of seeds"),
        ({"seeds": []}, ValueError, "seeds: expected at least one seed"),
        ({"epochs": 0}, ValueError, "epochs: expected a positive integer"),
        ({"block": 0}, ValueError, "block: expected a positive integer"),
        ({"diverge_above": 0.5}, ValueError, r"diverge_above: expected a number > 1"),
        ({"diverge_above": float("nan")}, ValueError, r"diverge_above: expected a number > 1"),
        ({"axes": {"learning_rate": [0.1, 0.1]}}, ValueError, "learning_rate: duplicate values"),
        ({"seeds": [1, 1]}, ValueError, "seeds: duplicate seeds"),
        ({"axes": {"dropout": [1.0]}}, ValueError, r"dropout: rate .* must lie in \[0, 1\)"),
        ({"axes": {"weight_regularizer_l2": [-1]}}, ValueError, "weight_regularizer_l2"),
        ({"axes": {"batch_size": [0]}}, ValueError, "batch_size: expected a positive integer"),
        (
            {"model": nj.make_model(3), "axes": {"hidden": [(8,)]}},
            ValueError,
            "hidden: the model has 2 hidden layers",
        ),
        ({"grad": "magic"}, ValueError, "grad: expected one of"),
        ({"progress": 3}, TypeError, "progress: expected a callable"),
        ({"axes": {"learning_rate": uniform(0.1, 1)}}, ValueError, "samples: expected a positive"),
        (
            {"axes": {"learning_rate": uniform(0.1, 1)}, "samples": 3},
            TypeError,
            "key: expected a jax.random key",
        ),
        ({"axes": {"decay": [0.1]}, "samples": 3}, ValueError, "samples: random sampling needs"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    kwargs = {"axes": {}, "epochs": 5, **kwargs}
    with pytest.raises(error, match=match):
        sweep(spiral(), kwargs.pop("axes"), **kwargs)


def test_bad_data_is_caught_before_training():
    X, y = spiral()
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="data X: contains NaN or inf"):
        sweep((X_nan, y), epochs=5)
    with pytest.raises(ValueError, match=r"data y: expected one target per sample \(90\)"):
        sweep((X, y[:-1]), epochs=5)
    with pytest.raises(TypeError, match="data: expected"):
        sweep(X, epochs=5)
    with pytest.raises(ValueError, match="uniform: expected finite bounds"):
        uniform(1.0, 0.5)
    with pytest.raises(ValueError, match="log_uniform: expected finite bounds with 0 < low"):
        log_uniform(0.0, 1.0)


def test_diverge_above_inf_counts_only_nan_and_inf():
    data = spiral()
    result = sweep(
        data,
        {"learning_rate": [0.5, 1e3, 1e20], "hidden": [HIDDEN]},
        epochs=51,
        log_every=10,
        diverge_above=float("inf"),
    )
    # lr 1e3 saturates the clipped loss (finite): not diverged without a threshold; 1e20: NaN
    assert list(result.diverged) == [False, False, True]


# --- every model, every optimizer, mini-batches ---------------------------------------------------


def test_model_hyperparameters_equal_train_alone_float64_through_epoch_500(x64):
    """L2 (every layer, or the hidden layer only as a per-layer tuple) and dropout are traced:
    one compilation, and each configuration's run equals `train` of that model alone."""
    model = nj.make_model(2, activation="tanh", dropout=0.1)
    axes = {
        "weight_regularizer_l2": [0.0, 1e-3, (1e-3, 0.0)],
        "dropout": [0.0, 0.2],
        "hidden": [HIDDEN],
    }
    before = engine.run_chunk._cache_size()
    # SGD with momentum: Adam's normalised steps would amplify the round-off of the two kernels
    # (a dropout layer at rate 0 in the sweep, none alone) past 1e-9 by epoch 500.
    optimizer = optim.sgd(0.5, decay=1e-3, momentum=0.5)
    result = sweep(
        spiral(np.float64), axes, model=model, optimizer=optimizer, epochs=501, log_every=50
    )
    assert engine.run_chunk._cache_size() == before + 1 and len(result) == 6
    assert result.engine == "train" and isinstance(result.history, History)
    # replayed alone: L2 everywhere with dropout, the hidden layer only, neither (one each of
    # the structures a traced value can take; each replay compiles its own model)
    for i in (3, 4, 0):
        config = result.configs[i]
        alone = result.model_of(i)
        assert alone.dropout == (config["dropout"],) and alone.activations == model.activations
        _, history = result.replay(i)
        err = np.max(np.abs(np.asarray(history.loss) - result.history.loss[i]))
        assert err <= 1e-9, (config, err)
        np.testing.assert_allclose(
            result.history.regularization_loss[i], history.regularization_loss, atol=1e-12
        )
    # the tuple regularizes the hidden layer only: its regularization loss is smaller
    reg = result.history.regularization_loss[:, 0]
    assert reg[0] == 0 and 0 < reg[4] < reg[2]


def test_mini_batch_sweep_equals_fit_alone_float64(x64):
    X, y = spiral(np.float64)
    validation = (X[::3] + 0.01, y[::3])
    axes = {"learning_rate": [0.01, 0.05], "batch_size": [16, 40], "hidden": [HIDDEN]}
    result = sweep(
        (X, y),
        axes,
        model=nj.make_model(2, activation="leaky_relu", weight_regularizer_l2=1e-3),
        optimizer="adam",
        epochs=12,
        validation_data=validation,
    )
    assert result.engine == "fit" and isinstance(result.history, FitHistory)
    assert result.history.loss.shape == (4, 12)
    for i in (1, 2):  # one per batch size (the learning rate is a traced value)
        _, _, history = result.replay(i)
        for field in (
            "loss",
            "accuracy",
            "validation_loss",
            "validation_accuracy",
            "learning_rate",
        ):
            np.testing.assert_allclose(
                getattr(result.history, field)[i], getattr(history, field), rtol=0, atol=1e-9
            )
        np.testing.assert_array_equal(result.history.step[i], history.step)
        assert result.final_validation_accuracy[i] == pytest.approx(
            float(history.validation_accuracy[-1]), abs=1e-12
        )
    assert set(result.table()[0]) >= {"batch_size", "validation_loss", "validation_accuracy"}


def test_optimizers_by_name_by_object_and_injected(x64):
    import optax

    data = spiral(np.float64)
    axes = {"learning_rate": [0.1, 0.5], "hidden": [HIDDEN]}
    book = sweep(data, axes, epochs=101, log_every=25)
    # optax's SGD is the book's SGD without momentum or decay: the same updates
    by_name = sweep(data, axes, optimizer="optax.sgd", epochs=101, log_every=25)
    np.testing.assert_allclose(by_name.history.loss, book.history.loss, rtol=1e-12)
    # a book object: its values are the defaults of the axes not swept
    momentum = sweep(data, axes, optimizer=optim.sgd(0.3, momentum=0.9), epochs=101, log_every=25)
    assert {c["momentum"] for c in momentum.configs} == {0.9}
    # an injected optax optimizer: the axes set its state's hyperparameters
    injected = optax.inject_hyperparams(optax.adam)(learning_rate=0.01)
    result = sweep(data, axes, optimizer=injected, epochs=101, log_every=25)
    for r in (momentum, result):
        for i in (0, 1):
            _, history = r.replay(i)
            np.testing.assert_allclose(history.loss, r.history.loss[i], rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.history.learning_rate[:, 0], [0.1, 0.5])
    with pytest.raises(ValueError, match="axes: unknown axis 'learning_rate'"):
        sweep(data, axes, optimizer=optax.adam(0.1), epochs=5)
