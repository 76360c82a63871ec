"""Tables and figures of the noise study from a sweep directory of `python -m optlab -m experiment=noise`.

    python experiments/noise/analyze.py multirun/DATE/TIME [--out experiments/noise]

Per problem and noise level σ: each optimizer's median final f − f* over its 16 evaluation runs
with a distribution-free 95 % interval for the median (order statistics, below), its rank, and its
tuned setting; `results.md` and one figure per problem (median and interquartile band per step).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure

ORDER = ("sgd", "momentum", "nesterov", "adam")
CEILING = 1e6  # f − f* drawn at most this high: diverged runs (frozen at huge values) sit here
COLORS = {"sgd": "tab:blue", "momentum": "tab:orange", "nesterov": "tab:green", "adam": "tab:red"}


def median_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """[x₍ₖ₎, x₍ₙ₋ₖ₊₁₎]: the distribution-free interval for the median from order statistics,
    k the largest with P(Bin(n, ½) ≤ k − 1) ≤ (1 − level)/2 (Conover 1999, Practical
    Nonparametric Statistics, §3.2); n = 16 gives [x₍₄₎, x₍₁₃₎], coverage 97.9 %."""
    x, n = np.sort(np.asarray(x, float)), len(x)
    cdf = np.cumsum([math.comb(n, i) for i in range(n + 1)]) / 2.0**n
    k = max(int(np.searchsorted(cdf, (1 - level) / 2, side="right")), 1)
    return float(x[k - 1]), float(x[n - k])


def jobs(sweep: Path) -> list[dict]:
    """Every job of the sweep: problem, σ, its eval runs' final gaps and per-step gaps, settings."""
    out = []
    for d in sorted(p for p in sweep.iterdir() if (p / "runs.csv").is_file()):
        over = dict(
            o.split("=", 1) for o in yaml.safe_load((d / ".hydra/overrides.yaml").read_text())
        )
        import csv

        with open(d / "runs.csv") as fh:
            rows = list(csv.DictReader(fh))
        with open(d / "tuning.csv") as fh:
            chosen = [r for r in csv.DictReader(fh) if r["chosen"] == "True"]
        f_min = float(rows[0]["f_min"])
        with np.load(d / "trajectory.npz") as z:
            curves = z["loss"] - f_min
        labels = [r["label"].split("[")[0] for r in rows]
        out.append(
            {
                "problem": over["problem"],
                "sigma": float(over["noise.sigma"]),
                "gap": {
                    k: np.array(
                        [float(r["final_loss"]) - f_min for r in rows if r["label"].startswith(k)]
                    )
                    for k in ORDER
                },
                "curves": {k: curves[[lb == k for lb in labels]] for k in ORDER},
                "setting": {
                    r["label"]: {
                        k: float(v)
                        for k, v in r.items()
                        if k not in ("label", "optimizer", "score", "chosen") and v
                    }
                    for r in chosen
                },
                "noise": json.loads(rows[0]["noise"]),
            }
        )
    return out


def fmt(v: float) -> str:
    return f"{v:.1e}"


def table(js: list[dict]) -> str:
    lines = []
    for problem in dict.fromkeys(j["problem"] for j in js):
        lines += [f"\n### {problem}\n", "| σ | " + " | ".join(ORDER) + " | ranking (best first) |"]
        lines.append("|---|" + "---|" * (len(ORDER) + 1))
        for j in sorted((j for j in js if j["problem"] == problem), key=lambda j: j["sigma"]):
            med = {k: float(np.median(j["gap"][k])) for k in ORDER}
            cells = []
            for k in ORDER:
                lo, hi = median_interval(j["gap"][k])
                s = j["setting"].get(k, {})
                lr = s.get("learning_rate")
                other = next((f"{n}={s[n]:g}" for n in ("momentum", "b1") if n in s), "")
                tuned = f"α={lr:.2g}" + (f", {other}" if other else "")
                cells.append(f"{fmt(med[k])} [{fmt(lo)}, {fmt(hi)}] ({tuned})")
            ranking = " < ".join(sorted(ORDER, key=med.get))
            lines.append(f"| {j['sigma']:g} | " + " | ".join(cells) + f" | {ranking} |")
    return "\n".join(lines) + "\n"


def figure(js: list[dict], problem: str, path: Path) -> None:
    sel = sorted((j for j in js if j["problem"] == problem), key=lambda j: j["sigma"])
    fig = Figure(figsize=(4.0 * len(sel), 3.6), layout="constrained")
    axes = fig.subplots(1, len(sel), sharey=True, squeeze=False)[0]
    for ax, j in zip(axes, sel, strict=True):
        for k in ORDER:
            c = np.clip(j["curves"][k], 1e-16, CEILING)  # a diverged run is drawn at the ceiling
            q25, q50, q75 = np.percentile(c, [25, 50, 75], axis=0)
            t = np.arange(c.shape[1])
            ax.fill_between(t, q25, q75, color=COLORS[k], alpha=0.25, lw=0)
            ax.plot(t, q50, color=COLORS[k], lw=1.4, label=k)
        ax.set_yscale("log")
        ax.set(title=f"{problem}, σ = {j['sigma']:g}", xlabel="step")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("f − f* (median, IQR over 16 runs)")
    axes[0].legend(fontsize=8)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    js = jobs(args.sweep)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(
        "Median final f − f* over 16 runs [95 % interval for the median] (tuned setting)\n"
        + table(js)
    )
    for problem in dict.fromkeys(j["problem"] for j in js):
        figure(js, problem, args.out / f"{problem}.png")
    print(f"wrote {args.out / 'results.md'} and {len(set(j['problem'] for j in js))} figures")


if __name__ == "__main__":
    main()
