"""The documents' two random searches for weights, compiled, on any model and data set.

- `random_search` (document 000, `pure`): every iteration draws fresh parameters `scale *
  N(0, 1)` for every weight and bias and keeps the set with the lowest loss.
- `hill_climb` (document 001, `climb`): every iteration adds `scale * N(0, 1)` to the best
  parameters so far and keeps the result only if the loss went down.

Both report every improvement as the documents print it (`Improvements.lines`). Candidates are
scored by `kernels.candidates`; the draws come from `threefry`.
"""

from nnfs_jax.search.climb import climb_draws, hill_climb
from nnfs_jax.search.pure import block_candidates, default_block_size, random_search
from nnfs_jax.search.results import Improvements, SearchResult

__all__ = [
    "Improvements",
    "SearchResult",
    "block_candidates",
    "climb_draws",
    "default_block_size",
    "hill_climb",
    "random_search",
]
