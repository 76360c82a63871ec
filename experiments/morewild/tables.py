"""Markdown tables for README.md from a run directory of `python -m optlab experiment=morewild`.

Run: `python experiments/morewild/tables.py RUN_DIR` (prints the solved and best-f tables).
"""

from __future__ import annotations

import sys
from pathlib import Path

from optlab.records import read_csv


def _g(text: str, digits: int = 6) -> str:
    return "—" if text in ("", "None", "nan") else f"{float(text):.{digits}g}"


def solved(run: Path) -> str:
    rows = read_csv(run / "solved.csv")
    labels = list(dict.fromkeys(r["label"] for r in rows))
    taus = list(dict.fromkeys(r["tau"] for r in rows))
    lines = ["| τ | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for tau in taus:
        cells = [f"{r['solved']}/{r['of']}" for r in rows if r["tau"] == tau]
        lines.append(f"| {float(tau):g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def best(run: Path) -> str:
    lines = [
        "| problem | function | n | m | s | f(x₀) | best f | by | f* (MGH) | (best − f*)/f* |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in read_csv(run / "best.csv"):
        rel = r["relative_difference"]
        if r["f_star"] not in ("", "None") and float(r["f_star"]) == 0.0:
            rel = f"f* = 0: best − f* = {float(r['absolute_difference']):.2g}"
        else:
            rel = _g(rel, 2)
        lines.append(
            f"| {r['problem']} | {r['function']} | {r['n']} | {r['m']} | {r['s']} | {_g(r['f0'])} | "
            f"{_g(r['best_f'], 9)} | {r['best_by']} | {_g(r['f_star'], 9)} | {rel} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    run = Path(sys.argv[1])
    print(solved(run), best(run), sep="\n\n")
