"""nnfs_jax: the networks of "Neural Networks from Scratch" as pure JAX functions.

Parameters are a pytree (a list of {"weights", "biases"} dicts); a `Model` (`make_model`)
describes the network, the documents' classifier by default; forward passes, losses and the
documents' hand-written backward rules are pure functions; gradients come three ways
(`grad_manual`, `grad_autodiff`, `grad_numerical`) and `compare_gradients` sets them side by
side; `train`, `fit` and `sweep` run one training step in one compiled loop. The functions are
defined in the modules named in the README ("How the package is built") and exported here.
"""

from nnfs_jax import heads, layers, losses, optim
from nnfs_jax.backprop import grad_autodiff, grad_manual, grad_numerical
from nnfs_jax.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    read_checkpoint_header,
    save_checkpoint,
)
from nnfs_jax.checks import InputError, InputTypeError
from nnfs_jax.comparison import (
    GradientReport,
    Verdict,
    compare_gradients,
    format_comparison,
    verdicts,
)
from nnfs_jax.data import (
    BOOK_DATA,
    book_seed,
    book_setup,
    make_sine,
    make_spiral,
    make_vertical,
    sine_data,
    spiral_data,
    vertical_data,
)
from nnfs_jax.devices import use_cpu_cores
from nnfs_jax.fitting import evaluate, fit, predict
from nnfs_jax.heads import Head
from nnfs_jax.images import (
    FASHION_MNIST_LABELS,
    load_digits,
    load_fashion_mnist,
    load_image_folder,
    read_idx,
)
from nnfs_jax.layers import Activation, init_params, init_params_book
from nnfs_jax.logs import FitHistory, FitLogEntry, History, LogEntry, format_epoch, format_log_line
from nnfs_jax.losses import accuracy
from nnfs_jax.model import (
    Model,
    forward,
    loss,
    make_model,
    model_accuracy,
    model_data_loss,
    model_forward,
    model_loss,
    model_predictions,
    model_regularization_loss,
)
from nnfs_jax.optim import current_learning_rate, decay_schedule, get_optimizer
from nnfs_jax.regularization import Regularizer
from nnfs_jax.search import Improvements, SearchResult, hill_climb, random_search
from nnfs_jax.sweeping.driver import sweep
from nnfs_jax.sweeping.grammar import (
    LogUniform,
    Uniform,
    configurations,
    hyperparameter_names,
    log_uniform,
    seed_keys,
    uniform,
)
from nnfs_jax.sweeping.results import SweepProgress, SweepResult
from nnfs_jax.training import train

__version__ = "0.1.0"

__all__ = [
    "BOOK_DATA",
    "FASHION_MNIST_LABELS",
    "Activation",
    "Checkpoint",
    "CheckpointError",
    "FitHistory",
    "FitLogEntry",
    "GradientReport",
    "Head",
    "History",
    "Improvements",
    "InputError",
    "InputTypeError",
    "LogEntry",
    "LogUniform",
    "Model",
    "Regularizer",
    "SearchResult",
    "SweepProgress",
    "SweepResult",
    "Uniform",
    "Verdict",
    "__version__",
    "accuracy",
    "book_seed",
    "book_setup",
    "compare_gradients",
    "configurations",
    "current_learning_rate",
    "decay_schedule",
    "evaluate",
    "fit",
    "format_comparison",
    "format_epoch",
    "format_log_line",
    "forward",
    "get_optimizer",
    "grad_autodiff",
    "grad_manual",
    "grad_numerical",
    "heads",
    "hill_climb",
    "hyperparameter_names",
    "init_params",
    "init_params_book",
    "layers",
    "load_checkpoint",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "log_uniform",
    "loss",
    "losses",
    "make_model",
    "make_sine",
    "make_spiral",
    "make_vertical",
    "model_accuracy",
    "model_data_loss",
    "model_forward",
    "model_loss",
    "model_predictions",
    "model_regularization_loss",
    "optim",
    "predict",
    "random_search",
    "read_checkpoint_header",
    "read_idx",
    "save_checkpoint",
    "seed_keys",
    "sine_data",
    "spiral_data",
    "sweep",
    "train",
    "uniform",
    "use_cpu_cores",
    "verdicts",
    "vertical_data",
]
