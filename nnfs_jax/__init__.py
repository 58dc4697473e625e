"""nnfs_jax: the networks of "Neural Networks from Scratch" as pure JAX functions.

Parameters are a pytree (a list of {"weights", "biases"} dicts); forward passes, losses and the
documents' hand-written backward rules are pure functions; gradients come three ways
(`grad_manual`, `grad_autodiff`, `grad_numerical`) and `compare_gradients` sets them side by side.
"""

from nnfs_jax.backprop import (
    GradientReport,
    compare_gradients,
    format_comparison,
    grad_autodiff,
    grad_manual,
    grad_numerical,
)
from nnfs_jax.data import (
    book_seed,
    make_sine,
    make_spiral,
    make_vertical,
    sine_data,
    spiral_data,
    vertical_data,
)
from nnfs_jax.layers import forward, init_params, init_params_book
from nnfs_jax.losses import accuracy, loss

__version__ = "0.1.0"

__all__ = [
    "GradientReport",
    "__version__",
    "accuracy",
    "book_seed",
    "compare_gradients",
    "format_comparison",
    "forward",
    "grad_autodiff",
    "grad_manual",
    "grad_numerical",
    "init_params",
    "init_params_book",
    "loss",
    "make_sine",
    "make_spiral",
    "make_vertical",
    "sine_data",
    "spiral_data",
    "vertical_data",
]
