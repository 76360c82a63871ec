"""`python -m optlab.explore surface=himmelblau`: the explorer's Hydra entry (thin)."""

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from optlab.cli import guard, precheck
from optlab.config import conf_dir


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="explore")
def main(cfg: DictConfig) -> None:
    from optlab.explore import app

    with guard():
        app.main(cfg, list(HydraConfig.get().overrides.task))


if __name__ == "__main__":
    precheck(sys.argv[1:])
    main()
