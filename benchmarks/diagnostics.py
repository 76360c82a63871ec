"""Cost of the engine's per-step diagnostics (D_u f, cos(u, −∇f), uᵀHu): the same job with
`diagnostics=True` and `diagnostics=False`, timed side by side in one process, compilation excluded.

    PYTHONPATH=. python benchmarks/diagnostics.py [--runs 1024] [--steps 2000] [--repeats 7]

Prints seconds per job (median of the repeats) and, for each case, the median of the ratios on / off
of back-to-back pairs with their interquartile range (the spread that load on a shared machine
puts on one ratio), and the median minor page faults per job on / off: a job that first-touches
fresh record buffers pays a fault per 4 KiB page, and glibc reuses freed memory for one job and
not for the other depending on the process's history (see docs/engine.md, "Page faults").
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import jax
import numpy as np

from optlab import engine, optimizers, surfaces
from optlab.config import random_starts

CASES = (  # small steps from starts in [-2, 2]^d: no run diverges, every lane works every step
    ("rosenbrock", {"dim": 2}, "gd", {"learning_rate": 1e-4}),
    ("rosenbrock", {"dim": 2}, "adam", {"learning_rate": 1e-3}),
    ("himmelblau", {}, "momentum", {"learning_rate": 1e-3, "momentum": 0.9}),
    ("rosenbrock", {"dim": 50}, "adam", {"learning_rate": 1e-3}),
)


def job(surface, name, hparams, runs):
    spec, traced = optimizers.split(name, hparams)
    starts = random_starts(np.tile([-2.0, 2.0], (surface.dim, 1)), runs, seed=0)
    return [engine.Group(spec, {k: np.full(runs, v) for k, v in traced.items()}, starts)]


def faults() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timings(surface, groups, steps, repeats):
    """Wall times and minor page faults of `engine.run` with diagnostics on and off, measured
    alternately (engine.run returns host arrays, so the work is finished when it returns):
    ({True: [...], False: [...]}, the same for faults)."""
    runs = {
        d: (lambda d=d: engine.run(surface, groups, steps, diagnostics=d)) for d in (True, False)
    }
    for run in runs.values():
        run()  # compile
    times, touched = {True: [], False: []}, {True: [], False: []}
    for _ in range(repeats):
        for d, run in runs.items():
            f0, t0 = faults(), time.perf_counter()
            run()
            times[d].append(time.perf_counter() - t0)
            touched[d].append(faults() - f0)
    return times, touched


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1024)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args()
    print(f"device: {jax.devices()[0].device_kind}, runs={a.runs}, steps={a.steps}, float32")
    print(
        f"{'case':<28} {'on (s)':>9} {'off (s)':>9} {'on/off':>7}  interquartile range"
        "  page faults on / off"
    )
    for name, params, opt, hp in CASES:
        s = surfaces.get(name, **params)
        groups = job(s, opt, hp, a.runs)
        t, touched = timings(s, groups, a.steps, a.repeats)
        on, off = statistics.median(t[True]), statistics.median(t[False])
        q1, q2, q3 = statistics.quantiles(
            [x / y for x, y in zip(t[True], t[False], strict=True)], n=4
        )
        label = f"{name}-{s.dim}d {opt}"
        f_on, f_off = (statistics.median(touched[d]) for d in (True, False))
        print(
            f"{label:<28} {on:>9.4f} {off:>9.4f} {q2:>7.2f}  [{q1:.2f}, {q3:.2f}]"
            f"{'':>12}{f_on:>7.0f} / {f_off:.0f}"
        )


if __name__ == "__main__":
    main()
