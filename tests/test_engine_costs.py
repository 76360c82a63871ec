"""Exact cost to every target, counted inside the scan, and the one cost model (optlab/cost.py)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from optimizer_helpers import bowl, group

from optlab import cost, engine, surfaces
from optlab.errors import UserError

ROSENBROCK = surfaces.get("rosenbrock")
BOWL = bowl()
START = [-1.2, 1.0]
TARGETS = (1e0, 1e-2, 1e-4, 1e-8)
CASES = {  # optimizer: (surface, hyperparameters); gd: every step costs one f and one ∇f
    "lbfgs": (ROSENBROCK, {}),
    "newton": (ROSENBROCK, {}),
    "gd": (BOWL, {"learning_rate": 0.06}),
}


def _totals(traj: engine.Trajectory) -> np.ndarray:
    """(R, 3) total (f, ∇f, ∇²f) evaluations of each run."""
    return np.stack([traj.f_evals, traj.grad_evals, traj.hessian_evals], axis=-1)


@functools.cache
def _simulate(name: str, steps: int, every: int = 1) -> engine.Trajectory:
    """The run of `name` from START for `steps` steps (cached: each length compiles anew)."""
    surface, hp = CASES[name]
    g = group(name, [START], **hp)
    kw = dict(dtype=np.float64, targets=TARGETS, diagnostics=False, record_every=every)
    return engine.run(surface, [g], steps, **kw)


@pytest.mark.parametrize("every", [1, 10])
@pytest.mark.parametrize("name", list(CASES))
def test_evals_to_target_equal_a_resimulation_stopped_at_the_hit(name, every):
    """A run re-simulated for exactly hit_step steps spends hit_evals, and one step less misses."""
    surface = CASES[name][0]
    traj = _simulate(name, 120, every)
    hit, evals = traj.hit_step[0], traj.hit_evals[0]
    assert traj.hit_step.shape == (1, len(TARGETS)) and evals.shape == (len(TARGETS), 3)
    assert np.all(hit > 1), hit  # the case exercises real hits
    for k in (1, 3):  # 1e-2 and 1e-8 (each re-simulation length compiles a program)
        t = TARGETS[k]
        upto = _simulate(name, int(hit[k]))
        np.testing.assert_array_equal(_totals(upto)[0], evals[k], f"{name} target {t}")
        assert upto.final_loss[0] - surface.f_min <= t
        before = _simulate(name, int(hit[k]) - 1)
        assert before.final_loss[0] - surface.f_min > t
        assert before.hit_step[0, k] == -1
        np.testing.assert_array_equal(before.hit_evals[0, k], [-1, -1, -1])
    # the cumulative counts at the recorded steps: at each hit, and thinned alike
    full = _simulate(name, 120)
    cum = np.stack([full.cum_f_evals, full.cum_grad_evals, full.cum_hessian_evals], axis=-1)[0]
    np.testing.assert_array_equal(cum[hit], evals)
    np.testing.assert_array_equal(cum[-1], _totals(full)[0])
    assert traj.record_steps[1] == every
    np.testing.assert_array_equal(traj.cum_f_evals[0], cum[traj.record_steps, 0])
    np.testing.assert_array_equal(traj.cum_hessian_evals[0], cum[traj.record_steps, 2])


def test_hits_are_exact_across_chunks_and_records():
    """The same hits and counts with any record, chunk_size and step_chunks."""
    starts = [[-1.2, 1.0], [0.5, 0.5], [1.0, 1.0], [2.0, -1.0], [np.nan, 0.0]]
    runs = [group("lbfgs", starts), group("adam", starts, learning_rate=0.02)]
    kw = dict(dtype=np.float64, targets=TARGETS, diagnostics=False)
    ref = engine.run(ROSENBROCK, runs, 60, **kw)
    for other in (
        dict(record=("loss",), record_every=7, chunk_size=2, step_chunks=3),
        dict(record=(), record_every=20, step_chunks=2),
    ):
        got = engine.run(ROSENBROCK, runs, 60, **kw, **other)
        np.testing.assert_array_equal(got.hit_step, ref.hit_step, str(other))
        np.testing.assert_array_equal(got.hit_evals, ref.hit_evals, str(other))
        for k in ("cum_f_evals", "cum_grad_evals", "cum_hessian_evals"):
            np.testing.assert_array_equal(
                getattr(got, k), getattr(ref, k)[:, got.record_steps], f"{k} {other}"
            )
    # a start at the minimum hits every target at step 0; a non-finite start never
    np.testing.assert_array_equal(ref.hit_step[2], [0] * len(TARGETS))
    np.testing.assert_array_equal(ref.hit_evals[2], [[1, 1, 0]] * len(TARGETS))
    np.testing.assert_array_equal(ref.hit_step[4], [-1] * len(TARGETS))
    # hits agree with the recorded loss: first step with f − f* ≤ t (float64 on the host)
    gap = ref.loss - ROSENBROCK.f_min
    for k, t in enumerate(TARGETS):
        below = gap <= t
        first = np.where(below.any(1), below.argmax(1), -1)
        np.testing.assert_array_equal(ref.hit_step[:, k], first)


def test_float32_hits_match_the_host_test_on_the_recorded_loss():
    """In float32 the engine's test equals f − f* ≤ t computed in float64 on the record."""
    starts = np.random.default_rng(0).uniform(-2, 2, (16, 2))
    targets = (1e-1, 1e-3, 1e-5)
    traj = engine.run(ROSENBROCK, [group("adam", starts, learning_rate=0.03)], 300, targets=targets)
    assert traj.loss.dtype == np.float32
    gap = traj.loss.astype(np.float64) - ROSENBROCK.f_min
    for k, t in enumerate(targets):
        below = gap <= t
        np.testing.assert_array_equal(
            traj.hit_step[:, k], np.where(below.any(1), below.argmax(1), -1)
        )


def test_thresholds_are_the_largest_values_reaching_the_target():
    for dtype in (np.float32, np.float64):
        for f_min, t in [
            (0.0, 1e-8),
            (3.0, 1e-4),
            (-39.16616570 * 2, 1e-2),
            (0.397887357730, 1e-6),
        ]:
            (v,) = engine.thresholds(f_min, [t], dtype)
            assert np.float64(v) - f_min <= t
            assert np.float64(np.nextafter(v, dtype(np.inf))) - f_min > t
    assert np.all(engine.thresholds(None, [1e-2, 1e-4], np.float32) == -np.inf)


def test_unknown_minimum_never_hits():
    saddle = surfaces.get("saddle")
    traj = engine.run(saddle, [group("gd", [[0.1, 0.1]])], 5, targets=(1e-2,), dtype=np.float64)
    np.testing.assert_array_equal(traj.hit_step, [[-1]])
    np.testing.assert_array_equal(traj.hit_evals, [[[-1, -1, -1]]])
    np.testing.assert_array_equal(traj.targets, [1e-2])


# ---- the cost model ----


def test_default_cost_is_one_per_value_and_gradient_and_d_per_hessian():
    np.testing.assert_array_equal(cost.weights(cost.Cost(), 7), [1.0, 1.0, 7.0])
    assert cost.parse("f=1,grad=1,hessian=d") == cost.Cost()
    assert cost.from_mapping({"f": 1, "grad": 1, "hessian": "d"}) == cost.Cost()
    assert cost.from_mapping({}) == cost.Cost()


def test_parse_and_mapping_agree_and_weigh():
    c = cost.parse(" f = 2 , hessian=3d ")
    assert c == cost.from_mapping({"f": 2.0, "hessian": "3*d"})
    np.testing.assert_array_equal(cost.weights(c, 5), [2.0, 1.0, 15.0])
    np.testing.assert_array_equal(cost.weights(cost.parse("hessian=1"), 5), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(cost.weights(cost.parse("grad=0.5d"), 4), [1.0, 2.0, 4.0])


def test_evals_weighted_by_the_cost_model():
    """evals_to = weights · hit_evals, by hand for Newton (one Hessian per step) in 2-D."""
    hit_evals = np.array([[5, 5, 4], [-1, -1, -1]])
    np.testing.assert_array_equal(cost.total(cost.Cost(), 2, hit_evals), [18.0, np.nan])
    np.testing.assert_array_equal(cost.total(cost.parse("hessian=1"), 2, hit_evals), [14.0, np.nan])


def test_describe_is_one_line_with_the_dimension():
    text = cost.describe(cost.Cost(), 3)
    assert "\n" not in text and "f = 1" in text and "∇²f = d = 3" in text
    assert "∇²f = 2d" in cost.describe(cost.parse("hessian=2d"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("speed=1", r"^--cost='speed=1' is invalid: .*allowed keys: f, grad, hessian"),
        ("f=-1", r"^--cost='f=-1' is invalid: .*>= 0"),
        ("f=nan", r"^--cost='f=nan' is invalid"),
        ("f=inf", r"^--cost='f=inf' is invalid"),
        ("hessian=x", r"^--cost='hessian=x' is invalid"),
        ("f", r"^--cost='f' is invalid"),
        ("f=1,f=2", r"^--cost='f=1,f=2' is invalid: .*twice"),
        ("", r"^--cost='' is invalid"),
    ],
)
def test_bad_cost_text_is_one_line(text, match):
    with pytest.raises(UserError, match=match) as e:
        cost.parse(text)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"speed": 1}, r"^cost\.speed=1 is invalid: .*allowed keys: f, grad, hessian"),
        ({"hessian": -2}, r"^cost\.hessian=-2 is invalid: .*>= 0"),
        ({"grad": math.inf}, r"^cost\.grad=inf is invalid"),
        ({"grad": True}, r"^cost\.grad=True is invalid"),
        ({"f": "2e"}, r"^cost\.f='2e' is invalid"),
        ([1, 2], r"^cost=\[1, 2\] is invalid: .*mapping"),
    ],
)
def test_bad_cost_mapping_is_one_line(mapping, match):
    with pytest.raises(UserError, match=match) as e:
        cost.from_mapping(mapping)
    assert "\n" not in str(e.value)


def test_config_reads_the_cost_key(compose):
    from optlab.config import cost_model

    assert cost_model(compose([])) == cost.Cost()
    assert cost_model(compose(["cost.hessian=1"])) == cost.parse("hessian=1")
    with pytest.raises(UserError, match=r"^cost\.f=-1 is invalid"):
        cost_model(compose(["cost.f=-1"]))


def test_runs_csv_and_npz_keep_exact_costs(compose, tmp_path):
    """runs.csv: steps_to_<t> and evals_to_<t> = weights · hit_evals (empty when unreached);
    trajectory.npz: the cumulative counts per recorded step."""
    from optlab import records
    from optlab.app import simulate
    from optlab.config import build_job

    job = build_job(
        compose(
            [
                "surface=rosenbrock",
                "optimizer=newton",
                "steps=30",
                "dtype=float64",
                "start=[-1.2,1.0]",
            ]
        ),
        single_optimizer=True,
    )
    traj = simulate(job, targets=(1e-2, 1e-30))
    records.write(tmp_path, job, traj, cost=cost.parse("hessian=3d"))
    rows = records.read_csv(tmp_path / "runs.csv")
    for r, row in enumerate(rows):
        f, g, h = traj.hit_evals[r, 0]
        assert int(row["steps_to_1e-02"]) == traj.hit_step[r, 0] > 0
        assert float(row["evals_to_1e-02"]) == f + g + 3 * 2 * h  # d = 2
        assert row["steps_to_1e-30"] == row["evals_to_1e-30"] == ""
    with np.load(tmp_path / "trajectory.npz") as z:
        np.testing.assert_array_equal(z["cum_hessian_evals"], traj.cum_hessian_evals)
        assert z["cum_f_evals"].shape == (len(rows), 31)
        np.testing.assert_array_equal(z["targets"], [1e-2, 1e-30])
