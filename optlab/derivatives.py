"""The `derivatives` task: every first and second derivative of a surface at one point.

Writes `derivatives.json` (numbers), `derivatives.md` (the same for a person, in the usual
notations) and, for 2-D surfaces, `slices.png`, `gradient_field.png` and `directional.png`.
"""

from __future__ import annotations

import json
import logging
import math
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab import calculus, landscape
from optlab.config import PointJob, build_point_job
from optlab.plots import calculus as pictures
from optlab.surfaces.base import Surface

log = logging.getLogger("optlab")

STEP_DEG = 15  # 2-D: D_u f every 15° around the circle


def coordinate_names(dim: int) -> list[str]:
    """x, y in 2-D; x0 … x{d-1} otherwise."""
    return ["x", "y"] if dim == 2 else [f"x{i}" for i in range(dim)]


def angle_deg(v: np.ndarray) -> float:
    """The angle of a 2-D vector from the +x axis in [0°, 360°); NaN for the zero vector."""
    if not np.all(np.isfinite(v)) or not np.any(v):
        return math.nan
    return float(np.degrees(np.arctan2(v[1], v[0])) % 360.0)


def directions(dim: int, extra: np.ndarray | None = None) -> tuple[list[float | None], np.ndarray]:
    """The sampled unit directions: every 15° in 2-D, ±eᵢ otherwise; then `extra`, normalized."""
    if dim == 2:
        angles = np.arange(0, 360, STEP_DEG, dtype=float)
        rad = np.radians(angles)
        units = np.stack([np.cos(rad), np.sin(rad)], axis=-1)
        units, labels = np.where(np.abs(units) < 1e-15, 0.0, units), list(angles)  # cos 90° = 0
    else:
        eye = np.eye(dim)
        units, labels = np.concatenate([eye, -eye]), [None] * (2 * dim)
    if extra is not None:
        u = np.asarray(calculus.unit(extra))
        units = np.concatenate([units, u[None]])
        labels.append(angle_deg(u) if dim == 2 else None)
    return labels, units


@jax.jit
def analyze(surface: Surface, x: jax.Array, units: jax.Array) -> dict[str, jax.Array]:
    """All the numbers of the report in one compiled call (D_u f along each row of `units`)."""
    value, grad = jax.value_and_grad(surface)(x)
    H = calculus.hessian(surface, x)
    norm = jnp.linalg.norm(grad)
    along = grad / jnp.where(norm > 0, norm, 1)
    slope = lambda u: jax.jvp(surface, (x,), (u,))[1]  # noqa: E731
    mixed = calculus.mixed_partials(surface, x)
    return {
        "value": value,
        "partials": jax.vmap(lambda i: calculus.partial(surface, x, i))(jnp.arange(x.shape[0])),
        "gradient": grad,
        "gradient_norm": norm,
        "hessian": H,
        "mixed": mixed,
        "eigenvalues": jnp.linalg.eigvalsh(H),
        "asymmetry": calculus.asymmetry(H),
        "mixed_asymmetry": calculus.asymmetry(mixed),
        "code": calculus.classify(x, value, grad, H),
        "central": calculus.central_differences(surface, x),
        "fd_error": calculus.finite_difference_error(surface, x),
        "directional": jax.vmap(slope)(units),
        "along_gradient": slope(along),
    }


@partial(jax.jit, static_argnames="n")
def slice_values(surface: Surface, x: jax.Array, lo: jax.Array, hi: jax.Array, n: int = 201):
    """(t (d, n), f (d, n)): f along the line through x parallel to each axis, over [lo, hi]."""
    t = jax.vmap(lambda a, b: jnp.linspace(a, b, n))(lo, hi)
    along = lambda i, ti: jax.vmap(lambda s: surface(x.at[i].set(s)))(ti)  # noqa: E731
    return t, jax.vmap(along)(jnp.arange(x.shape[0]), t)


gradients = jax.jit(lambda surface, points: jax.vmap(jax.grad(surface))(points))


def _floats(v: Any) -> Any:
    """Python floats (NaN and ±inf kept: json writes NaN/Infinity) from arrays."""
    return np.asarray(v, dtype=float).tolist()


def _warnings(surface: Surface, x: np.ndarray, r: dict[str, np.ndarray]) -> list[str]:
    """Honest notes when f is not differentiable at x (declared singular, or non-finite results)."""
    notes = []
    singular = surface.info.singular
    if singular is not None and singular(
        x, calculus.tolerance(x.dtype) * max(1.0, np.abs(x).max())
    ):
        where = (
            f" ({surface.info.nondifferentiable_at})" if surface.info.nondifferentiable_at else ""
        )
        notes.append(
            f"{surface.name} declares itself not differentiable at {x.tolist()}{where}: the numbers "
            "below are what automatic differentiation returns there, not derivatives"
        )
    bad = [k for k in ("value", "gradient", "hessian") if not np.all(np.isfinite(r[k]))]
    if bad:
        notes.append(
            f"{', '.join(bad)} of {surface.name} at {x.tolist()} not finite (NaN/inf): "
            "f is not differentiable there; reported as computed"
        )
    return notes


def compute(job: PointJob) -> dict[str, Any]:
    """The `derivatives.json` record for `job` (every derivative at `job.point`)."""
    s, d = job.surface, job.surface.dim
    x = jnp.asarray(job.point, dtype=job.dtype)
    labels, units = directions(d, job.direction)
    r = jax.device_get(analyze(s.astype(job.dtype), x, jnp.asarray(units, dtype=job.dtype)))
    names = coordinate_names(d)
    g, M = np.asarray(r["gradient"]), np.asarray(r["mixed"])
    tol = calculus.tolerance(job.dtype)
    mixed = [
        {
            "variables": [names[i], names[j]],
            f"d/d{names[j]}(df/d{names[i]})": float(M[i, j]),
            f"d/d{names[i]}(df/d{names[j]})": float(M[j, i]),
            "difference": float(M[i, j] - M[j, i]),
        }
        for i in range(d)
        for j in range(i + 1, d)
    ]
    directional = [
        {"angle_deg": a, "direction": _floats(u), "value": float(v), "along": None}
        for a, u, v in zip(labels, units, r["directional"], strict=True)
    ]
    if job.direction is not None:
        directional[-1]["along"] = "direction"
    if float(r["gradient_norm"]) > 0 and np.all(np.isfinite(g)):
        directional.append(
            {
                "angle_deg": angle_deg(g) if d == 2 else None,
                "direction": _floats(g / np.linalg.norm(g)),
                "value": float(r["along_gradient"]),
                "along": "gradient",
            }
        )
    warnings = _warnings(s, np.asarray(x), r)
    asym = max(float(r["asymmetry"]), float(r["mixed_asymmetry"]))  # jax.hessian and nested grads
    return {
        "surface": s.name,
        "formula": s.info.formula,
        "dim": d,
        "dtype": job.dtype,
        "point": _floats(job.point),
        "value": float(r["value"]),
        "partials": dict(zip(names, _floats(r["partials"]), strict=True)),
        "gradient": _floats(g),
        "gradient_norm": float(r["gradient_norm"]),
        **({"gradient_angle_deg": angle_deg(g)} if d == 2 else {}),
        "hessian": _floats(r["hessian"]),
        "mixed_partials": mixed,
        "hessian_asymmetry": float(r["asymmetry"]),
        "clairaut_tolerance": tol,
        "clairaut_holds": bool(asym <= tol),
        "hessian_eigenvalues": _floats(r["eigenvalues"]),
        "stationary_type": calculus.type_name(int(r["code"])),
        "directional": directional,
        "finite_difference_gradient": _floats(r["central"]),
        "finite_difference_error": float(r["fd_error"]),
        "finite_difference_tolerance": calculus.tolerance(job.dtype, 1 / 3),
        "differentiable": not warnings,
        "warnings": warnings,
    }


def draw(out: Path, job: PointJob, rec: dict[str, Any]) -> list[Path]:
    """`slices.png`, `gradient_field.png` and `directional.png` (2-D surfaces only)."""
    s, b = job.surface.astype(job.dtype), np.asarray(job.plot_bounds, dtype=float)
    x = jnp.asarray(job.point, dtype=job.dtype)
    t, fs = jax.device_get(slice_values(s, x, jnp.asarray(b[:, 0]), jnp.asarray(b[:, 1])))
    X, Y, Z = landscape.grid(s, b)
    qx, qy = np.meshgrid(*(np.linspace(lo, hi, 21) for lo, hi in b))
    q = jnp.asarray(np.stack([qx.ravel(), qy.ravel()], axis=-1), dtype=job.dtype)
    G = np.asarray(gradients(s, q)).reshape(*qx.shape, 2)
    g = np.asarray(rec["gradient"])
    sampled = np.array(
        [[e["angle_deg"], e["value"]] for e in rec["directional"] if e["along"] is None]
    )
    title = f"{job.surface.name} at {_point(job.point)}"
    return [
        pictures.slices(
            out / "slices.png",
            t,
            fs,
            point=job.point,
            value=rec["value"],
            partials=np.asarray(list(rec["partials"].values())),
            title=title,
        ),
        pictures.gradient_field(
            out / "gradient_field.png",
            X,
            Y,
            Z,
            (qx, qy, G),
            point=job.point,
            value=rec["value"],
            gradient=g,
            title=title,
        ),
        pictures.directional(out / "directional.png", sampled, gradient=g, title=title),
    ]


_SUBSCRIPT = str.maketrans("0123456789x", "₀₁₂₃₄₅₆₇₈₉ₓ")


def _num(v: float) -> str:
    return f"{v:.6g}"


def _point(p: Any) -> str:
    return "(" + ", ".join(_num(v) for v in p) + ")"


def notations(name: str, i: int) -> tuple[str, str, str, str]:
    """∂f/∂xᵢ in Leibniz, subscript, operator and D-notation (e.g. ∂f/∂x, f_x, ∂ₓf, D₁f)."""
    sub = name.translate(_SUBSCRIPT)
    operator = f"∂{sub}f" if sub != name else f"∂_{name} f"  # no Unicode subscript y
    return f"∂f/∂{name}", f"f_{name}", operator, f"D{str(i + 1).translate(_SUBSCRIPT)}f"


def _checks(rec: dict[str, Any]) -> list[str]:
    """One sentence per check."""
    finite = all(np.all(np.isfinite(rec[k])) for k in ("gradient", "hessian"))
    if not finite:
        return [
            "The derivatives are not finite here, so Clairaut's theorem, the finite-difference "
            "check, the bound D_u f ≤ ‖∇f‖ and the second-derivative test cannot be checked."
        ]
    out = []
    pairs = rec["mixed_partials"]
    verdict = (
        "Clairaut's theorem holds here"
        if rec["clairaut_holds"]
        else "Clairaut's theorem fails here (f is not twice continuously differentiable at this point)"
    )
    agree = "agree" if rec["clairaut_holds"] else "differ"
    asym = f"relative asymmetry {rec['hessian_asymmetry']:.2g}, tolerance {rec['clairaut_tolerance']:.2g}"
    if len(pairs) == 1:
        (p,) = pairs
        a, b = p["variables"]
        out.append(
            f"Mixed partials {agree}: ∂/∂{b}(∂f/∂{a}) = {_num(p[f'd/d{b}(df/d{a})'])} and "
            f"∂/∂{a}(∂f/∂{b}) = {_num(p[f'd/d{a}(df/d{b})'])}: {verdict} ({asym})."
        )
    elif pairs:
        worst = max(abs(p["difference"]) for p in pairs)
        out.append(
            f"Mixed partials {agree} for all {len(pairs)} pairs (largest difference {worst:.2g}): "
            f"{verdict} ({asym})."
        )
    fd_ok = rec["finite_difference_error"] <= rec["finite_difference_tolerance"]
    out.append(
        f"The gradient {'matches' if fd_ok else 'does not match'} central differences: relative "
        f"error {rec['finite_difference_error']:.2g} (tolerance {rec['finite_difference_tolerance']:.2g})."
    )
    norm = rec["gradient_norm"]
    top = max(e["value"] for e in rec["directional"])
    if norm == 0:
        out.append("Every D_u f is 0: ∇f = 0, so no direction goes up or down to first order.")
    else:
        bounded = top <= norm * (1 + rec["clairaut_tolerance"])
        out.append(
            f"Every sampled D_u f is {'at most' if bounded else 'NOT at most'} ‖∇f‖ = {_num(norm)} "
            f"(Cauchy–Schwarz: ∇f·u ≤ ‖∇f‖‖u‖); the largest, {_num(top)}, is along the gradient."
        )
    kind = rec["stationary_type"]
    why = {
        "minimum": "∇f = 0 and every Hessian eigenvalue is positive",
        "maximum": "∇f = 0 and every Hessian eigenvalue is negative",
        "saddle": "∇f = 0 and the Hessian has eigenvalues of both signs",
        "degenerate": "∇f = 0 and a Hessian eigenvalue is zero: the second-derivative test is silent",
        "not_stationary": "∇f ≠ 0, so some direction goes downhill",
        None: "the derivatives are not finite, so the test does not apply",
    }[kind]
    out.append(f"Stationary type: {(kind or 'undefined').replace('_', ' ')}: {why}.")
    return out


def report(rec: dict[str, Any]) -> str:
    """`derivatives.md`: the record for a person, each partial in four notations, one sentence per check."""
    names, d = list(rec["partials"]), rec["dim"]
    at = _point(rec["point"])
    lines = [f"# Derivatives of {rec['surface']} at {at}", ""]
    for w in rec["warnings"]:
        lines += [f"> **Warning:** {w}.", ""]
    if rec["formula"]:
        lines += [
            f"f = ${rec['formula']}$ ({d}-D, {rec['dtype']}); f{at} = {_num(rec['value'])}.",
            "",
        ]
    lines += [
        "## Partial derivatives",
        "",
        "Each is the slope of the surface cut along one axis through the point (slices.png).",
        "",
        "| Leibniz | subscript | operator | D-notation | value |",
        "|---|---|---|---|---|",
    ]
    for i, (n, v) in enumerate(rec["partials"].items()):
        lines.append("| " + " | ".join(notations(n, i)) + f" | {_num(v)} |")
    g = rec["gradient"]
    lines += ["", "## Gradient", "", f"∇f{at} = {_point(g)}: the vector of the partials."]
    norm = _num(rec["gradient_norm"])
    if d == 2 and math.isfinite(rec["gradient_angle_deg"]):
        theta = rec["gradient_angle_deg"]
        lines.append(
            f"‖∇f‖ = {norm}, at {_num(theta)}° from the +x axis: the direction of steepest ascent; "
            f"−∇f, at {_num((theta + 180) % 360)}°, is the direction of steepest descent, and both are "
            "perpendicular to the level curve through the point (gradient_field.png)."
        )
    else:
        lines.append(f"‖∇f‖ = {norm}: the largest slope of any direction through the point.")
    lines += [
        "",
        "## Hessian",
        "",
        "Hᵢⱼ = ∂²f/∂xⱼ∂xᵢ (row i: the gradient of ∂f/∂xᵢ).",
        "",
        "| | " + " | ".join(f"∂/∂{n}" for n in names) + " |",
        "|---" * (d + 1) + "|",
    ]
    for n, row in zip(names, rec["hessian"], strict=True):
        lines.append(f"| ∂f/∂{n} | " + " | ".join(_num(v) for v in row) + " |")
    eig = ", ".join(_num(v) for v in rec["hessian_eigenvalues"])
    lines += ["", f"Eigenvalues: {eig}.", "", "## Directional derivatives", ""]
    lines.append("D_u f = ∇f·u for a unit vector u, computed with `jax.jvp` (directional.png).")
    if d == 2 and math.isfinite(rec["gradient_angle_deg"]):
        theta = rec["gradient_angle_deg"]
        zeros = ", ".join(f"{_num((theta + a) % 360)}°" for a in (90, 270))
        lines.append(
            f"In 2-D, D_u f = ‖∇f‖ cos(θ − {_num(theta)}°): largest, {norm}, along the gradient "
            f"({_num(theta)}°); smallest, −{norm}, against it ({_num((theta + 180) % 360)}°); zero "
            f"along the level curve ({zeros})."
        )
    lines += ["", "| direction u | angle | D_u f |", "|---|---|---|"]
    for e in rec["directional"]:
        angle = "" if e["angle_deg"] is None else f"{_num(e['angle_deg'])}°"
        tag = f" ({e['along']})" if e["along"] else ""
        v = e["value"]
        shown = (
            f"0 (rounding: {v:.1g})"
            if 0 < abs(v) <= 1e-12 * max(rec["gradient_norm"], 1)
            else _num(v)
        )
        lines.append(f"| {_point(e['direction'])}{tag} | {angle} | {shown} |")
    lines += ["", "## Checks", ""] + [f"- {c}" for c in _checks(rec)]
    return "\n".join(lines) + "\n"


def run(out: Path, job: PointJob) -> dict[str, Any]:
    """Compute the record, write `derivatives.json`, `derivatives.md` and the pictures into `out`."""
    rec = compute(job)
    for w in rec["warnings"]:
        log.warning(w)
    out.mkdir(parents=True, exist_ok=True)
    (out / "derivatives.json").write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n")
    (out / "derivatives.md").write_text(report(rec))
    if job.surface.dim == 2:
        draw(out, job, rec)
    else:
        log.info(
            "%s is %d-D: the pictures need a 2-D surface; wrote the numbers only",
            job.surface.name,
            job.surface.dim,
        )
    return rec


def task(cfg: Any, out: Path, overrides: list[str]) -> dict[str, Any]:
    """`python -m optlab experiment=derivatives surface=NAME point=[x,y]`."""
    del overrides
    rec = run(out, build_point_job(cfg))
    written = "derivatives.json, derivatives.md" + (", 3 pictures" if rec["dim"] == 2 else "")
    print(f"optlab: wrote {written} to {out}")
    return rec
