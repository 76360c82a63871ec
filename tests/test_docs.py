"""The manual cannot rot: its commands run, its pictures' commands are its own, its config page is whole.

Every line of a fenced ```bash block of README.md and docs/**/*.md that starts with
`python -m optlab` is run with a few steps, unless the block is preceded by
`<!-- skip-run: reason -->`: in-process one after another in a few child processes, each page's
commands in order in one temporary directory (as in one shell: a report may read the store a sweep
above it wrote), with HOME there too.
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
NETWORKS = {  # ... and small checks of the networks (every ML experiment has the mlp keys)
    "mlp": {"mlp.landscape_grid": "5"},
    "penalty": {"mlp.landscape_grid": "5"},
    "saliency": {"mlp.landscape_grid": "5", "saliency.draws": "2"},
}
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


def _segments(words: list[str]) -> list[list[str]]:
    """A shell line's commands: its words split at `&&`."""
    out: list[list[str]] = [[]]
    for w in words:
        if w == "&&":
            out.append([])
        else:
            out[-1].append(w)
    return out


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
            for words in _segments(shlex.split(joined, comments=True)):
                if words[:2] == ["python", "-m"] and words[2].split(".")[0] == "optlab":
                    run.append(Command(rel, number, words[2], tuple(words[3:])))
            joined, number = "", first + k + 1
    return run, skipped


def small(cmd: Command, out: Path) -> list[str]:
    """The command's arguments with few steps, small pictures and its output under `out`.

    Non-Hydra modules (`optlab.report`) keep their arguments.
    """
    args = list(cmd.args)
    if cmd.module not in HYDRA_MODULES:
        return args
    multirun = "-m" in args or "--multirun" in args
    keys = {a.split("=", 1)[0].lstrip("+~") for a in args if "=" in a}
    extra = dict(SMALL)
    if cmd.module == "optlab":  # pictures only where the command asks for them, and small
        extra |= PICTURES if "plots" in keys else {"plots": "[]"}
        extra |= {} if "diagnostics" in keys else {"diagnostics": "false"}
        for experiment, small_keys in NETWORKS.items():
            extra |= small_keys if f"experiment={experiment}" in args else {}
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
CHUNKS = 4  # child processes (pytest -n auto spreads them over the cores)


def weight(cmd: Command) -> int:
    """A rough cost: a sweep or a neural network costs about three single runs."""
    heavy = {"-m", "experiment=mlp", "experiment=saliency", "experiment=penalty"}
    return 3 if heavy & set(cmd.args) else 1


def chunk(cmds: list[Command], n: int) -> list[list[Command]]:
    """`cmds` in `n` groups of whole pages (a page's commands may build on each other), balanced."""
    pages: dict[str, list[Command]] = {}
    for c in cmds:
        pages.setdefault(c.page, []).append(c)
    groups: list[list[Command]] = [[] for _ in range(n)]
    cost = {p: sum(map(weight, cs)) for p, cs in pages.items()}
    for page in sorted(pages, key=lambda p: (-cost[p], p)):
        min(groups, key=lambda g: sum(map(weight, g))).extend(pages[page])
    return [sorted(g, key=cmds.index) for g in groups]


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
        "```bash\npip install x && python -m optlab.explore\npython -m optlab a=1 \\\n    'b=[1, 2]'   # note\n```\n\n"
        "<!-- skip-run: needs a SLURM cluster -->\n```bash\npython -m optlab -m c=1\n```\n"
        "```text\npython -m optlab d=1\n```\n"
    )
    blocks = bash_blocks(page.read_text())
    assert [(b[0], b[2]) for b in blocks] == [(2, None), (9, "needs a SLURM cluster")]
    run, skipped = commands(page, tmp_path)
    assert [(c.line, c.module, c.args) for c in run] == [
        (2, "optlab.explore", ()),
        (3, "optlab", ("a=1", "b=[1, 2]")),
    ]
    assert skipped == [(9, "needs a SLURM cluster")]
    out = tmp_path / "out"
    assert small(run[1], out) == [
        "a=1",
        "b=[1, 2]",
        "steps=5",
        "plots=[]",
        "diagnostics=false",
        f"hydra.run.dir={out}",
    ]
    drawn = Command("p.md", 1, "optlab", ("-m", "plots=[loss]", "steps=100", "results=~/s.db"))
    assert small(drawn, out) == [
        "-m",
        "plots=[loss]",
        "results=~/s.db",  # optlab expands it (and so would bash)
        *(f"{k}={v}" for k, v in (SMALL | PICTURES).items()),
        "diagnostics=false",
        f"hydra.sweep.dir={out}",
    ]
    report = Command("p.md", 1, "optlab.report", ("~/s.db", "--out", "r/"))
    assert small(report, out) == ["~/s.db", "--out", "r/"]  # the runner expands ~/ as bash does


RUNNER = r"""
import json, os, re, runpy, sys, time, traceback
jobs, report = json.loads(sys.argv[1]), sys.argv[2]
results = []


def tilde(arg):  # as bash expands ~/ at the start of a word and after NAME=
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*=)?~/", arg)
    return arg if m is None else (m[1] or "") + os.path.expanduser(arg[len(m[1] or "") :])


for module, args, cwd in jobs:
    os.chdir(cwd)
    sys.argv = [module, *map(tilde, args)]
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


def test_chunks_keep_pages_whole_and_cover_every_command():
    groups = chunk(UNIQUE, CHUNKS)
    assert sorted(str(c) for g in groups for c in g) == sorted(map(str, UNIQUE))
    loads = [sum(map(weight, g)) for g in groups]
    assert all(groups) and max(loads) <= 1.5 * min(loads), loads
    homes = [{c.page for c in g} for g in groups]
    assert all(not (a & b) for i, a in enumerate(homes) for b in homes[i + 1 :])


@pytest.mark.slow
@pytest.mark.parametrize("part", range(CHUNKS))
def test_every_command_of_the_manual_runs(part, tmp_path):
    todo = chunk(UNIQUE, CHUNKS)[part]
    jobs = []
    for i, cmd in enumerate(todo):
        cwd = tmp_path / cmd.page.replace("/", "_")  # one directory per page, as in one shell
        cwd.mkdir(exist_ok=True)
        jobs.append((cmd.module, small(cmd, cwd / f"out{i:03d}"), str(cwd)))
    report = tmp_path / "report.json"
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "JAX_PLATFORMS": "cpu",
        "MPLBACKEND": "Agg",
        "HOME": str(tmp_path),  # `results=~/zoo.sqlite` stays in the temporary directory
        "XDG_CACHE_HOME": cache,  # ... while the compilation cache stays warm
        "CI": "1",
        # one thread per child: the chunks run side by side (pytest -n auto), as joblib jobs do
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false",
        "OMP_NUM_THREADS": "1",
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
        for cmd, r in zip(todo, results, strict=False)
        if r["code"] != 0
    ]
    assert len(results) == len(todo) and not failed, "\n".join([*failed, proc.stderr[-6000:]])


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


@pytest.mark.slow
def test_site_builds_strictly_with_its_generated_pages(tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    config = (site / "configuration" / "index.html").read_text()
    text = (ROOT / "conf" / "config.yaml").read_text()
    assert all(f"<code>{k.path}</code>" in config for s in _hooks().parse(text) for k in s.keys)
    rates = (site / "studies" / "rates" / "index.html").read_text()
    assert 'src="rates.png"' in rates and (site / "studies" / "rates" / "rates.png").is_file()
    api = (site / "api" / "engine" / "index.html").read_text()
    assert 'id="optlab.engine.run"' in api  # the docstrings made it in
    assert not (site / "hooks.py").exists()
