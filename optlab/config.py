"""The one place where a Hydra/OmegaConf config becomes optlab objects (validated)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optlab import optimizers, surfaces
from optlab.engine import Group
from optlab.errors import UserError
from optlab.surfaces.base import Surface

DTYPES = ("float32", "float64")
PROJECTIONS = ("slice", "pca")
ZSCALES = ("auto", "log", "linear")


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
    """`plot_options`: how the pictures are drawn (docs/plots.md)."""

    quiver: bool = False  # contour: arrows of −∇f on a coarse grid
    projection: str | None = None  # N-d: "slice" | "pca"; None: the slice, chosen and logged
    axes: tuple[int, int] | None = None  # the slice's two coordinates; None: (0, 1)
    resolution: int = 200  # grid points per side
    frames: int = 60  # animation: at most this many frames
    fps: int = 12
    zscale: str = "auto"  # surface3d: auto | log | linear
    dpi: int = 120


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything one experiment needs, as plain Python/NumPy values."""

    surface: Surface
    members: tuple[Member, ...]
    starts: np.ndarray  # (S, d): every member runs from every start
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

    @property
    def groups(self) -> list[Group]:
        """One engine group per member, each running from every start."""
        n = len(self.starts)
        return [
            Group(m.spec, {k: np.full(n, v) for k, v in m.hparams.items()}, self.starts)
            for m in self.members
        ]

    @property
    def labels(self) -> list[str]:
        """One label per run, in the engine's run order."""
        n = len(self.starts)
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
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{key}={value!r} is invalid: must be a finite number")
    return float(value)


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
    """`n` starts drawn uniformly from the box `bounds` (d, 2), reproducibly from `seed`."""
    import jax

    u = np.asarray(jax.random.uniform(jax.random.key(seed), (n, len(bounds))), dtype=float)
    return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


def _starts(cfg: Mapping[str, Any], surface: Surface, seed: int) -> np.ndarray:
    n = cfg.get("starts")
    if n is not None:
        return random_starts(surface.bounds, _integer("starts", n, 1), seed)
    if cfg.get("start") is not None:
        return _points("start", cfg["start"], surface.dim)
    return random_starts(surface.bounds, 1, seed)


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


def _choice(key: str, value: Any, allowed: tuple) -> Any:
    if value not in allowed:
        shown = ", ".join("null" if a is None else str(a) for a in allowed)
        raise UserError(f"{key}={value!r} is invalid: allowed: {shown}")
    return value


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
    if not isinstance(o["quiver"], bool):
        raise UserError(f"plot_options.quiver={o['quiver']!r} is invalid: must be true or false")
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


def section(cfg: Any, key: str) -> dict[str, Any]:
    """`cfg[key]` as a plain dict (empty when missing or null)."""
    return dict(_plain(cfg.get(key)) or {})


def build_surface(cfg: Any) -> Surface:
    """The surface of `cfg.surface` (validated)."""
    return _surface(section(cfg, "surface"))


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
    surface = surface if surface is not None else _surface(cfg.get("surface") or {})
    members = _members(cfg, single_optimizer)
    starts = _starts(cfg, surface, seed)
    tol_grad = _number("tol_grad", cfg.get("tol_grad")) or 0.0
    target = _number("target", cfg.get("target"))
    for key, value in (("tol_grad", tol_grad), ("target", target)):
        if value is not None and value < 0:
            raise UserError(f"{key}={value!r} is invalid: must be >= 0")
    plots, plot_options = _plots(cfg, surface.dim)
    return Job(
        surface=surface,
        members=members,
        starts=starts,
        steps=steps,
        dtype=dtype,
        seed=seed,
        diagnostics=bool(cfg.get("diagnostics", True)),
        tol_grad=tol_grad,
        target=target,
        plot_bounds=_plot_bounds(cfg, surface, plot_options.axes or (0, 1)),
        warnings=tuple(_outside(starts, surface.bounds)),
        plots=plots,
        plot_options=plot_options,
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
        point=_point("point", cfg.get("point"), surface.dim),
        direction=None if direction is None else _point("direction", direction, surface.dim),
        dtype=dtype,
        plot_bounds=_plot_bounds(cfg, surface) if surface.dim == 2 else surface.bounds,
    )
