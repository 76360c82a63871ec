"""`python -m optlab experiment=rosenbrock`: the Hydra entry point (thin: one call into the library)."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from optlab.cli import guard, precheck
from optlab.config import conf_dir
from optlab.progress import announce_sweep


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def main(cfg: DictConfig) -> None:
    from optlab import app

    hc = HydraConfig.get()
    with guard():
        app.main(cfg, Path(hc.runtime.output_dir), list(hc.overrides.task))


if __name__ == "__main__":
    precheck(sys.argv[1:])
    announce_sweep(sys.argv[1:])
    main()
