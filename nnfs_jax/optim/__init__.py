"""The book's optimizers (NNFS chapter 10) as optax transformations, and what the engines ask
of optimizers: `book` holds `sgd`, `adagrad`, `rmsprop`, `adam` and the 1/t decay; `states`
the logged learning rate, state checks and optimizers by name."""

from nnfs_jax.optim.book import (
    BOOK_OPTIMIZERS,
    OPTIMIZERS,
    AdagradState,
    BookOptimizerState,
    adagrad,
    adam,
    book_hyperparameters,
    book_name,
    decay_schedule,
    decayed_learning_rate,
    learning_rate_at,
    rmsprop,
    sgd,
)
from nnfs_jax.optim.states import (
    Factory,
    check_optax_values,
    check_state,
    current_learning_rate,
    get_optimizer,
    get_optimizer_factory,
    init_state,
    previous_learning_rate,
    with_hyperparams,
)

__all__ = [
    "BOOK_OPTIMIZERS",
    "OPTIMIZERS",
    "AdagradState",
    "BookOptimizerState",
    "Factory",
    "adagrad",
    "adam",
    "book_hyperparameters",
    "book_name",
    "check_optax_values",
    "check_state",
    "current_learning_rate",
    "decay_schedule",
    "decayed_learning_rate",
    "get_optimizer",
    "get_optimizer_factory",
    "init_state",
    "learning_rate_at",
    "previous_learning_rate",
    "rmsprop",
    "sgd",
    "with_hyperparams",
]
