"""Config composition and validation (in process, through Hydra's compose API)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optlab.app import overrides_choose_optimizer
from optlab.config import build_job, conf_dir
from optlab.errors import UserError

EXPERIMENTS = sorted(p.stem for p in (conf_dir() / "experiment").glob("*.yaml"))


def test_conf_dir_is_the_live_checkout():
    assert conf_dir() == Path(__file__).resolve().parent.parent / "conf"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes(compose, name):
    cfg = compose([f"experiment={name}"], hydra=True)
    assert cfg.hydra.job.name == "optlab" and not cfg.hydra.job.chdir
    assert cfg.task and cfg.surface.name and cfg.steps >= 1


def test_rosenbrock_experiment_lineup(compose):
    job = build_job(compose(["experiment=rosenbrock"]))
    assert [m.label for m in job.members] == ["gd", "momentum", "adam"]
    np.testing.assert_array_equal(job.starts, [[-1.2, 1.0]])
    assert job.surface.name == "rosenbrock" and job.steps == 2000
    # lineup entries inherit their optimizer's YAML defaults (adam's b1)
    adam = job.members[2]
    assert adam.config["b1"] == 0.9 and adam.hparams["learning_rate"] == 0.05


def test_optimizer_override_replaces_lineup(compose):
    overrides = ["experiment=rosenbrock", "optimizer=adam", "optimizer.learning_rate=0.1"]
    job = build_job(compose(overrides), single_optimizer=overrides_choose_optimizer(overrides))
    assert [m.label for m in job.members] == ["adam"]
    assert job.members[0].hparams["learning_rate"] == 0.1
    assert job.steps == 2000 and job.surface.name == "rosenbrock"


def test_overrides_choose_optimizer():
    assert overrides_choose_optimizer(["optimizer=adam"])
    assert overrides_choose_optimizer(["optimizer.learning_rate=0.1"])
    assert not overrides_choose_optimizer(["experiment=rosenbrock", "steps=5"])


def test_random_starts_inside_bounds_and_seeded(compose):
    a = build_job(compose(["surface=himmelblau", "starts=16", "seed=3"]))
    b = build_job(compose(["surface=himmelblau", "starts=16", "seed=3"]))
    c = build_job(compose(["surface=himmelblau", "starts=16", "seed=4"]))
    assert a.starts.shape == (16, 2)
    assert np.all((a.starts >= -5) & (a.starts <= 5))
    np.testing.assert_array_equal(a.starts, b.starts)
    assert not np.allclose(a.starts, c.starts)
    assert len(set(a.labels)) == 16


def test_start_outside_bounds_is_a_warning(compose):
    job = build_job(compose(["surface=himmelblau", "start=[9.0,0.0]"]))
    assert len(job.warnings) == 1 and "outside" in job.warnings[0]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["start=[1.0,2.0,3.0]"], "start="),
        (["steps=0"], "steps=0"),
        (["steps=-3"], "steps=-3"),
        (["steps=1.5"], "steps=1.5"),
        (["steps=abc"], "steps='abc'"),
        (["optimizer.learning_rate=-0.1"], "optimizer.learning_rate=-0.1"),
        (["optimizer.learning_rate=0"], "optimizer.learning_rate=0"),
        (["dtype=float16"], "dtype='float16'"),
        (["optimizer=momentum", "optimizer.momentum=1.5"], "optimizer.momentum=1.5"),
        (["+optimizer.bogus=1"], "optimizer.bogus=1"),
        (["surface.dim=1"], "surface.dim=1"),
        (["starts=0"], "starts=0"),
        (["start=[1.0,.inf]"], "start="),
    ],
)
def test_bad_input_is_one_clear_line(compose, overrides, needle):
    with pytest.raises(UserError) as e:
        build_job(compose(overrides))
    message = str(e.value)
    assert needle in message and "\n" not in message


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["resume=maybe"], "resume='maybe'"),
        (["results=3"], "results=3"),
        (["targets=[]"], "targets"),
    ],
)
def test_bad_store_options_are_one_clear_line(compose, overrides, needle):
    from optlab.config import store_options

    with pytest.raises(UserError) as e:
        store_options(compose(overrides))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_store_options_defaults(compose):
    from optlab.config import store_options

    opts = store_options(compose(["results=false", "resume=false"]))
    assert not opts.enabled and not opts.resume and opts.targets == (1e-2, 1e-4, 1e-6, 1e-8)
    assert store_options(compose([])).enabled and store_options(compose([])).path is None
