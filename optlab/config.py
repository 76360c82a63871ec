"""The one place where a Hydra/OmegaConf config becomes optlab objects (validated)."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab import cost, devices, grid, optimizers, surfaces, validate
from optlab.engine import DEFAULT_RECORD, FIELDS, Group
from optlab.errors import UserError, unknown
from optlab.noise import MODELS, SAMPLING, Noise, run_seeds
from optlab.surfaces import finite_sum
from optlab.surfaces.base import Surface

DTYPES = ("float32", "float64")
PROJECTIONS = ("slice", "pca")
ZSCALES = ("auto", "log", "linear")
PROGRESS = ("auto", True, False)


def conf_dir() -> Path:
    """The live checkout's `conf/` when running from a checkout, else the wheel's `optlab/conf`."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "conf"
    if (checkout / "config.yaml").is_file() and (here.parent / "pyproject.toml").is_file():
        return checkout
    return here / "conf"


@dataclasses.dataclass(frozen=True)
class Member:
    """One optimizer of a job's lineup: its label, static spec and traced hyperparameters."""

    label: str
    spec: optimizers.Spec
    hparams: dict[str, float]
    config: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class PlotOptions:
    """`plot_options`: how the pictures are drawn (README: Pictures)."""

    quiver: bool = False  # contour: arrows of −∇f on a coarse grid
    projection: str | None = None  # N-d: "slice" | "pca"; None: the slice, chosen and logged
    axes: tuple[int, int] | None = None  # the slice's two coordinates; None: (0, 1)
    resolution: int = 200  # grid points per side
    frames: int = 60  # animation: at most this many frames
    fps: int = 12
    zscale: str = "auto"  # surface3d: auto | log | linear
    dpi: int = 120


@dataclasses.dataclass(frozen=True)
class Grid:
    """The numeric axes of a job: every member runs every point of hyperparameters × seeds × starts.

    `axes` maps a traced hyperparameter to its values (n,); `seeds` (K,) are the seeds of the
    random starts and `starts` (K, S, d) the starts drawn with each (K = 1 without a seed axis).
    """

    axes: dict[str, np.ndarray]
    seeds: np.ndarray
    starts: np.ndarray

    @property
    def size(self) -> int:
        """Runs per member: the product of the axis lengths, seeds and starts."""
        return (
            math.prod(len(v) for v in self.axes.values())
            * self.starts.shape[0]
            * self.starts.shape[1]
        )

    def points(self) -> dict[str, np.ndarray]:
        """Every run's coordinates: each axis (N,), `seed` (N,) and `start` (N, d); start fastest."""
        sizes = [len(v) for v in self.axes.values()] + list(self.starts.shape[:2])
        index = grid.product(sizes)
        *axes, seed, start = index
        out = {k: v[i] for (k, v), i in zip(self.axes.items(), axes, strict=True)}
        return out | {"seed": self.seeds[seed], "start": self.starts[seed, start]}


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything one experiment needs, as plain Python/NumPy values."""

    surface: Surface
    members: tuple[Member, ...]
    starts: np.ndarray  # (S, d): the starts of the first seed (all of them without a seed axis)
    steps: int
    dtype: str
    seed: int
    diagnostics: bool
    tol_grad: float
    target: float | None
    plot_bounds: np.ndarray  # (2, 2) view of the contour plot
    warnings: tuple[str, ...] = ()
    plots: tuple[str, ...] = ("contour", "loss")
    plot_options: PlotOptions = PlotOptions()
    grid: Grid | None = None  # None: no axes, one seed, `starts`
    record: tuple[str, ...] = DEFAULT_RECORD
    record_every: int = 1
    chunk_size: int | None = None  # runs per group per program call; None: from memory
    device: str = "auto"
    progress: bool | str = "auto"
    noise: Noise | None = None  # None: the optimizer sees the exact f and ∇f

    @property
    def seeds(self) -> np.ndarray:
        """Each run's noise seed (per member, in run order): from its grid seed and start index."""
        per_seed = self.grid.starts.shape[1] if self.grid is not None else len(self.starts)
        n = self.runs_per_member
        return run_seeds(self.points["seed"], np.arange(n) % per_seed)

    @functools.cached_property
    def points(self) -> dict[str, np.ndarray]:
        """Every member's runs' coordinates (see `Grid.points`)."""
        g = self.grid or Grid({}, np.asarray([self.seed]), self.starts[None])
        return g.points()

    @property
    def runs_per_member(self) -> int:
        return len(self.points["start"])

    def hparam(self, member: Member, name: str, run: int) -> Any:
        """The value of hyperparameter `name` in run `run` of `member` (its grid value if swept)."""
        if name in self.points and name not in ("seed", "start"):
            return float(self.points[name][run])
        return member.config.get(name)

    @property
    def groups(self) -> list[Group]:
        """One engine group per member, each running every grid point."""
        n, pts = self.runs_per_member, self.points
        return [
            Group(
                m.spec,
                {k: pts[k] if k in pts else np.full(n, v) for k, v in m.hparams.items()},
                pts["start"],
                self.seeds,
            )
            for m in self.members
        ]

    @property
    def labels(self) -> list[str]:
        """One label per run, in the engine's run order."""
        n = self.runs_per_member
        return [m.label if n == 1 else f"{m.label}[{i}]" for m in self.members for i in range(n)]


def _plain(node: Any) -> Any:
    """A DictConfig/ListConfig as plain dicts and lists (no OmegaConf below this module)."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(node, DictConfig | ListConfig):
        return OmegaConf.to_container(node, resolve=True)
    return node


def _integer(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{key}={value!r} is invalid: must be an integer >= {minimum}")
    return value


def _number(key: str, value: Any, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    return validate.finite(key, value)


def _surface(cfg: Mapping[str, Any]) -> Surface:
    params = dict(cfg)
    name = params.pop("name", None)
    if name is None:
        raise UserError(f"surface.name is missing; available: {', '.join(surfaces.available())}")
    return surfaces.get(name, **params)


def optimizer_defaults(name: str) -> dict[str, Any]:
    """The hyperparameters in `conf/optimizer/<name>.yaml` (empty when there is no such file)."""
    from omegaconf import OmegaConf

    path = conf_dir() / "optimizer" / f"{name}.yaml"
    return _plain(OmegaConf.load(path)) if path.is_file() else {}


def _member(label: str, cfg: Mapping[str, Any], prefix: str) -> Member:
    """A lineup entry: its optimizer's YAML defaults overridden by the entry's own values."""
    name = cfg.get("name", label)
    hparams = optimizer_defaults(str(name)) | dict(cfg)
    hparams.pop("name", None)
    hparams.pop("label", None)
    spec, traced = optimizers.split(name, hparams, prefix=prefix)
    return Member(label, spec, traced, {"name": name, **hparams})


def _members(cfg: Mapping[str, Any], single_optimizer: bool) -> tuple[Member, ...]:
    lineup = cfg.get("lineup")
    if lineup and not single_optimizer:
        if not isinstance(lineup, Mapping):
            raise UserError(f"lineup={lineup!r} is invalid: must map labels to optimizer configs")
        return tuple(_member(str(k), v or {}, f"lineup.{k}") for k, v in lineup.items())
    opt = dict(cfg.get("optimizer") or {})
    name = opt.get("name")
    if name is None:
        raise UserError(
            f"optimizer.name is missing; available: {', '.join(optimizers.available())}"
        )
    opt.pop("label", None)
    return (_member(str(name), opt, "optimizer"),)


def _points(key: str, value: Any, dim: int) -> np.ndarray:
    """A start `[x, y]` or a list of starts `[[x, y], ...]` as an (S, d) array."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise UserError(f"{key}={value!r} is invalid: must be a list of {dim} numbers") from None
    arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] == 0:
        raise UserError(
            f"{key}={value!r} is invalid: the surface is {dim}-D, so a point needs {dim} numbers"
        )
    if not np.all(np.isfinite(arr)):
        raise UserError(f"{key}={value!r} is invalid: coordinates must be finite")
    return arr


def random_starts(bounds: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` starts drawn uniformly from the box `bounds` (d, 2), reproducibly from `seed`.

    Drawn in float32 whatever `jax_enable_x64` says, so the same seed gives the same starts in
    every process (a float64 job turns x64 on only after its starts are drawn).
    """
    import jax
    import jax.numpy as jnp

    u = jax.random.uniform(jax.random.key(seed), (n, len(bounds)), dtype=jnp.float32)
    u = np.asarray(u, dtype=float)
    return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


def _start_sets(
    cfg: Mapping[str, Any], surface: Surface, seeds: np.ndarray, swept: bool
) -> np.ndarray:
    """The starts of each seed (K, S, d): random (`starts=N`), a lattice (`start_grid=K`) or listed;
    with none of them, the surface's declared start (`Surface.start`) else one random start."""
    n, k = cfg.get("starts"), cfg.get("start_grid")
    if n is not None and k is not None:
        raise UserError(f"starts={n!r} and start_grid={k!r} exclude each other: choose one")
    declared = n is None and k is None and cfg.get("start") is None and not swept
    if declared and surface.start is not None:
        return surface.start[None, None]
    if n is not None or (k is None and cfg.get("start") is None):
        n = 1 if n is None else _integer("starts", n, 1)
        return np.stack([random_starts(surface.bounds, n, int(s)) for s in seeds])
    if swept:
        key = "start_grid" if k is not None else "start"
        raise UserError(f"grid.seed varies random starts only; with {key} set use starts=N instead")
    if k is not None:
        return grid.lattice(surface.bounds, _integer("start_grid", k, 2))[None]
    return _points("start", cfg["start"], surface.dim)[None]


def _seeds(values: np.ndarray | None, seed: int) -> np.ndarray:
    """The seed axis (`grid.seed`), else the one `seed`."""
    if values is None:
        return np.asarray([seed])
    if not np.all((values >= 0) & (values == np.round(values))):
        raise UserError(f"grid.seed={values.tolist()!r} is invalid: seeds are integers >= 0")
    return values.astype(int)


def _sweep(members: tuple[Member, ...], axes: dict[str, np.ndarray]) -> tuple[Member, ...]:
    """Members whose swept hyperparameters are traced; an axis must apply to every member."""
    out = []
    for m in members:
        traced = optimizers.entry(m.spec.name).traced
        for key in axes:
            if key not in traced:
                raise UserError(
                    f"grid.{key} does not apply to optimizer {m.spec.name!r} (lineup entry "
                    f"{m.label!r}); its numeric hyperparameters: {', '.join(traced)}"
                )
        base = {k: v for k, v in m.config.items() if k != "name"}
        for key, values in axes.items():  # each value passes the optimizer's own checks
            for v in values:
                optimizers.split(m.spec.name, base | {key: float(v)}, prefix="grid")
        spec, hparams = optimizers.split(
            m.spec.name, base | {k: float(v[0]) for k, v in axes.items()}
        )
        out.append(dataclasses.replace(m, spec=spec, hparams=hparams))
    return tuple(out)


def _record(value: Any) -> tuple[str, ...]:
    fields = [value] if isinstance(value, str) else list(value or [])
    if not fields or any(f not in FIELDS for f in fields):
        raise UserError(f"record={value!r} is invalid: a non-empty list of {', '.join(FIELDS)}")
    return tuple(f for f in FIELDS if f in fields)


def _chunk_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(
            f"chunk_size={value!r} is invalid: must be an integer >= 1, or null (automatic)"
        )
    return value


def _choice(key: str, value: Any, allowed: tuple) -> Any:
    """`value` if it is one of `allowed` (same type too: true is not 1), else a UserError."""
    if not any(type(a) is type(value) and a == value for a in allowed):
        shown = ", ".join(
            "null" if a is None else str(a).lower() if isinstance(a, bool) else str(a)
            for a in allowed
        )
        raise UserError(f"{key}={value!r} is invalid: allowed: {shown}")
    return value


@dataclasses.dataclass(frozen=True)
class StoreOptions:
    """Where a job's runs are stored (`results`), whether stored jobs are skipped (`resume`),
    and the targets on f − f* that the store and reports count (`targets`)."""

    enabled: bool
    path: str | None  # None: the default place (the sweep's root, or the run directory)
    resume: bool
    targets: tuple[float, ...]


def store_options(cfg: Any) -> StoreOptions:
    """`results` (a path, null for the default place, false for none), `resume`, `targets`."""
    from optlab import results

    cfg = _plain(cfg)
    path, resume = cfg.get("results"), cfg.get("resume", True)
    if path is not None and path is not False and not isinstance(path, str):
        raise UserError(f"results={path!r} is invalid: a file or directory, null, or false")
    validate.boolean("resume", resume)
    if isinstance(path, str):  # an empty path stays empty (resolve would make it ".")
        where = results.resolve(path) if path.strip() else path
        validate.writable("results", where, directory=False, given=path)
    targets = results.check_targets(cfg.get("targets", list(results.TARGETS)))
    return StoreOptions(path is not False, path or None, resume, targets)


def cost_model(cfg: Any) -> cost.Cost:
    """`cost`: what one evaluation of f, ∇f and ∇²f costs (default 1, 1 and d)."""
    return cost.from_mapping(_plain(cfg).get("cost"), "cost")


def cache_dir(cfg: Any) -> str | None:
    """The compilation cache directory of `cfg` (`auto`: the user cache dir; null: off)."""
    value = _plain(cfg).get("cache_dir", "auto")
    if value is not None and not isinstance(value, str):
        raise UserError(f"cache_dir={value!r} is invalid: a directory, auto, or null (off)")
    if value is not None and value != "auto":
        validate.writable("cache_dir", value, directory=True)
    return value


def _outside(starts: np.ndarray, bounds: np.ndarray) -> list[str]:
    out = (starts < bounds[:, 0]) | (starts > bounds[:, 1])
    return [
        f"start {s.tolist()} lies outside the surface's bounds {bounds.tolist()}; running anyway"
        for s, o in zip(starts, out, strict=True)
        if o.any()
    ]


def _plot_bounds(
    cfg: Mapping[str, Any], surface: Surface, axes: tuple[int, int] = (0, 1)
) -> np.ndarray:
    value = cfg.get("plot_bounds")
    if value is None:
        return surface.bounds[list(axes)] if surface.dim >= 2 else surface.bounds[:2]
    arr = _points("plot_bounds", value, 2)
    if arr.shape != (2, 2) or np.any(arr[:, 0] >= arr[:, 1]):
        raise UserError(
            f"plot_bounds={value!r} is invalid: must be [[xlo, xhi], [ylo, yhi]], lo < hi"
        )
    return arr


def _bounded(key: str, value: Any, lo: int, hi: int) -> int:
    if _integer(key, value, lo) > hi:
        raise UserError(f"{key}={value!r} is invalid: must be an integer in [{lo}, {hi}]")
    return value


def _axes(axes: Any, projection: str | None, dim: int) -> tuple[int, int]:
    """`plot_options.axes`: two different coordinates of the slice (not with projection=pca)."""
    ints = isinstance(axes, list) and len(axes) == 2
    ints = ints and all(
        isinstance(a, int) and not isinstance(a, bool) and 0 <= a < dim for a in axes
    )
    if not ints or axes[0] == axes[1]:
        raise UserError(
            f"plot_options.axes={axes!r} is invalid: must be two different integers in [0, {dim - 1}]"
        )
    if projection == "pca":
        raise UserError(
            "plot_options.axes is invalid with plot_options.projection=pca (axes choose a slice)"
        )
    return axes[0], axes[1]


def _plots(cfg: Mapping[str, Any], dim: int) -> tuple[tuple[str, ...], PlotOptions]:
    """`plots` (a list of names; [] for none) and `plot_options`, validated."""
    from optlab.plots import KINDS
    from optlab.plots.animation import MAX_FRAMES

    names = cfg.get("plots", ["contour", "loss"])
    names = [] if names is None else [names] if isinstance(names, str) else names
    if not isinstance(names, list):
        raise UserError(f"plots={names!r} is invalid: must be a list of: {', '.join(KINDS)}")
    for n in names:
        if n not in KINDS:
            raise UserError(
                f"plots={names!r} is invalid: unknown plot {n!r}; available: {', '.join(KINDS)}"
            )
    given = dict(cfg.get("plot_options") or {})
    fields = {f.name: f.default for f in dataclasses.fields(PlotOptions)}
    for key in given:
        if key not in fields:
            raise UserError(f"plot_options.{key} is unknown; valid: {', '.join(fields)}")
    o = fields | {k: v for k, v in given.items() if v is not None}
    validate.boolean("plot_options.quiver", o["quiver"])
    _choice("plot_options.projection", o["projection"], (None, *PROJECTIONS))
    _choice("plot_options.zscale", o["zscale"], ZSCALES)
    if o["axes"] is not None:
        o["axes"], o["projection"] = _axes(o["axes"], o["projection"], dim), "slice"
    for key, lo, hi in (
        ("resolution", 8, 2000),
        ("frames", 2, MAX_FRAMES),
        ("fps", 1, 50),
        ("dpi", 20, 600),
    ):
        _bounded(f"plot_options.{key}", o[key], lo, hi)
    return tuple(dict.fromkeys(names)), PlotOptions(**o)


def _dtype(cfg: Mapping[str, Any]) -> str:
    dtype = cfg.get("dtype", "float32")
    if dtype not in DTYPES:
        raise UserError(f"dtype={dtype!r} is invalid: allowed: {', '.join(DTYPES)}")
    return dtype


NOISE_KEYS = {"none": (), "gaussian": ("sigma", "value"), "relative": ("sigma", "value")}
NOISE_KEYS["student_t"] = ("sigma", "df", "value")


def noise_options(cfg: Mapping[str, Any], surface: Surface) -> Noise | None:
    """`noise` (name, sigma, df, value), `batch_size` and `sampling` validated; None when off."""
    given = dict(cfg.get("noise") or {})
    name = given.pop("name", "none")
    if name not in MODELS:
        raise unknown("noise", name, MODELS)
    for key in given:
        if key not in NOISE_KEYS[name]:
            valid = ", ".join(NOISE_KEYS[name]) or "none"
            raise UserError(
                f"noise.{key}={given[key]!r} is not a setting of noise {name!r}; valid: {valid}"
            )
    sigma = _number("noise.sigma", given.get("sigma", 1.0), allow_none=False)
    if sigma < 0:
        raise UserError(f"noise.sigma={sigma!r} is invalid: must be >= 0")
    df = _number("noise.df", given.get("df", 3.0), allow_none=False)
    if name == "student_t" and df <= 2:
        raise UserError(
            f"noise.df={df!r} is invalid: must be > 2 (the variance is infinite at <= 2)"
        )
    value = given.get("value", False)
    if not isinstance(value, bool):
        raise UserError(f"noise.value={value!r} is invalid: must be true or false")
    sampling = _choice("sampling", cfg.get("sampling", "shuffle"), SAMPLING)
    batch = cfg.get("batch_size")
    if batch is not None:
        batch = _integer("batch_size", batch, 1)
        if not finite_sum.is_finite_sum(surface):
            raise UserError(
                f"batch_size={batch} is invalid: surface {surface.name!r} is not a sum over "
                f"examples; minibatches need one of: {', '.join(finite_sum.LOSSES)}"
            )
        n = finite_sum.size(surface)
        if batch > n:
            data = surface.config.get("data")
            raise UserError(
                f"batch_size={batch} is invalid: must be <= {n}, the examples of {data}"
            )
    if name == "none" and batch is None:
        return None
    return Noise(name, sigma, df if name == "student_t" else 0.0, value, batch, sampling)


def section(cfg: Any, key: str) -> dict[str, Any]:
    """`cfg[key]` as a plain dict (empty when missing or null)."""
    return dict(_plain(cfg.get(key)) or {})


def build_surface(cfg: Any) -> Surface:
    """The surface of `cfg.surface` (validated)."""
    return _surface(section(cfg, "surface"))


def _size(value: Any, default: int) -> int:
    """A positive integer config value, else `default` (validation proper comes later)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return value if ok else default


def check_size(cfg: Mapping[str, Any], single_optimizer: bool, dim: int | None = None) -> None:
    """Refuse at once a job whose arrays cannot fit in memory, from the config's sizes alone:
    before the surface (d-sized arrays), the starts, the job hash or the engine allocate."""
    from optlab.engine import bytes_per_run, check_fits, recorded_runs

    surf = cfg.get("surface") or {}
    if dim is None:
        name = surf.get("name")
        low = surfaces.entry(name).min_dim if name in surfaces.available() else 1
        dim = _size(surf.get("dim"), low)
    lineup = cfg.get("lineup")
    members = len(lineup) if isinstance(lineup, Mapping) and not single_optimizer else 1
    k, n = cfg.get("start_grid"), cfg.get("starts")
    start = cfg.get("start")
    if k is not None:
        starts = _size(k, 1) ** dim
    elif n is not None or start is None:
        starts = _size(n, 1)
    else:
        listed = isinstance(start, Sequence) and not isinstance(start, str) and len(start) > 0
        starts = len(start) if listed and isinstance(start[0], Sequence) else 1
    axes = grid.axes(cfg.get("grid"))
    per_member = starts * math.prod(len(v) for v in axes.values())
    runs, padded = members * per_member, members * recorded_runs(per_member)  # one device
    steps, every = _size(cfg.get("steps"), 1), _size(cfg.get("record_every"), 1)
    record = cfg.get("record", list(DEFAULT_RECORD))
    record = [record] if isinstance(record, str) else record
    fields = [f for f in FIELDS if f in (record or ())]
    itemsize = 8 if cfg.get("dtype") == "float64" else 4
    per_run = bytes_per_run(dim, steps, every, fields, bool(cfg.get("diagnostics", True)), itemsize)
    check_fits(runs, steps, padded * (per_run + 8 * dim) + 24 * dim)


def build_job(cfg: Any, single_optimizer: bool = False, surface: Surface | None = None) -> Job:
    """Validate `cfg` and build the job; every bad value raises a one-line `UserError`.

    `single_optimizer` says the user chose `optimizer=...` on the command line, which replaces an
    experiment's `lineup` with that one optimizer. `surface`, when given, replaces `cfg.surface`
    (a surface built from data, e.g. a network's training loss).
    """
    cfg = _plain(cfg)
    dtype = _dtype(cfg)
    steps = _integer("steps", cfg.get("steps"), 1)
    seed = _integer("seed", cfg.get("seed", 0), 0)
    check_size(cfg, single_optimizer, None if surface is None else surface.dim)
    surface = surface if surface is not None else _surface(cfg.get("surface") or {})
    axes = grid.axes(cfg.get("grid"))
    seed_axis = axes.pop("seed", None)
    seeds = _seeds(seed_axis, seed)
    members = _sweep(_members(cfg, single_optimizer), axes)
    noise = noise_options(cfg, surface)
    start_sets = _start_sets(cfg, surface, seeds, seed_axis is not None and noise is None)
    if len(start_sets) != len(seeds):  # a fixed start under noise: each seed is a noise stream
        start_sets = np.repeat(start_sets, len(seeds), axis=0)
    validate.representable("start", start_sets, dtype, cfg.get("start"))
    tol_grad = _number("tol_grad", cfg.get("tol_grad")) or 0.0
    target = _number("target", cfg.get("target"))
    for key, value in (("tol_grad", tol_grad), ("target", target)):
        if value is not None and value < 0:
            raise UserError(f"{key}={value!r} is invalid: must be >= 0")
    plots, plot_options = _plots(cfg, surface.dim)
    return Job(
        surface=surface,
        members=members,
        starts=start_sets[0],
        steps=steps,
        dtype=dtype,
        seed=seed,
        diagnostics=validate.boolean("diagnostics", cfg.get("diagnostics", True)),
        tol_grad=tol_grad,
        target=target,
        plot_bounds=_plot_bounds(cfg, surface, plot_options.axes or (0, 1)),
        warnings=tuple(_outside(start_sets.reshape(-1, surface.dim), surface.bounds)),
        plots=plots,
        plot_options=plot_options,
        grid=Grid(axes, seeds, start_sets),
        record=_record(cfg.get("record", list(DEFAULT_RECORD))),
        record_every=_integer("record_every", cfg.get("record_every", 1), 1),
        chunk_size=_chunk_size(cfg.get("chunk_size")),
        device=_choice("device", cfg.get("device", "auto"), devices.KINDS),
        progress=_choice("progress", cfg.get("progress", "auto"), PROGRESS),
        noise=noise,
    )


@dataclasses.dataclass(frozen=True)
class PointJob:
    """One point of a surface (the `derivatives` experiment), as plain Python/NumPy values."""

    surface: Surface
    point: np.ndarray  # (d,)
    direction: np.ndarray | None  # (d,): an extra direction for D_u f, not normalized
    dtype: str
    plot_bounds: np.ndarray  # (2, 2) view of the pictures (2-D surfaces)


def _point(key: str, value: Any, dim: int) -> np.ndarray:
    """Exactly one finite point of dimension `dim`, shape (d,)."""
    arr = _points(key, value, dim)
    if len(arr) != 1:
        raise UserError(f"{key}={value!r} is invalid: must be one list of {dim} numbers")
    return arr[0]


def build_point_job(cfg: Any) -> PointJob:
    """Validate `surface`, `point`, `direction`, `dtype` and `plot_bounds` for one-point tasks."""
    cfg = _plain(cfg)
    dtype = _dtype(cfg)
    surface = _surface(cfg.get("surface") or {})
    direction = cfg.get("direction")
    return PointJob(
        surface=surface,
        point=validate.representable(
            "point", _point("point", cfg.get("point"), surface.dim), dtype, cfg.get("point")
        ),
        direction=None if direction is None else _point("direction", direction, surface.dim),
        dtype=dtype,
        plot_bounds=_plot_bounds(cfg, surface) if surface.dim == 2 else surface.bounds,
    )


@dataclasses.dataclass(frozen=True)
class SuiteJob:
    """A lineup on Moré & Wild's problems under a budget (`task: suite`, optlab/suite.py)."""

    problems: tuple[int, ...]  # rows 1–53 of dfo.dat
    members: tuple[Member, ...]
    grids: dict[str, np.ndarray]  # label -> learning rates tried (one is chosen for every problem)
    budget: float  # cost units per (n + 1)
    taus: tuple[float, ...]  # accuracies of the convergence test
    cost: cost.Cost  # what an evaluation of f, ∇f and ∇²f costs


def build_suite(cfg: Any) -> SuiteJob:
    """Validate `suite` (problems, budget, taus, tune) and the `lineup` of a suite job."""
    from optlab.surfaces.morewild import COUNT
    from optlab.tuning import log_grid

    cfg = _plain(cfg)
    opts = dict(cfg.get("suite") or {})
    problems = opts.get("problems") or list(range(1, COUNT + 1))
    if not isinstance(problems, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= COUNT for p in problems
    ):
        raise UserError(f"suite.problems={problems!r} is invalid: a list of rows 1 to {COUNT}")
    members = _members(cfg, single_optimizer=False)
    grids = {}
    for label, spec in (opts.get("tune") or {}).items():
        ok = isinstance(spec, list) and len(spec) == 3 and 0 < spec[0] < spec[1]
        if not ok or label not in {m.label for m in members}:
            raise UserError(
                f"suite.tune.{label}={spec!r} is invalid: [low, high, count] learning rates of "
                "a lineup label"
            )
        grids[str(label)] = log_grid(float(spec[0]), float(spec[1]), _integer("count", spec[2], 1))
    taus = tuple(_number(f"suite.taus[{i}]", t, False) for i, t in enumerate(opts.get("taus", [])))
    if not taus or not all(0 < t < 1 for t in taus):
        raise UserError(f"suite.taus={taus!r} is invalid: a list of numbers in (0, 1)")
    factor = _number("suite.budget", opts.get("budget", 100), False)
    if factor <= 0:
        raise UserError(f"suite.budget={factor!r} is invalid: must be > 0")
    model = cost_model(cfg)
    return SuiteJob(tuple(problems), members, grids, factor, taus, model)
