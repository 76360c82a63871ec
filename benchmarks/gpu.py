"""optlab's engine on one accelerator, against a bare vmap×scan and the memory-bandwidth bound.

    python benchmarks/gpu.py                                  # 2²⁰ Adam runs × 2,000 steps (issue 15)
    python benchmarks/gpu.py --runs 4096 --steps 200 --repeats 2 --copy-mib 64   # a CPU smoke test

Measures on JAX's default device, each time the best of `--repeats` calls after a warm-up call:
the engine (`optlab.engine.run`, loss recorded every `--every` steps), the same job as a bare
`jax.vmap` of a blocked `lax.scan` (the same records, no masking, stopping or counting), the
device's copy bandwidth, and from it the bound on trajectory-steps/s of a program that reads and
writes its per-run loop state once per step. Prints a Markdown table and a JSON line; with $OUT
set, writes both to $OUT/gpu_bench.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine as bench  # (benchmarks/engine.py: adam_group, best, LR, FLOPS_PER_STEP)
import jax
import jax.numpy as jnp
import jaxlib
import numpy as np
import optax

from optlab import engine, surfaces

LOSS, ALL = ("loss",), ("params", "loss", "grad")
FP32_TFLOPS = {"H200": 67.0, "H100": 67.0}  # datasheet fp32 (non-tensor) peaks, by device name
HBM_TBPS = {"H200": 4.8, "H100": 3.35}  # datasheet memory bandwidths
OLD_ALL_FIELDS = 4.7e8  # the last GPU figure before issue 15, every field recorded (issue 15)


def state_bytes(dim: int, itemsize: int = 4, int_size: int = 4) -> int:
    """Bytes of one run's loop state: x, Adam's m and v, ∇f (d each) and f in floats; Adam's
    step count, the run's status, its step count and t (steps simulated) in int32."""
    return (4 * dim + 1) * itemsize + 4 * int_size


def bound(bandwidth: float, dim: int) -> float:
    """Trajectory-steps/s of a program that reads and writes its loop state once per step:
    bandwidth (bytes/s) / (2 · state_bytes)."""
    return bandwidth / (2 * state_bytes(dim))


def starts(runs: int) -> np.ndarray:
    """`runs` starts uniform in [-2, 2]² (benchmarks/engine.py's `starts_4096` at any size)."""
    key = jax.random.key(0)
    return np.asarray(jax.random.uniform(key, (runs, 2), minval=-2.0, maxval=2.0), dtype=float)


def block_scan(s, steps: int, every: int, fields: tuple[str, ...]):
    """The baseline: `jax.vmap` of a `lax.scan` over blocks of `every` Adam steps (value_and_grad
    + optax), recording `fields` at steps 0, every, 2·every, …, steps: no masking, stopping,
    counting or checks, and no (runs, steps) arrays."""
    if steps % every:
        raise ValueError(f"steps={steps} must be a multiple of every={every}")
    opt = optax.adam(bench.LR)

    def step(c):
        x, state = c
        v, g = jax.value_and_grad(s)(x)
        u, state = opt.update(g, state, x)
        return (optax.apply_updates(x, u), state), {"params": x, "loss": v, "grad": g}

    def one(x0):
        def block(c, _):
            c, rec = step(c)  # the block's first step records its starting point
            c = jax.lax.fori_loop(1, every, lambda _, c: step(c)[0], c)
            return c, {k: rec[k] for k in fields}

        (x, _), rec = jax.lax.scan(block, (x0, opt.init(x0)), length=steps // every)
        v, g = jax.value_and_grad(s)(x)
        last = {"params": x, "loss": v, "grad": g}
        return {k: jnp.concatenate([rec[k], last[k][None]]) for k in fields}

    return jax.jit(jax.vmap(one))


def copy_bandwidth(mib: int, repeats: int) -> float:
    """Bytes/s of `a + 1` over a float32 array of `mib` MiB (bytes read + written / time), the
    input donated so that every call writes into the same buffer (no fresh pages)."""
    add = jax.jit(lambda a: a + 1.0, donate_argnums=0)
    a = [add(jnp.zeros(mib * 2**20 // 4, jnp.float32))]

    def once():
        a[0] = jax.block_until_ready(add(a[0]))

    once()
    return 2 * a[0].nbytes / bench.best(once, max(repeats, 10))


def timed(fn, repeats: int, budget: float = 20.0) -> tuple[object, float]:
    """fn's result and its best time: a warm-up call, then up to `repeats` timed calls that
    stop once they would pass `budget` seconds (a slow program still ends in time)."""
    t = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t
    return result, bench.best(fn, max(1, min(repeats, int(budget / first))))


def measure(runs: int, steps: int, every: int, repeats: int) -> dict:
    """Trajectory-steps/s of the block scan and of the engine, loss only and every field; an
    engine failure is printed and measured as NaN (the check cannot be rerun on the device)."""
    s = surfaces.get("rosenbrock", dim=2)
    x0 = starts(runs)
    group = bench.adam_group(x0)
    xd = jax.device_put(jnp.asarray(x0, jnp.float32))
    kw = dict(diagnostics=False, tol_grad=0.0, record_every=every, devices=jax.devices()[:1])
    out = {}
    for name, fields in (("loss", LOSS), ("all", ALL)):
        base = block_scan(s, steps, every, fields)
        got, t_base = timed(lambda base=base: jax.device_get(base(xd)), repeats)
        m = out[name] = dict(optlab=math.nan, baseline=runs * steps / t_base, agree=None)
        print(f"bare scan, record={','.join(fields)}: {m['baseline']:.3g} /s", flush=True)
        try:
            traj, t_eng = timed(
                lambda fields=fields: engine.run(s, [group], steps, record=fields, **kw), repeats
            )
        except Exception:
            traceback.print_exc()
            continue
        m["optlab"] = runs * steps / t_eng
        # the same computation: the first two records (steps 0 and `every`) agree closely
        m["agree"] = bool(np.allclose(traj.loss[:, :2], got["loss"][:, :2], rtol=1e-3, atol=1e-4))
        print(f"engine, record={','.join(fields)}: {m['optlab']:.3g} /s", flush=True)
    return out


def fast_path(runs: int, steps: int, every: int, repeats: int) -> dict:
    """On this device: whether the fast blocks give the exact step's numbers bit for bit (a
    4,096-run job whose runs converge, diverge and hit targets at many steps), and the loss-only
    job's rate with the update's isolation (a run-time branch per step, for XLA:CPU's FMA
    contraction) switched off, to show what that branch costs here."""
    s = surfaces.get("rosenbrock", dim=2)
    out = {}
    try:
        g = bench.adam_group(starts(4096), learning_rate=0.05)
        kw = dict(tol_grad=1e-3, targets=(1e-2, 1e-4, 1e-6), devices=jax.devices()[:1])
        a = engine.run(s, [g], 500, fast=False, **kw)
        b = engine.run(s, [g], 500, fast=True, **kw)
        same = all(
            x is None or np.array_equal(np.asarray(x), np.asarray(getattr(b, k)), equal_nan=True)
            for k, x in a._asdict().items()
        )
        out["fast_equals_exact"] = bool(same)
        print(f"fast blocks == exact step, bit for bit: {same}", flush=True)
        isolated = engine._isolated
        engine._isolated = lambda fn, off, args, on: fn(*args)
        try:
            group = bench.adam_group(starts(runs))
            kw = dict(diagnostics=False, tol_grad=0.0, record_every=every, record=LOSS)
            _, t = timed(lambda: engine.run(s, [group], steps, **kw), repeats)
            out["optlab_unisolated"] = runs * steps / t
            print(f"engine without the isolation branch: {out['optlab_unisolated']:.3g} /s")
        finally:
            engine._isolated = isolated
    except Exception:
        traceback.print_exc()
    return out


def rows(m: dict, bandwidth: float, kind: str) -> list[tuple[str, float, float, str]]:
    """(item, optlab, baseline, note) lines of the table."""
    b = bound(bandwidth, 2)
    name = next((k for k in HBM_TBPS if k in kind), None)
    loss, every = m["loss"], m["every"]
    out = [
        (
            f"a/b. {m['runs']:,} Adam runs × {m['steps']:,} steps, loss every {every} "
            "(trajectory-steps/s)",
            loss["optlab"],
            loss["baseline"],
            "baseline: bare `jax.vmap` × blocked `lax.scan`, same records; target ≥ 1e10 and "
            f"≥ 0.6× (records agree: {loss['agree']})",
        ),
        (
            "c. the engine vs the memory-bandwidth bound (trajectory-steps/s)",
            loss["optlab"],
            b,
            f"bound = {bandwidth / 1e9:.0f} GB/s copy bandwidth / {2 * state_bytes(2)} B per "
            f"run-step (loop state of {state_bytes(2)} B read and written once per step; "
            f"{m['runs'] * state_bytes(2) / 1e6:.3g} MB in all: a state that stays in cache "
            "can beat this bound)",
        ),
        (
            "c. the bare scan vs the memory-bandwidth bound (trajectory-steps/s)",
            loss["baseline"],
            b,
            "the same bound (the bare scan's own state, x, m, v and a count, is "
            f"{(3 * 2 + 1) * 4} B)",
        ),
    ]
    if name:
        out.append(
            (
                "c. measured copy bandwidth vs datasheet (GB/s)",
                bandwidth / 1e9,
                HBM_TBPS[name] * 1e3,
                f"datasheet {name} HBM bandwidth (not measured); copy = `a + 1` over "
                f"{m['copy_mib']} MiB float32, bytes read + written",
            )
        )
        peak = FP32_TFLOPS[name] * 1e12 / bench.FLOPS_PER_STEP
        out.append(
            (
                "c. the engine vs the compute bound (trajectory-steps/s)",
                loss["optlab"],
                peak,
                f"bound = datasheet {name} fp32 {FP32_TFLOPS[name]:.0f} TFLOP/s (not measured) / "
                f"~{bench.FLOPS_PER_STEP} flop per step",
            )
        )
    full = m["all"]
    out.append(
        (
            f"d. the same, record=params,loss,grad every {every} (trajectory-steps/s)",
            full["optlab"],
            full["baseline"],
            f"the figure before issue 15 (every field): {OLD_ALL_FIELDS:.2g}; now "
            f"{full['optlab'] / OLD_ALL_FIELDS:.3g}× that (records agree: {full['agree']})",
        )
    )
    return out


def table(lines: list[tuple[str, float, float, str]]) -> str:
    """The Markdown table: item | optlab | baseline | ratio | note."""
    out = ["| item | optlab | baseline | ratio | note |", "|---|---|---|---|---|"]
    out += [f"| {i} | {a:.3g} | {b:.3g} | {a / b:.3g}× | {n} |" for i, a, b, n in lines]
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=2**20)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--every", type=int, default=100, help="record_every")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--copy-mib", type=int, help="bandwidth test size (default 2048, 256 on CPU)")
    a = p.parse_args()
    dev = jax.devices()[0]
    kind = f"{dev.platform} {dev.device_kind}"
    copy_mib = a.copy_mib or (256 if dev.platform == "cpu" else 2048)
    head = (
        f"device: {kind} ({len(jax.devices())} of this kind); jax {jax.__version__}, "
        f"jaxlib {jaxlib.__version__}; "
        f"{a.runs:,} runs × {a.steps:,} steps, best of {a.repeats}"
    )
    print(head, flush=True)
    t0 = time.perf_counter()
    bandwidth = copy_bandwidth(copy_mib, a.repeats)
    print(f"copy bandwidth: {bandwidth / 1e9:.0f} GB/s", flush=True)
    m = measure(a.runs, a.steps, a.every, a.repeats)
    m.update(runs=a.runs, steps=a.steps, every=a.every, copy_mib=copy_mib)
    m.update(fast_path(a.runs, a.steps, a.every, a.repeats))
    lines = rows(m, bandwidth, dev.device_kind)
    result = dict(
        device=kind,
        jax=jax.__version__,
        bandwidth_gbs=bandwidth / 1e9,
        bytes_per_run_step=2 * state_bytes(2),
        bound=bound(bandwidth, 2),
        **m,
        seconds=time.perf_counter() - t0,
    )
    text = f"{head}\n\n{table(lines)}\n\n{json.dumps(result)}"
    print(text[len(head) :].strip())
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_bench.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
