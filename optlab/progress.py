"""Progress of long work: a bar advancing per chunk of steps, and `job i of n` in a sweep."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import Any

MIN_WORK = 10**8  # trajectory-steps (runs × steps) from which `progress=auto` shows a bar
CHUNKS = 40  # scan calls per run chunk when a bar is shown
SWEEP_ENV = "OPTLAB_SWEEP_JOBS"


def wanted(setting: bool | str, runs: int, steps: int) -> bool:
    """`progress=true|false`, or `auto`: a bar on a terminal (not CI) for large jobs only."""
    if setting != "auto":
        return bool(setting)
    tty = sys.stderr.isatty() and not os.environ.get("CI")
    return tty and runs * steps >= MIN_WORK


def bar(total: int, runs: int) -> Any:
    """A tqdm bar over `total` trajectory-steps with elapsed time and rate (steps/s)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=f"{runs} run{'s' * (runs > 1)}",
        unit="step",
        unit_scale=True,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def sweep_size(argv: Sequence[str]) -> int | None:
    """How many jobs a `--multirun` command line launches (None: not a sweep, or unknown)."""
    if not {"-m", "--multirun"} & set(argv):
        return None
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        return math.prod(
            len(list(o.sweep_string_iterator())) for o in parsed if o.is_sweep_override()
        )
    except Exception:  # glob() needs Hydra's config loader; Hydra reports real syntax errors
        return None


def announce_sweep(argv: Sequence[str]) -> None:
    """Export the sweep size so that every job (any launcher, any process) can say `i of n`."""
    n = sweep_size(argv)
    if n is not None:
        os.environ[SWEEP_ENV] = str(n)


def job_line(index: int) -> str:
    """`optlab: job i of n` (n from `announce_sweep`, when known)."""
    n = os.environ.get(SWEEP_ENV)
    return f"optlab: job {index + 1}" + (f" of {n}" if n else "")
