"""What the engines ask of an optimizer's state and of an optimizer by name: the learning rate
to log, a state's shape checked before tracing, an optimizer built per sweep configuration."""

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
from nnfs_jax.optim.book import (
    BOOK_OPTIMIZERS,
    OPTIMIZERS,
    BookOptimizerState,
    book_hyperparameters,
    decayed_learning_rate,
)


def current_learning_rate(opt_state: optax.OptState) -> jax.Array:
    """The learning rate the next update will use, for logging; works under `jit` and `scan`.

    - A book optimizer's state: `learning_rate / (1 + decay * iterations)` (the book's
      `current_learning_rate` as the next `pre_update_params` will set it); also inside
      `optax.inject_hyperparams(...)` of a book optimizer.
    - Another state made by `optax.inject_hyperparams(...)` with a `learning_rate`: its
      `hyperparams["learning_rate"]`. For a constant rate that is the next update's rate; for a
      schedule optax stores the value the *last* update used (at init: `schedule(0)`).
    - Any other state (including a book optimizer wrapped in `optax.chain`): NaN (float32).
    """
    if isinstance(opt_state, BookOptimizerState):
        return opt_state.current_learning_rate
    if isinstance(opt_state, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)):
        if isinstance(opt_state.inner_state, BookOptimizerState):
            return opt_state.inner_state.current_learning_rate
        if "learning_rate" in opt_state.hyperparams:
            return jnp.asarray(opt_state.hyperparams["learning_rate"])
    return jnp.asarray(jnp.nan, jnp.float32)


def previous_learning_rate(
    opt_state: optax.OptState, optimizer: optax.GradientTransformation
) -> jax.Array:
    """The rate the *last* update used (what the book prints before an epoch's update): for a
    book optimizer after k > 0 updates `learning_rate / (1 + decay * (k - 1))`, computed as the
    optimizer computed it; before any update, or for other states, `current_learning_rate`."""
    state, hyper = opt_state, book_hyperparameters(optimizer)
    if isinstance(state, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)):
        state, hyper = state.inner_state, state.hyperparams
    if not isinstance(state, BookOptimizerState) or hyper is None:
        return current_learning_rate(opt_state)
    previous = decayed_learning_rate(
        hyper["learning_rate"], hyper.get("decay", 0.0), jnp.maximum(state.iterations - 1, 0)
    )
    return jnp.where(state.iterations > 0, previous, state.current_learning_rate)


def check_state(
    state: Any, optimizer: optax.GradientTransformation, params: Any, name: str = "initial_state"
) -> optax.OptState:
    """`state` once it is seen to have the structure, shapes and dtypes of
    `optimizer.init(params)` (a state of another optimizer or network would otherwise fail
    deep inside tracing); a ValueError naming `name` otherwise. Nothing is computed: the
    expected state comes from `jax.eval_shape`."""
    expected = jax.eval_shape(optimizer.init, params)
    want, want_def = jax.tree.flatten(expected)
    got, got_def = jax.tree.flatten(state)
    if want_def != got_def:
        raise checks.InputError(
            f"{name}: does not have the structure of optimizer.init(params): expected "
            f"{want_def}, got {got_def}"
        )
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        shape, dtype = jnp.shape(g), jnp.result_type(g)
        if shape != w.shape or dtype != w.dtype:
            raise checks.InputError(
                f"{name}: leaf {i} has shape {shape} and dtype {dtype}, but "
                f"optimizer.init(params) gives {w.shape} {w.dtype}"
            )
    return state


class Factory(NamedTuple):
    """An optimizer to build per sweep configuration: `factory(**fixed, **values)` with the
    swept hyperparameters' (traced) values; hashable, so a compiled sweep reuses it."""

    factory: Callable[..., optax.GradientTransformation]
    fixed: tuple[tuple[str, Any], ...] = ()

    def build(self, values: dict) -> optax.GradientTransformation:
        return self.factory(**dict(self.fixed), **values)


def init_state(optimizer: Any, params: Any, values: dict | None = None) -> optax.OptState:
    """`optimizer.init(params)`, with `values` set in an `optax.inject_hyperparams` state's
    `hyperparams` (how a sweep varies the hyperparameters of an injected optimizer)."""
    state = optimizer.init(params)
    if not values:
        return state
    hyperparams = dict(state.hyperparams)
    for name, value in values.items():
        hyperparams[name] = jnp.asarray(value, jnp.result_type(hyperparams[name]))
    return state._replace(hyperparams=hyperparams)


def with_hyperparams(optimizer: Any, values: dict) -> optax.GradientTransformation:
    """An `optax.inject_hyperparams(...)` optimizer whose state starts with `values`."""
    return optax.GradientTransformation(
        lambda params: init_state(optimizer, params, values), optimizer.update
    )


def get_optimizer_factory(name: str) -> Callable[..., optax.GradientTransformation]:
    """The constructor an optimizer name stands for: the book's (`"sgd"`, `"adagrad"`,
    `"rmsprop"`, `"adam"`) or `getattr(optax, name)` for `"optax.<name>"`."""
    valid = f"expected one of {BOOK_OPTIMIZERS} or 'optax.<name>' (e.g. 'optax.adam')"
    if not isinstance(name, str):
        raise checks.InputTypeError(
            f"optimizer: expected a name, {valid}; got {type(name).__name__}"
        )
    if name in OPTIMIZERS:
        return OPTIMIZERS[name]
    if name.startswith("optax."):
        factory = getattr(optax, name.removeprefix("optax."), None)
        if not callable(factory):
            raise checks.InputError(f"optimizer: optax has no optimizer {name!r}; {valid}")
        return factory
    raise checks.InputError(f"optimizer: unknown optimizer {name!r}; {valid}")


def get_optimizer(name: str, **hyperparameters: Any) -> optax.GradientTransformation:
    """An optimizer by name: `"sgd"`, `"adagrad"`, `"rmsprop"` or `"adam"` for the book's
    (with the book's defaults), or `"optax.<name>"` for `getattr(optax, name)(**hyperparameters)`,
    e.g. `get_optimizer("optax.adam", learning_rate=1e-3)`."""
    factory = get_optimizer_factory(name)
    _check_hyperparameter_names(factory, name, hyperparameters)
    if name.startswith("optax."):
        check_optax_values(hyperparameters)
    optimizer = factory(**hyperparameters)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise checks.InputError(
            f"optimizer: {name!r} returned a {type(optimizer).__name__}, not an "
            "optax.GradientTransformation"
        )
    return optimizer


NON_NEGATIVE = ("learning_rate", "decay", "momentum", "eps", "eps_root", "weight_decay")


def check_optax_values(hyperparameters: dict) -> None:
    """An optax optimizer's numeric hyperparameters (which optax does not check): finite, and
    the learning rate, decay, momentum, epsilons and weight decay >= 0 (a negative learning
    rate would climb the loss)."""
    for key, value in hyperparameters.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            continue
        if not math.isfinite(float(value)):
            raise checks.InputError(f"{key}: expected a finite number, got {value!r}")
        if key in NON_NEGATIVE and value < 0:
            raise checks.InputError(f"{key}: expected a number >= 0, got {value!r}")


def _check_hyperparameter_names(factory: Callable, name: str, hyperparameters: dict) -> None:
    """Raise a TypeError naming every hyperparameter `factory` does not take."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to check against: let the call decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [
        p
        for p, spec in parameters.items()
        if spec.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise checks.InputTypeError(
            f"hyperparameters: {name!r} takes no {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(map(repr, accepted))}"
        )
