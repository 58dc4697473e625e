"""Kernels: what a training step computes, in the reference composition and in faster layouts.

Every kernel has the same functions with the same signatures (`base.Kernel`); `base.select`
picks the fastest that applies to a model, gradient method and backend, and every fast kernel is
tested against the reference in float64. Nothing public knows which one ran.
"""
