"""`python -m optlab.report DIR|DB [--out DIR] [--targets 1e-2,1e-4] [--cost f=1,grad=1,hessian=d]
[--taus 1e-1,1e-3]`: write report.md, its CSVs and PNGs. Every option is checked before anything
is written."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from optlab.cli import fail, guard
from optlab.errors import UserError


def numbers(text: str, option: str, allowed: str, ok) -> list[float]:
    """Comma-separated numbers, each passing `ok`; else a one-line UserError naming `option`."""
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        values = []
    if not values or not all(math.isfinite(v) and ok(v) for v in values):
        raise UserError(f"{option}={text!r} is invalid: {allowed}")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m optlab.report",
        description="Write report.md (rankings with aRT, intervals and paired tests; Moré–Wild "
        "data and performance profiles; runtime ECDFs; loss curves; contours) and its CSVs "
        "(ranking, per_surface, data_profile, performance_profile) from a results store.",
    )
    parser.add_argument("source", help="a results.sqlite file, or a directory holding one")
    parser.add_argument(
        "--out", help="where to write report.md, its CSVs and PNGs (default: beside the store)"
    )
    parser.add_argument("--targets", help="thresholds on f − f*, e.g. 1e-2,1e-4,1e-6,1e-8")
    parser.add_argument(
        "--cost",
        help="cost of one evaluation of f, ∇f, ∇²f, e.g. f=1,grad=1,hessian=d (d: the "
        "dimension); default: the cost model stored with the runs",
    )
    parser.add_argument(
        "--taus", help="tolerances of the Moré–Wild convergence test in (0, 1), e.g. 1e-1,1e-3"
    )
    parser.error = fail  # one line, exit 2 (argparse prints its usage block otherwise)
    args = parser.parse_args(argv)
    with guard():
        from optlab import cost, validate
        from optlab.report import profiles, write

        if not Path(args.source).exists():
            raise UserError(f"source={args.source!r} is invalid: it does not exist")
        targets = None
        if args.targets is not None:
            targets = numbers(
                args.targets,
                "--targets",
                "must be positive numbers separated by commas (thresholds on f − f*, "
                "e.g. 1e-2,1e-4,1e-6,1e-8)",
                lambda v: v > 0,
            )
        taus = profiles.TAUS
        if args.taus is not None:
            taus = numbers(
                args.taus,
                "--taus",
                "must be numbers in (0, 1) separated by commas (tolerances of the Moré–Wild "
                "convergence test, e.g. 1e-1,1e-3,1e-5,1e-7)",
                lambda v: 0 < v < 1,
            )
        model = None if args.cost is None else cost.parse(args.cost, "--cost")
        if args.out is not None:
            validate.writable("--out", args.out, directory=True)
        path = write(args.source, args.out, targets, cost_model=model, taus=taus)
        print(f"optlab: wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
