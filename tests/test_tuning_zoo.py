"""experiment=zoo: every catalog optimizer, the required surfaces, fixed starts; a tiny run."""

from __future__ import annotations

from omegaconf import OmegaConf

from optlab import app, optimizers, results, surfaces
from optlab.config import build_job
from optlab.report import write

REQUIRED = {"rosenbrock", "himmelblau", "beale", "rastrigin", "quadratic", "styblinski_tang"}


def test_zoo_lineup_is_the_whole_catalog(compose):
    cfg = compose(["experiment=zoo"])
    names = {v["name"] for v in OmegaConf.to_container(cfg.lineup).values()}
    # noisy_sgd (its own random noise) came after the zoo was run: it belongs to the noise study
    assert names == set(optimizers.available()) - {"noisy_sgd"}
    assert cfg.task == "tune" and cfg.starts >= 16 and isinstance(cfg.seed, int)
    assert cfg.tuning.starts >= 1 and cfg.tol_grad == 0.0 and cfg.dtype == "float64"


def test_zoo_problems_are_the_required_surfaces(compose):
    cfg = compose(["experiment=zoo"])
    problems = OmegaConf.to_container(cfg.problems)
    assert {p["name"] for p in problems.values()} == REQUIRED
    quadratic = problems["quadratic"]
    assert quadratic["condition_number"] >= 100 and quadratic["rotation_seed"] is not None
    assert problems["styblinski_tang"]["dim"] == 5
    for name, spec in problems.items():
        built = compose(["experiment=zoo", f"problem={name}"]).surface
        assert OmegaConf.to_container(built, resolve=True) == spec
        assert surfaces.get(**spec).f_min is not None  # every target is on f − f*


def test_zoo_sweeps_every_problem():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from optlab.config import conf_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        cfg = hydra_compose("config", ["experiment=zoo"], return_hydra_config=True)
    swept = set(cfg.hydra.sweeper.params.problem.split(","))
    assert swept == set(OmegaConf.to_container(cfg.problems))


def test_tiny_zoo_tunes_stores_and_reports(compose, tmp_path):
    """Two problems, three optimizers, a small budget: the zoo's path end to end."""
    db = tmp_path / "results.sqlite"
    for problem in ("himmelblau", "quadratic"):
        cfg = compose(
            [
                "experiment=zoo",
                f"problem={problem}",
                "steps=30",
                "starts=3",
                "tuning.budget=3",
                "tuning.starts=2",
                f"results={db}",
            ]
        )
        cfg.lineup = {
            "gd": {"name": "gd"},
            "momentum": {"name": "momentum"},
            "adam": {"name": "adam"},
        }
        app.tune(cfg, tmp_path / problem, [])
        job = build_job(cfg)
        assert job.surface.name == problem
    rows = results.load(db)
    assert sum(r["role"] == "eval" for r in rows) == 2 * 3 * 3
    md = write(db).read_text()
    assert "## Tuning" in md and "himmelblau 2-D" in md and "condition_number=1000" in md
