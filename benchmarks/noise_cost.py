"""What gradient noise costs per step: a bare vmapped Adam scan, with and without σz (issue 14).

    python benchmarks/noise_cost.py            # 4,096 runs × 2,000 steps, best of 7
    python benchmarks/noise_cost.py --quick    # best of 3

In one process, side by side (alternating, each time the best of several calls): the bare
`jax.vmap(lax.scan)` of value_and_grad + optax Adam on 2-D Rosenbrock recording the loss every
step (`bare_scan` of benchmarks/engine.py), and the same scan whose gradient is ∇f + σz with z
from `optlab.noise`, keyed by the run and the step. The ratio noisy / bare is the figure: what
the noise adds to a near-bare step. Rows:

- `hash hoisted`: `counter_normal(run_hash, t, ...)` with the run's hash computed once per run
  (what the engine should pass);
- `key per step`: `counter_normal(run_key, t, ...)`, the run's key hashed again every step
  (the older keyword, still accepted);
- `threefry`: `jax.random.normal(fold_in(run_key, t))`, for reference.

Each is measured with the step t from three sources (`STEP_COUNTERS`): a scan input shared by
all runs, a counter carried by the scan and shared, a counter carried per run (as an engine
whose runs may stop would have it).

Run it also pinned to one core (`taskset -c 0 python benchmarks/noise_cost.py`): with two
cores XLA splits the noise's fusion across both threads (`outer_dimension_partitions`, see
`--hlo`), a fork and join every step that costs little on an idle machine and tens of µs per
step on a loaded one; one core gives the noise's own cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from engine import LR, bare_scan, starts_4096  # noqa: E402

from optlab import noise, surfaces  # noqa: E402

SIGMA, RUNS, STEPS = 1.0, 4096, 2000
STEP_COUNTERS = ("scan input", "shared carry", "per run")


def hoisted(run: jax.Array, t: jax.Array, shape, dtype) -> jax.Array:
    return noise.counter_normal(run, t, shape, dtype)


def threefry(run: jax.Array, t: jax.Array, shape, dtype) -> jax.Array:
    return jax.random.normal(jax.random.fold_in(run, t), shape, dtype)


def noisy_scan(s, steps: int, draw, step: str):
    """`bare_scan`'s program (loss recorded) with the gradient ∇f + σ·draw(run, t).

    `step`: where t comes from, one of STEP_COUNTERS: a scan input (one t for all runs), a
    counter carried by the scan that the runs share, or a counter carried per run.
    """
    opt = optax.adam(LR)

    def one(x0, run, t_run):
        t0 = jnp.zeros([], jnp.int32) if step == "shared carry" else t_run

        def body(c, t_in):
            x, state, t_carried = c
            t = t_in if step == "scan input" else t_carried
            v, g = jax.value_and_grad(s)(x)
            g = g + SIGMA * draw(run, t, g.shape, g.dtype)
            u, state = opt.update(g, state, x)
            return (optax.apply_updates(x, u), state, t_carried + 1), v

        xs = jnp.arange(steps, dtype=jnp.int32)
        (x, _, _), loss = jax.lax.scan(body, (x0, opt.init(x0), t0), xs)
        return jnp.concatenate([loss, s(x)[None]])

    return jax.jit(jax.vmap(one))


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hlo", action="store_true", help="print the noisy loop body's HLO")
    repeats = 3 if parser.parse_args().quick else 7
    show_hlo = parser.parse_args().hlo

    s = surfaces.get("rosenbrock", dim=2)
    x0 = jnp.asarray(starts_4096(), jnp.float32)
    keys = jax.vmap(jax.random.key)(jnp.arange(RUNS, dtype=jnp.uint32))
    hashes = jax.vmap(noise.run_hash)(keys)
    t0 = jnp.zeros(RUNS, jnp.int32)  # batched: each run carries its own step counter

    bare = bare_scan(s, STEPS, ("loss",))
    programs = {"bare": lambda: bare(x0)}
    for step in STEP_COUNTERS:
        for name, draw, runs in (
            ("hash hoisted", hoisted, hashes),
            ("key per step", hoisted, keys),
            ("threefry", threefry, keys),
        ):
            p = noisy_scan(s, STEPS, draw, step)
            programs[f"{name}, t: {step}"] = lambda p=p, runs=runs: p(x0, runs, t0)
    for fn in programs.values():
        jax.block_until_ready(fn())  # compile

    if show_hlo:
        p = noisy_scan(s, STEPS, hoisted, "per run")
        print(p.lower(x0, hashes, t0).compile().as_text())

    times = {k: [] for k in programs}
    for _ in range(repeats):  # alternate, so that a busy moment hits every row alike
        for k, fn in programs.items():
            times[k].append(best(fn, 1))
    t_bare = min(times["bare"])
    print(f"jax {jax.__version__}, {RUNS} runs × {STEPS} steps, Adam on 2-D Rosenbrock, σ={SIGMA}")
    print(f"{'program':<34} {'best (ms)':>10} {'/ bare':>8}")
    for k, ts in times.items():
        print(f"{k:<34} {1e3 * min(ts):>10.1f} {min(ts) / t_bare:>8.2f}")
    np.testing.assert_array_equal(hashes[:3], jax.vmap(noise.run_hash)(keys[:3]))


if __name__ == "__main__":
    main()
