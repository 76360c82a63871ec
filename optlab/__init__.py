"""optlab: a JAX optimization laboratory."""

from optlab import optimizers, surfaces
from optlab.errors import UserError

__version__ = "0.1.0"
__all__ = ["UserError", "optimizers", "surfaces"]
