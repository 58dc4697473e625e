"""The book's optimizers (NNFS chapter 10) as `optax.GradientTransformation`s.

The book's classes keep `iterations` and `current_learning_rate` on the optimizer and their
momentums and caches on each layer, and update in three calls:

    optimizer.pre_update_params()     # current_learning_rate = lr * (1 / (1 + decay * iterations))
    optimizer.update_params(layer)    # for every layer: weights and biases alike
    optimizer.post_update_params()    # iterations += 1

Here one `update(grads, state)` does all three for every leaf of the params pytree, and the
state (`BookOptimizerState`) holds the book's `iterations`, the `current_learning_rate` the next
update will use, and the rule's buffers. Formulas and defaults are the book's; where optax has
the same rule it is reused (`optax.trace`, `optax.scale_by_rms`, `optax.scale_by_adam`), and
each docstring says how the book differs from optax's optimizer of the same name.

Hyperparameters may be JAX tracers (a sweep can `vmap` one of these constructors over learning
rates): nothing branches on their values, and their range checks run only on concrete values.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks

Hyperparameter = float | jax.Array

BOOK_OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam")


class BookOptimizerState(NamedTuple):
    """State of a book optimizer: the book's optimizer attributes and the rule's buffers."""

    iterations: jax.Array  # int32 (): updates applied so far (the book's `self.iterations`)
    current_learning_rate: jax.Array  # (): the learning rate the *next* update will use
    rule_state: optax.OptState  # momentums (SGD), cache (Adagrad, RMSprop), both (Adam)


class AdagradState(NamedTuple):
    """The book's Adagrad `cache`: the sum of every squared gradient so far, per parameter."""

    cache: optax.Params


# --- the learning-rate decay -----------------------------------------------------------------


def decayed_learning_rate(
    learning_rate: Hyperparameter, decay: Hyperparameter, iterations: jax.Array | int
) -> jax.Array:
    """The book's `pre_update_params`: `learning_rate * (1. / (1. + decay * iterations))`.

    A scalar in the default float (float64 when x64 is enabled): like the book's Python float,
    it is rounded to each parameter's dtype only where it multiplies that parameter's update.
    """
    dtype = checks.default_float()
    iterations = jnp.asarray(iterations).astype(dtype)
    decay = jnp.asarray(decay, dtype)
    return jnp.asarray(learning_rate, dtype) * (1.0 / (1.0 + decay * iterations))


def decay_schedule(learning_rate: Hyperparameter, decay: Hyperparameter) -> optax.Schedule:
    """The book's 1/t decay as an optax schedule, `count -> decayed_learning_rate(...)`, for
    optax's own optimizers: `optax.adam(decay_schedule(0.05, 5e-7), eps=1e-7)` is the book's
    Adam up to round-off."""
    _check_hyperparameter(learning_rate, "learning_rate", 0.0)
    _check_hyperparameter(decay, "decay", 0.0)
    return lambda count: decayed_learning_rate(learning_rate, decay, count)


# --- the optimizers --------------------------------------------------------------------------


def sgd(
    learning_rate: Hyperparameter = 1.0,
    decay: Hyperparameter = 0.0,
    momentum: Hyperparameter = 0.0,
) -> optax.GradientTransformation:
    """The book's `Optimizer_SGD`: stochastic gradient descent with 1/t decay and momentum.

        current_learning_rate = learning_rate * (1 / (1 + decay * iterations))
        weight_updates = momentum * weight_momentums - current_learning_rate * dweights
        weight_momentums = weight_updates
        weights += weight_updates

    (with `momentum = 0` this is `weights += -current_learning_rate * dweights`). The momentum
    buffer is kept even when `momentum == 0` (`0 * buffer` adds nothing), so that `momentum`
    can be a traced value. State: `BookOptimizerState` around `optax.TraceState`.

    The learning rate sits *inside* the velocity: each gradient enters it scaled by the
    learning rate of its own step. `optax.sgd(lr, momentum)` keeps it outside,
    `trace = g + momentum * trace; update = -lr_t * trace`, so every past gradient is rescaled
    by today's rate. The two agree (to round-off) when the learning rate is constant
    (`decay == 0`, or `momentum == 0`), and differ when both `decay > 0` and `momentum > 0`.
    """
    _check_hyperparameter(learning_rate, "learning_rate", 0.0)
    _check_hyperparameter(decay, "decay", 0.0)
    _check_hyperparameter(momentum, "momentum", 0.0, 1.0)
    # -lr_t * g first, then trace = (-lr_t * g) + momentum * trace: the book's velocity.
    key = _value_key("sgd", learning_rate, decay, momentum)
    return _book_optimizer(learning_rate, decay, optax.trace(decay=momentum), True, key)


def adagrad(
    learning_rate: Hyperparameter = 1.0,
    decay: Hyperparameter = 0.0,
    epsilon: Hyperparameter = 1e-7,
) -> optax.GradientTransformation:
    """The book's `Optimizer_Adagrad`: per-parameter steps shrinking with the gradients' history.

        cache += dweights ** 2
        weights += -current_learning_rate * dweights / (sqrt(cache) + epsilon)

    `optax.adagrad(lr, initial_accumulator_value=0.1, eps=1e-7)` differs in two ways: its
    accumulator starts at 0.1 instead of 0, and epsilon sits inside the square root,
    `update = -lr * g / sqrt(sum g**2 + eps)` (and 0 where the sum is 0). Even with
    `initial_accumulator_value=0` the steps differ where |g| is near sqrt(epsilon): the book's
    first step is `-lr * g / (|g| + eps)`, optax's `-lr * g / sqrt(g**2 + eps)`.
    State: `BookOptimizerState` around `AdagradState`.
    """
    _check_hyperparameter(learning_rate, "learning_rate", 0.0)
    _check_hyperparameter(decay, "decay", 0.0)
    _check_hyperparameter(epsilon, "epsilon", 0.0, open_low=True)
    key = _value_key("adagrad", learning_rate, decay, epsilon)
    return _book_optimizer(learning_rate, decay, _scale_by_adagrad_cache(epsilon), key=key)


def rmsprop(
    learning_rate: Hyperparameter = 0.001,
    decay: Hyperparameter = 0.0,
    epsilon: Hyperparameter = 1e-7,
    rho: Hyperparameter = 0.9,
) -> optax.GradientTransformation:
    """The book's `Optimizer_RMSprop`: Adagrad with a moving average for the cache.

        cache = rho * cache + (1 - rho) * dweights ** 2
        weights += -current_learning_rate * dweights / (sqrt(cache) + epsilon)

    This is `optax.scale_by_rms(decay=rho, eps=epsilon, initial_scale=0, eps_in_sqrt=False)`
    followed by the decayed learning rate, so the book's RMSprop equals
    `optax.rmsprop(decay_schedule(lr, decay), decay=rho, eps=epsilon, eps_in_sqrt=False)` to
    round-off. optax's default `eps_in_sqrt=True` divides by `sqrt(cache + eps)` instead, and
    its default `eps` is 1e-8, not 1e-7. State: `BookOptimizerState` around
    `optax.ScaleByRmsState`.
    """
    _check_hyperparameter(learning_rate, "learning_rate", 0.0)
    _check_hyperparameter(decay, "decay", 0.0)
    _check_hyperparameter(epsilon, "epsilon", 0.0, open_low=True)
    _check_hyperparameter(rho, "rho", 0.0, 1.0)
    rule = optax.scale_by_rms(decay=rho, eps=epsilon, initial_scale=0.0, eps_in_sqrt=False)
    key = _value_key("rmsprop", learning_rate, decay, epsilon, rho)
    return _book_optimizer(learning_rate, decay, rule, key=key)


def adam(
    learning_rate: Hyperparameter = 0.001,
    decay: Hyperparameter = 0.0,
    epsilon: Hyperparameter = 1e-7,
    beta_1: Hyperparameter = 0.9,
    beta_2: Hyperparameter = 0.999,
) -> optax.GradientTransformation:
    """The book's `Optimizer_Adam`: momentum plus RMSprop's cache, both bias-corrected.

        weight_momentums = beta_1 * weight_momentums + (1 - beta_1) * dweights
        weight_momentums_corrected = weight_momentums / (1 - beta_1 ** (iterations + 1))
        weight_cache = beta_2 * weight_cache + (1 - beta_2) * dweights ** 2
        weight_cache_corrected = weight_cache / (1 - beta_2 ** (iterations + 1))
        weights += -current_learning_rate * weight_momentums_corrected
                   / (sqrt(weight_cache_corrected) + epsilon)

    This is `optax.scale_by_adam(b1=beta_1, b2=beta_2, eps=epsilon)` (epsilon outside the
    square root, as in the book) followed by the decayed learning rate, so the book's Adam
    equals `optax.adam(decay_schedule(lr, decay), b1=beta_1, b2=beta_2, eps=epsilon)` to
    round-off; optax's default `eps` is 1e-8, not 1e-7. State: `BookOptimizerState` around
    `optax.ScaleByAdamState`.
    """
    _check_hyperparameter(learning_rate, "learning_rate", 0.0)
    _check_hyperparameter(decay, "decay", 0.0)
    _check_hyperparameter(epsilon, "epsilon", 0.0, open_low=True)
    _check_hyperparameter(beta_1, "beta_1", 0.0, 1.0)
    _check_hyperparameter(beta_2, "beta_2", 0.0, 1.0)
    rule = optax.scale_by_adam(b1=beta_1, b2=beta_2, eps=epsilon, eps_root=0.0)
    key = _value_key("adam", learning_rate, decay, epsilon, beta_1, beta_2)
    return _book_optimizer(learning_rate, decay, rule, key=key)


OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def book_hyperparameters(optimizer: Any) -> dict[str, float] | None:
    """A book optimizer's hyperparameters `{name: value}` when they are concrete numbers (as
    `sgd(0.5)` has them), else None (optax's optimizers, traced hyperparameters)."""
    init = getattr(optimizer, "init", None)
    if not isinstance(init, Keyed) or init.key is None:
        return None
    name, *values, _ = init.key
    return dict(zip(inspect.signature(OPTIMIZERS[name]).parameters, values, strict=True))


def book_name(optimizer: Any) -> str | None:
    """ "sgd", "adagrad", "rmsprop" or "adam" for a book optimizer, else None."""
    init = getattr(optimizer, "init", None)
    return init.key[0] if isinstance(init, Keyed) and init.key is not None else None


def learning_rate_at(optimizer: Any, iterations: int) -> float | None:
    """The book's `current_learning_rate` after `iterations` updates as the book's Python
    computes it, in float64: `learning_rate * (1. / (1. + decay * iterations))`; None when the
    optimizer is not a book optimizer with concrete hyperparameters."""
    hyper = book_hyperparameters(optimizer)
    if hyper is None:
        return None
    return hyper["learning_rate"] * (1.0 / (1.0 + hyper["decay"] * iterations))


# --- internals -------------------------------------------------------------------------------


def _book_optimizer(
    learning_rate: Hyperparameter,
    decay: Hyperparameter,
    rule: optax.GradientTransformation,
    scale_first: bool = False,
    key: tuple | None = None,
) -> optax.GradientTransformation:
    """`rule` (the per-parameter part of `update_params`) with the book's decayed learning rate
    and iteration count around it: `update = -current_learning_rate * rule(grads)`, or
    `rule(-current_learning_rate * grads)` when `scale_first` (SGD's velocity).

    key: the optimizer's name and hyperparameter values, when all are concrete; two optimizers
    with the same key compare equal, so `jit` treats them as the same static argument.
    """

    def init_fn(params):
        return BookOptimizerState(
            iterations=jnp.zeros([], jnp.int32),
            current_learning_rate=decayed_learning_rate(learning_rate, decay, 0),
            rule_state=rule.init(params),
        )

    def update_fn(updates, state, params=None):
        def scale(tree):
            # Rounded to each leaf's dtype, as the book's Python-float rate is by NumPy.
            step = -state.current_learning_rate
            return jax.tree.map(lambda u: step.astype(u.dtype) * u, tree)

        grads = updates
        if scale_first:
            updates, rule_state = rule.update(scale(updates), state.rule_state, params)
        else:
            updates, rule_state = rule.update(updates, state.rule_state, params)
            updates = scale(updates)
        # Traced float64 hyperparameters (a sweep under x64) would promote float32 buffers;
        # keep every dtype as it came in, so the state is a stable `lax.scan` carry.
        updates = jax.tree.map(lambda u, g: u.astype(g.dtype), updates, grads)
        rule_state = jax.tree.map(
            lambda new, old: new.astype(old.dtype), rule_state, state.rule_state
        )
        iterations = optax.safe_increment(state.iterations)
        return updates, BookOptimizerState(
            iterations=iterations,
            current_learning_rate=decayed_learning_rate(learning_rate, decay, iterations),
            rule_state=rule_state,
        )

    return optax.GradientTransformation(
        Keyed(init_fn, key, "init"), Keyed(update_fn, key, "update")
    )


class Keyed:
    """A function that compares equal to another with the same (non-None) key.

    optax transformations are pairs of closures, which compare by identity: every
    `sgd(1.0)` would be a new static argument and recompile `train`. Keyed by the optimizer's
    name and concrete hyperparameters, `sgd(1.0) == sgd(1.0)` and the compiled loop is reused.
    """

    __slots__ = ("__weakref__", "fn", "key")

    def __init__(self, fn: Callable, key: tuple | None, role: str):
        self.fn, self.key = fn, None if key is None else (*key, role)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if self.key is None or not isinstance(other, Keyed):
            return self is other
        return self.key == other.key

    def __hash__(self) -> int:
        return id(self) if self.key is None else hash(self.key)


def _value_key(name: str, *hyperparameters: Any) -> tuple | None:
    """(name, values) when every hyperparameter is a concrete Python or NumPy scalar, else None
    (arrays and tracers keep identity semantics)."""
    values = []
    for value in hyperparameters:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            values.append(float(value))
        else:
            return None
    return (name, *values)


def _scale_by_adagrad_cache(epsilon: Hyperparameter) -> optax.GradientTransformation:
    """The book's Adagrad rule without the learning rate: `cache += g ** 2;
    g / (sqrt(cache) + epsilon)` (optax's `scale_by_rss` puts epsilon inside the root)."""

    def init_fn(params):
        return AdagradState(cache=jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates, state, params=None):
        del params
        cache = jax.tree.map(lambda c, g: c + g**2, state.cache, updates)
        updates = jax.tree.map(lambda g, c: g / (jnp.sqrt(c) + epsilon), updates, cache)
        return updates, AdagradState(cache=cache)

    return optax.GradientTransformation(init_fn, update_fn)


def _check_hyperparameter(
    value: Any, name: str, low: float, high: float = math.inf, open_low: bool = False
) -> None:
    """Check that `value` is a real scalar in [low, high) ((low, high) when `open_low`).

    The range is checked only for concrete values: a tracer's value is unknown while tracing
    (a sweep vmaps the constructors over hyperparameters), so only its shape is checked.
    """
    if high == math.inf:  # the message says "finite": inf is out of range too
        expected = f"a finite number {'>' if open_low else '>='} {low:g}"
    else:
        expected = f"a number in {'(' if open_low else '['}{low:g}, {high:g})"
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise checks.InputTypeError(f"{name}: expected {expected}, got {type(value).__name__}")
    concrete = checks.is_concrete(value)
    # np.asarray, not jnp: under someone's jit a jnp array of a Python float is a tracer.
    try:
        arr = np.asarray(value) if concrete else value
    except (TypeError, ValueError) as err:
        raise checks.InputTypeError(
            f"{name}: expected {expected}, got {type(value).__name__}"
        ) from err
    if not (jnp.issubdtype(arr.dtype, jnp.integer) or jnp.issubdtype(arr.dtype, jnp.floating)):
        raise checks.InputTypeError(f"{name}: expected {expected}, got dtype {arr.dtype}")
    if arr.ndim != 0:
        raise checks.InputError(f"{name}: expected a scalar, {expected}, got shape {arr.shape}")
    if concrete:
        v = float(arr)
        # Written so that NaN fails too.
        if not ((v > low if open_low else v >= low) and v < high):
            raise checks.InputError(f"{name}: expected {expected}, got {v!r}")
