"""Checkpoints: bit-exact round trips, exact resumption, atomic writes, and clear errors."""

import functools
import json
import os
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import nnfs_jax as nj
from nnfs_jax import checkpoint as ckpt
from nnfs_jax.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

SIZES = (2, 64, 3)
CONFIG = {"sizes": [2, 64, 3], "optimizer": "adam", "learning_rate": 0.02, "seed": 0}
# Instances, not factories: optax transformations are pure, and one instance per optimizer
# lets `train` compile its update once for the whole file (compiling is most of its cost).
OPTIMIZERS = {
    "adam": optax.adam(0.02),
    "sgd_momentum": optax.sgd(1.0, momentum=0.9),
    "sgd": optax.sgd(1.0),
}
GRAD = jax.jit(jax.grad(nj.loss))
X_SPIRAL, Y_SPIRAL = nj.spiral_data(20, 3, rng=np.random.RandomState(1))


@functools.cache
def jitted_update(optimizer):
    @jax.jit
    def update(grads, opt_state, params):
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return update


def train(optimizer, params, opt_state, steps):
    """`steps` updates on a small spiral batch: states with non-trivial values everywhere."""
    X = X_SPIRAL.astype(params[0]["weights"].dtype)
    for _ in range(steps):
        grads = GRAD(params, X, Y_SPIRAL)
        params, opt_state = jitted_update(optimizer)(grads, opt_state, params)
    return params, opt_state


@functools.cache
def _init_float32(sizes, seed):
    with jax.enable_x64(False):  # one compiled initialiser, whatever the caller's precision
        return nj.init_params(jax.random.key(seed), sizes, dtype=jnp.float32)


def init(sizes=SIZES, seed=0):
    """`nj.init_params(jax.random.key(seed), sizes)` in the default float. Under x64 the float32
    draw is cast exactly to float64: the same network without compiling the sampler again."""
    dtype = jnp.zeros(()).dtype
    return jax.tree.map(
        lambda a: jnp.asarray(np.asarray(a).astype(dtype)), _init_float32(sizes, seed)
    )


def trained(name, steps=3):
    optimizer = OPTIMIZERS[name]
    params = init()
    return train(optimizer, params, optimizer.init(params), steps)


def template(name, seed=7):
    """A fresh state built the way a run builds it; another seed, so no saved value can leak."""
    params = init(seed=seed)
    return {"params": params, "opt_state": OPTIMIZERS[name].init(params)}


def assert_trees_identical(got, want):
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert type(g) is type(w) or (isinstance(g, jax.Array) and isinstance(w, jax.Array))
        assert g.dtype == w.dtype
        if jax.dtypes.issubdtype(w.dtype, jax.dtypes.prng_key):
            g, w = jax.random.key_data(g), jax.random.key_data(w)
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w), strict=True)


def saved(tmp_path, name="adam", steps=3):
    params, opt_state = trained(name, steps)
    path = save_checkpoint(
        tmp_path / "ckpt.npz", params=params, opt_state=opt_state, step=steps, config=CONFIG
    )
    return path, params, opt_state


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_round_trip_is_bit_exact_float32(tmp_path, name):
    params, opt_state = trained(name)
    path = save_checkpoint(
        tmp_path / "ckpt.npz", params=params, opt_state=opt_state, step=3, config=CONFIG
    )
    like = template(name)
    got = load_checkpoint(path, like=like)
    assert isinstance(got, ckpt.Checkpoint)
    assert_trees_identical(got.params, params)
    assert_trees_identical(got.opt_state, opt_state)
    assert jax.tree.structure(got.opt_state) == jax.tree.structure(like["opt_state"])
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(got[:2]))
    assert got.params[0]["weights"].dtype == jnp.float32
    assert type(got.step) is int and got.step == 3
    assert got.config == CONFIG


@pytest.mark.parametrize("name", ["adam", "sgd_momentum"])
def test_round_trip_is_bit_exact_float64(tmp_path, x64, name):
    params, opt_state = trained(name)
    assert params[0]["weights"].dtype == jnp.float64
    path = save_checkpoint(tmp_path / "ckpt.npz", params=params, opt_state=opt_state, step=3)
    got = load_checkpoint(path, like=template(name))
    assert_trees_identical(got.params, params)
    assert_trees_identical(got.opt_state, opt_state)
    if name == "adam":
        assert got.opt_state[0].count.dtype == jnp.int32  # optax's count stays int32
        assert int(got.opt_state[0].count) == 3
    assert got.step == 3 and got.config == {}


@pytest.mark.parametrize("name", ["adam", "sgd_momentum"])
def test_resuming_from_a_checkpoint_continues_exactly(tmp_path, name):
    optimizer = OPTIMIZERS[name]
    params = init()
    straight = train(optimizer, params, optimizer.init(params), 5)

    midway = train(optimizer, params, optimizer.init(params), 3)
    path = save_checkpoint(tmp_path / "ckpt.npz", params=midway[0], opt_state=midway[1], step=3)
    resumed = load_checkpoint(path, like=template(name))
    assert resumed.step == 3
    finished = train(optimizer, resumed.params, resumed.opt_state, 5 - resumed.step)
    assert_trees_identical(finished, straight)


class NoiseState(NamedTuple):
    """A custom optimizer state: an int32 counter, a typed PRNG key and a float buffer."""

    count: jax.Array
    key: jax.Array
    last_noise: dict


def noisy_sgd(learning_rate, seed):
    """SGD plus a little Gaussian noise, drawn from a key the state carries from step to step."""

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return NoiseState(jnp.zeros((), jnp.int32), jax.random.key(seed), zeros)

    def update(grads, state, params=None):
        key, sub = jax.random.split(state.key)
        noise = jax.tree.map(lambda g: 1e-3 * jax.random.normal(sub, g.shape, g.dtype), grads)
        updates = jax.tree.map(lambda g, n: -learning_rate * (g + n), grads, noise)
        return updates, NoiseState(state.count + 1, key, noise)

    return optax.GradientTransformation(init, update)


def test_custom_namedtuple_state_with_a_typed_prng_key(tmp_path):
    optimizer = optax.chain(noisy_sgd(0.5, seed=3), optax.scale(1.0))  # a tuple of states
    params = init()
    params, opt_state = train(optimizer, params, optimizer.init(params), 2)
    path = save_checkpoint(tmp_path / "ckpt.npz", params=params, opt_state=opt_state, step=2)

    fresh = init(seed=9)
    got = load_checkpoint(path, like={"params": fresh, "opt_state": optimizer.init(fresh)})
    assert_trees_identical(got.opt_state, opt_state)  # the key compared by its key_data
    assert isinstance(got.opt_state[0], NoiseState)
    restored_key = got.opt_state[0].key
    assert jax.random.key_impl(restored_key) == jax.random.key_impl(opt_state[0].key)
    assert got.opt_state[0].count.dtype == jnp.int32 and int(got.opt_state[0].count) == 2
    # Continuing from the restored state draws the same noise as continuing from the saved one.
    assert_trees_identical(
        train(optimizer, got.params, got.opt_state, 1), train(optimizer, params, opt_state, 1)
    )


def test_template_of_shape_dtype_structs_is_enough(tmp_path):
    path, params, opt_state = saved(tmp_path)
    like = jax.eval_shape(lambda: template("adam"))
    assert isinstance(like["params"][0]["weights"], jax.ShapeDtypeStruct)
    got = load_checkpoint(path, like=like)
    assert_trees_identical(got.params, params)
    assert_trees_identical(got.opt_state, opt_state)


def test_numpy_and_python_scalar_leaves_come_back_as_themselves(tmp_path):
    params = init()
    state = {"lr": 0.25, "n": 7, "flag": True, "counts": np.arange(4, dtype=np.int16)}
    path = save_checkpoint(tmp_path / "ckpt.npz", params=params, opt_state=state)
    like = {"lr": 1.0, "n": 0, "flag": False, "counts": np.zeros(4, np.int16)}
    got = load_checkpoint(path, like={"params": params, "opt_state": like})
    assert got.opt_state["lr"] == 0.25 and type(got.opt_state["lr"]) is float
    assert got.opt_state["n"] == 7 and type(got.opt_state["n"]) is int
    assert got.opt_state["flag"] is True
    assert isinstance(got.opt_state["counts"], np.ndarray)
    np.testing.assert_array_equal(got.opt_state["counts"], state["counts"], strict=True)


def test_bfloat16_round_trip(tmp_path):
    params = jax.tree.map(
        lambda a: jnp.asarray(np.asarray(a).astype(jnp.bfloat16)), trained("adam")[0]
    )
    path = save_checkpoint(tmp_path / "ckpt.npz", params=params)
    like = {"params": jax.eval_shape(lambda: params)}
    got = load_checkpoint(path, like=like)
    assert_trees_identical(got.params, params)
    assert got.opt_state is None


def test_file_is_a_plain_npz_with_a_json_header(tmp_path):
    path, params, opt_state = saved(tmp_path)
    with np.load(path) as npz:
        header = json.loads(npz[ckpt.HEADER_KEY].tobytes())
        np.testing.assert_array_equal(
            npz["opt_state[0].mu[1]['biases']"], opt_state[0].mu[1]["biases"]
        )
        stored = set(npz.files)
    assert header["format"] == "nnfs_jax.checkpoint" and header["version"] == ckpt.FORMAT_VERSION
    assert header["step"] == 3 and header["config"] == CONFIG
    flat = jax.tree_util.tree_flatten_with_path({"params": params, "opt_state": opt_state})[0]
    leaves = {k[0].key + jax.tree_util.keystr(k[1:]): leaf for k, leaf in flat}
    assert "params[0]['weights']" in leaves
    assert stored == set(leaves) | {ckpt.HEADER_KEY}
    assert {e["key"]: (tuple(e["shape"]), e["dtype"]) for e in header["arrays"]} == {
        key: (leaf.shape, leaf.dtype.name) for key, leaf in leaves.items()
    }
    assert header["treedef"] == {
        "params": str(jax.tree.structure(params)),
        "opt_state": str(jax.tree.structure(opt_state)),
    }
    assert ckpt.read_checkpoint_header(path) == header


@pytest.mark.parametrize("name", ["ckpt", "ckpt.npz", "ckpt.bin"])
def test_the_returned_path_is_the_path_written(tmp_path, name):
    params = init()
    path = save_checkpoint(str(tmp_path / name), params=params)
    assert path == tmp_path / name
    assert os.listdir(tmp_path) == [name]  # no ".npz" appended, no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal new file, not mkstemp's 0600
    assert_trees_identical(load_checkpoint(path, like={"params": params}).params, params)


def test_saving_over_an_existing_checkpoint_replaces_it(tmp_path):
    path, _, _ = saved(tmp_path, steps=1)
    params, opt_state = trained("adam", steps=4)
    assert save_checkpoint(path, params=params, opt_state=opt_state, step=4) == path
    got = load_checkpoint(path, like=template("adam"))
    assert got.step == 4 and got.config == {}
    assert_trees_identical(got.params, params)
    assert_trees_identical(got.opt_state, opt_state)
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_the_same_state_gives_the_same_bytes(tmp_path):
    params, opt_state = trained("adam")
    first = save_checkpoint(tmp_path / "a.npz", params=params, opt_state=opt_state, step=3)
    second = save_checkpoint(tmp_path / "b.npz", params=params, opt_state=opt_state, step=3)
    assert first.read_bytes() == second.read_bytes()
    third = save_checkpoint(tmp_path / "c.npz", params=params, opt_state=opt_state, step=4)
    assert third.read_bytes() != first.read_bytes()


# --- atomic writes ----------------------------------------------------------------------------


class SimulatedCrash(Exception):
    pass


@pytest.mark.parametrize("error", [SimulatedCrash, KeyboardInterrupt])
def test_crash_while_writing_leaves_the_previous_checkpoint(tmp_path, monkeypatch, error):
    path, old_params, old_state = saved(tmp_path, steps=1)
    old_bytes = path.read_bytes()
    new_params, new_state = trained("adam", steps=4)
    written, real_write = [], ckpt._write_member

    def write_then_crash(zf, name, array):
        if len(written) == 3:  # three entries are in the temporary file, the rest never will be
            temporaries = [f for f in os.listdir(tmp_path) if f.startswith(".ckpt.npz.")]
            assert len(temporaries) == 1 and temporaries[0].endswith(".tmp")
            assert path.read_bytes() == old_bytes  # the target is not being written
            raise error("disk full (simulated)")
        written.append(name)
        real_write(zf, name, array)

    monkeypatch.setattr(ckpt, "_write_member", write_then_crash)
    with pytest.raises(error, match="simulated"):
        save_checkpoint(path, params=new_params, opt_state=new_state, step=4)
    assert len(written) == 3
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == old_bytes
    got = load_checkpoint(path, like=template("adam"))
    assert got.step == 1
    assert_trees_identical(got.params, old_params)
    assert_trees_identical(got.opt_state, old_state)


def test_failed_rename_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path, old_params, _ = saved(tmp_path, steps=1)
    old_bytes = path.read_bytes()
    new_params, _ = trained("adam", steps=4)
    replaced = []

    def failing_replace(src, dst):
        replaced.append((os.path.basename(src), os.path.basename(dst)))
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, params=new_params, step=4)
    monkeypatch.undo()
    # The complete new file was written beside the target and would have been renamed over it.
    assert len(replaced) == 1 and replaced[0][1] == "ckpt.npz"
    assert replaced[0][0].startswith(".ckpt.npz.") and replaced[0][0].endswith(".tmp")
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == old_bytes
    assert_trees_identical(load_checkpoint(path, like=template("adam")).params, old_params)


def test_crash_on_a_first_save_leaves_nothing(tmp_path, monkeypatch):
    def crash(zf, name, array):
        raise SimulatedCrash("simulated")

    monkeypatch.setattr(ckpt, "_write_member", crash)
    with pytest.raises(SimulatedCrash):
        save_checkpoint(tmp_path / "ckpt.npz", params=init())
    assert os.listdir(tmp_path) == []


def test_a_bad_leaf_fails_before_any_file_is_created(tmp_path):
    params = init()
    with pytest.raises(TypeError, match=r"opt_state\['name'\]: cannot store a leaf of type str"):
        save_checkpoint(tmp_path / "ckpt.npz", params=params, opt_state={"name": "adam"})
    assert os.listdir(tmp_path) == []


# --- bad files --------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.npz: no such checkpoint file"):
        load_checkpoint(tmp_path / "nope.npz", like=template("adam"))


def test_truncated_file(tmp_path):
    path, _, _ = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"ckpt.npz: not a readable checkpoint \(truncated"):
        load_checkpoint(path, like=template("adam"))


def test_flipped_bytes_in_the_middle(tmp_path):
    path, _, _ = saved(tmp_path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"ckpt.npz: corrupt checkpoint: entry "):
        load_checkpoint(path, like=template("adam"))


def test_any_flipped_byte_is_caught_or_harmless(tmp_path):
    """Flip one byte at 160 places spread over the whole file (zip headers, npy headers, data,
    central directory): each load either raises CheckpointError or, where the byte is one the
    zip format does not check (a timestamp), returns exactly what was saved. Nothing else."""
    path, params, opt_state = saved(tmp_path)
    data = path.read_bytes()
    like = template("adam")
    outcomes = {"error": 0, "identical": 0}
    for i in np.linspace(0, len(data) - 1, 160).astype(int):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        path.write_bytes(bytes(flipped))
        try:
            got = load_checkpoint(path, like=like)
        except CheckpointError:
            outcomes["error"] += 1
            continue
        assert_trees_identical((got.params, got.opt_state), (params, opt_state))
        assert (got.step, got.config) == (3, CONFIG)
        outcomes["identical"] += 1
    assert outcomes["error"] > 100


def rewrite(path, header_update=None, drop=(), replace=None):
    """Rewrite a real checkpoint's entries with np.savez, changing its header or arrays."""
    with np.load(path) as npz:
        entries = {key: npz[key] for key in npz.files if key not in drop}
    header = json.loads(entries[ckpt.HEADER_KEY].tobytes())
    header.update(header_update or {})
    entries[ckpt.HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    entries.update(replace or {})
    with open(path, "wb") as f:  # a file object, so np.savez appends no suffix
        np.savez(f, **entries)


def test_zip_without_a_header(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weights=np.ones((2, 3)))
    with pytest.raises(CheckpointError, match=r"plain.npz: not an nnfs_jax checkpoint: .*no '__he"):
        load_checkpoint(path, like=template("adam"))


def test_header_not_json(tmp_path):
    path = tmp_path / "ckpt.npz"
    with open(path, "wb") as f:
        np.savez(f, __header__=np.frombuffer(b'{"format": "nnfs_jax.checkpoint", ', np.uint8))
    with pytest.raises(
        CheckpointError, match=r"ckpt\.npz: corrupt checkpoint: the header is not JSON"
    ):
        load_checkpoint(path, like=template("adam"))


def test_header_of_another_format(tmp_path):
    path, _, _ = saved(tmp_path)
    rewrite(path, {"format": "someone_else.weights"})
    with pytest.raises(
        CheckpointError, match=r"header format is 'someone_else\.weights', expected"
    ):
        load_checkpoint(path, like=template("adam"))


def test_header_of_a_newer_format_version(tmp_path):
    path, _, _ = saved(tmp_path)
    rewrite(path, {"version": 2})
    with pytest.raises(
        CheckpointError,
        match=r"ckpt.npz: written by format version 2; this nnfs_jax reads version 1",
    ):
        load_checkpoint(path, like=template("adam"))
    with pytest.raises(CheckpointError, match="format version 2"):
        ckpt.read_checkpoint_header(path)


def test_header_lists_an_array_the_file_lacks(tmp_path):
    path, _, _ = saved(tmp_path)
    rewrite(path, drop=["params[1]['biases']"])
    with pytest.raises(CheckpointError, match=r"disagree \(listed but missing: \[\"params\[1\]"):
        load_checkpoint(path, like=template("adam"))


def test_stored_array_differs_from_its_header_entry(tmp_path):
    path, params, _ = saved(tmp_path)
    rewrite(path, replace={"params[0]['weights']": np.asarray(params[0]["weights"], np.float64)})
    with pytest.raises(CheckpointError, match=r"holds float64 \(2, 64\), its header says float32"):
        load_checkpoint(path, like=template("adam"))


def test_template_of_a_different_network_size(tmp_path):
    path, _, _ = saved(tmp_path)

    def build():  # how a run builds its state, for a 2-64-4 network
        params = nj.init_params(jax.random.key(0), (2, 64, 4))
        return {"params": params, "opt_state": OPTIMIZERS["adam"].init(params)}

    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, like=jax.eval_shape(build))  # abstract: nothing to compile
    message = str(err.value)
    assert message.startswith(f"{path}: checkpoint does not fit the model template")
    assert "params[1]['weights']: checkpoint has (64, 3), model expects (64, 4)" in message
    assert "params[1]['biases']: checkpoint has (1, 3), model expects (1, 4)" in message
    assert "opt_state[0].mu[1]['weights']: checkpoint has (64, 3), model expects (64, 4)" in message
    assert "params[0]" not in message  # the first layer fits


def test_template_with_an_extra_leaf(tmp_path):
    path, _, _ = saved(tmp_path)
    like = template("adam")
    like["params"][0]["scale"] = jnp.ones((1, 64))
    with pytest.raises(
        CheckpointError, match=r"params\[0\]\['scale'\]: in the model but not in the checkpoint"
    ):
        load_checkpoint(path, like=like)


def test_template_with_a_missing_leaf(tmp_path):
    path, _, _ = saved(tmp_path)
    like = template("adam")
    del like["params"][1]["biases"]
    with pytest.raises(
        CheckpointError, match=r"params\[1\]\['biases'\]: in the checkpoint but not in the model"
    ):
        load_checkpoint(path, like=like)


def test_template_of_another_optimizer_shows_both_trees(tmp_path):
    path, _, _ = saved(tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, like=template("sgd_momentum"))
    message = str(err.value)
    assert "opt_state[0].trace[0]['weights']: in the model but not in the checkpoint" in message
    assert "opt_state[0].count: in the checkpoint but not in the model" in message
    assert (
        "checkpoint opt_state tree: PyTreeDef((CustomNode(namedtuple[ScaleByAdamState]" in message
    )
    assert "model opt_state tree:      PyTreeDef((CustomNode(namedtuple[TraceState]" in message


def test_float64_checkpoint_into_a_float32_model(tmp_path):
    with jax.enable_x64(True):
        path, _, _ = saved(tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, like=template("adam"))
    message = str(err.value)
    assert "params[0]['weights']: checkpoint has float64, model expects float32" in message
    assert "opt_state[0].count" not in message  # int32 either way
    assert "with jax.enable_x64(True):" in message


def test_float64_struct_template_without_x64_is_not_downcast(tmp_path):
    with jax.enable_x64(True):
        params = init()
        path = save_checkpoint(tmp_path / "ckpt.npz", params=params)
    # ShapeDtypeStructs can say float64 with x64 off; jnp.asarray would silently give float32.
    like = {"params": jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), params)}
    with pytest.raises(CheckpointError, match=r"checkpoint has float64, which JAX would turn into"):
        load_checkpoint(path, like=like)
    with jax.enable_x64(True):
        assert_trees_identical(load_checkpoint(path, like=like).params, params)


# --- bad arguments ----------------------------------------------------------------------------


def test_bad_like(tmp_path):
    path, params, opt_state = saved(tmp_path)
    with pytest.raises(TypeError, match=r"like: expected a dict \{'params': \.\.\."):
        load_checkpoint(path, like=(params, opt_state))
    with pytest.raises(TypeError, match=r"like: unexpected keys \['opt'\]"):
        load_checkpoint(path, like={"params": params, "opt": opt_state})


@pytest.mark.parametrize(
    ("step", "error", "match"),
    [
        (-1, ValueError, "step: expected a non-negative integer, got -1"),
        (2.5, TypeError, "step: expected a non-negative integer, got 2.5"),
        (True, TypeError, "step: expected a non-negative integer, got True"),
    ],
)
def test_bad_step(tmp_path, step, error, match):
    params = init()
    with pytest.raises(error, match=match):
        save_checkpoint(tmp_path / "ckpt.npz", params=params, step=step)


def test_step_from_numpy_or_jax_integers(tmp_path):
    params = init()
    for step in (np.int64(12), jnp.asarray(12, jnp.int32)):
        path = save_checkpoint(tmp_path / "ckpt.npz", params=params, step=step)
        got = load_checkpoint(path, like={"params": params}).step
        assert type(got) is int and got == 12


def test_bad_config_and_path(tmp_path):
    params = init()
    with pytest.raises(TypeError, match=r"config: must be JSON-serialisable: .*ndarray"):
        save_checkpoint(tmp_path / "c.npz", params=params, config={"sizes": np.array([2, 3])})
    with pytest.raises(TypeError, match="config: expected a dict"):
        save_checkpoint(tmp_path / "c.npz", params=params, config=[("seed", 0)])
    with pytest.raises(FileNotFoundError, match=r"path: directory .*missing.* does not exist"):
        save_checkpoint(tmp_path / "missing" / "c.npz", params=params)
    with pytest.raises(ValueError, match="params: expected a pytree with at least one array"):
        save_checkpoint(tmp_path / "c.npz", params=[])
    assert os.listdir(tmp_path) == []


def test_saving_a_tracer_is_refused(tmp_path):
    params = init()

    @jax.jit
    def inside(p):
        save_checkpoint(tmp_path / "c.npz", params=p)
        return p

    with pytest.raises(TypeError, match=r"params\[0\]\['biases'\]: is a tracer"):
        inside(params)


# --- files written before the redesign still load ------------------------------------------------

DATA = Path(__file__).parent / "data"


def test_a_train_checkpoint_of_the_first_format_resumes_bit_for_bit():
    """tests/data/sgd_momentum_v1.npz was written by nnfs_jax 0.1.0 before the package was
    rebuilt around one step and loop: train (2-8-3, 20 samples per class, SGD 0.5 with decay and
    momentum) for 20 epochs, then save. Loading it into today's template and training 20 more
    epochs gives exactly today's uninterrupted 40-epoch run."""
    params, X, y = nj.book_setup((2, 8, 3), samples=20)
    optimizer = nj.optim.sgd(0.5, decay=1e-3, momentum=0.9)
    like = {"params": params, "opt_state": optimizer.init(params)}
    checkpoint = nj.load_checkpoint(DATA / "sgd_momentum_v1.npz", like=like)
    assert checkpoint.step == 20 and "before the redesign" in checkpoint.config["written_by"]
    resumed, _ = nj.train(
        None, X, y, optimizer=optimizer, epochs=20, log_every=10, resume=checkpoint
    )
    whole, _ = nj.train(params, X, y, optimizer=optimizer, epochs=40, log_every=10)
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_fit_checkpoint_of_the_first_format_resumes_bit_for_bit():
    """tests/data/adam_fit_v1.npz: fit (L2 1e-3, Adam 0.01 decay 1e-3, batches of 16, key 0)
    for 3 epochs (12 steps) before the redesign; 3 more epochs equal today's 6 in one go."""
    params, X, y = nj.book_setup((2, 8, 3), samples=20)
    model, optimizer = nj.make_model(2, weight_regularizer_l2=1e-3), nj.optim.adam(0.01, decay=1e-3)
    like = {"params": params, "opt_state": optimizer.init(params)}
    checkpoint = nj.load_checkpoint(DATA / "adam_fit_v1.npz", like=like)
    options = {"model": model, "optimizer": optimizer, "key": jax.random.key(0), "batch_size": 16}
    resumed, _, history = nj.fit(None, X, y, epochs=3, resume=checkpoint, **options)
    whole, _, _ = nj.fit(params, X, y, epochs=6, **options)
    np.testing.assert_array_equal(history.epoch, [4, 5, 6])
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
