"""The interactive gradient explorer: `python -m optlab.explore surface=himmelblau`.

In Jupyter (`pip install -e '.[notebook]'`)::

    %matplotlib widget
    from optlab.explore import explore
    explore(["surface=himmelblau"])
"""

from __future__ import annotations

from collections.abc import Sequence

from optlab.explore.probe import Probe, probe
from optlab.explore.widget import Explorer

__all__ = ["Explorer", "Probe", "explore", "probe"]


def explore(overrides: Sequence[str] = (), figsize: tuple[float, float] = (11.0, 6.5)) -> Explorer:
    """An explorer on a new pyplot figure, configured by Hydra overrides of conf/explore.yaml."""
    import matplotlib.pyplot as plt
    from hydra import compose, initialize_config_dir

    from optlab.config import conf_dir
    from optlab.explore.app import direction_of, job_of

    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        cfg = compose(config_name="explore", overrides=list(overrides))
    job = job_of(cfg, list(overrides))
    return Explorer.from_job(plt.figure(figsize=figsize), job, direction_of(cfg))
