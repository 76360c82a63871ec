"""Rosenbrock from (−1.2, 1): iterations and evaluations to f − f* ≤ 1e-8, optlab vs SciPy.

optlab: gd, heavy-ball momentum and Adam (each with the best learning rate of a log grid, the
grid vmapped in one program), Newton (Armijo backtracking) and L-BFGS (zoom line search) with
their defaults, all in ONE compiled program, float64, each run stopped (frozen) at the target so
that its step and evaluation counters read the cost of reaching it.
SciPy: `scipy.optimize.minimize` BFGS, Newton-CG (exact Hessian) and L-BFGS-B on the same problem,
read at the first iterate with f ≤ 1e-8, with every f, ∇f and ∇²f call counted.

Run: `python experiments/rosenbrock/run.py` (writes rosenbrock.md beside this file; needs scipy).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from optlab import engine, optimizers, surfaces  # noqa: E402
from optlab.config import optimizer_defaults  # noqa: E402
from optlab.tuning import log_grid  # noqa: E402

HERE = Path(__file__).resolve().parent
START = np.array([-1.2, 1.0])
TARGET = 1e-8
STEPS = 60_000
GRIDS = {
    "gd": log_grid(1e-5, 1e-2, 13),
    "momentum": log_grid(1e-6, 1e-2, 17),
    "adam": log_grid(1e-4, 1.0, 17),
}
DEFAULTS = ("newton", "lbfgs")


def _group(name: str, learning_rates: np.ndarray | None) -> tuple[engine.Group, list[dict]]:
    base = {k: v for k, v in optimizer_defaults(name).items() if k != "name"}
    spec, traced = optimizers.split(name, base)
    settings = (
        [traced]
        if learning_rates is None
        else [traced | {"learning_rate": float(a)} for a in learning_rates]
    )
    hp = {k: np.array([s[k] for s in settings]) for k in traced}
    return engine.Group(spec, hp, np.repeat(START[None], len(settings), axis=0)), settings


def optlab_rows() -> list[dict[str, object]]:
    """Every method in one program; per method the setting that reaches the target in fewest steps."""
    f = surfaces.get("rosenbrock", dim=2)
    built = {m: _group(m, GRIDS.get(m)) for m in (*GRIDS, *DEFAULTS)}
    traj = engine.run(
        f, [g for g, _ in built.values()], STEPS, diagnostics=False, target=TARGET, dtype=np.float64
    )
    rows, r = [], 0
    for method, (_, settings) in built.items():
        n = len(settings)
        reached = traj.loss[r : r + n, -1] - f.f_min <= TARGET
        steps = np.where(reached, traj.steps_taken[r : r + n], np.inf)
        best = int(np.argmin(steps))
        i = r + best
        shown = {k: settings[best][k] for k in ("learning_rate", "momentum") if k in settings[best]}
        tuned = f" (best of {n})" if n > 1 else " (default)"
        rows.append(
            {
                "method": method,
                "implementation": "optlab",
                "setting": ", ".join(f"{k}={v:.3g}" for k, v in shown.items()) + tuned,
                "reached": bool(reached[best]),
                "iterations": int(traj.steps_taken[i]),
                "f": int(traj.f_evals[i]),
                "grad": int(traj.grad_evals[i]),
                "hess": int(traj.hessian_evals[i]),
                "final": float(traj.loss[i, -1] - f.f_min),
            }
        )
        r += n
    return rows


def scipy_row(method: str, options: dict[str, float]) -> dict[str, object]:
    """One `scipy.optimize.minimize` run, read at its first iterate with f ≤ TARGET."""
    from scipy.optimize import minimize, rosen, rosen_der, rosen_hess

    calls = {"f": 0, "grad": 0, "hess": 0, "iterations": 0}
    hit: dict[str, int] = {}

    def counted(fn, key):
        def wrapped(x):
            calls[key] += 1
            return fn(x)

        return wrapped

    def callback(intermediate_result):
        calls["iterations"] += 1
        if not hit and intermediate_result.fun <= TARGET:
            hit.update(calls)

    res = minimize(
        counted(rosen, "f"),
        START,
        jac=counted(rosen_der, "grad"),
        hess=counted(rosen_hess, "hess") if method == "Newton-CG" else None,
        method=method,
        options=options,
        callback=callback,
    )
    got = hit or calls
    return {
        "method": method,
        "implementation": "scipy",
        "setting": "defaults, tolerances tightened",
        "reached": bool(hit),
        **{k: got[k] for k in ("iterations", "f", "grad", "hess")},
        "final": float(res.fun),
    }


def scipy_rows() -> list[dict[str, object]]:
    """BFGS, Newton-CG (exact Hessian), L-BFGS-B from SciPy."""
    return [
        scipy_row("BFGS", {"gtol": 1e-12, "maxiter": 10_000}),
        scipy_row("Newton-CG", {"xtol": 1e-14, "maxiter": 10_000}),
        scipy_row("L-BFGS-B", {"ftol": 1e-20, "gtol": 1e-12, "maxiter": 10_000}),
    ]


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| method | implementation | setting | iterations to 1e-8 | f evals | ∇f evals | ∇²f evals | total evals |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        total = r["f"] + r["grad"] + r["hess"]
        it = (
            str(r["iterations"])
            if r["reached"]
            else f"not reached ({r['final']:.1e} after {r['iterations']})"
        )
        lines.append(
            f"| {r['method']} | {r['implementation']} | {r['setting']} | {it} | {r['f']} | {r['grad']} | {r['hess']} | {total} |"
        )
    return "\n".join(lines)


def main() -> None:
    text = table(optlab_rows() + scipy_rows())
    (HERE / "rosenbrock.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
