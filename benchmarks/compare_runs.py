"""Compare two optlab run directories (e.g. device=cpu vs device=gpu): the largest differences.

python benchmarks/compare_runs.py RUN_A RUN_B
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def compare(a: Path, b: Path) -> dict[str, float]:
    """Max |Δ| of params and loss, max relative Δ of the final loss, and status agreement."""
    x, y = np.load(a / "trajectory.npz"), np.load(b / "trajectory.npz")
    final = lambda z: z["loss"][:, -1].astype(np.float64)  # noqa: E731
    rel = np.abs(final(x) - final(y)) / np.maximum(np.abs(final(x)), 1e-30)
    return {
        "runs": len(x["labels"]),
        "max_abs_params": float(np.nanmax(np.abs(x["params"] - y["params"]))),
        "max_abs_loss": float(np.nanmax(np.abs(x["loss"] - y["loss"]))),
        "median_rel_final_loss": float(np.median(rel)),
        "same_status": float(np.mean(x["status"] == y["status"])),
    }


if __name__ == "__main__":
    result = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print(" ".join(f"{k}={v:.3g}" for k, v in result.items()))
