"""compare_gradients' verdicts: NaN is a mismatch, a wrong rule fails, kinks and clipping
explain what they explain, and the tolerances follow the precision."""

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_network

import nnfs_jax as nj
from nnfs_jax import layers


def case(seed=0, samples=30, dtype=jnp.float64):
    rng = np.random.default_rng(seed)
    params = random_network(rng, (2, 6, 3), dtype=dtype)
    X = jnp.asarray(rng.standard_normal((samples, 2)), dtype)
    y = jnp.asarray(rng.integers(0, 3, samples).astype(np.int32))
    return params, X, y


def by_pair(report):
    return {v.pair: v for v in nj.verdicts(report)}


def test_smooth_float64_gradients_agree(x64):
    params, X, y = case()
    report = nj.compare_gradients(params, X, y, model=nj.make_model(2, activation="tanh"))
    assert int(report.kinks) == 0  # tanh is smooth everywhere
    for verdict in nj.verdicts(report):
        assert verdict.status == "ok", verdict
        assert np.isfinite(verdict.worst) and verdict.worst <= verdict.relative
    # float64: sqrt(eps) relative, and the central difference's error at h = eps ** (1/3)
    assert by_pair(report)["manual_vs_autodiff"].relative == pytest.approx(2**-26)


def test_a_nan_gradient_is_a_mismatch_never_a_match(x64):
    params, X, y = case()
    # finite weights and inputs whose logits overflow to inf: exp(inf - inf) is NaN in the
    # softmax, and every gradient is NaN
    huge = [dict(params[0], weights=params[0]["weights"] * 1e300), params[1]]
    report = nj.compare_gradients(huge, X * 1e10, y)
    for leaf, pairs in report.errors.items():
        for pair, err in pairs.items():
            assert np.isnan(float(err["max_rel"])), (leaf, pair)  # never 0
    for verdict in nj.verdicts(report):
        assert verdict.status == "fail" and verdict.reason == "a gradient is NaN or infinite"
    assert "NaN or infinite" in nj.format_comparison(report)


def test_a_wrong_backward_rule_fails(x64):
    params, X, y = case(seed=1)
    # tanh's forward with the sigmoid's rule: a plausible bug
    wrong = layers.Activation(
        "tanh", layers.tanh, lambda d, inputs, output: layers.sigmoid_backward(d, output)
    )
    verdicts = by_pair(nj.compare_gradients(params, X, y, model=nj.make_model(2, activation=wrong)))
    assert verdicts["manual_vs_autodiff"].status == "fail"
    assert verdicts["manual_vs_numerical"].status == "fail"
    assert verdicts["autodiff_vs_numerical"].status == "ok"  # the forward is right


def test_kinks_explain_finite_differences_on_the_documents_data():
    """At the documents' initialisation three (0, 0) samples put every first-layer
    pre-activation exactly on ReLU's kink: finite differences see half the slope there."""
    params, X, y = nj.book_setup()
    report = nj.compare_gradients(params, X, y)
    verdicts = by_pair(report)
    assert int(report.kinks) >= 64
    assert verdicts["manual_vs_autodiff"].status == "ok"
    for pair in ("manual_vs_numerical", "autodiff_vs_numerical"):
        assert verdicts[pair].status == "expected"
        assert "within h of a kink" in verdicts[pair].reason


def test_clipping_explains_the_fused_rule(x64):
    # sample 0's correct-class probability e^-80 is far below the 1e-7 clip
    params = [{"weights": jnp.asarray([[40.0, -40.0]]), "biases": jnp.zeros((1, 2))}]
    X, y = jnp.asarray([[1.0], [0.01]]), jnp.asarray([1, 0])
    verdicts = by_pair(nj.compare_gradients(params, X, y))
    assert verdicts["manual_vs_autodiff"].status == "expected"
    assert "clipped sample" in verdicts["manual_vs_autodiff"].reason
    assert verdicts["autodiff_vs_numerical"].status == "ok"


def test_float32_tolerances_follow_the_precision():
    params, X, y = case(dtype=jnp.float32)
    report = nj.compare_gradients(params, X, y, model=nj.make_model(2, activation="tanh"))
    verdicts = by_pair(report)
    eps, h = float(np.finfo(np.float32).eps), float(report.h)
    loss = max(abs(float(report.loss)), 1.0)
    assert verdicts["manual_vs_autodiff"].relative == pytest.approx(np.sqrt(eps))
    assert verdicts["manual_vs_numerical"].absolute == pytest.approx(10 * (h * h + eps * loss / h))
    assert all(v.status == "ok" for v in verdicts.values()), verdicts
    lines = nj.format_comparison(report).splitlines()
    assert [line.split(":")[0] for line in lines[-3:]] == [
        "verdict manual_vs_autodiff",
        "verdict manual_vs_numerical",
        "verdict autodiff_vs_numerical",
    ]
    assert "dtype float32" in lines[-4]


def test_a_report_made_by_hand_has_no_loss():
    errors = {
        "dense1.weights": {
            p: {"max_abs": 0.0, "max_rel": 0.0}
            for p in ("manual_vs_autodiff", "manual_vs_numerical", "autodiff_vs_numerical")
        }
    }
    report = nj.GradientReport(errors, {}, np.int32(0), np.int32(0), np.float32(5e-3))
    assert [v.status for v in nj.verdicts(report)] == ["ok"] * 3
