"""The ML experiments end to end (few steps, a small network): records, figures, the checks they
print, and their bad inputs."""

from __future__ import annotations

import contextlib
import io
import itertools
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from optlab import app, engine, landscape, records
from optlab.cli import guard
from optlab.config import build_job, conf_dir
from optlab.errors import UserError
from optlab.ml.data import load_digits, one_hot
from optlab.ml.mlp import Architecture, surface

# one optimizer everywhere: every task then shares one compiled engine program
FAST = ["steps=30", "mlp.hidden=[16]", "optimizer=adam"]


def run_task(out, *overrides):
    """Compose `overrides` on the live conf/ and run the task into `out`."""
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        cfg = compose(config_name="config", overrides=list(overrides))
    return app.main(cfg, out, list(overrides))


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlp")
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        rows = run_task(out, "experiment=mlp", *FAST, "mlp.landscape=true", "mlp.landscape_grid=7")
    (out / "stdout.txt").write_text(printed.getvalue())
    return out, rows


def numpy_forward(theta, x, sizes=(64, 16, 10)):
    """The network's scores in NumPy, from the flat θ layout [W₁ (row-major), b₁, W₂, b₂]."""
    a, i = x, 0
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        W = theta[i : i + n_in * n_out].reshape(n_in, n_out)
        b = theta[i + n_in * n_out : i + n_in * n_out + n_out]
        i += n_in * n_out + n_out
        a = a @ W + b
        if k < len(sizes) - 2:
            a = np.tanh(a)
    return a


def test_mlp_records_accuracy_and_layer_gradients_per_step(mlp_run):
    out, rows = mlp_run
    for name in ("trajectory.npz", "runs.csv", "loss.png", "mlp.png"):
        assert (out / name).stat().st_size > 0
    npz = np.load(out / "trajectory.npz")
    assert list(npz["labels"]) == ["adam"]  # optimizer=adam replaced the experiment's lineup
    assert npz["params"].shape == (1, 31, 64 * 16 + 16 + 16 * 10 + 10)
    for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        assert npz[key].shape == (1, 31)
    # the per-layer norms split the engine's gradient norm: ‖g‖² = Σₗ ‖gₗ‖²
    np.testing.assert_allclose(
        np.sqrt((npz["layer_grad_norm"] ** 2).sum(-1)), npz["grad_norm"], rtol=1e-5
    )
    # accuracies against an independent NumPy forward pass of the recorded parameters
    d = load_digits()
    for split, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
        for step in (0, -1):
            acc = np.mean(numpy_forward(npz["params"][0, step], x).argmax(-1) == y)
            assert npz[f"{split}_accuracy"][0, step] == pytest.approx(acc, abs=1e-6)
    acc = npz["test_accuracy"][0]
    assert acc[0] < 0.3 and acc[-1] > 0.8  # training works: from chance to most digits right
    (row,) = rows
    assert records.read_csv(out / "runs.csv")[0]["label"] == row["label"] == "adam"
    assert row["final_test_accuracy"] == pytest.approx(acc[-1])
    assert 0 < row["lipschitz_data"] <= row["lipschitz_bound"]
    assert row["final_loss"] == pytest.approx(npz["loss"][0, -1])


def test_mlp_landscapes_are_drawn(mlp_run):
    out, _ = mlp_run
    for name in ("landscape.png", "landscape_pca.png"):
        assert (out / name).stat().st_size > 10_000


def test_mlp_contour_shows_the_paths_on_the_plane_of_their_principal_components(mlp_run):
    """A slice along two of the network's weights is flat and the paths barely cross it; the
    experiment draws the loss on the runs' PCA plane through the best final point instead, where
    the loss varies and the path spans the view, and its output line says so."""
    out, _ = mlp_run
    (line,) = [ln for ln in (out / "stdout.txt").read_text().splitlines() if "wrote" in ln]
    assert "contour.png" in line and "principal components" in line
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        cfg = compose(config_name="config", overrides=["experiment=mlp", *FAST])
    d = load_digits()
    s = surface(Architecture((64, 16, 10)), d.x_train, one_hot(d.y_train))
    job = build_job(cfg, single_optimizer=True, surface=s)
    npz = np.load(out / "trajectory.npz")
    o = job.plot_options
    plane = landscape.view(s, npz["params"], npz["loss"], o.projection, o.axes, job.plot_bounds)
    assert "principal components" in plane.note
    A, B, Z = landscape.values(s, plane, 9)
    assert np.ptp(Z) > 0.5 * Z.min()  # not a uniform square
    path = plane.project(npz["params"][0])
    spans = np.ptp(path, axis=0) / np.ptp(plane.bounds, axis=1)
    assert spans[0] > 0.5  # the path crosses most of the view along PC1
    # the loss on the plane is the network's loss at the lifted point (NumPy forward pass)
    theta = plane.lift(np.array([A[2, 6], B[2, 6]]))
    z = numpy_forward(theta, d.x_train)
    ref = np.mean(
        np.log(np.exp(z - z.max(1, keepdims=True)).sum(1))
        + z.max(1)
        - z[np.arange(len(z)), d.y_train]
    )
    assert Z[2, 6] == pytest.approx(ref, rel=1e-4)


def test_penalty_compares_lambdas_with_one_compilation(tmp_path):
    before = engine.program._cache_size()
    rows = run_task(tmp_path, "experiment=penalty", *FAST, "mlp.penalties=[0.0,1.0]")
    assert engine.program._cache_size() - before <= 1  # λ is traced: both runs share a program
    table = records.read_csv(tmp_path / "penalty.csv")
    assert [float(r["penalty"]) for r in table] == [0.0, 1.0]
    without, with_ = (float(r["gradient_penalty"]) for r in table)
    assert with_ < 0.5 * without
    assert [r["penalty"] for r in rows] == [0.0, 1.0]
    assert "| label | penalty |" in (tmp_path / "penalty.md").read_text()
    for sub, lam in (("penalty_0", 0.0), ("penalty_1", 1.0)):
        (row,) = records.read_csv(tmp_path / sub / "runs.csv")
        assert float(row["penalty"]) == lam
        assert np.load(tmp_path / sub / "trajectory.npz")["test_accuracy"].shape == (1, 31)
    assert (tmp_path / "penalty.png").stat().st_size > 10_000


def test_saliency_masking_the_most_salient_pixels_changes_the_score_more(tmp_path):
    result = run_task(tmp_path, "experiment=saliency", *FAST, "saliency.images=3")
    assert result["mean_top_change"] > 1.5 * result["mean_random_change"]
    assert result["top_beats_random"] > 0.6
    rows = records.read_csv(tmp_path / "saliency.csv")
    assert len(rows) == result["images"] == len(load_digits().y_test)
    assert (tmp_path / "saliency.png").stat().st_size > 10_000


def one_line_exit(capsys, out, *overrides) -> str:
    """Run under the CLI's guard: exit status 2 and exactly one line on stderr, returned."""
    with pytest.raises(SystemExit) as e, guard():
        run_task(out, *overrides)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("optlab: error: ")
    return err


def test_saliency_class_index_out_of_range_is_one_line(tmp_path, capsys):
    err = one_line_exit(capsys, tmp_path, "experiment=saliency", "saliency.class_index=10")
    assert "saliency.class_index=10" in err and "0..9" in err


def test_missing_ml_extra_says_which_extra_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    err = one_line_exit(capsys, tmp_path, "experiment=mlp")
    assert "pip install -e '.[ml]'" in err and "experiment=mlp" in err


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("mlp.activation=sigmoid", "mlp.activation='sigmoid'"),
        ("mlp.hidden=[0]", "mlp.hidden=0"),
        ("mlp.penalty=-1", "mlp.penalty=-1"),
        ("+mlp.width=3", "mlp.width=3 is unknown"),
        ("mlp.test_fraction=1.5", "mlp.test_fraction=1.5"),
    ],
)
def test_bad_mlp_settings_are_user_errors(tmp_path, override, needle):
    with pytest.raises(UserError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        run_task(tmp_path, "experiment=mlp", override)
