"""Each class of bad input of issue 16, in process: one line, exit 2, nothing written; and the
jobs that must survive (a store written last, a sweep with a failing job still reported)."""

from __future__ import annotations

import math
import sqlite3

import pytest
from test_cli_sweep import run_in_process

from optlab import app, validate
from optlab.errors import UserError


def one_error_line(code: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("optlab: error: "), err
    return lines[0]


# --- strict values -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "off", "false", "0", 0, 1, None, [True]])
def test_boolean_accepts_yaml_booleans_only(value):
    with pytest.raises(UserError, match="must be true or false"):
        validate.boolean("diagnostics", value)
    assert validate.boolean("diagnostics", False) is False
    assert validate.boolean("diagnostics", True) is True


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, float("1e400"), "1", True, None])
def test_finite_refuses_non_finite_numbers(value):
    with pytest.raises(UserError, match=r"must be a (finite )?number"):
        validate.finite("optimizer.learning_rate", value)
    assert validate.finite("x", 3) == 3.0 and isinstance(validate.finite("x", 3), float)


def test_representable_names_the_dtype():
    big = float(__import__("numpy").finfo("float32").max)
    validate.representable("start", [big, -big], "float32")  # the largest float32 is fine
    with pytest.raises(UserError, match=r"finite in float32.*dtype=float64"):
        validate.representable("start", [1e39, 0.0], "float32")
    validate.representable("start", [1e39, 1e308], "float64")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["diagnostics=off"], "diagnostics='off' is invalid: must be true or false"),
        (["diagnostics='false'"], "diagnostics='false' is invalid"),
        (
            ["optimizer.learning_rate=inf"],
            "optimizer.learning_rate=inf is invalid: must be a finite",
        ),
        (["optimizer.learning_rate=1e400"], "must be a finite number"),
        (["start=[1e39,1e39]"], "finite in float32"),
        (["stepz=100"], "unknown key 'stepz' (did you mean 'steps'?)"),
        (["optimizer.learnin_rate=0.1"], "(did you mean 'optimizer.learning_rate'?)"),
        (["experiment=rosenbrock", "optimizer=adam,gd"], "invalid without -m"),
        (["hydra/launcher=bogus"], "hydra/launcher='bogus' is unknown; available: basic"),
        (
            ["--multirn"],
            "--multirn is invalid: not an option of optlab (did you mean '--multirun'?)",
        ),
        (["results=somefile.txt/x.sqlite"], "somefile.txt is a file, not a directory"),
        (["cache_dir=/proc/optlab"], "cache_dir='/proc/optlab' is invalid: cannot write in /proc"),
        (["cache_dir=somefile.txt"], "exists and is not a directory"),
    ],
)
def test_bad_command_is_one_line(tmp_path, argv, needle):
    (tmp_path / "somefile.txt").write_text("a file\n")
    code, _, err = run_in_process(argv, tmp_path)
    assert needle in one_error_line(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["somefile.txt"]


def test_expression_error_at_the_end_points_at_the_end():
    from optlab.surfaces.expression import parse

    with pytest.raises(UserError, match="syntax error at column 7"):
        parse("x**2 +")


# --- a refused job writes nothing ------------------------------------------------------------


def test_job_refused_inside_hydra_leaves_no_run_directory(tmp_path):
    """The ML task validates its own section when it runs, after Hydra made the run directory."""
    code, _, err = run_in_process(["experiment=mlp", "mlp.hidden=[0]", "steps=1"], tmp_path)
    assert "mlp.hidden" in one_error_line(code, err)
    assert list(tmp_path.iterdir()) == []


def test_refused_job_keeps_a_directory_it_did_not_create(tmp_path):
    run = tmp_path / "mine"
    run.mkdir()
    (run / "notes.txt").write_text("keep me\n")
    argv = ["experiment=mlp", "mlp.hidden=[0]", "steps=1", f"hydra.run.dir={run}"]
    code, _, err = run_in_process(argv, tmp_path)
    one_error_line(code, err)
    assert (run / "notes.txt").read_text() == "keep me\n"


# --- the store: written last, and said ------------------------------------------------------


def test_store_is_the_last_step_of_a_job(compose, tmp_path, monkeypatch):
    db = tmp_path / "store" / "results.sqlite"
    cfg = compose(["surface=sphere", "optimizer=gd", "steps=3", f"results={db}"])

    def broken(*args, **kwargs):
        raise RuntimeError("a plot failed")

    monkeypatch.setattr(app, "draw", broken)
    with pytest.raises(RuntimeError):
        app.optimize(cfg, tmp_path / "first", [])
    assert not db.exists()  # nothing stored: a rerun is not skipped
    monkeypatch.undo()
    rows = app.optimize(cfg, tmp_path / "second", [])
    assert len(rows) == 1
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_new_store_directory_is_said_and_the_counts_read_well(compose, tmp_path, capsys, caplog):
    db = tmp_path / "new" / "dir" / "x.sqlite"
    cfg = compose(["surface=sphere", "optimizer=gd", "steps=3", f"results={db}", "plots=[]"])
    with caplog.at_level("INFO", logger="optlab"):
        app.optimize(cfg, tmp_path / "run", [])
    assert f"creating the directory {db.parent} for the results store" in caplog.text
    out = capsys.readouterr().out
    assert f"stored 1 new run in {db}" in out
    assert f"wrote trajectory.npz and runs.csv to {tmp_path / 'run'}" in out
    assert "plots" not in out.split("wrote", 1)[1].splitlines()[0]


def test_wrote_names_the_pictures():
    out = app.Path("o")
    assert app.wrote(out, ["a", "b"], []) == "optlab: wrote a and b to o"
    assert app.wrote(out, ["a"], [out / "c.png"]) == "optlab: wrote a and 1 picture to o"
    assert app.wrote(out, ["a", "b"], [out, out]) == "optlab: wrote a, b and 2 pictures to o"


# --- a sweep with a failing job --------------------------------------------------------------


def test_failing_job_does_not_stop_the_sweep_or_its_report(tmp_path, monkeypatch):
    real = app.draw

    def draw(out, job, traj):
        if job.members[0].spec.name == "adam":
            raise RuntimeError("a plot failed")
        return real(out, job, traj)

    monkeypatch.setattr(app, "draw", draw)
    sweep = tmp_path / "sweep"
    argv = ["-m", "optimizer=adam,gd", "surface=sphere", "steps=3", f"hydra.sweep.dir={sweep}"]
    code, _, err = run_in_process(argv, tmp_path)
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("optlab: error: 1 job(s) failed: job 0")
    assert "gd" in (sweep / "report.md").read_text()
    with sqlite3.connect(sweep / "results.sqlite") as c:
        assert c.execute("SELECT DISTINCT optimizer FROM runs").fetchall() == [("gd",)]


# --- the report's command line ---------------------------------------------------------------


def test_report_of_a_missing_directory_says_it_does_not_exist(tmp_path, capsys):
    from optlab.report.__main__ import main

    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "nonexistent" / "dir")])
    assert e.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_out_that_is_a_file_is_one_line(tmp_path, capsys):
    from optlab.report.__main__ import main

    (tmp_path / "results.sqlite").write_bytes(b"")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path), "--out", str(tmp_path / "afile")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and "is not a directory" in err[0]
