"""The optimizer catalog: one `register` line per optimizer.

Every optax optimizer that needs nothing but values and gradients of a deterministic function
(README.md, Optimizers, lists the ones left out and why). Hyperparameter names are optax's own.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
import optax.contrib

from optlab.optimizers.gd import gd
from optlab.optimizers.newton import newton
from optlab.optimizers.registry import (
    AT_LEAST_ONE,
    NONNEGATIVE,
    OPEN_UNIT,
    UNIT,
    Check,
    Entry,
    EvalCounter,
    register,
)


def momentum(
    learning_rate: optax.ScalarOrSchedule, momentum: float = 0.9, nesterov: bool = False
) -> optax.GradientTransformation:
    """Heavy-ball momentum (Polyak): v ← ∇f + momentum·v, x ← x − learning_rate·v (optax.sgd)."""
    return optax.sgd(learning_rate, momentum, nesterov)


def nesterov(
    learning_rate: optax.ScalarOrSchedule, momentum: float = 0.9
) -> optax.GradientTransformation:
    """Nesterov's accelerated gradient: optax.sgd(learning_rate, momentum, nesterov=True)."""
    return optax.sgd(learning_rate, momentum, nesterov=True)


def noisy_sgd(
    learning_rate: optax.ScalarOrSchedule, eta: float = 0.01, gamma: float = 0.55, seed: float = 0.0
) -> optax.GradientTransformationExtraArgs:
    """optax.noisy_sgd: x ← x − learning_rate·(∇f + N(0, eta/(1 + t)^gamma)), its own noise keyed by
    `seed` (traced; a run takes its grid seed, so every `grid.seed` is a new stream)."""
    key = jax.random.key(jnp.asarray(seed).astype(jnp.uint32))
    return optax.noisy_sgd(learning_rate, eta, gamma, key=key)


def lbfgs(
    learning_rate: optax.ScalarOrSchedule | None = None,
    memory_size: int = 10,
    scale_init_precond: bool = True,
    max_linesearch_steps: int = 20,
) -> optax.GradientTransformationExtraArgs:
    """optax.lbfgs with its default zoom line search (at most `max_linesearch_steps` trials)."""
    linesearch = optax.scale_by_zoom_linesearch(max_linesearch_steps, initial_guess_strategy="one")
    return optax.lbfgs(learning_rate, memory_size, scale_init_precond, linesearch)


def linesearch_evals(grads: bool, hessians: int = 0) -> EvalCounter:
    """(f, grad, hessian) evaluations of one step from the line search's `num_linesearch_steps`.

    Each trial of optax's zoom line search evaluates f and ∇f; each backtracking trial f only.
    """

    def count(state):
        n = optax.tree_utils.tree_get(state, "num_linesearch_steps", 0)
        n = jnp.asarray(n, jnp.int32)
        return n, n if grads else 0 * n, 0 * n + hessians

    return count


BETA: dict[str, Check] = {"beta": UNIT}

register(Entry("gd", gd))
register(Entry("sgd", optax.sgd, traced=("learning_rate", "momentum")))
register(Entry("noisy_sgd", noisy_sgd, checks={"eta": NONNEGATIVE, "gamma": NONNEGATIVE}))
register(Entry("momentum", momentum))
register(Entry("nesterov", nesterov))
register(Entry("adagrad", optax.adagrad))
register(
    Entry(
        "rmsprop",
        optax.rmsprop,
        traced=("learning_rate", "decay", "eps", "initial_scale", "momentum"),
        checks={"decay": UNIT},
    )
)
register(Entry("adam", optax.adam))
register(Entry("adamw", optax.adamw))
register(Entry("amsgrad", optax.amsgrad))
register(Entry("adamax", optax.adamax))
register(Entry("adamaxw", optax.adamaxw))
register(Entry("nadam", optax.nadam))
register(Entry("nadamw", optax.nadamw))
register(Entry("adabelief", optax.adabelief))
register(Entry("lion", optax.lion))
register(Entry("lamb", optax.lamb))
register(Entry("yogi", optax.yogi))
register(Entry("novograd", optax.novograd))
register(Entry("radam", optax.radam))
register(Entry("adan", optax.adan))
register(Entry("adadelta", optax.adadelta, checks={"rho": UNIT}))
register(
    Entry(
        "adafactor",
        optax.adafactor,
        traced=(
            "learning_rate",
            "decay_rate",
            "clipping_threshold",
            "momentum",
            "weight_decay_rate",
            "eps",
        ),
    )
)
register(Entry("sm3", optax.sm3, schedules=False))
register(Entry("fromage", optax.fromage))
register(Entry("lars", optax.lars))
register(Entry("sign_sgd", optax.sign_sgd))
register(Entry("signum", optax.signum, checks=BETA))
register(
    Entry(
        "rprop",
        optax.rprop,
        schedules=False,
        checks={"eta_minus": OPEN_UNIT, "eta_plus": (lambda v: v > 1, "must be > 1")},
    )
)
register(Entry("optimistic_gradient_descent", optax.optimistic_gradient_descent))
register(Entry("optimistic_adam", optax.optimistic_adam_v2))
register(Entry("acprop", optax.contrib.acprop))
register(Entry("ademamix", optax.contrib.ademamix))
register(Entry("adopt", optax.contrib.adopt))
register(Entry("cocob", optax.contrib.cocob))
register(Entry("dadapt_adamw", optax.contrib.dadapt_adamw))
register(Entry("prodigy", optax.contrib.prodigy))
register(Entry("dog", optax.contrib.dog, traced=("learning_rate", "eps", "weight_decay")))
register(
    Entry(
        "dowg",
        optax.contrib.dowg,
        traced=("learning_rate", "init_estim_sq_dist", "eps", "weight_decay"),
    )
)
register(Entry("madgrad", optax.contrib.madgrad))
register(Entry("schedule_free_adamw", optax.contrib.schedule_free_adamw))
register(
    Entry(
        "schedule_free_sgd",
        optax.contrib.schedule_free_sgd,
        traced=("learning_rate", "b1", "weight_decay", "weight_lr_power"),
    )
)
register(
    Entry(
        "lbfgs",
        lbfgs,
        checks={"max_linesearch_steps": AT_LEAST_ONE},
        extra_evals=linesearch_evals(grads=True),
    )
)
register(
    Entry(
        "newton",
        newton,
        checks={
            "damping": NONNEGATIVE,
            "min_eig_rtol": NONNEGATIVE,
            "max_backtracking_steps": NONNEGATIVE,
            "slope_rtol": OPEN_UNIT,
            "decrease_factor": OPEN_UNIT,
        },
        extra_evals=linesearch_evals(grads=False, hessians=1),
    )
)
