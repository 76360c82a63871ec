"""Bad noise and minibatch input through `python -m optlab`: one line, exit 2, nothing written."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["noise=pink"],
            "noise='pink' is unknown; available: gaussian, none, relative, student_t",
        ),
        (
            ["noise=gaussian", "noise.sigma=-0.5"],
            "noise.sigma=-0.5 is invalid: must be >= 0",
        ),
        (
            ["noise=student_t", "noise.df=2"],
            "noise.df=2.0 is invalid: must be > 2 (the variance is infinite at <= 2)",
        ),
        (
            ["surface=logistic", "batch_size=0"],
            "batch_size=0 is invalid: must be an integer >= 1",
        ),
        (
            ["surface=logistic", "batch_size=570"],
            "batch_size=570 is invalid: must be <= 569, the examples of breast_cancer",
        ),
        (
            ["surface=logistic", "surface.data=iris"],
            "surface.data='iris' is invalid: not a data set shipped with scikit-learn here; "
            "available: breast_cancer, wine, digits",
        ),
        (
            ["surface=rosenbrock", "noise=gaussian", "batch_size=8"],
            "batch_size=8 is invalid: surface 'rosenbrock' is not a sum over examples; "
            "minibatches need one of: logistic, least_squares",
        ),
        (
            ["sampling=sequential", "surface=logistic", "batch_size=8"],
            "sampling='sequential' is invalid: allowed: shuffle, replacement",
        ),
    ],
    ids=["model", "sigma", "df", "batch0", "batch_big", "data", "not_finite_sum", "sampling"],
)
def test_bad_noise_input_is_one_line_and_exit_2(cli, args, line):
    proc, out = cli(*args, "steps=2")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [f"optlab: error: {line}"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (out / "runs.csv").exists() and not (out / "results.sqlite").exists()
