"""The optimizer catalog: YAMLs, traced hyperparameters, validation, schedules, clipping."""

from __future__ import annotations

import inspect
import math

import numpy as np
import optax
import pytest
from optimizer_helpers import bowl, group, quadratic, yaml_names

from optlab import engine, optimizers
from optlab.config import build_job, optimizer_defaults
from optlab.errors import UserError
from optlab.optimizers.registry import entry

STARTS = [[2.0, -1.0], [-1.5, 1.0], [1.0, 2.0]]


def test_every_registered_optimizer_has_a_yaml_and_vice_versa():
    assert yaml_names() == optimizers.available()
    required = {"gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    required |= {"amsgrad", "adamax", "nadam", "adabelief", "lion", "lamb", "yogi", "novograd"}
    required |= {"radam", "adafactor", "sm3", "ademamix", "adopt", "prodigy", "cocob"}
    required |= {"schedule_free_adamw", "dadapt_adamw", "newton", "lbfgs"}
    assert required <= set(optimizers.available())


@pytest.mark.parametrize("name", yaml_names())
def test_yaml_lists_every_hyperparameter_at_the_factory_default(name):
    """Each YAML names all configurable arguments, at the factory's (optax's) defaults."""
    cfg = optimizer_defaults(name)
    e = entry(name)
    assert cfg.pop("name") == name
    assert set(cfg) == set(e.defaults)
    for key, default in e.defaults.items():
        if key == "learning_rate":
            assert cfg[key] > 0  # chosen for 2-D surfaces
        else:
            expected = list(default) if isinstance(default, tuple) else default
            assert cfg[key] == expected, key


def test_numeric_hyperparameters_are_traced_and_discrete_ones_static():
    spec, traced = optimizers.split("momentum", {"learning_rate": 0.1, "momentum": 0.5})
    assert traced == {"learning_rate": 0.1, "momentum": 0.5}
    assert dict(spec.static) == {}
    spec, traced = optimizers.split("lbfgs", {"learning_rate": 1.0, "memory_size": 5})
    assert traced == {"learning_rate": 1.0}
    assert dict(spec.static) == {"memory_size": 5}
    spec, traced = optimizers.split("sgd", {"learning_rate": 0.1, "nesterov": True})
    assert dict(spec.static) == {"nesterov": True}


def test_bowl_loss_falls_100x_and_changing_learning_rates_does_not_recompile(compose):
    """Every YAML, three starts, the configured steps: loss falls ≥100×; new rates reuse the program."""
    steps = compose([]).steps
    names = yaml_names()
    groups = [group(n, STARTS) for n in names]
    traj = engine.run(bowl(), groups, steps, diagnostics=False)
    ratio = traj.loss[:, 0] / np.maximum(traj.loss[:, -1], 1e-30)
    failing = {n: ratio[3 * i : 3 * i + 3].min() for i, n in enumerate(names)}
    assert {n: r for n, r in failing.items() if not r >= 100} == {}

    compiled = engine.program._cache_size()
    halved = [
        g._replace(hparams=g.hparams | {"learning_rate": g.hparams["learning_rate"] / 2})
        for g in groups
    ]
    again = engine.run(bowl(), halved, steps, diagnostics=False)
    assert engine.program._cache_size() == compiled
    moved = np.abs(again.params - traj.params).max(axis=(1, 2)).reshape(len(names), 3).min(1)
    # optax's cocob scales the gradient by the rate before its scale-invariant coin betting.
    assert {n for n, m in zip(names, moved, strict=True) if not m > 0} == {"cocob"}


# ---------------------------------------------------------------- bad input


def test_unknown_optimizer_lists_the_available_ones():
    with pytest.raises(UserError, match=r"optimizer='adamm' is unknown \(did you mean 'adam'") as e:
        optimizers.split("adamm", {})
    assert "lbfgs, lion" in str(e.value) and "\n" not in str(e.value)


def test_unknown_hyperparameter_lists_the_valid_ones():
    with pytest.raises(UserError, match=r"optimizer.beta1=0.9 is not a hyperparameter of 'adam'"):
        optimizers.split("adam", {"beta1": 0.9})
    with pytest.raises(UserError, match=r"valid: learning_rate, b1, b2, eps, eps_root, nesterov"):
        optimizers.split("adam", {"beta1": 0.9})
    with pytest.raises(UserError, match=r"valid: .*memory_size"):
        optimizers.split("lbfgs", {"linesearch": "zoom"})


@pytest.mark.parametrize(
    ("name", "key", "value", "allowed"),
    [
        ("gd", "learning_rate", -0.1, "must be > 0"),
        ("adam", "learning_rate", 0.0, "must be > 0"),
        ("momentum", "momentum", 1.0, r"must be in \[0, 1\)"),
        ("momentum", "momentum", -0.5, r"must be in \[0, 1\)"),
        ("sgd", "momentum", 1.5, r"must be in \[0, 1\)"),
        ("lbfgs", "memory_size", 0, "must be >= 1"),
        ("lbfgs", "memory_size", 2.5, "must be an integer"),
        ("adam", "b1", 1.0, r"must be in \[0, 1\)"),
        ("adam", "b2", -0.1, r"must be in \[0, 1\)"),
        ("adamw", "weight_decay", -1e-4, "must be >= 0"),
        ("momentum", "nesterov", "yes", "must be true or false"),
        ("adam", "learning_rate", "fast", "must be a number"),
        ("newton", "decrease_factor", 1.0, r"must be in \(0, 1\)"),
        ("gd", "clip_by_global_norm", 0.0, "must be > 0"),
    ],
)
def test_invalid_values_are_one_line_user_errors(name, key, value, allowed):
    with pytest.raises(UserError, match=rf"^optimizer\.{key}={value!r} is invalid: {allowed}$"):
        optimizers.split(name, {key: value})


def test_bad_values_from_the_command_line_are_user_errors(compose):
    cfg = compose(["optimizer=momentum", "optimizer.momentum=1.0"])
    with pytest.raises(UserError, match=r"optimizer.momentum=1.0 is invalid"):
        build_job(cfg, single_optimizer=True)
    cfg = compose(["optimizer=lbfgs", "optimizer.memory_size=0"])
    with pytest.raises(UserError, match=r"optimizer.memory_size=0 is invalid: must be >= 1"):
        build_job(cfg, single_optimizer=True)


# ---------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("lr", "message"),
    [
        (
            {"schedule": "cosine_decay", "init_value": 0.1},
            r"optimizer.learning_rate.decay_steps is missing: schedule 'cosine_decay' needs "
            r"init_value, decay_steps$",
        ),
        (
            {"schedule": "cosine_decay", "init_value": 0.1, "decay_steps": 9, "warmup": 3},
            r"optimizer.learning_rate.warmup=3 is not a field of schedule 'cosine_decay'; valid: "
            r"init_value, decay_steps, alpha, exponent$",
        ),
        (
            {"schedule": "linear", "init_value": 0.1},
            r"optimizer.learning_rate.schedule='linear' is invalid: allowed: constant, "
            r"exponential_decay, cosine_decay, warmup_cosine_decay, piecewise_constant",
        ),
        ({"init_value": 0.1}, r"optimizer.learning_rate.schedule=None is invalid"),
        (
            {"schedule": "exponential_decay", "init_value": 0.1, "transition_steps": 10},
            r"optimizer.learning_rate.decay_rate is missing",
        ),
        (
            {"schedule": "constant", "value": -1.0},
            r"optimizer.learning_rate.value=-1.0 is invalid: must be >= 0$",
        ),
        (
            {"schedule": "cosine_decay", "init_value": 0.1, "decay_steps": 0},
            r"optimizer.learning_rate=.* is invalid: .*positive decay_steps",
        ),
        (
            {"schedule": "piecewise_constant", "init_value": 0.1, "boundaries_and_scales": 3},
            r"optimizer.learning_rate.boundaries_and_scales=3 is invalid: must map steps",
        ),
    ],
)
def test_schedule_errors_name_the_field(lr, message):
    with pytest.raises(UserError, match=message):
        optimizers.split("adam", {"learning_rate": lr})


def test_optimizers_without_schedule_support_say_so():
    lr = {"schedule": "constant", "value": 0.1}
    with pytest.raises(UserError, match=r"'sm3' takes a number, not a schedule"):
        optimizers.split("sm3", {"learning_rate": lr})


def _cosine(t, init, steps):
    return init * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps))


def test_schedule_from_the_command_line_drives_every_step(compose):
    """Hydra's dict override reaches the engine: gd on ½x² takes x ← (1 − η_t) x, η_t the schedule."""
    cfg = compose(
        [
            "optimizer=gd",
            "optimizer.learning_rate={schedule:cosine_decay,init_value:0.5,decay_steps:8}",
        ]
    )
    spec = build_job(cfg, single_optimizer=True).members[0].spec
    traj = engine.run(quadratic([1.0]), [engine.Group(spec, {}, np.ones((1, 1)))], 10)
    expected = np.cumprod([1.0] + [1 - _cosine(t, 0.5, 8) for t in range(10)])
    np.testing.assert_allclose(traj.params[0, :, 0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("cfg", "reference"),
    [
        ({"schedule": "constant", "value": 0.3}, lambda t: 0.3),
        (
            {"schedule": "exponential_decay", "init_value": 0.4, "transition_steps": 2, "decay_rate": 0.5},
            lambda t: 0.4 * 0.5 ** (t / 2),
        ),
        (
            {"schedule": "warmup_cosine_decay", "init_value": 0.0, "peak_value": 0.4, "warmup_steps": 3, "decay_steps": 9},
            lambda t: 0.4 * t / 3 if t < 3 else 0.4 * 0.5 * (1 + math.cos(math.pi * (t - 3) / 6)),
        ),
        (
            {"schedule": "piecewise_constant", "init_value": 0.4, "boundaries_and_scales": {"3": 0.5, 6: 0.1}},
            lambda t: 0.4 * (0.5 if t >= 3 else 1) * (0.1 if t >= 6 else 1),
        ),
    ],
)  # fmt: skip
def test_schedules_match_their_formulas(cfg, reference):
    from optlab.optimizers.schedules import schedule

    values = [float(schedule(cfg)(t)) for t in range(10)]
    np.testing.assert_allclose(values, [reference(t) for t in range(10)], rtol=1e-6, atol=1e-9)


def test_clip_by_global_norm_caps_the_gradient_in_front():
    """gd with clipping X moves by η·min(‖∇f‖, X) along −∇f."""
    surface = quadratic([1.0, 1.0])
    starts = np.array([[30.0, 40.0], [0.3, 0.4]])  # ‖∇f‖ = 50 (clipped) and 0.5 (not)
    run = group("gd", starts, learning_rate=0.1, clip_by_global_norm=2.0)
    traj = engine.run(surface, [run], 1, dtype=np.float64)
    step = traj.params[:, 0] - traj.params[:, 1]
    np.testing.assert_allclose(np.linalg.norm(step, axis=-1), [0.2, 0.05], rtol=1e-6)
    np.testing.assert_allclose(
        step / np.linalg.norm(step, axis=-1, keepdims=True), [[0.6, 0.8]] * 2
    )


def test_traced_names_are_factory_arguments():
    for name in optimizers.available():
        e = entry(name)
        assert set(e.traced) - {"clip_by_global_norm"} <= set(e.defaults), name
        assert "learning_rate" in e.traced, name


def test_factory_signatures_are_optax_names():
    """Wrapped optax optimizers keep optax's hyperparameter names."""
    from optlab.optimizers import catalog

    sgd = inspect.signature(optax.sgd).parameters
    assert set(inspect.signature(catalog.momentum).parameters) <= set(sgd)
    assert set(inspect.signature(catalog.nesterov).parameters) <= set(sgd)
    lbfgs = set(inspect.signature(optax.lbfgs).parameters)
    assert set(inspect.signature(catalog.lbfgs).parameters) - lbfgs == {"max_linesearch_steps"}


def test_command_line_names_the_valid_hyperparameters_where_hydra_would_not(capsys):
    """`optimizer=adam optimizer.beta1=0.9`: one line, exit 2 (Hydra alone says "not in struct")."""
    from optlab.cli import EXIT_USER_ERROR, check_hyperparameter_names

    check_hyperparameter_names(["optimizer=adam", "optimizer.b1=0.5", "steps=3"])
    with pytest.raises(SystemExit) as e:
        check_hyperparameter_names(["optimizer=adam", "optimizer.beta1=0.9"])
    assert e.value.code == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err == (
        "optlab: error: optimizer.beta1=0.9 is not a hyperparameter of 'adam'; valid: "
        "learning_rate, b1, b2, eps, eps_root, nesterov, clip_by_global_norm\n"
    )
