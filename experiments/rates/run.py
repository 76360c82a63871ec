"""Convergence rates on quadratics vs theory: GD, heavy ball, Nesterov (and Adam, measured only).

On f(x) = ½ (x − c)ᵀ A (x − c) with Hessian eigenvalues in [μ, L] = [1, κ] (a rotated 2-D
quadratic from optlab's catalog), the error ‖x_k − x*‖ of each method contracts by a known factor
ρ per step with the classical tuned parameters:

  gradient descent   η = 2/(L+μ)                              ρ = (κ−1)/(κ+1)
  heavy ball         η = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))²     ρ = (√κ−1)/(√κ+1)
  Nesterov           η = 1/L,        β = (√κ−1)/(√κ+1)        ρ = 1 − 1/√κ

Heavy ball and Nesterov have a repeated root at the extreme eigenvalue, so their error decays like
k·ρᵏ: the measured rate is the fit of log ‖e_k‖ = a + b·log k + k·log ρ over the steps where the
error is between 1e-1 and 1e-11 of its start (far above the float64 floor). Adam has no such
theory: its rate is measured the same way, with its learning rate the best of a log grid.

Run: `python experiments/rates/run.py` (writes rates.png and rates.md beside this file).
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from optlab import engine, optimizers, surfaces  # noqa: E402
from optlab.plots import style  # noqa: E402
from optlab.tuning import log_grid  # noqa: E402

HERE = Path(__file__).resolve().parent
KAPPAS = (10.0, 100.0, 1000.0)
STEPS = 4000
START = np.array([[1.0, 0.7]])
ADAM_LRS = log_grid(1e-3, 1.0, 13)


def theory(kappa: float) -> dict[str, tuple[dict[str, float], float]]:
    """Each method's classical parameters and predicted contraction factor for μ = 1, L = κ."""
    mu, L = 1.0, kappa
    q = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    return {
        "gd": ({"learning_rate": 2 / (L + mu)}, (kappa - 1) / (kappa + 1)),
        "momentum": (
            {"learning_rate": 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, "momentum": q**2},
            q,
        ),
        "nesterov": ({"learning_rate": 1 / L, "momentum": q}, 1 - 1 / math.sqrt(kappa)),
    }


def fitted_rate(err: np.ndarray, lo: float = 1e-11, hi: float = 1e-1) -> float:
    """ρ from the least-squares fit log e_k = a + b log k + k log ρ where lo < e_k/e_0 < hi."""
    e = err / err[0]
    k = np.arange(len(e))
    keep = (e < hi) & (e > lo) & (k > 0)
    if keep.sum() < 10:  # barely decays: use the whole run
        keep = k > 0
    A = np.stack([np.ones(keep.sum()), np.log(k[keep]), k[keep]], axis=1)
    coef, *_ = np.linalg.lstsq(A, np.log(e[keep]), rcond=None)
    return float(np.exp(coef[2]))


def group(name: str, hparams: list[dict[str, float]]) -> engine.Group:
    """One engine group: optimizer `name` once per hyperparameter setting, all from START."""
    spec, _ = optimizers.split(name, optimizers_defaults(name) | hparams[0])
    keys = spec.traced
    hp = {k: np.array([h.get(k, optimizers_defaults(name).get(k)) for h in hparams]) for k in keys}
    return engine.Group(spec, hp, np.repeat(START, len(hparams), axis=0))


def optimizers_defaults(name: str) -> dict[str, float]:
    from optlab.config import optimizer_defaults

    return {k: v for k, v in optimizer_defaults(name).items() if k != "name"}


def measure(kappa: float) -> tuple[list[dict[str, object]], dict[str, np.ndarray]]:
    """Run the three tuned methods and Adam's grid on the κ quadratic in ONE program; return
    the table rows and each method's error curve."""
    f = surfaces.get("quadratic", dim=2, condition_number=kappa, rotation_seed=0)
    plan = theory(kappa)
    groups = [group(m, [hp]) for m, (hp, _) in plan.items()]
    groups.append(group("adam", [{"learning_rate": float(a)} for a in ADAM_LRS]))
    traj = engine.run(f, groups, STEPS, diagnostics=False, dtype=np.float64)
    err = np.linalg.norm(traj.params - f.minimizers[0], axis=-1)  # (R, T+1)
    rows = []
    for r, (method, (hp, predicted)) in enumerate(plan.items()):
        rows.append(
            {
                "kappa": kappa,
                "method": method,
                "hp": hp,
                "predicted": predicted,
                "measured": fitted_rate(err[r]),
            }
        )
    adam = [fitted_rate(e) for e in err[len(plan) :]]
    best = int(np.argmin(adam))
    rows.append(
        {
            "kappa": kappa,
            "method": "adam",
            "hp": {"learning_rate": float(ADAM_LRS[best])},
            "predicted": None,
            "measured": adam[best],
        }
    )
    curves = {m: err[r] for r, m in enumerate(plan)} | {"adam": err[len(plan) + best]}
    return rows, curves


def figure(rows: list[dict[str, object]], curves: dict[str, np.ndarray], kappa: float) -> Path:
    """Left: 1 − ρ against κ, theory as lines, measurements as markers. Right: errors at κ = 100."""
    fig = style.figure(12.0, 4.8)
    ax, bx = fig.subplots(1, 2)
    ks = np.geomspace(5, 2000, 200)
    formulas = {
        "gd": lambda k: 1 - (k - 1) / (k + 1),
        "momentum": lambda k: 1 - (np.sqrt(k) - 1) / (np.sqrt(k) + 1),
        "nesterov": lambda k: 1 / np.sqrt(k),
    }
    names = {
        "gd": "GD (κ−1)/(κ+1)",
        "momentum": "heavy ball (√κ−1)/(√κ+1)",
        "nesterov": "Nesterov 1−1/√κ",
    }
    for m, fn in formulas.items():
        ax.plot(ks, fn(ks), color=style.color(m), lw=1.5, label=f"theory: {names[m]}")
    for m in ("gd", "momentum", "nesterov", "adam"):
        pts = [(r["kappa"], 1 - r["measured"]) for r in rows if r["method"] == m]
        x, y = np.array(pts).T
        ax.plot(
            x,
            y,
            "o" if m != "adam" else "s",
            color=style.color(m),
            ms=8,
            mec="black",
            label=f"measured: {m}",
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="condition number κ = L/μ",
        ylabel="1 − ρ (larger is faster)",
        title="Rate per step: theory (lines) vs measured (markers)",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    plan = theory(kappa)
    for m, e in curves.items():
        k = np.arange(len(e))
        bx.plot(k, e / e[0], color=style.color(m), lw=1.5, label=m)
        if m in plan:
            rho = plan[m][1]
            bx.plot(k, rho**k * (k if m != "gd" else 1), color=style.color(m), ls=":", lw=1.2)
    bx.set(
        yscale="log",
        ylim=(1e-16, 10),
        xlim=(0, 600),
        xlabel="step k",
        ylabel="‖x_k − x*‖ / ‖x_0 − x*‖",
        title=f"κ = {kappa:g}: error per step (dotted: ρᵏ, or k·ρᵏ for repeated roots)",
    )
    bx.grid(True, alpha=0.3)
    bx.legend(fontsize=8)
    return style.save(fig, HERE / "rates.png")


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| κ | method | parameters | predicted ρ | measured ρ | relative error of 1 − ρ |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        hp = ", ".join(f"{k}={v:.4g}" for k, v in r["hp"].items())
        pred = "—" if r["predicted"] is None else f"{r['predicted']:.5f}"
        rel = (
            "—"
            if r["predicted"] is None
            else f"{abs((1 - r['measured']) / (1 - r['predicted']) - 1):.1%}"
        )
        lines.append(
            f"| {r['kappa']:g} | {r['method']} | {hp} | {pred} | {r['measured']:.5f} | {rel} |"
        )
    return "\n".join(lines)


def main() -> None:
    measured = {kappa: measure(kappa) for kappa in KAPPAS}
    rows = [row for r, _ in measured.values() for row in r]
    figure(rows, measured[100.0][1], 100.0)
    text = table(rows)
    (HERE / "rates.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
