"""Hyperparameter sweeps: many trainings of any model in one compiled call per shape.

`grammar` (axes, configurations, random ranges), `plan` (chunks and blocks), `sharding` (the
devices), `engine` (the compiled chunk: `train`'s or `fit`'s unit vmapped over configurations),
`results` (`SweepResult`), `driver` (`sweep`).
"""
