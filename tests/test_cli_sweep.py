"""The sweep of malformed commands (tests/data/malformed_commands.txt): every one is refused in one
line naming its key, exit status 2, no traceback, nothing written. In process: each command goes
through the same entry as the `optlab` command (`optlab.__main__.main`), refused before Hydra runs
a job, so nothing compiles."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shlex
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "malformed_commands.txt"


def commands() -> list[tuple[str, list[str]]]:
    """(key, arguments) of every line of the data file."""
    out = []
    for line in DATA.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, args = line.partition(" :: ")
            out.append((key.strip(), shlex.split(args)))
    return out


COMMANDS = commands()


@contextlib.contextmanager
def logging_restored():
    """Put back every logger's handlers and level afterwards: a job run in process configures
    Hydra's logging, whose handlers would keep writing into this test's captured streams."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    # Hydra's dictConfig closes every live handler; absl's closes its stream too (pytest's
    # capture file) unless that stream is the process's own: lend it that one meanwhile.
    live = [r() for r in logging._handlerList]  # type: ignore[attr-defined]
    streams = {h: h.stream for h in live if isinstance(h, logging.StreamHandler)}
    streams = {h: s for h, s in streams.items() if "stream" in vars(h)}  # not a property
    for h in streams:
        h.stream = sys.__stderr__
    try:
        yield
    finally:
        for h, stream in streams.items():
            h.stream = stream
        for lg in {logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)}:
            for h in lg.handlers:
                if all(h not in s[1] for s in saved):
                    h.close()
        for lg, handlers, level, propagate, disabled in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def run_in_process(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """`optlab ARGV` in this process: (exit status, stdout, stderr)."""
    from optlab.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with (
            logging_restored(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working directory holding a plain file `somefile.txt` (paths that go through a file)."""
    d = tmp_path_factory.mktemp("sweep")
    (d / "somefile.txt").write_text("not a directory\n")
    return d


def test_the_sweep_has_at_least_150_commands_and_covers_every_config_key():
    from omegaconf import OmegaConf

    from optlab.config import conf_dir

    assert len(COMMANDS) >= 150
    keys = {k.split(".")[0].lstrip("+~") for k, _ in COMMANDS}
    top = set(OmegaConf.load(conf_dir() / "config.yaml")) - {"defaults", "hydra"}
    assert top | {"surface", "optimizer", "experiment", "hydra/launcher"} <= keys


@pytest.mark.parametrize(("key", "argv"), COMMANDS, ids=[" ".join(a) for _, a in COMMANDS])
def test_malformed_command_is_one_line_naming_its_key(workdir, key, argv):
    before = sorted(p.name for p in workdir.iterdir())
    code, out, err = run_in_process(argv, workdir)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("optlab: error: "), err
    assert key in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert sorted(p.name for p in workdir.iterdir()) == before  # no outputs/, multirun/, store
