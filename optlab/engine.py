"""The engine: every run of a job in ONE jitted program (`lax.scan` over steps, `vmap` over runs).

The run axis is sharded over a 1-D device mesh; a grid too large for memory runs in chunks of
runs, one after another; a progress bar sees the scan split into chunks of steps (no host sync
inside a chunk). With the defaults a job is one compiled program called once.

Noise (`run(..., noise=...)`): a pytree (numeric leaves traced, so changing σ never recompiles)
with two methods,

    observe(surface, key, x, value, grad, *, step, run_key) -> (value_seen, grad_seen)
    value_fn(surface, key, *, step, run_key) -> Callable[[x], value_seen]

(`step` = t and `run_key` = key(seeds[r]) let a noise draw from a counter-based generator or
shuffle per epoch; an unused `key` costs nothing, XLA drops its threefry hashes). A noise with a
method `run_hash(run_key)` has it computed once per run and passed to `observe` as `run_hash=`.

At each step the optimizer's update receives only what the noise lets it see: `value_seen`,
`grad_seen` at the iterate and `value_fn` for line searches. Everything recorded (loss, grad,
grad_norm, diagnostics, stopping rules, status, target hits, evaluation counts) is the true f
and ∇f at the iterate. Run r's key at step t (its global step index, 0 for the update leaving
the start, not reset by `step_chunks`) is `fold_in(key(seeds[r]), t)` (`Group.seeds`, default
0), split once into the keys of `observe` and of `value_fn`: a run's noise is the same alone,
in a grid, in chunks and on any number of devices. `noise=None` compiles no random numbers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optlab import devices as devices_
from optlab.errors import UserError
from optlab.optimizers.registry import Spec
from optlab.surfaces.base import Surface
from optlab.xla import SMALL_LOOP_BYTES, SMALL_LOOP_FLAG, fast_small_loops  # noqa: F401

RUNNING, CONVERGED, MAX_STEPS, DIVERGED = 0, 1, 2, 3
STATUS_NAMES = ("running", "converged", "max_steps", "diverged")
FIELDS = ("params", "loss", "grad", "grad_norm")  # what `record` may keep per recorded step
DEFAULT_RECORD = ("params", "loss", "grad")
DIAGNOSTICS = ("directional_derivative", "cos_to_negative_gradient", "curvature")
# Runs per device are padded to a multiple of LANES. XLA:CPU compiles a batch's elementwise code
# and its reductions over the coordinates (a surface's sum) differently for different batch
# widths, and contracts a·b + c into FMAs where its code allows: from 16 runs on, a run's numbers
# are bitwise the same alone, in any batch and on any number of devices, with or without
# one-kernel loops (`optlab.xla`); with 2 lanes that held for 2-D surfaces only (ulp-level
# differences from d = 3). `run(..., lanes=1)` remains for the scalar code of a lone run.
LANES = 16
_FINAL = (
    "x",
    "value",
    "grad",
    "status",
    "steps",
    "evals",
    "hit",
    "hit_evals",
)  # fetched at the end
SHARED = ("targets", "record_steps")  # Trajectory fields shared by every run (no run axis)


class Group(NamedTuple):
    """Runs sharing one optimizer spec: per-run traced hyperparameters (R,) and starts (R, d);
    `seeds` (R,) ints in [0, 2³²) key each run's noise stream (None: 0; unused without noise)."""

    spec: Spec
    hparams: Mapping[str, Any]
    starts: Any
    seeds: Any = None


class Trajectory(NamedTuple):
    """Per-step records with a leading run axis R (T = steps).

    `params` (R, T+1, d), `loss` (R, T+1), `grad` (R, T+1, d), `grad_norm` (R, T+1);
    diagnostics (R, T), entry t describing the update params[t] -> params[t+1] (NaN where no
    update was taken); per run: `status` (R,) codes into STATUS_NAMES, `steps_taken`, and
    evaluation counts `f_evals`, `grad_evals`, `hessian_evals`.

    With `record_every=k` the step axis keeps steps 0, k, 2k, …, T (`record_steps`) and
    diagnostics describe the update leaving each kept step; a field left out of `record` is None.
    `final_params` (R, d), `final_loss` and `final_grad_norm` (R,) hold the last state always.

    Cost, counted inside the scan: for each of the K `targets` (thresholds on f − f*),
    `hit_step` (R, K) is the first step t (0 = the start) with f − f* ≤ target (−1: never, or
    f* unknown) and `hit_evals` (R, K, 3) the cumulative (f, ∇f, ∇²f) evaluation counts up to
    and including that step (−1: never); `cum_f_evals`, `cum_grad_evals`, `cum_hessian_evals`
    (R, T'+1) are the cumulative counts at the recorded steps.

    The per-step records are run-major views of the engine's time-major arrays (strided;
    `np.ascontiguousarray` gives a C-ordered copy).
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
    final_params: Any = None
    final_loss: Any = None
    final_grad_norm: Any = None
    targets: Any = None
    hit_step: Any = None
    hit_evals: Any = None
    cum_f_evals: Any = None
    cum_grad_evals: Any = None
    cum_hessian_evals: Any = None
    record_steps: Any = None


class _Carry(NamedTuple):
    x: jax.Array
    value: jax.Array
    grad: jax.Array
    opt_state: Any
    status: jax.Array
    steps: jax.Array
    evals: jax.Array  # (3,) int32: f, grad, hessian
    t: jax.Array  # steps simulated so far, taken or not (masks padding steps past the end)
    hit: jax.Array  # (K,) int32: first step with f − f* ≤ target k (−1: not yet)
    hit_evals: jax.Array  # (K, 3) int32: evals up to and including that step (−1: not yet)
    seed: Any = None  # uint32 seed of the run's noise stream (None without noise)
    hash: Any = None  # the noise's per-run constant `noise.run_hash(key(seed))`, if it has one


def _diagnose(f, x, step, grad):
    """(D_u f = ∇f·u, cos(u, −∇f), uᵀHu) for the unit update direction u = step/‖step‖; uᵀHu is
    d²/dt² f(x + tu) at t = 0, by forward over forward mode (two jvps, no reverse pass)."""
    norm = _norm2(step)
    u = step / jnp.where(norm > 0, norm, 1.0)
    along = lambda y: jax.jvp(f, (y,), (u,))[1]  # noqa: E731  (y ↦ ∇f(y)·u)
    curvature = jax.jvp(along, (x,), (u,))[1]
    d_u = _dot(grad, u)
    nan = jnp.full_like(d_u, jnp.nan)
    keep = norm > 0
    return (
        jnp.where(keep, d_u, nan),
        jnp.where(keep, -d_u / _norm2(grad), nan),
        jnp.where(keep, curvature, nan),
    )


UNROLL = 4  # up to this many coordinates, reductions of one vector are written out per coordinate


def _fold(a: jax.Array, op: Callable, whole: Callable) -> jax.Array:
    """op-fold of a vector's entries, left to right; written out per coordinate for small d (XLA:CPU
    emits a slow reduction otherwise), else `whole(a)`."""
    if a.ndim == 1 and a.shape[0] <= UNROLL:
        out = a[0]
        for i in range(1, a.shape[0]):
            out = op(out, a[i])
        return out
    return whole(a)


def _all_finite(a: jax.Array) -> jax.Array:
    """all(isfinite(a))."""
    return _fold(jnp.isfinite(a), jnp.logical_and, jnp.all)


def _sumsq(a: jax.Array) -> jax.Array:
    """Σ aᵢ², left to right (so sqrt(_sumsq(a)) rounds as jnp.linalg.norm does)."""
    return _fold(a * a, jnp.add, jnp.sum)


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    """a·b, left to right."""
    return _fold(a * b, jnp.add, jnp.sum)


def _norm2(a: jax.Array) -> jax.Array:
    """‖a‖₂ (the same rounding as jnp.linalg.norm: sqrt of the sum of squares, left to right)."""
    if a.ndim == 1 and a.shape[0] <= UNROLL:
        return jnp.sqrt(_sumsq(a))
    return jnp.linalg.norm(a)


def _converged(value, grad_norm, tol_grad, f_target):
    return (grad_norm < tol_grad) | (value < f_target)


def _hits(c_hit, c_hit_evals, reached, step, evals):
    """Record step `step` and `evals` for the targets first `reached` (K,) now."""
    new = reached & (c_hit < 0)
    return jnp.where(new, step, c_hit), jnp.where(new[:, None], evals, c_hit_evals)


def _init(f, opt, x0, tol_grad, f_target, below) -> _Carry:
    """The state before step 0: value and gradient at the start, optimizer state, status.

    `below` (K,): the largest values that count as reaching each target (see `thresholds`).
    """
    v0, g0 = jax.value_and_grad(f)(x0)
    finite0 = jnp.isfinite(v0) & _all_finite(g0)
    status0 = jnp.where(
        finite0,
        jnp.where(_converged(v0, _norm2(g0), tol_grad, f_target), CONVERGED, RUNNING),
        DIVERGED,
    )
    one, zero = jnp.ones([], jnp.int32), jnp.zeros([], jnp.int32)
    evals0 = jnp.stack([one, one, zero])
    never = jnp.full(below.shape, -1, jnp.int32)
    hit, hit_evals = _hits(
        never, jnp.full((*below.shape, 3), -1, jnp.int32), finite0 & (v0 <= below), zero, evals0
    )
    return _Carry(x0, v0, g0, opt.init(x0), status0, zero, evals0, zero, hit, hit_evals)


def _seen(f, noise, c: _Carry):
    """What the optimizer sees at the iterate: (value, gradient, value_fn), noisy with `noise`."""
    if noise is None:
        return c.value, c.grad, f
    run_key = jax.random.key(c.seed)
    k_obs, k_fn = jax.random.split(jax.random.fold_in(run_key, c.t))
    extra = {} if c.hash is None else {"run_hash": c.hash}
    value, grad = noise.observe(f, k_obs, c.x, c.value, c.grad, step=c.t, run_key=run_key, **extra)
    return value, grad, noise.value_fn(f, k_fn, step=c.t, run_key=run_key)


def _run_hash(noise, seed):
    """`noise.run_hash(key(seed))` (a per-run constant its draws start from, computed once
    rather than at every step), or None when the noise has none."""
    if noise is None or not hasattr(noise, "run_hash"):
        return None
    return noise.run_hash(jax.random.key(seed))


def _isolated(fn: Callable, off: Callable, args: Any, on: jax.Array) -> Any:
    """fn(*args) behind a branch that XLA cannot resolve (`on` is true, known at run time only;
    `off` the other branch), so its kernels depend on fn alone, not on what consumes the results.

    XLA:CPU contracts a·b + c into an FMA within a kernel and forms kernels by fusing producers
    into their consumers: the same arithmetic followed by the exact step's masking or the fast
    step's checks would otherwise round differently (by an ulp).
    """
    return jax.lax.cond(on, fn, off, *args)


def _update(f, spec: Spec, opt, c: _Carry, noise, total, diagnostics: bool):
    """The optimizer's step from c, unmasked: (x_new, f(x_new), ∇f(x_new), ‖∇f(x_new)‖, state,
    evals, diagnostics of the step); the norm is computed with the step, so both paths test
    convergence on the same bits."""

    def core(x, value, grad, state, t, seed, hash_):
        seen = _Carry(x, value, grad, state, None, None, None, t, None, None, seed, hash_)
        value, noisy, value_fn = _seen(f, noise, seen)
        updates, state = opt.update(noisy, state, x, value=value, grad=noisy, value_fn=value_fn)
        new = optax.apply_updates(x, updates)
        v, g = jax.value_and_grad(f)(new)
        out = _diagnose(f, x, new - x, grad) if diagnostics else ()
        return new, v, g, _norm2(g), state, out

    args = (c.x, c.value, c.grad, c.opt_state, c.t, c.seed, c.hash)
    # never taken; not the inputs themselves (floats negated), or XLA folds the branch away
    flip = lambda a: -a if jnp.issubdtype(a.dtype, jnp.floating) else a  # noqa: E731
    off = lambda x, v, g, state, *_: jax.tree.map(  # noqa: E731
        flip, (x, v, g, v, state, (v,) * 3 if diagnostics else ())
    )
    x, v, g, norm, state, out = _isolated(core, off, args, total > 0)
    out = dict(zip(DIAGNOSTICS, out, strict=True)) if diagnostics else {}
    return x, v, g, norm, state, _per_step(spec, state), out


def _per_step(spec: Spec, state) -> jax.Array:
    """(f, ∇f, ∇²f) evaluations of one step: one value and gradient plus the optimizer's own."""
    one, zero = jnp.ones([], jnp.int32), jnp.zeros([], jnp.int32)
    return jnp.stack(spec.extra_evals(state)) + jnp.stack([one, one, zero])


def _step(
    f, spec: Spec, opt, c: _Carry, total, tol_grad, f_target, below, noise, diagnostics: bool
):
    """One exact update; finished, diverged or padding (t ≥ total) runs are frozen by masking."""
    active = (c.status == RUNNING) & (c.t < total)
    x, v, g, norm, state, per_step, out = _update(f, spec, opt, c, noise, total, diagnostics)
    finite = jnp.isfinite(v) & _all_finite(x) & _all_finite(g)
    # computed once: XLA would otherwise recompute the predicate (f(x_new), three finiteness
    # tests) inside each of its consumers' fusions
    take = jax.lax.optimization_barrier(active & finite)
    status = jnp.where(active & ~finite, DIVERGED, c.status)
    status = jnp.where(take & _converged(v, norm, tol_grad, f_target), CONVERGED, status)
    keep = lambda new, old: jnp.where(take, new, old)  # noqa: E731
    if spec.counts_extra_evals:
        evals = c.evals + take * per_step
        hit, hit_evals = _hits(c.hit, c.hit_evals, take & (v <= below), c.steps + 1, evals)
    else:  # every step costs one f and one ∇f: counts are derived from the steps at the end
        evals, hit_evals = c.evals, c.hit_evals
        hit = jnp.where((c.hit < 0) & take & (v <= below), c.steps + 1, c.hit)
    new = _Carry(
        keep(x, c.x),
        keep(v, c.value),
        keep(g, c.grad),
        state,  # not masked: a frozen run never resumes, and a shared step count stays scalar
        status,
        c.steps + take,
        evals,
        c.t + 1,
        hit,
        hit_evals,
        c.seed,
        c.hash,
    )
    nan = jnp.full_like(v, jnp.nan)
    return new, {k: jnp.where(take, d, nan) for k, d in out.items()}


def _observe(c: _Carry, fields: tuple[str, ...], counted: bool) -> dict[str, jax.Array]:
    """The recorded fields of one state (and its evaluation counts when they are `counted`)."""
    every = {"params": c.x, "loss": c.value, "grad": c.grad}
    out = {k: every[k] if k != "grad_norm" else jnp.linalg.norm(c.grad) for k in fields}
    return out | ({"evals": c.evals} if counted else {})


class _Job(NamedTuple):
    """What every block of a group needs (static parts first)."""

    f: Any
    spec: Spec
    every: int
    fields: tuple[str, ...]
    diagnostics: bool
    total: Any
    tol_grad: Any
    f_target: Any
    below: Any
    noise: Any


def _fast_step(job: _Job, opt, c: _Carry, low, diagnostics: bool):
    """One unmasked update (no status, stop or target bookkeeping).

    The value it carries is f, or NaN from the first step on which the run would have stopped or
    diverged (x, f or ∇f non-finite, ‖∇f‖ < tol_grad, f < f_target): NaN stays NaN, so one test
    of the block's last value tells whether any step needs the exact path. `low` (or None) keeps
    the least value seen when target hits must be watched without a per-step record.
    """
    x, v, g, norm, state, per_step, out = _update(
        job.f, job.spec, opt, c, job.noise, job.total, diagnostics
    )
    ok = jnp.isfinite(v) & _all_finite(x) & _all_finite(g)
    ok = ok & ~jnp.isnan(c.value) & ~_converged(v, norm, job.tol_grad, job.f_target)
    u = jnp.where(ok, v, jnp.nan)
    evals = c.evals + per_step if job.spec.counts_extra_evals else c.evals
    new = c._replace(x=x, value=u, grad=g, opt_state=state, evals=evals, t=c.t + 1)
    return new, None if low is None else jnp.minimum(low, u), out


def _rest(job: _Job) -> jax.Array:
    """every − 1, the steps of a record block after its first, as a number XLA cannot see: with a
    known trip count it unrolls short loops and fuses consecutive steps, contracting a·b + c into
    FMAs differently in the exact and the fast step (ulp-level differences)."""
    return jnp.minimum(job.every - 1, job.total)


def _exact_block(job: _Job, opt, c: _Carry, cut: Callable):
    """One record block of `every` exact steps: (carry, `cut` of its records, see `_kept`)."""
    step = lambda c, diagnostics: _step(  # noqa: E731
        job.f,
        job.spec,
        opt,
        c,
        job.total,
        job.tol_grad,
        job.f_target,
        job.below,
        job.noise,
        diagnostics,
    )
    c, out = step(c, job.diagnostics)
    if job.every > 1:
        c = jax.lax.fori_loop(0, _rest(job), lambda _, c: step(c, False)[0], c)
    return c, cut(out | _observe(c, job.fields, job.spec.counts_extra_evals))


def _exact_blocks(job: _Job, opt, c: _Carry, n, cut: Callable, out: dict, write: Callable, at):
    """n (may be traced) record blocks of exact steps for one run, block i's records written in
    place by `write(out, rec, at + i)`: (carry, out)."""

    def block(i, state):
        c, rec = _exact_block(job, opt, state[0], cut)
        return c, write(state[1], rec, at + i)

    return jax.lax.fori_loop(0, n, block, (c, out))


STACKED = "diagnostics"  # the record holding the DIAGNOSTICS, stacked (3, runs)


def _kept(keep: int | None) -> Callable:
    """Per-run records (vmapped over RUNS) -> the first `keep` runs' (None: all), stacked on a
    leading axis and no longer mapped: inside the scan, so the padding lanes of a lone run are
    not written at all. The three diagnostics become one record, STACKED (3, runs kept): one
    write a step instead of three."""

    def cut(a: jax.Array) -> jax.Array:
        return jax.lax.all_gather(a, RUNS)[:keep]

    def kept(rec: dict) -> dict:
        out = {k: cut(v) for k, v in rec.items() if k not in DIAGNOSTICS}
        if DIAGNOSTICS[0] in rec:
            out[STACKED] = jnp.stack([cut(rec[k]) for k in DIAGNOSTICS])
        return out

    return kept


def _first_hits(c0: _Carry, values, below):
    """`hit` after a kept fast block whose per-step values (S,) were `values`: the first step
    t (counted from c0.steps, every step taken) with f ≤ below[k], for targets not hit before."""
    reached = values[:, None] <= below[None, :]  # (S, K)
    first = jnp.argmax(reached, axis=0).astype(c0.hit.dtype)
    step = c0.steps + 1 + first
    return jnp.where((c0.hit < 0) & jnp.any(reached, axis=0), step, c0.hit)


def _fast_blocks(job: _Job, opt, c0: _Carry, n, per: int, cut: Callable, out, write, at):
    """n (traced: 0 or `per`) record blocks of unmasked steps for one run, block i's records
    written in place by `write(out, rec, at + i)`: (carry, out, whether to redo exactly).

    A run frozen at the start records its frozen state (NaN diagnostics) at every step and is
    put back at the end, so only runs live at the start count; the blocks stand when none of
    them stopped or diverged in them. With n = 0 the carry is c0 and `out` is unchanged.
    Target hits are then read off the per-step loss record (every = 1) and are exact; without it,
    or when hits need per-step evaluation counts, a new hit is redone exactly too.
    """
    counted = job.spec.counts_extra_evals
    targets = job.below.shape[0] > 0
    from_record = targets and job.every == 1 and "loss" in job.fields and not counted
    watch = targets and not from_record

    live = c0.status == RUNNING
    frozen = _observe(c0, job.fields, counted)

    def block(i, state):
        c, low, losses, out = state
        c, low, diagnosed = _fast_step(job, opt, c, low, job.diagnostics)
        if job.every > 1:
            body = lambda _, cl: _fast_step(job, opt, *cl, False)[:2]  # noqa: E731
            c, low = jax.lax.fori_loop(0, _rest(job), body, (c, low))
        rec = diagnosed | _observe(c, job.fields, counted)
        # a run frozen at the start records its frozen state (and NaN diagnostics)
        kept = {k: jnp.where(live, v, frozen.get(k, jnp.nan)) for k, v in rec.items()}
        if from_record:
            losses = losses.at[i].set(rec["loss"])
        return c, low, losses, write(out, cut(kept), at + i)

    low0 = jnp.full_like(c0.value, jnp.inf) if watch else None
    losses0 = jnp.full((per,), jnp.inf, c0.value.dtype) if from_record else None
    c, low, losses, out = jax.lax.fori_loop(0, n, block, (c0, low0, losses0, out))
    redo = jnp.isnan(c.value)
    hit = c0.hit
    if watch:
        unhit = jnp.max(jnp.where(c0.hit < 0, job.below, -jnp.inf), initial=-jnp.inf)
        redo = redo | (low <= unhit)
    elif from_record:
        hit = _first_hits(c0, losses, job.below)
    keep = lambda new, old: jnp.where(live, new, old)  # noqa: E731
    c = c._replace(
        x=keep(c.x, c0.x),
        value=keep(c.value, c0.value),
        grad=keep(c.grad, c0.grad),
        evals=keep(c.evals, c0.evals),
        hit=keep(hit, c0.hit),
        steps=c0.steps + live * (n * job.every),
    )
    return c, out, live & redo


BLOCK = 16  # steps of a fast block (rounded to whole record blocks)
BACKOFF = 32  # at most this many blocks go straight to the exact step after a redo
FAST_WORK = 1 << 20  # trajectory-steps per device from which a job compiles the fast blocks
RUNS = "runs"  # the vmapped run axis (one decision per block for all runs of a group)


def fast_span(every: int) -> int:
    """Record blocks per fast block: ~BLOCK steps, whole record blocks (a call's blocks are a
    multiple of it)."""
    return max(1, BLOCK // every)


def _any_run(flags: jax.Array) -> jax.Array:
    """Whether `flags` holds for any run of the group (a collective over RUNS: one scalar)."""
    return jax.lax.pmax(flags.astype(jnp.int32), RUNS) > 0


def _write(out: dict, rec: dict, row, shifted: tuple[str, ...] = (), rows: bool = False) -> dict:
    """`out` with the records `rec` of one record block (`rows`: of several) written in place at
    `row`, a row further for the fields in `shifted` (whose row 0 is the start)."""
    put = jax.lax.dynamic_update_slice_in_dim if rows else jax.lax.dynamic_update_index_in_dim
    return {k: put(o, rec[k], row + (k in shifted), 0) for k, o in out.items()}


def _advance(
    job: _Job,
    opt,
    c: _Carry,
    blocks: int,
    fast: bool,
    keep: int | None,
    first=None,
    staged: bool = False,
):
    """`blocks` record blocks of one run (vmapped over RUNS), recording the state after each:
    records (blocks, runs kept, ...), not mapped over RUNS (see `_kept`), after `first` (runs
    kept, ...), the records of the start, when given.

    Blocks of ~BLOCK steps run unmasked (`_fast_blocks`) and are redone exactly (`_exact_blocks`)
    when a live run of the group stopped or diverged in them (or, see `_fast_blocks`, hit a
    target), and the block crossing the job's end is exact; after a redo the next blocks go
    straight to the exact step, for up to BACKOFF blocks (doubling), so jobs whose runs stop
    often cost little more than the exact step. The decision is one for all runs (a collective
    over RUNS), so it stays a scalar under vmap: it sets the trip counts of the fast and the exact
    loop (0 or the blocks), not a `lax.cond`, whose branches would return their records to be
    copied into the job's buffers. Optimizers with extra evaluations (line searches, Hessians),
    whose step dwarfs the bookkeeping, take the exact step only, and so do all without `fast`
    (small jobs: it would double the compiled program for little gain).

    Records stay time-major, as the steps make them, each step's written once, in place, into
    the job's buffers (a redone block overwrites the fast block's rows): the host reads them
    run-major through transposed views (see `run`), so no pass over them copies, transposes or
    concatenates. `staged` (accelerators, see `_staged`): the blocks run with known trip counts
    inside `lax.cond` branches, into a block's buffer then copied into the job's.
    """
    per, cut = fast_span(job.every), _kept(keep)
    first = {} if first is None else first
    shapes = jax.eval_shape(lambda c: _exact_block(job, opt, c, cut), c)[1]
    out = {k: jnp.empty(((k in first) + blocks, *a.shape), a.dtype) for k, a in shapes.items()}
    out |= {k: out[k].at[0].set(v) for k, v in first.items()}

    write = functools.partial(_write, shifted=tuple(first))

    if not fast or job.spec.counts_extra_evals or blocks % per:
        return _exact_blocks(job, opt, c, blocks, cut, out, write, 0)
    span = per * job.every

    def in_place(c0, straight, out, block):
        """`per` record blocks from `block` on: fast, then redone exactly from the same carry
        when a live run stopped in them; either loop runs 0 times when not needed."""
        tries = jnp.where(straight, 0, per)
        cf, out, redo = _fast_blocks(job, opt, c0, tries, per, cut, out, write, block)
        failed = ~straight & _any_run(redo)
        again = straight | failed
        ce, out = _exact_blocks(job, opt, c0, jnp.where(again, per, 0), cut, out, write, block)
        return jax.tree.map(lambda e, f: jnp.where(again, e, f), ce, cf), out, failed

    def in_stage(c0, straight, out, block):
        """`in_place`'s blocks with known trip counts, chosen by `lax.cond`, into a stage."""
        stage = {k: jnp.empty((per, *o.shape[1:]), o.dtype) for k, o in out.items()}
        exact = lambda c: _exact_blocks(job, opt, c, per, cut, stage, _write, 0)  # noqa: E731

        def attempt(c):
            cf, rf, redo = _fast_blocks(job, opt, c, per, per, cut, stage, _write, 0)
            redo = _any_run(redo)
            return *jax.lax.cond(redo, exact, lambda _: (cf, rf), c), redo

        c, rec, failed = jax.lax.cond(straight, lambda c: (*exact(c), False), attempt, c0)
        return c, write(out, rec, block, rows=True), failed

    def body(state, block):
        c0, skip, wait, out = state
        straight = (skip > 0) | (jax.lax.pmax(c0.t, RUNS) + span > job.total)
        c, out, failed = (in_stage if staged else in_place)(c0, straight, out, block)
        wait = jnp.where(failed, jnp.minimum(2 * wait, BACKOFF), jnp.where(straight, wait, 1))
        skip = jnp.where(failed, wait, jnp.maximum(skip - 1, 0))
        return (c, skip, wait, out), None

    one = jnp.ones([], jnp.int32)
    starts = per * jnp.arange(blocks // per, dtype=jnp.int32)
    (c, _, _, out), _ = jax.lax.scan(body, (c, 0 * one, one, out), starts)
    return c, out


def _program(
    surface,
    specs,
    hparams,
    states,
    total,
    tol_grad,
    f_target,
    below,
    noise,
    seeds,
    *,
    fresh,
    blocks,
    every,
    fields,
    diagnostics,
    sharding,
    fast,
    keep,
    staged=False,
):
    """All groups, each vmapped over its runs: (final carries, records) per group.

    `fresh`: `states` are starts (R, d) and the records begin with step 0; else carries of an
    earlier call, continued. `seeds` (R,) per group key the runs' noise (None without noise).
    `keep` per group: the runs whose records are returned (None: all; see `_kept`).
    """
    carries, records = [], []
    for spec, hp, s, seed, k in zip(specs, hparams, states, seeds, keep, strict=True):
        job = _Job(
            surface, spec, every, fields, diagnostics, total, tol_grad, f_target, below, noise
        )

        def one(h, s, seed, job=job, k=k):
            opt = job.spec.build(h)
            if fresh:
                c0 = _init(surface, opt, s, tol_grad, f_target, below)
                c0 = c0._replace(seed=seed, hash=_run_hash(noise, seed))
            else:
                c0 = s
            first = None
            if fresh:
                first = _kept(k)(_observe(c0, fields, job.spec.counts_extra_evals))
            return _advance(job, opt, c0, blocks, fast, k, first, staged)

        # a hyperparameter shared by every run is a scalar, not mapped: Adam's b1**t is then one
        # power per step, not one per run
        axes = {k: 0 if jnp.ndim(v) else None for k, v in hp.items()}
        vmapped = jax.vmap(one, in_axes=(axes, 0, 0), out_axes=(0, None), axis_name=RUNS)
        c, rec = vmapped(hp, s, seed)  # records (T, kept runs, ...)
        carries.append(c)
        records.append(rec)
    carries, records = tuple(carries), tuple(records)
    if sharding is not None:
        carries = jax.lax.with_sharding_constraint(carries, sharding)
        records = jax.lax.with_sharding_constraint(records, _by_step(records, sharding.mesh))
    return carries, records


def _by_step(records: tuple[dict, ...], mesh) -> tuple[dict, ...]:
    """Shardings of the records, (T, runs, ...) or STACKED (T, 3, runs): the runs split."""
    return tuple(
        {k: devices_.split_runs(mesh, axis=2 if k == STACKED else 1) for k in group}
        for group in records
    )


program = jax.jit(
    _program,
    static_argnames=(
        "specs",
        "fresh",
        "blocks",
        "every",
        "fields",
        "diagnostics",
        "sharding",
        "fast",
        "keep",
        "staged",
    ),
)


def record_steps(steps: int, every: int) -> np.ndarray:
    """The step numbers kept with `record_every=every`: 0, every, 2·every, …, and `steps`."""
    return np.minimum(np.arange(math.ceil(steps / every) + 1) * every, steps)


def bytes_per_run(
    dim: int,
    steps: int,
    every: int,
    fields: Sequence[str],
    diagnostics: bool,
    itemsize: int,
    counted: bool = False,
) -> int:
    """Bytes of the per-step records of one run (the arrays that grow with the steps); `counted`:
    the three int32 evaluation counts are recorded too (optimizers with extra evaluations)."""
    width = {"params": dim, "loss": 1, "grad": dim, "grad_norm": 1}
    per_step = (sum(width[k] for k in fields) + 3 * diagnostics) * itemsize + 12 * counted
    return (math.ceil(steps / every) + 1) * per_step


def recorded_runs(runs: int, lanes: int = LANES, n_dev: int = 1) -> int:
    """The runs whose records a group of `runs` allocates: all of them alone on one device when
    fewer than `lanes` (the padding lanes are computed, not recorded: see `_kept`), else every
    padded lane."""
    return runs if n_dev == 1 and runs < lanes else devices_.pad_to(runs, n_dev * lanes)


def check_fits(runs: int, steps: int, need: int) -> None:
    """A UserError when a job of `runs` × `steps` needing `need` bytes exceeds 80% of the host's
    available memory (checked before anything of that size is allocated)."""
    have = devices_.host_memory()
    if need > 0.8 * have:
        raise UserError(
            f"the records of {runs} runs × {steps} steps need {need / 2**30:.1f} GiB but "
            f"{have / 2**30:.1f} GiB is available: keep fewer fields (record=loss) or every k-th "
            "step (record_every=k), or use fewer runs or dimensions"
        )


def thresholds(f_min: float | None, targets: Sequence[float], dtype: Any) -> np.ndarray:
    """Per target t, the largest value v of `dtype` with float64(v) − f* ≤ t (−inf: f* unknown).

    So the engine's test `f ≤ threshold`, made in the run's dtype, is exactly the host's test on
    the recorded loss, f − f* ≤ t in float64.
    """
    dt = np.dtype(dtype)
    out = np.full(len(targets), -np.inf, dt)
    if f_min is None:
        return out
    reached = lambda v: np.float64(v) - f_min <= t  # noqa: E731
    for k, t in enumerate(targets):
        v = dt.type(f_min + t)
        while not reached(v) and np.isfinite(v):
            v = np.nextafter(v, dt.type(-np.inf))
        while np.isfinite(v) and reached(up := np.nextafter(v, dt.type(np.inf))) and up != v:
            v = up
        out[k] = v
    return out


def auto_chunk(runs_bytes: int, devices: Sequence[jax.Device]) -> int:
    """Runs per program call that keep its records within half of each device's free memory."""
    budget = sum(devices_.memory(d) for d in devices) // 2
    return max(len(devices), budget // max(runs_bytes, 1))


def _fetch(tree):
    """Device arrays to host NumPy (gathered from every process under `jax.distributed`)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return multihost_utils.process_allgather(tree, tiled=True)
    return jax.device_get(tree)


def _per_run(value, runs: int, index: np.ndarray, put, split, whole):
    """A hyperparameter's values for the runs `index`: one replicated scalar when all are equal."""
    v = np.broadcast_to(value, (runs,))
    return put(v[0], whole) if np.all(v == v[0]) else put(v[index], split)


def _join(parts: list[np.ndarray], axis: int, n: int) -> np.ndarray:
    a = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
    return a if a.shape[axis] == n else a[(slice(None),) * axis + (slice(0, n),)]


def _staged(devices: Sequence[jax.Device]) -> bool:
    """Whether the fast blocks run staged (see `_advance`): on accelerators, where XLA waits for
    the device at every iteration of a loop whose trip count it does not know (the predicate is
    read on the host), and a `lax.cond` costs one such wait; XLA:CPU's loops and branches cost
    nothing of the kind, and writing in place saves copying every record once."""
    return devices[0].platform != "cpu"


def run(
    surface: Surface,
    groups: Sequence[Group],
    steps: int,
    *,
    diagnostics: bool = True,
    tol_grad: float = 0.0,
    target: float | None = None,
    dtype: Any = jnp.float32,
    record: Sequence[str] = DEFAULT_RECORD,
    record_every: int = 1,
    devices: Sequence[jax.Device] | None = None,
    chunk_size: int | None = None,
    step_chunks: int = 1,
    on_chunk: Callable[[int], None] | None = None,
    lanes: int = LANES,
    targets: Sequence[float] = (),
    noise: Any = None,
    fast: bool | None = None,
) -> Trajectory:
    """Run every group for `steps` steps in one compiled program; return host (NumPy) arrays.

    A run stops (and stays frozen) when ‖∇f‖ < `tol_grad`, or f − f* < `target` where f* is known;
    a run whose value, gradient or parameters turn non-finite is frozen at its last finite state.

    `record` names the per-step fields kept (of FIELDS) and `record_every` keeps every k-th step.
    The run axis is sharded over `devices` (default: JAX's default device) and padded to a
    multiple of `lanes` × their number (`lanes=1`: XLA:CPU's scalar code for a lone run, at the
    price of ulp-level differences from the same run in a batch); `chunk_size` runs per group go
    through the program at a time (None: as many as half the devices' memory holds).
    `step_chunks` > 1 splits the scan into that many calls, after each of which
    `on_chunk(trajectory_steps_done)` is called.

    `targets` (K,): thresholds on f − f* whose first hit (step and evaluation counts) each run
    records (see Trajectory). `noise`: the oracle the optimizer sees (module docstring).

    `fast`: also compile the unmasked fast blocks (see `_advance`: the same numbers, bit for bit,
    in less time per step, for twice the compile time); None: when a device's share of the
    largest group is at least FAST_WORK trajectory-steps.
    """
    fields = tuple(f for f in FIELDS if f in record)
    unknown = set(record) - set(FIELDS)
    if unknown:
        raise UserError(f"record={list(record)!r} is invalid: allowed fields: {', '.join(FIELDS)}")
    if record_every < 1 or steps < 1 or step_chunks < 1:
        raise UserError("steps, record_every and step_chunks must be integers >= 1")
    if chunk_size is not None and chunk_size < 1:
        raise UserError(f"chunk_size={chunk_size!r} is invalid: must be an integer >= 1 (or null)")
    devs = list(devices or jax.devices()[:1])
    n_dev = len(devs)
    mesh = devices_.mesh(devs)
    split, whole = devices_.split_runs(mesh), devices_.replicated(mesh)
    blocks = math.ceil(steps / record_every)
    per_call = devices_.pad_to(math.ceil(blocks / step_chunks), fast_span(record_every))
    calls = math.ceil(blocks / per_call)
    itemsize = np.dtype(dtype).itemsize
    counted = any(g.spec.counts_extra_evals for g in groups)
    run_bytes = bytes_per_run(
        surface.dim, steps, record_every, fields, diagnostics, itemsize, counted
    )
    sizes = [len(np.asarray(g.starts)) for g in groups]
    unit = n_dev * lanes
    check_fits(sum(sizes), steps, sum(recorded_runs(r, lanes, n_dev) for r in sizes) * run_bytes)
    if chunk_size is None:
        chunk_size = auto_chunk(run_bytes, devs)
    widths = [min(devices_.pad_to(chunk_size, unit), devices_.pad_to(r, unit)) for r in sizes]
    run_chunks = max(math.ceil(r / w) for r, w in zip(sizes, widths, strict=True))

    put = lambda a, s: jax.device_put(np.asarray(a, dtype=dtype), s)  # noqa: E731
    f_target = -np.inf if target is None or surface.f_min is None else surface.f_min + target
    shared = (
        jax.device_put(surface.astype(dtype), whole),
        jax.device_put(np.int32(steps), whole),
        put(tol_grad, whole),
        put(f_target, whole),
        jax.device_put(thresholds(surface.f_min, targets, dtype), whole),
        None if noise is None else jax.device_put(_cast(noise, dtype), whole),
    )
    seeds = [None if noise is None else _seeds(g) for g in groups]
    specs = tuple(g.spec for g in groups)
    static = dict(
        blocks=per_call,
        every=record_every,
        fields=fields,
        diagnostics=diagnostics,
        sharding=split if n_dev > 1 else None,
        fast=fast if fast is not None else max(widths) // n_dev * steps >= FAST_WORK,
        staged=_staged(devs),
        # a group smaller than its padding records its own runs only
        keep=tuple(
            r if recorded_runs(r, lanes, n_dev) < w else None
            for r, w in zip(sizes, widths, strict=True)
        ),
    )
    recs = [[] for _ in groups]  # per group: per run chunk: per-field arrays
    finals = [[] for _ in groups]
    for i in range(run_chunks):
        idx = [
            np.minimum(np.arange(i * w, (i + 1) * w), r - 1)
            for r, w in zip(sizes, widths, strict=True)
        ]
        hp = tuple(
            {k: _per_run(v, r, j, put, split, whole) for k, v in g.hparams.items()}
            for g, j, r in zip(groups, idx, sizes, strict=True)
        )
        states = tuple(
            put(np.asarray(g.starts)[j], split) for g, j in zip(groups, idx, strict=True)
        )
        keys = tuple(
            None if k is None else jax.device_put(k[j], split)
            for k, j in zip(seeds, idx, strict=True)
        )
        pending = []
        for c in range(calls):  # dispatched ahead (async): the device never waits for the host
            states, rec = program(
                shared[0], specs, hp, states, *shared[1:], keys, fresh=c == 0, **static
            )
            pending.append(rec)
        done = sum(min(w, max(r - i * w, 0)) for r, w in zip(sizes, widths, strict=True))
        parts = []
        for c, rec in enumerate(pending):
            parts.append([{k: _run_major(k, a) for k, a in g.items()} for g in _fetch(rec)])
            if on_chunk is not None:
                first, last = (min(n * per_call * record_every, steps) for n in (c, c + 1))
                on_chunk(done * (last - first))
        ends = _fetch([{k: getattr(s, k) for k in _FINAL} for s in states])
        ends = [
            e if g.spec.counts_extra_evals else _derive(e)
            for e, g in zip(ends, groups, strict=True)
        ]
        for g in range(len(groups)):
            recs[g].append(
                {
                    k: _join([p[g][k] for p in parts], 1, blocks + (k in (*fields, "evals")))
                    for k in parts[0][g]
                }
            )
            finals[g].append(ends[g])
    traj = _assemble(recs, finals, sizes, fields, diagnostics, blocks, steps, record_every, dtype)
    return traj._replace(targets=np.asarray(targets, dtype=float))


def _run_major(key: str, a: np.ndarray) -> np.ndarray:
    """A record as the device leaves it, (T, runs, ...) or STACKED (T, 3, runs), as a view
    (runs, T, ...)."""
    return np.moveaxis(a, 2, 0) if key == STACKED else np.swapaxes(a, 0, 1)


def _derive(end: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluation counts of runs whose every step costs one f and one ∇f (no extra evaluations):
    (1 + s, 1 + s, 0) after s steps, at the end and at each target's hit (−1: never)."""
    per = lambda s: np.stack([1 + s, 1 + s, np.zeros_like(s)], axis=-1).astype(np.int32)  # noqa: E731
    hit = end["hit"]
    return end | {
        "evals": per(end["steps"]),
        "hit_evals": np.where(hit[..., None] >= 0, per(hit), -1).astype(np.int32),
    }


def _cast(tree: Any, dtype: Any) -> Any:
    """`tree` with its floating-point leaves cast to `dtype` (integer leaves kept)."""
    return jax.tree.map(
        lambda a: np.asarray(a, dtype) if np.issubdtype(np.asarray(a).dtype, np.floating) else a,
        tree,
    )


def _seeds(g: Group) -> np.ndarray:
    """The runs' noise seeds (R,) as uint32 (default 0); a UserError outside [0, 2³²)."""
    n = len(np.asarray(g.starts))
    seeds = np.zeros(n, np.int64) if g.seeds is None else np.asarray(g.seeds)
    if (
        seeds.shape != (n,)
        or not np.issubdtype(seeds.dtype, np.integer)
        or np.any(seeds < 0)
        or np.any(seeds >= 2**32)
    ):
        raise UserError(
            f"seeds={seeds.tolist()!r} is invalid: one integer in [0, 2**32) per run ({n} runs)"
        )
    return seeds.astype(np.uint32)


def _norm(a: np.ndarray) -> np.ndarray:
    """‖a‖ over the last axis, bitwise np.linalg.norm's; a finite but huge vector's norm is
    honestly inf (no warning). Up to UNROLL coordinates the squares are summed left to right per
    coordinate, as NumPy sums them, ~5× faster than its reduction over a short minor axis."""
    with np.errstate(over="ignore"):
        if a.shape[-1] > UNROLL:
            return np.linalg.norm(a, axis=-1)
        sq = a[..., 0] * a[..., 0]
        for i in range(1, a.shape[-1]):
            sq += a[..., i] * a[..., i]
        return np.sqrt(sq)


def _assemble(recs, finals, sizes, fields, diagnostics, blocks, steps, every, dtype) -> Trajectory:
    """Per-group, per-chunk host pieces -> one Trajectory with padding dropped."""

    def cat(pieces, key):
        groups = [
            _join([p[key] for p in chunks], 0, r) for chunks, r in zip(pieces, sizes, strict=True)
        ]
        return groups[0] if len(groups) == 1 else np.concatenate(groups)

    out = {k: cat(recs, k) for k in fields}
    for k in ("params", "loss", "grad", "grad_norm"):
        out.setdefault(k, None)
    if out["grad"] is not None:
        out["grad_norm"] = _norm(out["grad"])
    if diagnostics:  # views of the stacked record (R, T, 3)
        stacked = cat(recs, STACKED)
        out |= {k: stacked[..., i] for i, k in enumerate(DIAGNOSTICS)}
    else:
        nan = np.broadcast_to(np.asarray(np.nan, dtype=dtype), (sum(sizes), blocks))
        out |= dict.fromkeys(DIAGNOSTICS, nan)
    status, evals = cat(finals, "status"), cat(finals, "evals")
    at = record_steps(steps, every)
    steps_taken = cat(finals, "steps")
    cum = _cumulative(recs, sizes, at, steps_taken)
    return Trajectory(
        **out,
        status=np.where(status == RUNNING, MAX_STEPS, status),
        steps_taken=steps_taken,
        f_evals=evals[:, 0],
        grad_evals=evals[:, 1],
        hessian_evals=evals[:, 2],
        final_params=cat(finals, "x"),
        final_loss=cat(finals, "value"),
        final_grad_norm=_norm(cat(finals, "grad")),
        hit_step=cat(finals, "hit"),
        hit_evals=cat(finals, "hit_evals"),
        cum_f_evals=cum[0],
        cum_grad_evals=cum[1],
        cum_hessian_evals=cum[2],
        record_steps=at,
    )


def _cumulative(recs, sizes, at, steps_taken) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f, ∇f, ∇²f) evaluation counts (R, T'+1) each at the recorded steps `at`: recorded in the
    scan for groups whose optimizer makes extra evaluations, else exactly (1 + s, 1 + s, 0) with s
    the steps taken by then, min(step, steps_taken) (a run takes its steps first, then stays
    frozen); derived counts may be read-only views, the ∇f counts the f counts' array."""
    one_plus = (1 + at).astype(np.int32)
    if np.all(steps_taken >= at[-1]):  # no run stopped early: every row is 1 + at
        derived = np.broadcast_to(one_plus, (len(steps_taken), len(at)))
    else:
        derived = np.minimum(one_plus[None, :], (1 + steps_taken).astype(np.int32)[:, None])
    if not any("evals" in chunk for group in recs for chunk in group):
        return derived, derived, np.broadcast_to(np.int32(0), derived.shape)
    out, start = np.stack([derived, derived, np.zeros_like(derived)], axis=-1), 0
    for group, r in zip(recs, sizes, strict=True):
        if "evals" in group[0]:
            out[start : start + r] = _join([chunk["evals"] for chunk in group], 0, r)
        start += r
    return out[..., 0], out[..., 1], out[..., 2]
