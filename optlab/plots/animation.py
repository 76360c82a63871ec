"""A GIF of the trajectories moving over the contours, with −∇f at each current point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure

from optlab.plots import style
from optlab.plots.contour import (
    arrow_entry,
    draw_background,
    draw_minimizers,
    draw_paths,
    draw_sweep_colorbar,
    legend_texts,
    map_figure,
    path_colors,
    unit_arrows,
)
from optlab.plots.scene import Scene

MAX_FRAMES = 100
ARROW = 0.1  # arrow length as a fraction of the view


class Movie(NamedTuple):
    """A figure, the function that draws frame k on it, and the step each frame shows."""

    fig: Figure
    update: Callable[[int], list]
    steps: np.ndarray


def frame_steps(paths: list[np.ndarray], spans: tuple[float, float], frames: int) -> np.ndarray:
    """At most `frames` increasing steps from 0 to T, spaced evenly in (distance + time) / 2.

    Optimizers move fast early and creep later; half the frames follow the distance travelled on
    screen (summed over runs), half the step count, so both the first jumps and the slow end show.
    """
    T = len(paths[0]) - 1 if paths else 0
    if frames >= T + 1:
        return np.arange(T + 1)
    d = np.zeros(T)
    for p in paths:
        step = np.hypot(*(np.diff(np.asarray(p, dtype=float), axis=0) / spans).T)
        d += np.nan_to_num(step, nan=0.0, posinf=0.0)
    travelled = np.concatenate([[0.0], np.cumsum(d)])
    progress = 0.5 * travelled / max(travelled[-1], 1e-300) + 0.5 * np.arange(T + 1) / T
    steps = np.searchsorted(progress, np.linspace(0, 1, frames), side="left")
    return np.unique(np.concatenate([[0], np.minimum(steps, T), [T]]))


def _current(p: np.ndarray, t: int) -> int:
    """Index of the last finite point of path `p` at or before step t (−1 when none)."""
    ok = np.flatnonzero(np.all(np.isfinite(p[: t + 1]), axis=-1))
    return int(ok[-1]) if ok.size else -1


def animate(scene: Scene, frames: int = 60, dpi: int = 80) -> Movie:
    """The animation's figure and frame function (not saved): trails, heads, −∇f arrows, step.

    The static picture (contours, colorbar, faint full paths, minimizers, legend) is rendered once
    at `dpi` and kept as a pixel underlay; frames redraw only the moving artists on a transparent
    axes in the same place, so each frame costs a few artists instead of the whole figure.
    """
    frames = min(frames, MAX_FRAMES)
    fig = map_figure(scene)
    fig.set_dpi(dpi)
    ax = fig.add_subplot()
    draw_background(fig, ax, scene)
    runs = scene.drawable("animation")
    draw_paths(ax, scene, runs, alpha=0.25)
    draw_minimizers(ax, scene)
    colors = path_colors(scene, runs)
    looks = style.looks([scene.labels[r] for r in runs]) if runs else {}
    lines = [looks[style.group_label(scene.labels[r])] for r in runs]
    texts = legend_texts(scene, [scene.labels[r] for r in runs])
    for c, look, text in zip(colors, lines, texts, strict=True):
        shown = "0.35" if scene.sweep is not None else c
        ax.plot([], [], marker="o", color=shown, mec="black", lw=look.lw, ls=look.ls, label=text)
    if scene.sweep is not None and runs:
        draw_sweep_colorbar(fig, ax, scene)
    grads = [np.asarray(scene.grads[r], dtype=float) for r in runs] if scene.grads else []
    if grads:
        arrow_entry(ax, "−∇f at the current point")
    style.legend(ax)
    paths = [np.asarray(scene.paths[r], dtype=float) for r in runs]
    T = len(paths[0]) - 1 if paths else 0
    # an invisible suptitle as wide as the longest counter makes the layout leave room for it
    room = fig.suptitle(f"step {T} / {T}", fontsize=11, weight="bold", alpha=0)
    fig.canvas.draw()
    under = np.asarray(fig.canvas.buffer_rgba()).copy()
    where = room.get_position()
    box, xlim, ylim = ax.get_position(), ax.get_xlim(), ax.get_ylim()
    fig.clear()
    fig.set_layout_engine("none")
    fig.figimage(under, origin="upper", zorder=-1)
    top = fig.add_axes(box, xlim=xlim, ylim=ylim)
    top.set_axis_off()
    spans = (float(np.ptp(scene.X)), float(np.ptp(scene.Y)))
    trails = [
        top.plot([], [], color=c, lw=k.lw, ls=k.ls, zorder=k.zorder, gid=scene.labels[r])[0]
        for r, c, k in zip(runs, colors, lines, strict=True)
    ]
    heads = [top.plot([], [], "o", color=c, mec="black", ms=8)[0] for c in colors]
    zero = np.zeros(len(runs))
    arrows = top.quiver(
        zero,
        zero,
        zero,
        zero,
        color=colors,
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.006,
        minlength=0,
        zorder=3,
    )
    counter = fig.text(*where, "", fontsize=11, weight="bold", ha="center", va="top")
    steps = frame_steps(paths, spans, frames)

    def update(k: int) -> list:
        t = int(steps[k])
        xy, uv = np.zeros((len(runs), 2)), np.zeros((len(runs), 2))
        for i, p in enumerate(paths):
            now = _current(p, t)
            trails[i].set_data(*style.finite_path(p[: t + 1]).T)
            heads[i].set_data(*p[now : now + 1].T if now >= 0 else ([], []))
            xy[i] = p[now] if now >= 0 else np.nan
            if now >= 0 and grads and np.all(np.isfinite(grads[i][now])):
                uv[i] = unit_arrows(-grads[i][now, 0], -grads[i][now, 1], spans, ARROW)
        arrows.set_offsets(xy)
        arrows.set_UVC(uv[:, 0], uv[:, 1])
        counter.set_text(f"step {t} / {T}")
        return [*trails, *heads, arrows, counter]

    update(0)
    return Movie(fig, update, steps)


def write(path: Path, scene: Scene, frames: int = 60, fps: int = 12, dpi: int = 80) -> Path:
    """Write the GIF (Pillow, no ffmpeg) of `scene` to `path` and release the figure."""
    movie = animate(scene, frames, dpi)
    anim = FuncAnimation(
        movie.fig,
        movie.update,
        frames=len(movie.steps),
        blit=False,
        cache_frame_data=False,
        repeat=False,
    )
    try:
        anim.save(path, writer=PillowWriter(fps=fps), dpi=movie.fig.dpi)
    finally:
        style.release(movie.fig)
    return path
