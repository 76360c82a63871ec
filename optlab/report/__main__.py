"""`python -m optlab.report DIR|DB [--out DIR] [--targets 1e-2,1e-4,...]`: write report.md + PNGs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from optlab.cli import guard
from optlab.errors import UserError


def _targets(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(
            f"--targets={text!r} is invalid: must be numbers separated by commas"
        ) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m optlab.report",
        description="Write report.md (ranking tables, profiles, ECDFs, loss curves, contours) "
        "from a results store.",
    )
    parser.add_argument("source", help="a results.sqlite file, or a directory holding one")
    parser.add_argument(
        "--out", help="where to write report.md and its PNGs (default: beside the store)"
    )
    parser.add_argument("--targets", help="thresholds on f − f*, e.g. 1e-2,1e-4,1e-6,1e-8")
    args = parser.parse_args(argv)
    with guard():
        from optlab import validate
        from optlab.report import write

        if not Path(args.source).exists():
            raise UserError(f"source={args.source!r} is invalid: it does not exist")
        if args.out is not None:
            validate.writable("--out", args.out, directory=True)
        targets = None if args.targets is None else _targets(args.targets)
        path = write(args.source, args.out, targets)
        print(f"optlab: wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
