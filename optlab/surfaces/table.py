"""The catalog as a Markdown table, generated from the code so that it cannot drift from it.

`python -m optlab.surfaces.table` prints it; `--write docs/surfaces.md` replaces the block between
`<!-- surfaces:start -->` and `<!-- surfaces:end -->` in that file.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optlab import surfaces
from optlab.surfaces.base import Surface

START, END = "<!-- surfaces:start -->", "<!-- surfaces:end -->"
HEADER = (
    "| surface | dimension | f* | minimizers | bounds | other stationary points | source |",
    "|---|---|---|---|---|---|---|",
)


def _num(v: float) -> str:
    return f"{v:.10g}"


def _point(x: np.ndarray) -> str:
    if len(x) > 2 and np.all(x == x[0]):
        return f"({_num(x[0])}, …, {_num(x[0])})"
    if len(x) > 4:  # a fitted model's weights (finite-sum surfaces)
        return f"({_num(x[0])}, …, {_num(x[-1])}) ({len(x)} numbers)"
    return "(" + ", ".join(_num(v) for v in x) + ")"


def _f_min(s: Surface, s3: Surface | None) -> str:
    if s.f_min is None:
        return "none (unbounded below)"
    text = _num(s.f_min)
    if s3 is not None and s3.f_min != s.f_min:
        text = f"{s.f_min / s.dim:.12g}·d"  # f* = c·d (checked at d = 2 and 3)
        assert np.isclose(s3.f_min, 3 * s.f_min / s.dim, rtol=1e-12, atol=0), s.name
    return text + (" (over the box; unbounded below outside)" if s.info.unbounded_below else "")


def _minimizers(s: Surface, s3: Surface | None) -> str:
    if len(s.minimizers) == 0:
        return "none"
    if s3 is not None and all(np.all(x == x[0]) for x in s3.minimizers):
        return ", ".join(_point(np.full(3, x[0])) for x in s3.minimizers)
    prefix = "d = 2: " if s3 is not None else ""
    return prefix + ", ".join(_point(x) for x in s.minimizers)


def _bounds(s: Surface, nd: bool) -> str:
    b = s.bounds
    if np.all(b == b[0]):
        power = "ᵈ" if nd else "²" if s.dim == 2 else f"^{s.dim}"
        return f"[{_num(b[0, 0])}, {_num(b[0, 1])}]" + power
    return ", ".join(f"{n} ∈ [{_num(lo)}, {_num(hi)}]" for n, (lo, hi) in zip("xy", b, strict=True))


def _stationary(s: Surface) -> str:
    kinds = [kind for kind, _, _ in s.info.stationary_points]
    counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    plural = {"maximum": "maxima", "local minimum": "local minima"}
    return (
        ", ".join(f"{n} {plural.get(k, k + 's') if n > 1 else k}" for k, n in counts.items()) or "-"
    )


def row(name: str) -> str:
    """The table row of surface `name` (N-d surfaces described at d = 2, checked at d = 3)."""
    e = surfaces.entry(name)
    nd = e.max_dim is None
    s = surfaces.get(name)
    s3 = surfaces.get(name, dim=3) if nd else None
    dim = f"d ≥ {e.min_dim}" if nd else str(s.dim)
    cells = (
        f"`{name}`",
        dim,
        _f_min(s, s3),
        _minimizers(s, s3),
        _bounds(s, nd),
        _stationary(s),
        s.info.source,
    )
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown() -> str:
    """The catalog table: N-d surfaces, then 2-D ones, each alphabetically."""
    skip = (*surfaces.USER_DEFINED, *surfaces.BENCHMARKS)
    names = [n for n in surfaces.available() if n not in skip]
    names.sort(key=lambda n: (surfaces.entry(n).max_dim is not None, n))
    return "\n".join([*HEADER, *(row(n) for n in names)]) + "\n"


def replace_block(text: str, table: str) -> str:
    """`text` with the block between the markers replaced by `table`."""
    if START not in text or END not in text or text.index(START) > text.index(END):
        raise ValueError(f"the markers {START} ... {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m optlab.surfaces.table", description=__doc__)
    parser.add_argument("--write", metavar="FILE", help="replace the marked block in FILE")
    args = parser.parse_args(argv)
    table = markdown()
    if args.write is None:
        print(table, end="")
        return
    path = Path(args.write)
    try:
        path.write_text(replace_block(path.read_text(), table))
    except (OSError, ValueError) as e:
        parser.error(f"{path}: {e}")
    print(f"wrote the surface table into {path}")


if __name__ == "__main__":
    main()
