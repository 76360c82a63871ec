"""The ML tasks: `experiment=mlp`, `experiment=penalty`, `experiment=saliency`.

The network's training loss is a Surface over its flat parameters, so training is the lab's one
compiled engine program, and the records (trajectory.npz, runs.csv) are the usual ones, with
accuracy per step and per-layer gradient norms added.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab import landscape as views
from optlab import records
from optlab.config import Job, build_job, section
from optlab.engine import Trajectory
from optlab.ml import landscape, lipschitz, plots
from optlab.ml import saliency as sal
from optlab.ml.data import Digits, load_digits, one_hot
from optlab.ml.mlp import Architecture, accuracy, per_example_loss, surface
from optlab.ml.settings import MLPSettings, mlp_settings, saliency_settings
from optlab.plots import MAPS, contour


@dataclasses.dataclass(frozen=True)
class Training:
    """One trained lineup: its data, network, job and trajectory."""

    settings: MLPSettings
    digits: Digits
    arch: Architecture
    job: Job
    traj: Trajectory

    @property
    def best(self) -> int:
        """The run with the lowest final training loss."""
        return int(np.nanargmin(self.traj.loss[:, -1]))


def train(cfg: Any, overrides: list[str], settings: MLPSettings, what: str) -> Training:
    """Build the network's loss surface from `settings`, then the job from `cfg`, and run it."""
    from optlab.app import overrides_choose_optimizer, simulate  # app registers these tasks

    digits = load_digits(settings.test_fraction, what=f"experiment={what}")
    arch = Architecture((digits.x_train.shape[1], *settings.hidden, 10), settings.activation)
    loss = surface(arch, digits.x_train, one_hot(digits.y_train), settings.penalty)
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides), surface=loss)
    for w in job.warnings:
        print(f"optlab: warning: {w}")
    return Training(settings, digits, arch, job, simulate(job))


def _metrics(arch, x_train, t_train, x_test, t_test, theta):
    """Data loss and accuracy of the network θ on the training and the test split."""
    return {
        "train_loss": jnp.mean(per_example_loss(arch, theta, x_train, t_train)),
        "train_accuracy": accuracy(arch, theta, x_train, jnp.argmax(t_train, -1)),
        "test_loss": jnp.mean(per_example_loss(arch, theta, x_test, t_test)),
        "test_accuracy": accuracy(arch, theta, x_test, jnp.argmax(t_test, -1)),
    }


@partial(jax.jit, static_argnames=("arch", "batch"))
def _curves(arch, thetas, grads, data, batch):
    out = jax.lax.map(lambda theta: _metrics(arch, *data, theta), thetas, batch_size=batch)
    out["layer_grad_norm"] = jnp.stack(
        [jnp.linalg.norm(grads[:, s], axis=-1) for s in arch.slices()], axis=-1
    )
    return out


def curves(t: Training) -> dict[str, np.ndarray]:
    """Per step (R, T+1): train/test data loss and accuracy; per layer (R, T+1, L): ‖∂L/∂θₗ‖,
    all from the recorded parameters and gradients in one jitted call (in memory-bounded chunks
    of steps: each holds every layer's activations on both splits)."""
    R, T1, d = t.traj.params.shape
    d_, dtype = t.digits, t.job.dtype
    data = tuple(
        jnp.asarray(a, dtype)
        for a in (d_.x_train, one_hot(d_.y_train), d_.x_test, one_hot(d_.y_test))
    )
    point = jax.ShapeDtypeStruct((d,), dtype)
    batch = views.chunk_size(partial(_metrics, t.arch), data, point)
    out = _curves(t.arch, t.traj.params.reshape(-1, d), t.traj.grad.reshape(-1, d), data, batch)
    return {k: np.asarray(v).reshape(R, T1, *v.shape[1:]) for k, v in out.items()}


def estimates(t: Training) -> list[dict[str, float]]:
    """Per run: Lipschitz estimates of the final network and its E‖∇ₓℓ‖² on the training data."""
    x, targets = t.digits.x_train, one_hot(t.digits.y_train)
    rows = []
    for theta in t.traj.params[:, -1]:
        e = lipschitz.estimates(
            t.arch, jnp.asarray(theta), x.astype(theta.dtype), targets.astype(theta.dtype)
        )
        rows.append(
            {
                "gradient_penalty": float(e["gradient_penalty"]),
                "lipschitz_data": float(e["input_gradient_max"]),
                "lipschitz_bound": float(e["spectral_product"]),
                "layer_spectral_norms": np.asarray(e["layer_spectral_norms"]).round(4).tolist(),
            }
        )
    return rows


def write_run(
    out: Path, t: Training, figures: bool = True
) -> tuple[list[dict[str, Any]], list[Path]]:
    """records (trajectory.npz with the curves added, runs.csv); with `figures`, the job's plots
    (`app.draw`), mlp.png and (if asked for) the landscapes. Returns the rows and the figures."""
    from optlab.app import draw

    out.mkdir(parents=True, exist_ok=True)
    c = curves(t)
    rows = records.run_rows(t.job, t.traj)
    for r, (row, e) in enumerate(zip(rows, estimates(t), strict=True)):
        row |= {
            "penalty": t.settings.penalty,
            "hidden": list(t.settings.hidden),
            "activation": t.settings.activation,
            "final_train_loss": float(c["train_loss"][r, -1]),
            "final_train_accuracy": float(c["train_accuracy"][r, -1]),
            "final_test_accuracy": float(c["test_accuracy"][r, -1]),
            **e,
        }
    extra = c | {"layer_names": np.asarray(t.arch.layer_names)}
    records.write_npz(out / "trajectory.npz", t.job, t.traj, extra=extra)
    records.write_csv(out / "runs.csv", rows)
    if not figures:
        return rows, []
    sizes = "-".join(map(str, t.arch.sizes))
    title = f"{sizes} {t.arch.activation} MLP on digits, λ = {t.settings.penalty:g}"
    written = [plots.training(out / "mlp.png", c, t.job.labels, t.arch.layer_names, title=title)]
    written += draw(out, t.job, t.traj)
    if t.settings.landscape:
        written += draw_landscapes(out, t)
    return rows, written


def draw_landscapes(out: Path, t: Training) -> list[Path]:
    """landscape.png (random filter-normalized plane, Li et al. 2018) and landscape_pca.png (the
    plane of the trajectory's top two principal directions) through the best run's solution."""
    r, s = t.best, t.settings
    path = t.traj.params[r]
    theta = jnp.asarray(path[-1])
    loss = t.job.surface.astype(theta.dtype)
    d1, d2 = landscape.random_directions(t.arch, theta, t.job.seed)
    label = t.job.labels[r]
    written = []
    for name, (u, v), span, note in (
        (
            "landscape.png",
            (d1, d2),
            s.landscape_span,
            "random filter-normalized directions (the path projects to ≈ a point)",
        ),
        ("landscape_pca.png", *_pca(path)),
    ):
        A, B, Z = landscape.plane(
            loss, theta, jnp.asarray(u), jnp.asarray(v), span, s.landscape_grid
        )
        proj = landscape.project(path, path[-1], np.asarray(u), np.asarray(v))
        written.append(
            contour(
                out / name,
                A,
                B,
                Z,
                title=f"training loss on a plane through θ* (end of {label}'s run)\n{note}",
                minimizers=np.zeros((0, 2)),
                paths=[proj],
                labels=[label],
                axis_names=("α (along δ₁)", "β (along δ₂)"),
            )
        )
    return written


def _pca(path: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], float, str]:
    d1, d2, explained = landscape.pca_directions(path)
    coords = landscape.project(path, path[-1], d1, d2)
    span = 1.15 * float(np.abs(coords).max())
    return (d1, d2), span, f"top-2 PCA directions of the trajectory ({explained:.0%} of θₜ − θ*)"


def _maps_note(job: Job) -> str:
    """What the job's maps (contour, surface3d, animation) show of the network's loss, or ""."""
    maps = [k for k in job.plots if k in MAPS]
    if not maps:
        return ""
    o = job.plot_options
    if o.projection == "pca":
        plane = "the plane of the runs' first two principal components"
    else:
        i, j = o.axes or (0, 1)
        plane = f"the slice along weights x{i}, x{j}"
    return f" ({', '.join(maps)}: the training loss on {plane} through the best final point)"


def summary(rows: list[dict[str, Any]]) -> str:
    """One line per run: final loss, train and test accuracy, Lipschitz estimates, status."""
    width = max(len("label"), *(len(r["label"]) for r in rows))
    lines = [
        f"{'label':<{width}}  {'penalty':>7}  {'loss':>9}  {'train_acc':>9}  {'test_acc':>8}  "
        f"{'L_data':>7}  {'L_bound':>8}  status"
    ]
    for r in rows:
        lines.append(
            f"{r['label']:<{width}}  {r['penalty']:>7g}  {r['final_loss']:>9.4f}  "
            f"{r['final_train_accuracy']:>9.3f}  {r['final_test_accuracy']:>8.3f}  "
            f"{r['lipschitz_data']:>7.2f}  {r['lipschitz_bound']:>8.2f}  {r['status']}"
        )
    return "\n".join(lines)


def mlp(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """`experiment=mlp`: train the lineup on the digits; records, curves, optional landscapes."""
    t = train(cfg, overrides, mlp_settings(section(cfg, "mlp")), "mlp")
    rows, written = write_run(out, t)
    names = ["trajectory.npz", "runs.csv", *(p.name for p in written)]
    print(f"optlab: wrote {', '.join(names[:-1])} and {names[-1]} to {out}{_maps_note(t.job)}")
    print(summary(rows))
    return rows


PENALTY_COLUMNS = (
    "label",
    "penalty",
    "final_train_loss",
    "final_test_accuracy",
    "gradient_penalty",
    "lipschitz_data",
    "lipschitz_bound",
)


def penalty(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """`experiment=penalty`: train once per λ in `mlp.penalties` (same init; λ is traced, so one
    compile), records into `penalty_<λ>/`; compare the Lipschitz estimates in penalty.{csv,md,png}."""
    base = mlp_settings(section(cfg, "mlp"))
    rows = []
    for lam in base.penalties:
        t = train(cfg, overrides, dataclasses.replace(base, penalty=lam), "penalty")
        rows += write_run(out / f"penalty_{lam:g}", t, figures=False)[0]
    table = [{k: r[k] for k in PENALTY_COLUMNS} for r in rows]
    records.write_csv(out / "penalty.csv", table)
    (out / "penalty.md").write_text(markdown(table) + "\n")
    plots.penalty(out / "penalty.png", table)
    print(f"optlab: wrote penalty.csv, penalty.md, penalty.png and records per λ to {out}")
    print(markdown(table))
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """A markdown table of `rows` (floats to 4 significant digits)."""
    cols = list(rows[0])
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def one_per_class(labels: np.ndarray, n: int) -> np.ndarray:
    """Indices of n images: the first of each class in class order, then the next ones in order."""
    first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    rest = [i for i in range(len(labels)) if i not in set(first)]
    return np.asarray((first + rest)[:n])


def saliency(cfg: Any, out: Path, overrides: list[str]) -> dict[str, Any]:
    """`experiment=saliency`: train, then explain a few test images (saliency.png) and check that
    masking the most salient pixels changes the score more than masking random ones."""
    s = saliency_settings(section(cfg, "saliency"))
    t = train(cfg, overrides, mlp_settings(section(cfg, "mlp")), "saliency")
    theta = jnp.asarray(t.traj.params[t.best, -1])
    x = t.digits.x_test.astype(theta.dtype)
    baseline = t.digits.x_train.mean(axis=0).astype(theta.dtype)  # masked pixels take the mean
    e = sal.explain(
        t.arch,
        theta,
        x,
        baseline,
        jax.random.key(t.job.seed),
        s.class_index,
        s.mask_pixels,
        s.draws,
    )
    result = {
        "images": len(x),
        "mask_pixels": s.mask_pixels,
        "mean_top_change": float(e.masked_top.mean()),
        "mean_random_change": float(e.masked_random.mean()),
        "top_beats_random": float(np.mean(e.masked_top > e.masked_random)),
        "test_accuracy": float(np.mean(e.predicted == t.digits.y_test)),
    }
    check = (
        f"masking the {s.mask_pixels} most salient pixels changes z_c by "
        f"{result['mean_top_change']:.2f} on average, {s.mask_pixels} random pixels by "
        f"{result['mean_random_change']:.2f} (top beats random on "
        f"{result['top_beats_random']:.0%} of {len(x)} test images)"
    )
    shown = one_per_class(t.digits.y_test, s.images)
    out.mkdir(parents=True, exist_ok=True)
    plots.saliency(
        out / "saliency.png",
        x[shown],
        t.digits.y_test[shown],
        e.classes[shown],
        e.probability[shown],
        e.grads[shown],
        title=f"saliency of the score z_c ({t.job.labels[t.best]}, "
        f"test accuracy {result['test_accuracy']:.1%})\n{check}",
    )
    rows = [
        {
            "image": i,
            "label": int(t.digits.y_test[i]),
            "class": int(e.classes[i]),
            "probability": float(e.probability[i]),
            "masked_top_change": float(e.masked_top[i]),
            "masked_random_change": float(e.masked_random[i]),
        }
        for i in range(len(x))
    ]
    records.write_csv(out / "saliency.csv", rows)
    print(f"optlab: wrote saliency.png and saliency.csv to {out}")
    print(check)
    return result
