"""Machine learning on the lab's engine: an MLP on scikit-learn's bundled digits, backpropagation,
saliency maps, gradient penalties, Lipschitz estimates and loss landscapes (plain JAX)."""

from optlab.ml.mlp import Architecture, Objective, accuracy, forward, per_example_loss, surface

__all__ = ["Architecture", "Objective", "accuracy", "forward", "per_example_loss", "surface"]
