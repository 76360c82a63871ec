"""`optlab experiment=rosenbrock` (or `python -m optlab ...`): the Hydra entry point (thin: the
command line is checked, then one call into the library per job)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from optlab import cli
from optlab.config import conf_dir
from optlab.progress import announce_sweep


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def task(cfg: DictConfig) -> None:
    """One job: `app.main` on Hydra's config, user errors as one line (and no run directory)."""
    from optlab import app

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    with cli.guard(out), cli.job(hc.mode == RunMode.MULTIRUN, str(hc.job.get("num", ""))):
        app.main(cfg, out, list(hc.overrides.task))


def main(argv: Sequence[str] | None = None) -> None:
    """The `optlab` command: check the command line and the config, then let Hydra run the jobs."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cli.failures.clear()
    cli.check_command(argv)
    announce_sweep(argv)
    with cli.command_line(argv):
        task()
    cli.exit_status()


if __name__ == "__main__":
    main()
