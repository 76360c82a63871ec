"""Figures of the ML tasks (NumPy + matplotlib on host arrays, the lab's style)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab.ml.data import IMAGE_SHAPE
from optlab.plots import style

LAYER_STYLES = ("-", "--", ":", "-.")


def training(
    path: Path,
    curves: dict[str, np.ndarray],
    labels: Sequence[str],
    layer_names: Sequence[str],
    *,
    title: str,
) -> Path:
    """Three panels against step: data loss (train solid, test dashed), accuracy (same), and the
    per-layer gradient norms ‖∂L/∂θₗ‖ (one line style per layer)."""
    fig = style.figure(13.0, 4.2)
    ax_loss, ax_acc, ax_grad = fig.subplots(1, 3)
    steps = np.arange(curves["train_loss"].shape[1])
    split_styles = {"train": "-", "test": "--"}
    layer_styles = {n: LAYER_STYLES[k % len(LAYER_STYLES)] for k, n in enumerate(layer_names)}
    for r, label in enumerate(labels):
        c = style.color(label)
        for split, ls in split_styles.items():
            ax_loss.plot(steps, curves[f"{split}_loss"][r], ls, color=c)
            ax_acc.plot(steps, curves[f"{split}_accuracy"][r], ls, color=c)
        for k, ls in enumerate(layer_styles.values()):
            ax_grad.plot(steps, curves["layer_grad_norm"][r, :, k], ls, color=c, lw=1.3)
    ax_loss.set(yscale="log", xlabel="step", ylabel="cross-entropy (data term)", title="loss")
    ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(0, 1.01))
    ax_grad.set(
        yscale="log",
        xlabel="step",
        ylabel=r"$\|\partial L/\partial\theta_l\|$",
        title="gradient norm per layer",
    )
    runs = [(style.color(lb), "-", lb) for lb in dict.fromkeys(labels)]
    grey = [("gray", ls, name) for name, ls in split_styles.items()]
    layers = [("gray", ls, name) for name, ls in layer_styles.items()]
    for ax, keys, loc in (
        (ax_loss, runs + grey, "upper right"),
        (ax_acc, runs + grey, "lower right"),
        (ax_grad, runs + layers, "lower left"),
    ):
        ax.grid(True, alpha=0.3)
        for c, ls, name in keys:
            ax.plot([], [], ls, color=c, label=name)
        ax.legend(fontsize=8, loc=loc)
    fig.suptitle(title)
    return style.save(fig, path)


def saliency(
    path: Path,
    images: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    probs: np.ndarray,
    grads: np.ndarray,
    *,
    title: str,
) -> Path:
    """One column per image: the digit, its saliency |∂z_c/∂x| (scaled to the image's maximum,
    written below), and gradient × input (signed, one scale for all)."""
    n = len(images)
    fig = style.figure(1.9 * n + 1.2, 6.6)
    axes = np.asarray(fig.subplots(3, n, squeeze=False))
    peak = np.abs(grads).max(axis=1, keepdims=True)
    sal = np.abs(grads) / np.where(peak > 0, peak, 1.0)  # each map relative to its own maximum
    gxi = grads * images
    lim = float(np.abs(gxi).max()) or 1.0
    for i in range(n):
        show = lambda ax, a, **kw: ax.imshow(a.reshape(IMAGE_SHAPE), **kw)  # noqa: E731
        show(axes[0, i], images[i], cmap="gray_r", vmin=0, vmax=1)
        im_s = show(axes[1, i], sal[i], cmap="inferno", vmin=0, vmax=1)
        axes[1, i].set_xlabel(f"max {peak[i, 0]:.3g}", fontsize=8)
        im_g = show(axes[2, i], gxi[i], cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[0, i].set_title(
            f"label {labels[i]}\nclass c = {classes[i]} (p = {probs[i]:.2f})", fontsize=9
        )
        for ax in axes[:, i]:
            ax.set(xticks=[], yticks=[])
    for row, name in enumerate(("image x", "saliency |∂z_c/∂x|", "gradient × input")):
        axes[row, 0].set_ylabel(name, fontsize=10)
    fig.colorbar(im_s, ax=axes[1, :], shrink=0.9, pad=0.01, label="/ image's max")
    fig.colorbar(im_g, ax=axes[2, :], shrink=0.9, pad=0.01)
    fig.suptitle(title)
    return style.save(fig, path)


def penalty(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Bars per (run, λ): the Lipschitz lower estimate (data) and upper bound (Π σ_max), E‖∇ₓℓ‖²,
    and test accuracy, each bar labelled with its value."""
    fig = style.figure(12.5, 4.2)
    ax_l, ax_p, ax_a = fig.subplots(1, 3)
    several = len({r["label"] for r in rows}) > 1
    names = [(f"{r['label']}\n" if several else "") + f"λ = {r['penalty']:g}" for r in rows]
    x = np.arange(len(rows))
    colors = [style.color(r["label"]) for r in rows]
    bars = [
        ax_l.bar(
            x - 0.2,
            [r["lipschitz_data"] for r in rows],
            0.4,
            color="#3182bd",
            label=r"max over the data of $\|\partial z/\partial x\|_2$",
        ),
        ax_l.bar(
            x + 0.2,
            [r["lipschitz_bound"] for r in rows],
            0.4,
            color="#e6550d",
            label=r"$\Pi_l\,\sigma_{\max}(W_l)$ (upper bound)",
        ),
        ax_p.bar(x, [r["gradient_penalty"] for r in rows], 0.6, color=colors),
        ax_a.bar(x, [r["final_test_accuracy"] for r in rows], 0.6, color=colors),
    ]
    for ax, b, fmt in zip(
        (ax_l, ax_l, ax_p, ax_a), bars, ("%.1f", "%.1f", "%.3g", "%.3f"), strict=True
    ):
        ax.bar_label(b, fmt=fmt, fontsize=8)
    top = max(r["lipschitz_bound"] for r in rows)
    ax_l.set(title="Lipschitz estimates of x ↦ z(x)", ylim=(0, 1.25 * top))
    ax_l.legend(fontsize=8, loc="upper right")
    ax_p.set(title="E‖∇ₓℓ‖² on the training data")
    ax_p.margins(y=0.12)
    acc = [r["final_test_accuracy"] for r in rows]
    ax_a.set(title="test accuracy", ylim=(max(0.0, min(acc) - 0.05), 1.0))
    for ax in (ax_l, ax_p, ax_a):
        ax.set_xticks(x, names, fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("gradient penalty λ·E‖∇ₓℓ‖² (double backprop): with and without")
    return style.save(fig, path)
