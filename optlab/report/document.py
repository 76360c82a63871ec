"""`report.md` with its figures from a results store: the results section of a comparison."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab import landscape, plots, results, surfaces
from optlab.errors import UserError
from optlab.report import figures, profiles, tables
from optlab.tuning import OTHER

TUNED_KEYS = ("learning_rate", *OTHER)
COLORED = 8  # with more optimizers, figures color the best COLORED ones and the references
REFERENCES = ("gd", "adam")


def _gap(x: float) -> str:
    return "∞" if not np.isfinite(x) else ("0" if x <= 0 else f"{x:.1e}")


def _evals(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:,.0f}"


def _cells(s: dict[str, Any]) -> list[str]:
    hit = [
        f"{100 * p:.0f}% · {_evals(e)}"
        for p, e in zip(s["success"], s["median_evals"], strict=True)
    ]
    return [str(s["runs"]), _gap(s["median_gap"]), f"{_gap(s['q25'])} – {_gap(s['q75'])}", *hit]


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
    tight = targets[-1]
    best = table[0]
    every = [r["solver"] for r in table if r["success"][-1] == 1.0]
    none = [r["solver"] for r in table if r["success"][0] == 0.0]
    text = f"On {surface}, **{best['solver']}** ranks first"
    if best["success"][-1] > 0:
        text += (
            f": it reaches f − f* ≤ {tight:.0e} from {_starts(best['success'][-1], best['runs'])} "
            f"with a median of {_evals(best['median_evals'][-1])} evaluations."
        )
    else:
        text += (
            f" with a median final f − f* of {_gap(best['median_gap'])}; "
            f"no optimizer reaches {tight:.0e}."
        )
    if len(every) > 1:
        text += f" {len(every)} optimizers reach {tight:.0e} from every start ({_names(every)})."
    if none:
        text += f" {_names(none)} never get{'s' * (len(none) == 1)} below {targets[0]:.0e}."
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


def _curves(runs: tables.Runs, surface: str) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Each solver's curves on `surface` (runs × points) and the steps of their points."""
    out, steps = {}, None
    for solver in runs.solvers:
        idx = runs.where(surface_name=surface, solver=solver)
        at = {tuple(results.curve_steps(runs.rows[i])) for i in idx}
        if len(idx) and len(at) == 1 and (steps is None or tuple(steps) in at):
            out[solver] = np.stack([runs.rows[i]["curve"] for i in idx])
            steps = np.asarray(next(iter(at)))
    return out, steps


def _contour(
    out: Path, runs: tables.Runs, surface: str, name: str, shown: Sequence[str]
) -> Path | None:
    """A contour of a 2-D surface with each `shown` solver's run from one typical start."""
    idx = runs.where(surface_name=surface)
    first = runs.rows[idx[0]]
    if first["dim"] != 2:
        return None
    by_start = defaultdict(list)
    for i in idx:
        by_start[json.dumps(runs.rows[i]["start"])].append(np.log10(max(runs.gap[i], 1e-300)))
    typical = sorted(by_start, key=lambda k: np.median(by_start[k]))[len(by_start) // 2]
    paths, labels = [], []
    for solver in shown:
        pick = [
            i
            for i in idx
            if runs.rows[i]["solver"] == solver and json.dumps(runs.rows[i]["start"]) == typical
        ]
        if pick and runs.rows[pick[0]].get("path") is not None:
            paths.append(runs.rows[pick[0]]["path"])
            labels.append(solver)
    surface_obj = surfaces.get(first["surface"], **first["instance"])
    every = len(shown) == len(runs.solvers)
    who = "one run per optimizer" if every else f"{len(shown)} colored optimizers"
    X, Y, Z = landscape.grid(surface_obj, surface_obj.bounds)
    return plots.contour(
        out / f"contour_{name}.png",
        X,
        Y,
        Z,
        title=f"{surface}\n{who} from a typical start "
        f"({', '.join(f'{v:.2f}' for v in json.loads(typical))})",
        minimizers=surface_obj.minimizers,
        paths=paths,
        labels=labels,
        f_min=surface_obj.f_min,
    )


def write(
    source: str | Path, out: str | Path | None = None, targets: Sequence[float] | None = None
) -> Path:
    """Write `report.md` and its PNGs into `out` (default: the store's directory); return its path."""
    db = results.resolve(source)
    if not db.is_file():
        raise UserError(
            f"report: {str(source)!r} holds no results store ({results.FILENAME}); no runs to report"
        )
    targets = results.check_targets(results.TARGETS if targets is None else targets)
    stored = results.load(db, curves=True)
    runs = tables.prepare(stored, targets)
    out = Path(out) if out is not None else db.parent
    out.mkdir(parents=True, exist_ok=True)

    per_surface = {s: tables.ranking(runs, s) for s in runs.surfaces}
    overall = tables.overall(runs, per_surface)
    t, dims, problems = tables.cost_table(runs, runs.evals_to)
    budget = np.array([r["evals"] for r in runs.rows], dtype=float)
    b, _, _ = tables.cost_table(runs, budget)
    dense = np.array([tables.evals_to(r, profiles.COCO_TARGETS) for r in runs.rows])
    td, _, _ = tables.cost_table(runs, dense)
    solvers = list(runs.solvers)
    colors = lines_for(solvers, [r["solver"] for r in overall])

    n_s = len(runs.surfaces)
    lines = [f"# Results: {len(solvers)} optimizers on {n_s} surface{'s' * (n_s > 1)}", ""]
    lines += _protocol(runs, db, len(problems), stored)
    header = [
        "rank",
        "optimizer",
        "mean rank",
        "runs",
        "median f − f*",
        "IQR",
        *map(results.target_name, targets),
    ]
    body = [
        [str(i), r["solver"], f"{r['mean_rank']:.1f}", *_cells(r)] for i, r in enumerate(overall, 1)
    ]
    lines += [
        "## Overall ranking",
        "",
        _overall_sentence(overall, targets, len(runs.surfaces)),
        "",
        "Sorted by the mean of each optimizer's rank on every surface. Target columns: success rate "
        "over all runs · median evaluations to reach the target among the runs that did.",
        "",
        _table(header, body),
        "",
    ]
    if len(problems):
        figures.performance_profiles(out / "performance_profiles.png", t, colors, targets)
        figures.data_profiles(out / "data_profiles.png", t, dims, colors, targets)
        figures.ecdf(out / "ecdf.png", td, dims, colors, b)
        lines += _profiles_text(t, solvers, targets, len(problems), colors)
    lines += [
        "## Per surface",
        "",
        "On each surface, optimizers are ranked by their success rate at the tightest target, "
        "then by their median evaluations to it, then likewise at each looser target, then by "
        "the median final f − f*.",
        "",
    ]
    files = stems(runs)
    for surface, table in per_surface.items():
        name = files[surface]
        header = [
            "rank",
            "optimizer",
            "runs",
            "median f − f*",
            "IQR",
            *map(results.target_name, targets),
        ]
        body = [[str(r["rank"]), r["solver"], *_cells(r)] for r in table]
        lines += [
            f"### {surface}",
            "",
            _surface_sentence(surface, table, targets),
            "",
            _table(header, body),
            "",
        ]
        local = lines_for(solvers, [r["solver"] for r in table])
        curves, steps = _curves(runs, surface)
        if curves:
            figures.loss_bands(
                out / f"loss_{name}.png",
                curves,
                steps,
                local,
                title=f"{surface}\nmedian f − f* over starts (band: 25–75%)",
            )
            lines += [f"![f − f* per step on {surface}](loss_{name}.png)", ""]
        if _contour(out, runs, surface, name, local.shown):
            lines += [f"![{surface}: one run per optimizer](contour_{name}.png)", ""]
    lines.append(_tuning(stored, runs))
    path = out / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


def _protocol(
    runs: tables.Runs, db: Path, n_problems: int, stored: list[dict[str, Any]]
) -> list[str]:
    steps = sorted({r["steps"] for r in runs.rows})
    tols = sorted({r["tol_grad"] or 0.0 for r in runs.rows})
    stop = (
        "no run stops early"
        if tols == [0.0]
        else f"a run stops early when ‖∇f‖ < {'/'.join(f'{t:g}' for t in tols)}"
    )
    starts = sorted(
        {len(runs.where(surface_name=s, solver=runs.solvers[0])) for s in runs.surfaces}
    )
    n_tune = sum(1 for r in stored if r["role"] == "tune")
    return [
        "## Protocol",
        "",
        f"- Store `{db.name}`: {len(runs.rows)} compared runs"
        + (f" (and {n_tune} tuning runs)" if n_tune else "")
        + f"; surfaces: {', '.join(runs.surfaces)}.",
        f"- A problem is one (surface, start) pair; every optimizer runs from the same starts "
        f"({'/'.join(map(str, starts))} per surface), {n_problems} problems in the profiles "
        "(those every optimizer ran).",
        f"- Budget: {'/'.join(map(str, steps))} steps per run; {stop}; a run that diverges is "
        "frozen at its last finite point and counts as failed from then on.",
        "- Evaluations count every evaluation of f, ∇f and ∇²f once (gradient descent costs 2 per "
        "step; a line search adds its trial points).",
        "- Targets are absolute, on f − f*: " + ", ".join(f"{t:.0e}" for t in runs.targets) + ".",
        "",
    ]


def _overall_sentence(
    overall: list[dict[str, Any]], targets: Sequence[float], n_surfaces: int
) -> str:
    best = overall[0]
    most = max(overall, key=lambda r: (r["success"][-1], -r["median_evals"][-1]))
    text = (
        f"**{best['solver']}** has the best mean rank over the {n_surfaces} "
        f"surface{'s' * (n_surfaces > 1)} "
        f"({best['mean_rank']:.1f}); it reaches {targets[-1]:.0e} in {100 * best['success'][-1]:.0f}% "
        "of its runs."
    )
    if most is not best:
        text += (
            f" **{most['solver']}** reaches {targets[-1]:.0e} most often "
            f"({100 * most['success'][-1]:.0f}% of its runs)."
        )
    return text


def _leaders(values: np.ndarray, solvers: list[str]) -> str:
    best = [s for s, v in zip(solvers, values, strict=True) if v == values.max()]
    return _names(best)


def _profiles_text(
    t: np.ndarray, solvers: list[str], targets: Sequence[float], n: int, colors: figures.Lines
) -> list[str]:
    rho = profiles.performance_profile(t[:, :, -1], np.array([1.0, np.inf]))
    shown = (
        ""
        if colors.shown == colors.solvers
        else f" The figures color the {COLORED} best-ranked optimizers and "
        f"{' and '.join(REFERENCES)} for reference; the others are gray."
    )
    return [
        "## Performance and data profiles",
        "",
        f"Over the {n} problems, at the tightest target {targets[-1]:.0e}: fastest on the most "
        f"problems (ρ(1) = {rho[0].max():.2f}): {_leaders(rho[0], solvers)}; most problems "
        f"solved (ρ(∞) = {rho[1].max():.2f}): {_leaders(rho[1], solvers)}.{shown} "
        "In a performance profile, ρ(1) is the fraction of "
        "problems on which an optimizer needed the fewest evaluations, ρ(α) the fraction it solved "
        "within α times the fewest, and the right end the fraction it solved at all. A data "
        "profile shows the fraction solved within a budget of κ·(d + 1) evaluations.",
        "",
        "![Performance profiles](performance_profiles.png)",
        "",
        "![Data profiles](data_profiles.png)",
        "",
        "The runtime distribution pools every problem and 51 targets from 10² to 10⁻⁸ (COCO's): "
        "the fraction of (problem, target) pairs reached within a number of evaluations per "
        "dimension; × marks the median budget an optimizer used.",
        "",
        "![Runtime distributions](ecdf.png)",
        "",
    ]
