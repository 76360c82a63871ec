"""Hydra callbacks: at the end of a multirun, the report of its results store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from optlab import results
from optlab.errors import UserError

log = logging.getLogger("optlab")


class Report(Callback):
    """`on_multirun_end`: write `report.md` and its PNGs into the sweep directory."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        path = config.get("results")
        if path is False:
            return
        sweep = Path(config.hydra.sweep.dir)
        db = results.resolve(path) if path else sweep / results.FILENAME
        if not db.is_file():  # tasks that keep no store (derivatives, the ML tasks)
            log.info("optlab: no report: no results store at %s", db)
            return
        targets = config.get("targets")
        try:
            from optlab.report import write

            report = write(db, sweep, None if targets is None else list(targets))
        except UserError as e:
            log.warning("optlab: no report: %s", e)
            return
        print(f"optlab: wrote {report}")
