"""Bitwise before/after check of an engine change: every record, status and count of a fixed set
of runs (converging, diverging, padded, chunked, non-finite starts; float32 and float64; fixed-cost
and line-search / Hessian optimizers) saved at one commit and compared at another.

    git stash; python benchmarks/engine_bitwise.py save before.npz; git stash pop
    python benchmarks/engine_bitwise.py save after.npz
    python benchmarks/engine_bitwise.py compare before.npz after.npz   # exit 1 on any difference

`save FILE fast` runs every case with `fast=True` (the engine's fast blocks; engines from before
them take no `fast`), to compare the fast path with another commit's exact step.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from optimizer_helpers import group  # noqa: E402

from optlab import engine, surfaces  # noqa: E402

STARTS = [[-1.2, 1.0], [0.5, 0.5], [1.0, 1.0], [2.0, -1.0], [np.nan, 0.0], [1e30, 1e30], [3.0, 3.0]]
OPTIMIZERS = (
    ("adam", {"learning_rate": 0.05}),
    ("gd", {"learning_rate": 0.01}),
    ("lbfgs", {}),
    ("newton", {}),
)
OPTIONS = (
    {},
    {"tol_grad": 1e-3, "record_every": 3, "chunk_size": 3},
    {"target": 1e-4, "step_chunks": 2, "diagnostics": False},
)


def records(**options) -> dict[str, np.ndarray]:
    """Every Trajectory field of every case, keyed `dtype/optimizer/options/field`."""
    s, out = surfaces.get("rosenbrock"), {}
    for dt in (np.float32, np.float64):
        for name, hp in OPTIMIZERS:
            for kw in OPTIONS:
                g = group(name, STARTS, **hp)
                tr = engine.run(s, [g], 40, dtype=dt, targets=(1e-2, 1e-6), **kw, **options)
                for k, v in tr._asdict().items():
                    if v is not None:
                        out[f"{np.dtype(dt).name}/{name}/{sorted(kw)}/{k}"] = np.asarray(v)
    return out


def main() -> int:
    if sys.argv[1] == "save":
        np.savez(sys.argv[2], **records(**({"fast": True} if sys.argv[3:] == ["fast"] else {})))
        return 0
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    differ = [k for k in a.files if k not in b.files or not np.array_equal(a[k], b[k], True)]
    print(f"{len(a.files)} arrays compared; {len(differ)} differ: {differ[:10]}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
