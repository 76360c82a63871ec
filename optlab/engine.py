"""The engine: every run of a job in ONE jitted program (`lax.scan` over steps, `vmap` over runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optlab.optimizers.registry import Spec
from optlab.surfaces.base import Surface

RUNNING, CONVERGED, MAX_STEPS, DIVERGED = 0, 1, 2, 3
STATUS_NAMES = ("running", "converged", "max_steps", "diverged")


class Group(NamedTuple):
    """Runs sharing one optimizer spec: per-run traced hyperparameters (R,) and starts (R, d)."""

    spec: Spec
    hparams: Mapping[str, Any]
    starts: Any


class Trajectory(NamedTuple):
    """Per-step records with a leading run axis R (T = steps).

    `params` (R, T+1, d), `loss` (R, T+1), `grad` (R, T+1, d), `grad_norm` (R, T+1);
    diagnostics (R, T), entry t describing the update params[t] -> params[t+1] (NaN where no
    update was taken); per run: `status` (R,) codes into STATUS_NAMES, `steps_taken`, and
    evaluation counts `f_evals`, `grad_evals`, `hessian_evals`.
    """

    params: Any
    loss: Any
    grad: Any
    grad_norm: Any
    directional_derivative: Any
    cos_to_negative_gradient: Any
    curvature: Any
    status: Any
    steps_taken: Any
    f_evals: Any
    grad_evals: Any
    hessian_evals: Any


class _Carry(NamedTuple):
    x: jax.Array
    value: jax.Array
    grad: jax.Array
    opt_state: Any
    status: jax.Array
    steps: jax.Array
    evals: jax.Array  # (3,) int32: f, grad, hessian


def _diagnose(f, x, step, grad):
    """(D_u f, cos(u, −∇f), uᵀHu) for the unit update direction u = step/‖step‖, via one jvp."""
    norm = jnp.linalg.norm(step)
    u = step / jnp.where(norm > 0, norm, 1.0)
    _, (d_u, hu) = jax.jvp(jax.value_and_grad(f), (x,), (u,))
    cos = -jnp.dot(grad, u) / jnp.linalg.norm(grad)
    nan = jnp.full_like(d_u, jnp.nan)
    keep = norm > 0
    return (
        jnp.where(keep, d_u, nan),
        jnp.where(keep, cos, nan),
        jnp.where(keep, jnp.dot(u, hu), nan),
    )


def _converged(value, grad, tol_grad, f_target):
    return (jnp.linalg.norm(grad) < tol_grad) | (value < f_target)


def _run_one(surface, spec: Spec, hparams, x0, steps, diagnostics, tol_grad, f_target):
    """One optimizer run as a `lax.scan`; finished or diverged runs are frozen by masking."""
    f = surface
    value_and_grad = jax.value_and_grad(f)
    opt = spec.build(hparams)
    v0, g0 = value_and_grad(x0)
    finite0 = jnp.isfinite(v0) & jnp.all(jnp.isfinite(g0))
    status0 = jnp.where(
        finite0, jnp.where(_converged(v0, g0, tol_grad, f_target), CONVERGED, RUNNING), DIVERGED
    )
    one = jnp.ones([], jnp.int32)
    init = _Carry(
        x0, v0, g0, opt.init(x0), status0, jnp.zeros([], jnp.int32), jnp.stack([one, one, 0 * one])
    )

    def step(c: _Carry, _):
        active = c.status == RUNNING
        updates, state = opt.update(
            c.grad, c.opt_state, c.x, value=c.value, grad=c.grad, value_fn=f
        )
        x = optax.apply_updates(c.x, updates)
        v, g = value_and_grad(x)
        finite = jnp.isfinite(v) & jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(g))
        take = active & finite
        status = jnp.where(active & ~finite, DIVERGED, c.status)
        status = jnp.where(take & _converged(v, g, tol_grad, f_target), CONVERGED, status)
        keep = lambda new, old: jnp.where(take, new, old)  # noqa: E731
        evals = c.evals + take * (
            jnp.stack(spec.extra_evals(state)) + jnp.stack([one, one, 0 * one])
        )
        new = _Carry(
            keep(x, c.x),
            keep(v, c.value),
            keep(g, c.grad),
            jax.tree.map(keep, state, c.opt_state),
            status,
            c.steps + take,
            evals,
        )
        out = {"params": new.x, "loss": new.value, "grad": new.grad}
        if diagnostics:
            d_u, cos, curv = _diagnose(f, c.x, new.x - c.x, c.grad)
            out |= {
                "directional_derivative": d_u,
                "cos_to_negative_gradient": cos,
                "curvature": curv,
            }
        return new, out

    last, rec = jax.lax.scan(step, init, length=steps)
    prepend = lambda a, b: jnp.concatenate([a[None], b])  # noqa: E731
    rec["params"] = prepend(x0, rec["params"])
    rec["loss"] = prepend(v0, rec["loss"])
    rec["grad"] = prepend(g0, rec["grad"])
    rec["status"] = jnp.where(last.status == RUNNING, MAX_STEPS, last.status)
    rec["steps_taken"] = last.steps
    rec["f_evals"], rec["grad_evals"], rec["hessian_evals"] = last.evals
    return rec


def _program(surface, specs, hparams, starts, steps, diagnostics, tol_grad, f_target):
    """All groups of a job, each vmapped over its runs, concatenated along the run axis."""
    outs = []
    for spec, hp, x0 in zip(specs, hparams, starts, strict=True):
        run = lambda h, x, spec=spec: _run_one(  # noqa: E731
            surface, spec, h, x, steps, diagnostics, tol_grad, f_target
        )
        outs.append(jax.vmap(run)(hp, x0))
    return jax.tree.map(lambda *a: jnp.concatenate(a), *outs)


program = jax.jit(_program, static_argnames=("specs", "steps", "diagnostics"))


def run(
    surface: Surface,
    groups: Sequence[Group],
    steps: int,
    *,
    diagnostics: bool = True,
    tol_grad: float = 0.0,
    target: float | None = None,
    dtype: Any = jnp.float32,
) -> Trajectory:
    """Run every group for `steps` steps in one compiled program; return host (NumPy) arrays.

    A run stops (and stays frozen) when ‖∇f‖ < `tol_grad`, or f − f* < `target` where f* is known;
    a run whose value, gradient or parameters turn non-finite is frozen at its last finite state.
    """
    cast = lambda a: jnp.asarray(a, dtype=dtype)  # noqa: E731
    f_target = -jnp.inf if target is None or surface.f_min is None else surface.f_min + target
    rec = program(
        surface.astype(dtype),
        tuple(g.spec for g in groups),
        tuple({k: cast(v) for k, v in g.hparams.items()} for g in groups),
        tuple(cast(g.starts) for g in groups),
        steps,
        diagnostics,
        cast(tol_grad),
        cast(f_target),
    )
    rec = jax.device_get(rec)
    rec["grad_norm"] = np.linalg.norm(rec["grad"], axis=-1)
    if not diagnostics:
        nan = np.full(rec["loss"][:, 1:].shape, np.nan, dtype=rec["loss"].dtype)
        for k in ("directional_derivative", "cos_to_negative_gradient", "curvature"):
            rec[k] = nan
    return Trajectory(**rec)
