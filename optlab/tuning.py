"""Fair tuning: every optimizer gets the same budget of settings, chosen on separate starts.

Each optimizer of a job gets `budget` settings: a log-spaced learning-rate grid and, where it has
one, a grid over its main other hyperparameter (the first of `OTHER` it takes as a traced value),
`budget // len(other)` learning rates × `len(other)` values. Every setting runs from `starts`
tuning starts (drawn with seed + 1, so disjoint from the job's own starts) AND from the job's own
evaluation starts, all settings vmapped in one compiled program (optimizers share a program while
its recorded arrays fit in `MAX_PROGRAM_BYTES`). The setting with the lowest median tuning score
is chosen using the tuning starts alone; the comparison reports that setting's runs on the
evaluation starts.

A run's score is its anytime performance: the mean over steps of log10 max(f − f*, floor), so
reaching the floor (the smallest target) sooner scores lower; a diverged run scores +inf.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from optlab import optimizers, results
from optlab.config import Job, Member, random_starts
from optlab.engine import DIVERGED, SHARED, Group, Trajectory
from optlab.errors import UserError

# The main other hyperparameter: the first of these an optimizer takes as a traced value.
OTHER = ("momentum", "b1", "decay", "rho")
# Members share one compiled program while their recorded arrays fit in this many bytes.
MAX_PROGRAM_BYTES = 256e6


@dataclasses.dataclass(frozen=True)
class Options:
    """The tuning budget: settings per optimizer, learning-rate range, other values, starts."""

    budget: int = 12
    learning_rate: tuple[float, float] = (1e-5, 1.0)
    other: tuple[float, ...] = (0.5, 0.9, 0.99)
    starts: int = 8
    floor: float = 1e-8


def options(value: Mapping[str, Any] | None, targets: Sequence[float]) -> Options:
    """Validated `tuning` options; the score's floor defaults to the smallest target."""
    value = dict(value or {})
    unknown = sorted(set(value) - {f.name for f in dataclasses.fields(Options)})
    if unknown:
        allowed = ", ".join(f.name for f in dataclasses.fields(Options))
        raise UserError(f"tuning.{unknown[0]}={value[unknown[0]]!r} is unknown; valid: {allowed}")
    base = Options()
    budget = value.get("budget", base.budget)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise UserError(f"tuning.budget={budget!r} is invalid: must be an integer >= 1")
    starts = value.get("starts", base.starts)
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise UserError(f"tuning.starts={starts!r} is invalid: must be an integer >= 1")
    lr = value.get("learning_rate", base.learning_rate)
    if not _numbers(lr, 2) or not 0 < lr[0] <= lr[1] < math.inf:
        raise UserError(
            f"tuning.learning_rate={_show(lr)} is invalid: must be [low, high] with 0 < low <= high"
        )
    other = value.get("other", base.other)
    if not _numbers(other) or not all(0 <= v < 1 for v in other):
        raise UserError(
            f"tuning.other={_show(other)} is invalid: must be a list of values in [0, 1)"
        )
    if budget < len(other):
        raise UserError(
            f"tuning.budget={budget} is invalid: must be >= the {len(other)} values of "
            "tuning.other (every optimizer gets the same number of settings)"
        )
    floor = value.get("floor", min(targets))
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 < floor < math.inf:
        raise UserError(f"tuning.floor={floor!r} is invalid: must be a positive number")
    lr_range = (float(lr[0]), float(lr[1]))
    return Options(budget, lr_range, tuple(map(float, other)), starts, float(floor))


def _numbers(value: Any, n: int | None = None) -> bool:
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return ok and (n is None or len(value) == n)


def _show(value: Any) -> str:
    return (
        repr(list(value))
        if isinstance(value, Sequence) and not isinstance(value, str)
        else repr(value)
    )


def log_grid(low: float, high: float, n: int) -> np.ndarray:
    """`n` values from `low` to `high`, evenly spaced in log10 (the geometric mean when n = 1)."""
    if n == 1:
        return np.array([math.sqrt(low * high)])
    return np.logspace(math.log10(low), math.log10(high), n)


def settings(member: Member, opts: Options) -> list[dict[str, float]]:
    """The member's `budget` settings (learning rate × main other hyperparameter, where tunable)."""
    traced = set(optimizers.entry(member.spec.name).traced)
    tunable_lr = "learning_rate" in traced and "learning_rate" in member.hparams
    other = next((k for k in OTHER if k in traced and k in member.hparams), None)
    if tunable_lr and other:
        n_lr = max(opts.budget // len(opts.other), 1)
        lrs = log_grid(*opts.learning_rate, n_lr)
        return [
            {"learning_rate": float(a), other: b} for a, b in itertools.product(lrs, opts.other)
        ]
    if tunable_lr:
        return [{"learning_rate": float(a)} for a in log_grid(*opts.learning_rate, opts.budget)]
    if other:
        return [{other: b} for b in opts.other]
    return [{}]


def _with(member: Member, setting: Mapping[str, float]) -> Member:
    return Member(
        member.label,
        member.spec,
        {**member.hparams, **setting},
        {**member.config, **setting},
    )


def group(members: Sequence[Member], starts: np.ndarray) -> Group:
    """ONE engine group running every member (same spec) from every start: traced arrays (M·S,)."""
    specs = {m.spec for m in members}
    if len(specs) != 1:
        raise ValueError(f"one group needs one spec, got {sorted(s.name for s in specs)}")
    n = len(starts)
    hp = {k: np.repeat([m.hparams[k] for m in members], n) for k in members[0].hparams}
    return Group(members[0].spec, hp, np.tile(starts, (len(members), 1)))


def _runs(job: Job, members: Sequence[Member], starts: np.ndarray) -> Job:
    """`job` with these members and starts (no grid): the loss and path of every step recorded."""
    return dataclasses.replace(
        job,
        members=tuple(members),
        starts=starts,
        grid=None,
        diagnostics=False,
        record=("params", "loss"),
        record_every=1,
    )


@dataclasses.dataclass(frozen=True)
class Plan:
    """What tuning runs: per member, its settings from tuning + evaluation starts."""

    job: Job
    options: Options
    settings: tuple[tuple[dict[str, float], ...], ...]  # per member
    tune_starts: np.ndarray  # (N, d)

    def trials(self, i: int) -> Job:
        """Member `i` under each of its settings, from the tuning starts then the job's starts."""
        members = tuple(_with(self.job.members[i], s) for s in self.settings[i])
        starts = np.concatenate([self.tune_starts, self.job.starts])
        return _runs(self.job, members, starts)

    @property
    def key(self) -> str:
        """The tuning job's config hash (for the store): every trial run and the options."""
        trials = [results.job_key(self.trials(i), "tune") for i in range(len(self.settings))]
        return results.digest([trials, dataclasses.asdict(self.options)])


def plan(job: Job, opts: Options) -> Plan:
    """The tuning plan of `job`: every member's settings and the tuning starts (seed + 1)."""
    if job.surface.f_min is None:
        raise UserError(f"task=tune needs a surface with a known f*; {job.surface.name!r} has none")
    swept = [] if job.grid is None else [f"grid.{k}" for k in job.grid.axes]
    swept += ["grid.seed"] if job.grid is not None and len(job.grid.seeds) > 1 else []
    if swept:
        raise UserError(
            f"{', '.join(swept)} cannot be combined with task=tune: tuning chooses the hyperparameters "
            "itself (tuning.*) and draws its own starts"
        )
    tune = random_starts(job.surface.bounds, opts.starts, job.seed + 1)
    return Plan(job, opts, tuple(tuple(settings(m, opts)) for m in job.members), tune)


def scores(loss: np.ndarray, status: np.ndarray, f_min: float, floor: float) -> np.ndarray:
    """Per run: mean over steps of log10 max(f − f*, floor); +inf for a diverged run."""
    gap = np.maximum(np.asarray(loss, dtype=float) - f_min, floor)
    return np.where(np.asarray(status) == DIVERGED, np.inf, np.log10(gap).mean(-1))


def choose(run_scores: np.ndarray) -> tuple[int, np.ndarray]:
    """The setting with the lowest median score over tuning starts (S, N); the first on ties."""
    med = np.median(run_scores, axis=-1)
    return int(np.argmin(med)), med


def take(traj: Trajectory, index: np.ndarray) -> Trajectory:
    """The runs `index` of `traj` (fields left out of `record` stay None)."""
    return _fields(lambda a: np.asarray(a)[index], traj)


def concatenate(trajs: Sequence[Trajectory]) -> Trajectory:
    """The runs of every trajectory in `trajs` (recorded alike), one after the other."""
    return _fields(lambda *a: np.concatenate(a), *trajs)


def _fields(fn: Callable[..., Any], *trajs: Trajectory) -> Trajectory:
    """Apply `fn` to each per-run field; the shared fields (`SHARED`) and absent fields carry over."""
    first = trajs[0]
    out = {
        name: value if value is None or name in SHARED else fn(*(getattr(t, name) for t in trajs))
        for name, value in first._asdict().items()
    }
    return Trajectory(**out)


@dataclasses.dataclass(frozen=True)
class Result:
    """Tuning outcome: the tuning runs and the chosen settings' runs on the evaluation starts."""

    tune_job: Job  # all settings × tuning starts
    tune_traj: Trajectory
    tune_scores: np.ndarray  # per tuning run
    chosen_mask: np.ndarray  # per tuning run: its setting was chosen
    job: Job  # chosen settings × evaluation starts
    traj: Trajectory
    table: tuple[dict[str, Any], ...]  # one row per (member, setting)


def chunks(p: Plan, max_bytes: float = MAX_PROGRAM_BYTES) -> list[list[int]]:
    """Members grouped (in order) so that each program's recorded arrays stay under `max_bytes`."""
    d, steps = p.job.surface.dim, p.job.steps
    per_run = (steps + 1) * (d + 1) * 8  # params and loss of every step (float64)
    out: list[list[int]] = []
    used = 0.0
    for i, settings_ in enumerate(p.settings):
        size = len(settings_) * (len(p.tune_starts) + len(p.job.starts)) * per_run
        if out and used + size <= max_bytes:
            out[-1].append(i)
            used += size
        else:
            out.append([i])
            used = size
    return out


def run(p: Plan, simulate: Callable[[Job, list[Group]], Trajectory]) -> Result:
    """Run every member's settings (members fused into as few programs as memory allows), choose
    each member's setting on the tuning starts, keep its runs on the evaluation starts."""
    n_tune, n_eval = len(p.tune_starts), len(p.job.starts)
    n = n_tune + n_eval
    trajs: dict[int, Trajectory] = {}
    for chunk in chunks(p):
        trials = [p.trials(i) for i in chunk]
        traj = simulate(trials[0], [group(t.members, t.starts) for t in trials])
        offsets = np.cumsum([0] + [len(t.members) * n for t in trials])
        for i, a, b in zip(chunk, offsets[:-1], offsets[1:], strict=True):
            trajs[i] = take(traj, np.arange(a, b))
    tune_members, tune_trajs, tune_scores, masks = [], [], [], []
    chosen, evals, table = [], [], []
    for i, member in enumerate(p.job.members):
        trials, traj = p.trials(i), trajs[i]
        S = len(trials.members)
        runs = np.arange(S * n).reshape(S, n)
        tune_idx, eval_idx = runs[:, :n_tune].ravel(), runs[:, n_tune:]
        s = scores(traj.loss[tune_idx], traj.status[tune_idx], p.job.surface.f_min, p.options.floor)
        best, med = choose(s.reshape(S, n_tune))
        tune_members += trials.members
        tune_trajs.append(take(traj, tune_idx))
        tune_scores.append(s)
        masks.append(np.repeat(np.arange(S) == best, n_tune))
        chosen.append(trials.members[best])
        evals.append(take(traj, eval_idx[best]))
        table += [
            {
                "label": member.label,
                "optimizer": member.spec.name,
                **setting,
                "score": float(m),
                "chosen": k == best,
            }
            for k, (setting, m) in enumerate(zip(p.settings[i], med, strict=True))
        ]
    return Result(
        tune_job=_runs(p.job, tune_members, p.tune_starts),
        tune_traj=concatenate(tune_trajs),
        tune_scores=np.concatenate(tune_scores),
        chosen_mask=np.concatenate(masks),
        job=_runs(p.job, chosen, p.job.starts),
        traj=concatenate(evals),
        table=tuple(table),
    )


def store_rows(result: Result, **kwargs: Any) -> list[dict[str, Any]]:
    """Store rows: every tuning run (role `tune`, with its score) and the chosen settings' runs on
    the evaluation starts (role `eval`, with per-step curves); `kwargs` go to `rows_for`."""
    extra = [
        {"score": float(s), "chosen": int(c)}
        for s, c in zip(result.tune_scores, result.chosen_mask, strict=True)
    ]
    tune = results.rows_for(
        result.tune_job, result.tune_traj, role="tune", curves=False, extra=extra, **kwargs
    )
    return tune + results.rows_for(result.job, result.traj, role="eval", **kwargs)


def summary(result: Result) -> str:
    """The chosen setting of each member and the median final f − f* on the evaluation starts."""
    f_min = result.job.surface.f_min
    n = len(result.job.starts)
    width = max(len("label"), *(len(m.label) for m in result.job.members))
    lines = [f"{'label':<{width}}  {'median f-f*':>11}  chosen setting (of the settings tried)"]
    for i, m in enumerate(result.job.members):
        gap = np.median(result.traj.loss[i * n : (i + 1) * n, -1] - f_min)
        tried = sum(1 for r in result.table if r["label"] == m.label)
        shown = ", ".join(
            f"{k}={v:.3g}" for k, v in m.hparams.items() if k in ("learning_rate", *OTHER)
        )
        lines.append(f"{m.label:<{width}}  {gap:>11.3e}  {shown or '(defaults)'} (of {tried})")
    return "\n".join(lines)
