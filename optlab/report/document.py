"""`report.md` with its CSVs and figures from a results store: the results section of a comparison.

Every number comes from optlab.report.tables (costs under one cost model, optlab.stats); the CSVs
beside report.md hold the same numbers, and the figures are drawn from them. The same store gives
the same report, byte for byte (the bootstrap is seeded; nothing depends on the time or host).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab import landscape, plots, provenance, results, stats, surfaces
from optlab.errors import UserError
from optlab.report import figures, profiles, tables
from optlab.tuning import OTHER

TUNED_KEYS = ("learning_rate", *OTHER)
COLORED = 8  # with more optimizers, figures color the best COLORED ones and the references
REFERENCES = ("gd", "adam")
ALPHA = 0.05  # level of the paired tests


def _gap(x: float) -> str:
    return "∞" if not np.isfinite(x) else ("0" if x <= 0 else f"{x:.1e}")


def _cost(x: float) -> str:
    return "∞" if not np.isfinite(x) else f"{x:,.0f}"


def _num(x: float) -> str:
    """A CSV number: shortest round-trip repr, `inf`, or empty for NaN."""
    x = float(x)
    return "" if np.isnan(x) else ("inf" if np.isinf(x) else repr(x))


def _target_cells(s: dict[str, Any]) -> list[str]:
    return [
        f"{100 * p:.0f}% [{100 * lo:.0f}–{100 * hi:.0f}] · {_cost(a)}"
        for p, lo, hi, a in zip(
            s["success"], s["success_low"], s["success_high"], s["aRT"], strict=True
        )
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def _names(names: Sequence[str], most: int = 8) -> str:
    names = [f"**{n}**" for n in names]
    if len(names) > most:
        names = [*names[: most - 1], f"{len(names) - most + 1} more"]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _versus(r: dict[str, Any]) -> str:
    """`best`, `≈ (p = 0.38)` (not separated from the best) or `p = 0.0012`."""
    if r["is_best"]:
        return "best"
    p = f"p = {r['p_vs_best']:.2g}"
    return f"≈ ({p})" if r["best_not_worse"] else p


def _rank(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


def lines_for(solvers: Sequence[str], ranked: Sequence[str]) -> figures.Lines:
    """Color every solver when few; else the COLORED best of `ranked` and the REFERENCES."""
    if len(solvers) <= COLORED + len(REFERENCES):
        return figures.Lines(tuple(solvers), tuple(solvers))
    shown = [
        *ranked[:COLORED],
        *(r for r in REFERENCES if r in solvers and r not in ranked[:COLORED]),
    ]
    return figures.Lines(tuple(solvers), tuple(shown))


def stems(runs: tables.Runs) -> dict[str, str]:
    """A short file name per surface instance: `rosenbrock_2d`, numbered when a surface has several."""
    base = {}
    for r in runs.rows:
        base[r["surface_name"]] = f"{r['surface']}_{r['dim']}d"
    count = defaultdict(list)
    for name in sorted(base):
        count[base[name]].append(name)
    return {
        name: stem if len(count[stem]) == 1 else f"{stem}_{count[stem].index(name) + 1}"
        for name, stem in base.items()
    }


def _starts(fraction: float, n: int) -> str:
    k = round(fraction * n)
    return "every start" if k == n else f"{k} of the {n} starts"


def _surface_sentence(surface: str, table: list[dict[str, Any]], targets: Sequence[float]) -> str:
    reached = [k for k in range(len(targets)) if any(r["success"][k] > 0 for r in table)]
    best = table[0]
    if not reached:
        text = (
            f"On {surface} no optimizer reaches {targets[0]:.0e}; **{best['solver']}** ranks first "
            f"by its median final f − f* ({_gap(best['median_gap'])})."
        )
    else:
        k = reached[-1]
        text = (
            f"On {surface}, the tightest target any optimizer reaches is {targets[k]:.0e}; "
            f"**{best['solver']}** has the lowest aRT there ({_cost(best['aRT'][k])}, reaching it "
            f"from {_starts(best['success'][k], best['runs'])})."
        )
        every = [r["solver"] for r in table if r["success"][k] == 1.0]
        if len(every) > 1:
            text += f" {len(every)} optimizers reach it from every start ({_names(every)})."
    same = [r["solver"] for r in table if r["best_not_worse"] and not r["is_best"]]
    if same:
        text += (
            f" On final f − f*, the paired test cannot separate {_names(same)} from "
            f"{best['solver']} (≈ in the table)."
        )
    else:
        text += (
            f" On final f − f*, every other optimizer is significantly worse than {best['solver']}."
        )
    return text


def _tuning(rows: list[dict[str, Any]], runs: tables.Runs) -> str:
    """The chosen settings (one column per surface) and the budget each optimizer had."""
    tune = [r for r in rows if r["role"] == "tune"]
    evals = [r for r in runs.rows if r["role"] == "eval"]
    if not evals:
        return ""
    tried = defaultdict(set)
    starts = defaultdict(set)
    rates = defaultdict(set)
    for r in tune:
        name = tables.instance_name(r)
        tried[(name, r["label"])].add(json.dumps(r["hparams"], sort_keys=True))
        starts[name].add(r["start_index"])
        rates[(name, r["label"])].add(r["hparams"].get("learning_rate"))
    chosen = {(r["surface_name"], r["solver"]): r["hparams"] for r in evals}
    surfaces_ = sorted({r["surface_name"] for r in evals})
    solvers = sorted({r["solver"] for r in evals})
    body = []
    for solver in solvers:
        label = next(r["label"] for r in evals if r["solver"] == solver)
        budgets = {len(tried[(s, label)]) for s in surfaces_}
        cells = []
        for s in surfaces_:
            hp = chosen.get((s, solver), {})
            shown = ", ".join(
                f"{k}={hp[k]:.2g}" for k in TUNED_KEYS if isinstance(hp.get(k), int | float)
            )
            grid = {v for v in rates[(s, label)] if v is not None}
            edge = len(grid) > 1 and hp.get("learning_rate") in (min(grid), max(grid))
            cells.append((shown or "defaults") + (" †" if edge else ""))
        body.append([solver, "/".join(map(str, sorted(budgets))), *cells])
    n_tune = sorted({len(v) for v in starts.values()})
    return "\n".join(
        [
            "## Tuning",
            "",
            "Each optimizer had the same budget of settings: a log-spaced learning-rate grid and, where "
            "the optimizer has one, a grid over its main other hyperparameter (momentum or β₁); "
            "an optimizer with both gets fewer learning rates. Each setting ran from "
            f"{'/'.join(map(str, n_tune))} tuning starts per surface, drawn with a different seed from "
            "the evaluation starts; the setting with the lowest median score (mean over steps of "
            "log10 max(f − f*, smallest target)) was chosen, and every number above is measured on "
            "the evaluation starts only. Chosen settings († : the learning rate is at an end of "
            "its grid, so a wider grid could change the result):",
            "",
            _table(["optimizer", "settings tried", *surfaces_], body),
            "",
        ]
    )


def _curves(runs: tables.Runs, d: tables.Design) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Each solver's curves on a surface (starts × points) and the steps of their points."""
    out, steps = {}, None
    for s, solver in enumerate(d.solvers):
        idx = d.index[s]
        at = {tuple(results.curve_steps(runs.rows[i])) for i in idx}
        if len(idx) and len(at) == 1 and (steps is None or tuple(steps) in at):
            out[solver] = np.stack([runs.rows[i]["curve"] for i in idx])
            steps = np.asarray(next(iter(at)))
    return out, steps


def frame(
    paths: Sequence[np.ndarray], minimizers: np.ndarray, bounds: np.ndarray, margin: float = 0.12
) -> np.ndarray:
    """A view box [[xlo, xhi], [ylo, yhi]] around the finite points of `paths` and the minimizer
    nearest to their ends, with `margin` of its size on each side, kept within the surface's
    `bounds` widened by a quarter (a path that leaves the box is cut there)."""
    pts = [np.asarray(p, dtype=float)[:, :2] for p in paths]
    pts = [p[np.all(np.isfinite(p), axis=1)] for p in pts]
    pts = [p for p in pts if len(p)]
    box = np.asarray(bounds, dtype=float)[:2]
    if not pts:
        return box
    allp = np.concatenate(pts)
    m = np.asarray(minimizers, dtype=float).reshape(-1, 2)
    if len(m):
        ends = np.stack([p[-1] for p in pts])
        dist = np.linalg.norm(m[:, None, :] - ends[None], axis=-1).min(axis=1)
        allp = np.vstack([allp, m[np.argmin(dist)]])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    size = np.maximum(hi - lo, 1e-3 * (box[:, 1] - box[:, 0]))
    center = (lo + hi) / 2
    half = size * (0.5 + margin)
    wide = box + np.array([-1.0, 1.0]) * 0.25 * (box[:, 1:] - box[:, :1])
    lo = np.maximum(center - half, wide[:, 0])
    hi = np.minimum(center + half, wide[:, 1])
    return np.column_stack([lo, hi])


def _contour(
    out: Path, runs: tables.Runs, d: tables.Design, name: str, shown: Sequence[str]
) -> Path | None:
    """A contour of a 2-D surface, framed on the paths, with each `shown` solver's run from one
    typical start (the start of median final f − f* across the solvers)."""
    first = runs.rows[d.index[0, 0]]
    if first["dim"] != 2 or not d.starts:
        return None
    med = np.median(np.log10(np.maximum(runs.gap[d.index], 1e-300)), axis=0)
    typical = int(np.argsort(med, kind="stable")[len(med) // 2])
    paths, labels = [], []
    for solver in shown:
        if solver in d.solvers:
            row = runs.rows[d.index[d.solvers.index(solver), typical]]
            if row.get("path") is not None:
                paths.append(row["path"])
                labels.append(solver)
    surface_obj = surfaces.get(first["surface"], **first["instance"])
    every = len(shown) == len(runs.solvers)
    who = "one run per optimizer" if every else f"{len(shown)} colored optimizers"
    view = frame(paths, surface_obj.minimizers, surface_obj.bounds)
    X, Y, Z = landscape.grid(surface_obj, view)
    start = runs.rows[d.index[0, typical]]["start"]
    return plots.contour(
        out / f"contour_{name}.png",
        X,
        Y,
        Z,
        title=f"{d.surface}\n{who} from a typical start "
        f"({', '.join(f'{v:.2f}' for v in start)}); view framed on the paths",
        minimizers=surface_obj.minimizers,
        paths=paths,
        labels=labels,
        f_min=surface_obj.f_min,
    )


def check_taus(taus: Sequence[float]) -> tuple[float, ...]:
    """The τ of the Moré–Wild test, validated: each in (0, 1); else a UserError."""
    taus = tuple(taus)
    if not taus or not all(
        isinstance(t, int | float) and not isinstance(t, bool) and 0 < t < 1 for t in taus
    ):
        raise UserError(
            f"--taus={','.join(map(str, taus))!r} is invalid: tolerances of the Moré–Wild "
            "convergence test, each in (0, 1), e.g. 1e-1,1e-3,1e-5,1e-7"
        )
    return tuple(sorted(set(map(float, taus)), reverse=True))


def write(
    source: str | Path,
    out: str | Path | None = None,
    targets: Sequence[float] | None = None,
    *,
    cost_model: Any = None,
    taus: Sequence[float] = profiles.TAUS,
) -> Path:
    """Write `report.md`, its CSVs and PNGs into `out` (default: the store's directory).

    `cost_model` (an optlab.cost model) re-weights the stored counts; None: each run's own.
    Every input is checked before anything is written.
    """
    db = results.resolve(source)
    if not db.is_file():
        raise UserError(
            f"report: {str(source)!r} holds no results store ({results.FILENAME}); no runs to report"
        )
    targets = results.check_targets(results.TARGETS if targets is None else targets)
    taus = check_taus(taus)
    stored = results.load(db, curves=True)
    runs = tables.prepare(stored, targets, cost_model)
    jobs = results.load_jobs(db)
    out = Path(out) if out is not None else db.parent
    out.mkdir(parents=True, exist_ok=True)

    designs = [tables.design(runs, s) for s in runs.surfaces]
    per_surface = {d.surface: tables.ranking(runs, d, ALPHA) for d in designs}
    overall = tables.overall(runs, designs, per_surface)
    solvers = list(runs.solvers)
    colors = lines_for(solvers, [r["solver"] for r in overall])
    index, dims, problems = tables.problems(runs, designs)

    _write_ranking(out / "ranking.csv", overall, targets)
    _write_per_surface(out / "per_surface.csv", per_surface, targets)

    n_s = len(runs.surfaces)
    noisy = tables.noisy(runs.rows)
    kind = "problem" if noisy else "surface"  # with noise: a surface instance at a noise level
    lines = [f"# Results: {len(solvers)} optimizers on {n_s} {kind}{'s' * (n_s > 1)}", ""]
    lines += _protocol(runs, db, designs, len(problems), stored, jobs, taus, cost_model)
    lines += _overall_section(overall, targets, n_s, noisy)
    if len(problems):
        lines += _profiles(out, runs, index, dims, colors, targets, taus)
    lines += [
        "## Per surface",
        "",
        "On each surface, optimizers are ranked by their aRT at the tightest target any optimizer "
        "reached, then by their aRT at each looser target, then by their median final f − f*; "
        "equal keys share the mean of the ranks they span. ≈: the paired Wilcoxon signed-rank "
        f"test on final f − f* (by {_pair(noisy)}, Holm-corrected, α = {ALPHA}) cannot separate the "
        "optimizer from the first one; p is its adjusted p-value. Target cells: success rate "
        "[95% Wilson interval] · aRT. The last column is the median cost among the runs that "
        "reached the tightest target: it ignores the runs that failed, so it is not a ranking key.",
        "",
    ]
    files = stems(runs)
    for d in designs:
        table = per_surface[d.surface]
        lines += _surface_section(runs, d, table, targets, files[d.surface], out, solvers)
    lines.append(_tuning(stored, runs))
    path = out / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


def _pair(noisy: bool) -> str:
    """What the paired tests pair by: a start, or with noise a (start, seed) replicate."""
    return "start and seed" if noisy else "start"


def _resampled(noisy: bool) -> str:
    """What the bootstrap resamples within each problem."""
    return "(start, seed) replicates" if noisy else "starts"


def _over(runs: tables.Runs, d: tables.Design) -> str:
    """What a problem's loss bands run over: its starts, and with noise its seeds (or, with one
    seed, each start's own noise stream)."""
    if not tables.noisy([runs.rows[d.index[0, 0]]]):
        return "starts"
    seeds = {runs.rows[i]["seed"] for i in d.index.ravel()}
    return "starts and seeds" if len(seeds) > 1 else "starts and noise streams"


def _band_title(runs: tables.Runs, d: tables.Design) -> str:
    """The loss figure's title: the surface instance, then its noise (if any) and the caption."""
    first = runs.rows[d.index[0, 0]]
    noise = tables.noise_label(first)
    return (
        f"{tables.instance_name(first, noise=False)}\n{noise + ': ' if noise else ''}"
        f"median f − f* over {_over(runs, d)} (band: 25–75%)"
    )


def _overall_section(
    overall: list[dict[str, Any]], targets: Sequence[float], n_surfaces: int, noisy: bool = False
) -> list[str]:
    header = [
        "rank",
        "optimizer",
        "mean rank [95% CI]",
        "runs",
        "median f − f*",
        *map(results.target_name, targets),
    ]
    body = [
        [
            _rank(r["rank"]),
            r["solver"],
            f"{r['mean_rank']:.1f} [{r['mean_rank_low']:.1f}, {r['mean_rank_high']:.1f}]",
            str(r["runs"]),
            _gap(r["median_gap"]),
            *_target_cells(r),
        ]
        for r in overall
    ]
    return [
        "## Overall ranking",
        "",
        _overall_sentence(overall, n_surfaces, "problem" if noisy else "surface"),
        "",
        "Sorted by the mean of each optimizer's rank on every surface; equal mean ranks share a "
        f"rank. The interval is a 95% bootstrap percentile interval of the mean rank (the "
        f"{_resampled(noisy)} of each {'problem' if noisy else 'surface'} resampled "
        f"{stats.RESAMPLES:,} times, seed {stats.SEED}): where two "
        "intervals overlap, the order between them is not established. Target cells over all runs: "
        "success rate [95% Wilson interval] · aRT (COCO's average runtime: the cost of all runs, "
        "failed ones over all they spent (a diverged run stops spending when it diverges), divided "
        "by the number of successes; ∞ with none).",
        "",
        _table(header, body),
        "",
    ]


def _overall_sentence(overall: list[dict[str, Any]], n_surfaces: int, kind: str = "surface") -> str:
    best = overall[0]
    overlap = [r["solver"] for r in overall[1:] if r["mean_rank_low"] <= best["mean_rank_high"]]
    text = (
        f"**{best['solver']}** has the best mean rank over the {n_surfaces} "
        f"{kind}{'s' * (n_surfaces > 1)} ({best['mean_rank']:.1f}, 95% interval "
        f"[{best['mean_rank_low']:.1f}, {best['mean_rank_high']:.1f}])."
    )
    if overlap:
        text += (
            f" The intervals of {len(overlap)} other optimizer{'s' * (len(overlap) > 1)} "
            f"({_names(overlap)}) overlap it: their order is not established by these starts."
        )
    return text


def _surface_section(
    runs: tables.Runs,
    d: tables.Design,
    table: list[dict[str, Any]],
    targets: Sequence[float],
    name: str,
    out: Path,
    solvers: list[str],
) -> list[str]:
    tight = results.target_name(targets[-1])
    header = [
        "rank",
        "optimizer",
        "≈ best (p)",
        "runs",
        "median f − f*",
        "IQR",
        *map(results.target_name, targets),
        f"median cost to {tight} among successes (secondary)",
    ]
    body = [
        [
            _rank(r["rank"]),
            r["solver"],
            _versus(r),
            str(r["runs"]),
            _gap(r["median_gap"]),
            f"{_gap(r['q25'])} – {_gap(r['q75'])}",
            *_target_cells(r),
            _cost(r["median_cost"][-1]),
        ]
        for r in table
    ]
    lines = [
        f"### {d.surface}",
        "",
        _surface_sentence(d.surface, table, targets),
        "",
        _table(header, body),
        "",
    ]
    local = lines_for(solvers, [r["solver"] for r in table])
    curves, steps = _curves(runs, d)
    if curves:
        figures.loss_bands(
            out / f"loss_{name}.png",
            curves,
            steps,
            local,
            title=_band_title(runs, d),
        )
        lines += [f"![f − f* per step on {d.surface}](loss_{name}.png)", ""]
    if _contour(out, runs, d, name, local.shown):
        lines += [f"![{d.surface}: one run per optimizer](contour_{name}.png)", ""]
    return lines


def _profiles(
    out: Path,
    runs: tables.Runs,
    index: np.ndarray,
    dims: np.ndarray,
    colors: figures.Lines,
    targets: Sequence[float],
    taus: Sequence[float],
) -> list[str]:
    """Moré–Wild data and performance profiles (relative test), the absolute-target performance
    profiles, and COCO runtime ECDFs per dimension; their CSVs."""
    solvers = colors.solvers
    mw = more_wild_costs(runs, index, taus)  # (P, S, len(taus))
    data = [profiles.breakpoints(mw[:, :, k], dims[:, None] + 1.0) for k in range(len(taus))]
    perf = [profiles.breakpoints(profiles.ratios(mw[:, :, k])) for k in range(len(taus))]
    _write_profile(out / "data_profile.csv", "kappa", solvers, taus, data)
    _write_profile(out / "performance_profile.csv", "alpha", solvers, taus, perf)
    n = len(index)
    figures.data_profiles(out / "data_profiles.png", data, n, colors, taus)
    figures.performance_profiles(
        out / "performance_profiles.png",
        perf,
        n,
        colors,
        [f"τ = {t:.0e}" for t in taus],
        "Performance profiles (Dolan–Moré) with the Moré–Wild convergence test",
    )
    absolute = runs.cost_to[index]  # (P, S, K)
    perf_abs = [
        profiles.breakpoints(profiles.ratios(absolute[:, :, k])) for k in range(len(targets))
    ]
    figures.performance_profiles(
        out / "performance_profiles_absolute.png",
        perf_abs,
        n,
        colors,
        [f"f − f* ≤ {t:.0e}" for t in targets],
        "Performance profiles (Dolan–Moré) on absolute targets f − f* ≤ t",
    )
    coco = coco_costs(runs, index)  # (P, S, 51)
    budget = runs.budget[index]
    panels = []
    for dim in sorted(set(dims.tolist())):
        at = dims == dim
        scaled = coco[at] / dim
        pooled = np.moveaxis(scaled, 1, -1).reshape(-1, len(solvers))
        panels.append(
            (
                int(dim),
                int(at.sum()),
                profiles.breakpoints(pooled),
                np.median(budget[at] / dim, axis=0),
            )
        )
    figures.ecdf(out / "ecdf.png", panels, colors)
    k = 0 if len(taus) == 0 else len(taus) - 1
    rho1 = np.array([b[1][0] if len(b[0]) and b[0][0] == 1.0 else 0.0 for b in perf[k]])
    solved = np.isfinite(mw[:, :, k]).mean(axis=0)
    shown = (
        ""
        if colors.shown == colors.solvers
        else f" The figures color the {COLORED} best-ranked optimizers and "
        f"{' and '.join(REFERENCES)} for reference; the others are gray."
    )
    return [
        "## Data and performance profiles",
        "",
        f"A problem is one {_profile_problem(runs)}; {n} problems. Moré and Wild's convergence test: "
        "a run solves problem p at tolerance τ once f(x₀) − f(x) ≥ (1 − τ)(f(x₀) − f_L), where "
        "f_L is the smallest f any optimizer reached on p (so every problem is solved by someone). "
        "The data profile d(κ) is the fraction of problems solved within κ·(n_p + 1) cost units, "
        "n_p the dimension (κ counts simplex gradients); the performance profile ρ(α) the fraction "
        "solved within α times the cost of the fastest optimizer on that problem (Dolan and Moré). "
        f"At τ = {taus[k]:.0e}: fastest on the most problems (ρ(1) = {rho1.max():.2f}): "
        f"{_leaders(rho1, solvers)}; most problems solved ({solved.max():.2f}): "
        f"{_leaders(solved, solvers)}.{shown} Numbers: `data_profile.csv`, "
        "`performance_profile.csv`.",
        "",
        "![Data profiles](data_profiles.png)",
        "",
        "![Performance profiles](performance_profiles.png)",
        "",
        "The same performance profiles on the absolute targets f − f* ≤ t of the tables (a problem "
        "no optimizer solves counts as unsolved for all):",
        "",
        "![Performance profiles on absolute targets](performance_profiles_absolute.png)",
        "",
        "Runtime ECDFs as COCO draws them, one panel per dimension (never pooled across "
        "dimensions): the fraction of (problem, target) pairs reached within a cost per dimension, "
        "over 51 targets f − f* from 10² to 10⁻⁸; × marks the median cost an optimizer's runs used. "
        "Each run counts once (no simulated restarts).",
        "",
        "![Runtime distributions](ecdf.png)",
        "",
    ]


def _profile_problem(runs: tables.Runs) -> str:
    """What the profiles count as one problem: a (surface, start) pair; with noise, each seed too."""
    return "(surface, noise, start, seed)" if tables.noisy(runs.rows) else "(surface, start) pair"


def _stack(runs: tables.Runs, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Curves and cumulative costs of runs `idx`, padded with their last value to one length."""
    n = max(len(runs.rows[i]["curve"]) for i in idx)
    pad = lambda a: np.concatenate([a, np.repeat(a[-1:], n - len(a))])  # noqa: E731
    curves = np.stack([pad(np.asarray(runs.rows[i]["curve"], dtype=float)) for i in idx])
    cums = np.stack([pad(runs.cum_cost[i]) for i in idx])
    return curves, cums


def more_wild_costs(runs: tables.Runs, index: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """(P, S, T) the cost at which each run passes Moré–Wild's test at each τ (inf: never)."""
    out = np.full((*index.shape, len(taus)), np.inf)
    for p, idx in enumerate(index):
        curves, cums = _stack(runs, idx)
        gap0 = curves[0, 0]
        low = float(np.nanmin(curves))
        targets = [profiles.convergence_targets(gap0, low, t) for t in taus]
        out[p] = tables.first_cost(curves, cums, targets)
    return out


def coco_costs(runs: tables.Runs, index: np.ndarray) -> np.ndarray:
    """(P, S, 51) the cost at which each run first reaches each of COCO's targets (inf: never)."""
    out = np.full((*index.shape, len(profiles.COCO_TARGETS)), np.inf)
    for p, idx in enumerate(index):
        curves, cums = _stack(runs, idx)
        out[p] = tables.first_cost(curves, cums, profiles.COCO_TARGETS)
    return out


def _leaders(values: np.ndarray, solvers: Sequence[str]) -> str:
    best = [s for s, v in zip(solvers, values, strict=True) if v == values.max()]
    return _names(best)


def _protocol(
    runs: tables.Runs,
    db: Path,
    designs: Sequence[tables.Design],
    n_problems: int,
    stored: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    taus: Sequence[float],
    cost_model: Any,
) -> list[str]:
    from optlab import cost

    steps = sorted({r["steps"] for r in runs.rows})
    tols = sorted({r["tol_grad"] or 0.0 for r in runs.rows})
    stop = (
        "no run stops early"
        if tols == [0.0]
        else f"a run stops early when ‖∇f‖ < {'/'.join(f'{t:g}' for t in tols)}"
    )
    starts = sorted({len(d.starts) for d in designs})
    noisy = tables.noisy(runs.rows)
    dropped = sum(d.dropped for d in designs)
    n_tune = sum(1 for r in stored if r["role"] == "tune")
    if cost_model is not None:
        model = f"{cost.describe(cost_model)}, given with --cost (the stored counts re-weighted)"
    else:
        kinds = sorted({cost.describe(tables.model_of(r)) for r in runs.rows})
        model = " / ".join(kinds) + ", as stored with the runs"
    every = sorted({r["record_every"] for r in runs.rows})
    estimated = int((~runs.exact).sum())
    out = [
        "## Protocol",
        "",
        f"- Store `{db.name}`: {len(runs.rows)} compared runs"
        + (f" (and {n_tune} tuning runs)" if n_tune else "")
        + f"; surfaces: {', '.join(runs.surfaces)}.",
        (
            f"- Every optimizer runs the same (start, seed) replicates ({'/'.join(map(str, starts))} "
            "per problem; the seed is the noise stream, shared by the optimizers); a problem is a "
            "surface instance under one noise setting, and the median, interquartile band and "
            "intervals are over starts and seeds; "
            f"{n_problems} (surface, noise, start, seed) problems in the profiles (those "
            if noisy
            else f"- Every optimizer runs from the same starts ({'/'.join(map(str, starts))} per "
            f"surface); a problem is one (surface, start) pair, {n_problems} problems in the "
            "profiles (those "
        )
        + "every optimizer ran)"
        + (f"; {dropped} runs outside that paired design are left out" if dropped else "")
        + ".",
        f"- Budget: {'/'.join(map(str, steps))} steps per run; {stop}; a run that diverges is "
        "frozen at its last finite point, counts as failed from then on and spends nothing more "
        "(in aRT it costs what it spent until it diverged).",
        f"- Cost model: {model}. Costs to a target are "
        "counted exactly by the engine up to and including the step that first reaches it; costs "
        "for the relative (Moré–Wild) and COCO targets are read at the recorded steps (every "
        f"{'/'.join(map(str, every))} step{'s' * (every != [1])}).",
        "- Targets are absolute, on f − f*: "
        + ", ".join(f"{t:.0e}" for t in runs.targets)
        + "; Moré–Wild tolerances τ: "
        + ", ".join(f"{t:.0e}" for t in taus)
        + ".",
        f"- Statistics: aRT (COCO), 95% Wilson intervals of success rates, 95% bootstrap "
        f"percentile intervals of mean ranks ({stats.RESAMPLES:,} resamples of the "
        f"{_resampled(noisy)} within each {'problem' if noisy else 'surface'}, seed {stats.SEED}), "
        f"Wilcoxon signed-rank tests paired by {_pair(noisy)} against the "
        f"first-ranked optimizer of each {'problem' if noisy else 'surface'} on final f − f* (values below {min(runs.targets):.0e} "
        f"count as equal), Holm-corrected, α = {ALPHA}. How to read them: docs/comparing.md.",
    ]
    if estimated:
        out.append(
            f"- {estimated} runs were stored by an older optlab (results schema 1) without "
            "evaluation counts per step: their costs are ESTIMATED from the run's mean cost per "
            "step, not counted."
        )
    prov = [j["provenance"] for j in jobs if j["job_hash"] in {r["job_hash"] for r in runs.rows}]
    described = defaultdict(int)
    for p in prov:
        described[
            "unknown (stored by results schema 1)" if p is None else provenance.describe(p)
        ] += 1
    for text, count in sorted(described.items()):
        out.append(f"- Software and machine ({count} job{'s' * (count > 1)}): {text}.")
    return [*out, ""]


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _target_columns(targets: Sequence[float]) -> list[str]:
    cols = []
    for t in targets:
        n = results.target_name(t)
        cols += [f"success_{n}", f"success_{n}_low", f"success_{n}_high", f"aRT_{n}"]
    return cols


def _target_values(r: dict[str, Any]) -> list[str]:
    vals = []
    for k in range(len(r["success"])):
        vals += [_num(r[c][k]) for c in ("success", "success_low", "success_high", "aRT")]
    return vals


def _write_ranking(path: Path, overall: list[dict[str, Any]], targets: Sequence[float]) -> None:
    header = [
        "optimizer",
        "rank",
        "mean_rank",
        "mean_rank_low",
        "mean_rank_high",
        "surfaces",
        "runs",
        "median_final_gap",
        *_target_columns(targets),
    ]
    rows = [
        [
            r["solver"],
            _num(r["rank"]),
            _num(r["mean_rank"]),
            _num(r["mean_rank_low"]),
            _num(r["mean_rank_high"]),
            str(r["surfaces"]),
            str(r["runs"]),
            _num(r["median_gap"]),
            *_target_values(r),
        ]
        for r in overall
    ]
    _write_csv(path, header, rows)


def _write_per_surface(
    path: Path, per_surface: dict[str, list[dict[str, Any]]], targets: Sequence[float]
) -> None:
    header = ["surface", "optimizer", "rank", "runs", *_target_columns(targets)]
    header += [f"median_cost_{results.target_name(t)}" for t in targets]
    header += ["median_final_gap", "p_vs_best", "best_not_worse"]
    rows = []
    for surface, table in per_surface.items():
        for r in table:
            rows.append(
                [
                    surface,
                    r["solver"],
                    _num(r["rank"]),
                    str(r["runs"]),
                    *_target_values(r),
                    *(_num(v) for v in r["median_cost"]),
                    _num(r["median_gap"]),
                    _num(r["p_vs_best"]),
                    str(r["best_not_worse"]).lower(),
                ]
            )
    _write_csv(path, header, rows)


def _write_profile(
    path: Path,
    x_name: str,
    solvers: Sequence[str],
    taus: Sequence[float],
    points: Sequence[list[tuple[np.ndarray, np.ndarray]]],
) -> None:
    rows = []
    for tau, per_solver in zip(taus, points, strict=True):
        for solver, (x, frac) in zip(solvers, per_solver, strict=True):
            rows += [[solver, _num(tau), _num(a), _num(f)] for a, f in zip(x, frac, strict=True)]
    _write_csv(path, ["optimizer", "tau", x_name, "fraction"], rows)
