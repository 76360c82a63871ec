"""optlab: a JAX optimization laboratory."""

from optlab import xla

xla.fast_small_loops()  # before anything starts JAX's backend (see optlab.xla)

from optlab import optimizers, surfaces  # noqa: E402
from optlab.errors import UserError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["UserError", "optimizers", "surfaces"]
