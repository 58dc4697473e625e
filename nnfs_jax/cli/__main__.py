"""`python -m nnfs_jax.cli`: the `nnfs-jax` command."""

import sys

from nnfs_jax.cli import main

sys.exit(main())
