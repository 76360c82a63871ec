"""The optimizer catalog: one `register` line per optimizer."""

from __future__ import annotations

import optax

from optlab.optimizers.gd import gd
from optlab.optimizers.registry import POSITIVE, UNIT, Entry, register

register(Entry("gd", gd, checks={"learning_rate": POSITIVE}))
register(
    Entry(
        "momentum",
        optax.sgd,
        traced=("learning_rate", "momentum"),
        checks={"learning_rate": POSITIVE, "momentum": UNIT},
    )
)
register(
    Entry(
        "adam",
        optax.adam,
        traced=("learning_rate", "b1", "b2", "eps", "eps_root"),
        checks={"learning_rate": POSITIVE, "b1": UNIT, "b2": UNIT, "eps": POSITIVE},
    )
)
