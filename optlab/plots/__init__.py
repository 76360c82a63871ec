"""Plots: NumPy + matplotlib on host arrays, Agg canvas, every figure released after saving."""

from optlab.plots.contour import contour
from optlab.plots.loss import loss

__all__ = ["contour", "loss"]
