"""The manual cannot rot: its commands run, its pictures' commands are its own, its config page is whole.

Every line of a fenced ```bash block of README.md and docs/**/*.md that starts with
`python -m optlab` is run with a few steps (in one child process, in-process one after another,
in a temporary directory), unless the block is preceded by `<!-- skip-run: reason -->`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
SKIP = re.compile(r"^<!--\s*skip-run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\S*)")
SMALL = {"steps": "5"}  # every run: a few steps ...
HYDRA_MODULES = ("optlab", "optlab.explore")
PICTURES = {"plot_options.resolution": "16", "plot_options.dpi": "30", "plot_options.frames": "3"}


@dataclass(frozen=True)
class Command:
    """One `python -m MODULE ARGS` line of a page."""

    page: str
    line: int
    module: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: python -m {self.module} {shlex.join(self.args)}"


def bash_blocks(text: str) -> list[tuple[int, list[str], str | None]]:
    """Fenced bash blocks: (first line number, lines, skip reason or None)."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, indent = i, m["indent"]
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(indent + "```"):
            body.append(lines[i][len(indent) :])
            i += 1
        i += 1
        if m["lang"] != "bash":
            continue
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        skip = SKIP.match(before)
        blocks.append((start + 2, body, None if skip is None else skip["reason"]))
    return blocks


def commands(path: Path, root: Path = ROOT) -> tuple[list[Command], list[tuple[int, str]]]:
    """The `python -m optlab...` lines of a page to run, and (line, reason) of skipped blocks."""
    run, skipped = [], []
    rel = path.relative_to(root).as_posix()
    for first, body, reason in bash_blocks(path.read_text(encoding="utf-8")):
        if reason is not None:
            skipped.append((first, reason))
            continue
        joined, number = "", first
        for k, raw in enumerate(body):
            joined += raw.rstrip()
            if joined.endswith("\\"):
                joined = joined[:-1] + " "
                continue
            words = shlex.split(joined, comments=True)
            if words[:2] == ["python", "-m"] and words[2].split(".")[0] == "optlab":
                run.append(Command(rel, number, words[2], tuple(words[3:])))
            joined, number = "", first + k + 1
    return run, skipped


def small(cmd: Command, out: Path) -> list[str]:
    """The command's arguments with few steps, small pictures and its output under `out`.

    `~` is expanded as the shell would; non-Hydra modules (`optlab.report`) keep their arguments.
    """
    args = [os.path.expanduser(a) if a.startswith("~") else a for a in cmd.args]
    if cmd.module not in HYDRA_MODULES:
        return args
    multirun = "-m" in args or "--multirun" in args
    keys = {a.split("=", 1)[0].lstrip("+~") for a in args if "=" in a}
    extra = dict(SMALL)
    if cmd.module == "optlab":  # pictures only where the command asks for them, and small
        extra |= PICTURES if "plots" in keys else {"plots": "[]"}
    args = [a for a in args if a.split("=", 1)[0] not in extra]
    args += [f"{k}={v}" for k, v in extra.items()]
    if "hydra.run.dir" not in keys and "hydra.sweep.dir" not in keys:
        args.append(f"hydra.{'sweep' if multirun else 'run'}.dir={out}")
    return args


ALL = [c for page in PAGES for c in commands(page)[0]]
UNIQUE: list[Command] = []  # each command once, where it first appears
for _c in ALL:
    if all((u.module, u.args) != (_c.module, _c.args) for u in UNIQUE):
        UNIQUE.append(_c)


def test_pages_have_commands_and_skips_say_why():
    assert len(ALL) >= 30, [str(c) for c in ALL]  # the manual shows its commands
    modules = {c.module for c in ALL}
    assert {"optlab", "optlab.explore"} <= modules
    for page in PAGES:
        for line, reason in commands(page)[1]:
            assert len(reason) >= 10, f"{page}:{line}: skip-run needs a reason"


def test_block_parser_joins_continuations_and_honours_skips(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "```bash\npip install x\npython -m optlab a=1 \\\n    'b=[1, 2]'   # note\n```\n\n"
        "<!-- skip-run: needs a SLURM cluster -->\n```bash\npython -m optlab -m c=1\n```\n"
        "```text\npython -m optlab d=1\n```\n"
    )
    blocks = bash_blocks(page.read_text())
    assert [(b[0], b[2]) for b in blocks] == [(2, None), (9, "needs a SLURM cluster")]
    run, skipped = commands(page, tmp_path)
    assert [(c.line, c.module, c.args) for c in run] == [(3, "optlab", ("a=1", "b=[1, 2]"))]
    assert skipped == [(9, "needs a SLURM cluster")]
    out = tmp_path / "out"
    assert small(run[0], out) == ["a=1", "b=[1, 2]", "steps=5", "plots=[]", f"hydra.run.dir={out}"]
    drawn = Command("p.md", 1, "optlab", ("-m", "plots=[loss]", "steps=100", "results=~/s.db"))
    assert small(drawn, out) == [
        "-m",
        "plots=[loss]",
        "results=~/s.db",  # optlab expands it (and so would bash)
        *(f"{k}={v}" for k, v in (SMALL | PICTURES).items()),
        f"hydra.sweep.dir={out}",
    ]
    report = Command("p.md", 1, "optlab.report", ("~/s.db", "--out", "r/"))
    assert small(report, out) == [f"{Path.home()}/s.db", "--out", "r/"]


RUNNER = r"""
import json, os, runpy, sys, time, traceback
jobs, report = json.loads(sys.argv[1]), sys.argv[2]
results = []
for module, args, cwd in jobs:
    os.chdir(cwd)
    sys.argv = [module, *args]
    t0, c0, code = time.perf_counter(), time.process_time(), 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append({"code": code, "seconds": round(wall, 2), "cpu": round(cpu, 2)})
    print(f"[docs] exit {code} {wall:6.1f}s wall {cpu:6.1f}s cpu: python -m {module} {' '.join(args)}",
          file=sys.stderr, flush=True)
    with open(report, "w") as f:
        json.dump(results, f)
"""


@pytest.mark.slow
def test_every_command_of_the_manual_runs(tmp_path):
    pytest.importorskip("sklearn")  # experiment=mlp & co. need the [ml] extra, part of [test]
    jobs = []
    for i, cmd in enumerate(UNIQUE):
        cwd = tmp_path / f"cmd{i:03d}"
        cwd.mkdir()
        jobs.append((cmd.module, small(cmd, cwd / "out"), str(cwd)))
    report = tmp_path / "report.json"
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "JAX_PLATFORMS": "cpu",
        "MPLBACKEND": "Agg",
        "HOME": str(tmp_path),  # `results=~/zoo.sqlite` stays in the temporary directory
        "XDG_CACHE_HOME": cache,  # ... while the compilation cache stays warm
        "CI": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(jobs), str(report)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = json.loads(report.read_text()) if report.exists() else []
    failed = [
        f"{cmd} -> exit {r['code']}"
        for cmd, r in zip(UNIQUE, results, strict=False)
        if r["code"] != 0
    ]
    assert len(results) == len(UNIQUE) and not failed, "\n".join([*failed, proc.stderr[-6000:]])


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out[path] = None
            out |= _leaves(value, path + ".")
        else:
            out[path] = value
    return out


def test_configuration_reference_has_every_key_with_its_default_and_meaning():
    hooks = _hooks()
    text = (ROOT / "conf" / "config.yaml").read_text()
    loaded = {k: v for k, v in yaml.safe_load(text).items() if k not in ("hydra", "defaults")}
    keys = {k.path: k for s in hooks.parse(text) for k in s.keys}
    assert set(keys) == set(_leaves(loaded))  # every key, nothing invented
    for path, value in _leaves(loaded).items():
        key = keys[path]
        assert key.meaning, f"conf/config.yaml: {path} has no comment: say what it means"
        if value is None and key.default is None:
            continue  # a mapping of keys
        assert yaml.safe_load(key.default) == value, path  # the default as the file has it
    page = hooks.reference(text, ROOT / "conf")
    rows = {line.split("|")[1].strip(" `") for line in page.splitlines() if line.startswith("| `")}
    assert set(keys) <= rows
    for group, choice in hooks.groups(text):
        assert f"| `{group}` | `{choice}` |" in page
        assert all(f"`{p.stem}`" in page for p in (ROOT / "conf" / group).glob("*.yaml"))


def test_configuration_parser_on_a_hand_written_yaml(tmp_path):
    hooks = _hooks()
    text = (
        "# intro\ndefaults:\n  - _self_\n  - surface: sphere\n\n"
        "a: 1  # the a\nb:  # group b\n  c: 'x # y'  # c | d\n"
        "# Second. More words.\nd: [1, 2]  # dee\nhydra:\n  job: {name: z}\n"
    )
    sections = hooks.parse(text)
    assert [s.note for s in sections] == ["intro", "Second. More words."]
    assert [(k.path, k.default, k.meaning) for k in sections[0].keys] == [
        ("a", "1", "the a"),
        ("b", None, "group b"),
        ("b.c", "'x # y'", "c | d"),
    ]
    assert [(k.path, k.default) for k in sections[1].keys] == [("d", "[1, 2]")]
    assert hooks.groups(text) == [("surface", "sphere")]
    (tmp_path / "surface").mkdir()
    (tmp_path / "surface" / "sphere.yaml").write_text("")
    page = hooks.reference(text, tmp_path)
    assert "| `b.c` | `'x # y'` | c \\| d |" in page and "## Second" in page


def image_commands() -> list[tuple[str, list[str], list[str]]]:
    """The `shot MODULE "OUT=FILE ..." ARGS...` lines of docs/make_images.sh."""
    lines = (DOCS / "make_images.sh").read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if not line.startswith("shot "):
            continue
        text = line
        while True:  # a command goes on after a backslash or inside an open quote
            try:
                words = shlex.split(text.replace("\\\n", " "))
            except ValueError:
                words = None
            if words is not None and not text.endswith("\\"):
                break
            i += 1
            text += "\n" + lines[i]
        module, copies, args = words[1], words[2].split(), words[3:]
        out.append((module, [c.split("=", 1)[0] for c in copies], args))
    return out


def test_every_picture_is_made_by_a_command_its_page_shows():
    shots = image_commands()
    assert len(shots) >= 8
    shown: dict[tuple, set[str]] = {}
    for c in ALL:
        shown.setdefault((c.module, c.args), set()).add(c.page)
    for module, images, args in shots:
        pages = shown.get((module, tuple(args)), set())
        assert pages, f"python -m {module} {shlex.join(args)} is on no page"
        texts = [(ROOT / p).read_text(encoding="utf-8") for p in sorted(pages)]
        for image in images:  # ... and a page that shows the command shows its pictures
            assert any(f"images/{image})" in t for t in texts), f"{pages} do not show {image}"
