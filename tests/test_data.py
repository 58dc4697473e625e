"""Data sets: identical to the nnfs package after nnfs.init(), and key-based JAX twins."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import nnfs_initialised

import nnfs_jax as nj


@pytest.mark.parametrize(("samples", "classes"), [(100, 3), (7, 5), (1, 1)])
@pytest.mark.parametrize("name", ["spiral_data", "vertical_data"])
def test_book_data_identical_to_nnfs(name, samples, classes):
    import nnfs.datasets

    with nnfs_initialised():
        X_nnfs, y_nnfs = getattr(nnfs.datasets, name)(samples, classes)
        X_second, _ = getattr(nnfs.datasets, name)(samples, classes)
    nj.book_seed(0)
    X, y = getattr(nj, name)(samples, classes)
    X2, _ = getattr(nj, name)(samples, classes)
    assert X.dtype == X_nnfs.dtype == np.float32 and y.dtype == y_nnfs.dtype == np.uint8
    np.testing.assert_array_equal(X, X_nnfs)
    np.testing.assert_array_equal(y, y_nnfs)
    np.testing.assert_array_equal(X2, X_second)  # the RNG stream advances the same way


def test_book_data_takes_a_random_state():
    X1, _ = nj.spiral_data(10, 3, rng=np.random.RandomState(4))
    X2, _ = nj.spiral_data(10, 3, rng=np.random.RandomState(4))
    np.testing.assert_array_equal(X1, X2)


def test_sine_data_identical_to_nnfs():
    import nnfs.datasets

    X, y = nj.sine_data(50)
    X_nnfs, y_nnfs = nnfs.datasets.sine_data(50)
    np.testing.assert_array_equal(X, X_nnfs)
    np.testing.assert_array_equal(y, y_nnfs)
    Xj, yj = nj.make_sine(50)
    np.testing.assert_allclose(Xj, X_nnfs, rtol=1e-6)
    np.testing.assert_allclose(yj, y_nnfs, atol=1e-6)


def test_spiral_twin_has_the_same_geometry():
    X, y = nj.make_spiral(jax.random.key(0), 100, 3)
    assert X.shape == (300, 2) and y.shape == (300,) and y.dtype == jnp.int32
    assert X.dtype == jnp.float32
    # Radius grows linearly 0..1 along each arm, exactly as in the book's generator.
    radius = jnp.linalg.norm(X.reshape(3, 100, 2), axis=-1)
    np.testing.assert_allclose(
        radius, jnp.broadcast_to(jnp.linspace(0, 1, 100), (3, 100)), atol=1e-6
    )
    np.testing.assert_array_equal(y, np.repeat(np.arange(3), 100))


def test_spiral_twin_noise_matches_the_book_distribution():
    # Recover the angle noise t - linspace: it should be N(0, 0.2^2) in both generators.
    samples, classes = 2000, 3

    def angle_noise(X):
        X = np.asarray(X, np.float64).reshape(classes, samples, 2)
        t = np.arctan2(X[..., 0], X[..., 1]) / 2.5  # angle of (r sin 2.5t, r cos 2.5t)
        base = np.stack([np.linspace(c * 4, (c + 1) * 4, samples) for c in range(classes)])
        wrapped = (t - base) * 2.5
        wrapped = (wrapped + np.pi) % (2 * np.pi) - np.pi  # into (-pi, pi]
        return wrapped[:, 1:] / 2.5  # r = 0 at index 0 has no angle

    nj.book_seed(0)
    book = angle_noise(nj.spiral_data(samples, classes)[0])
    twin = angle_noise(nj.make_spiral(jax.random.key(1), samples, classes)[0])
    for noise in (book, twin):
        assert abs(noise.mean()) < 0.01
        assert noise.std() == pytest.approx(0.2, rel=0.03)


def test_vertical_twin_matches_the_book_distribution():
    X, y = nj.make_vertical(jax.random.key(0), 5000, 3)
    nj.book_seed(0)
    Xb, yb = nj.vertical_data(5000, 3)
    for data, labels in ((np.asarray(X), np.asarray(y)), (Xb, yb)):
        for c in range(3):
            blob = data[labels == c]
            np.testing.assert_allclose(blob.mean(axis=0), [c / 3, 0.5], atol=0.01)
            np.testing.assert_allclose(blob.std(axis=0), [0.1, 0.1], rtol=0.05)


def test_key_based_generators_are_reproducible_jittable_and_vmappable():
    key = jax.random.key(3)
    X1, _ = nj.make_spiral(key, 20, 3)
    X2, _ = nj.make_spiral(key, 20, 3)
    np.testing.assert_array_equal(X1, X2)
    assert not np.array_equal(X1, nj.make_spiral(jax.random.key(4), 20, 3)[0])

    keys = jax.random.split(key, 4)
    Xs, ys = jax.vmap(lambda k: nj.make_spiral(k, 20, 3))(keys)
    assert Xs.shape == (4, 60, 2) and ys.shape == (4, 60)
    np.testing.assert_allclose(Xs[0], nj.make_spiral(keys[0], 20, 3)[0], rtol=1e-6)
    Xv, _ = jax.jit(lambda k: nj.make_vertical(k, 10, 2))(key)
    np.testing.assert_allclose(Xv, nj.make_vertical(key, 10, 2)[0], rtol=1e-6)


def test_key_based_float64_on_request(x64):
    assert nj.make_spiral(jax.random.key(0), 5, 2)[0].dtype == jnp.float64
    assert nj.make_vertical(jax.random.key(0), 5, 2, dtype=jnp.float32)[0].dtype == jnp.float32


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_bad_sample_counts(bad):
    with pytest.raises((ValueError, TypeError), match="samples"):
        nj.spiral_data(bad, 3)
    with pytest.raises((ValueError, TypeError), match="samples"):
        nj.make_spiral(jax.random.key(0), bad, 3)


def test_bad_class_count():
    with pytest.raises(ValueError, match="classes"):
        nj.vertical_data(10, 0)
