"""benchmarks/suite_memory.py: the peak total memory of a process tree, checked on known allocations."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys

from conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "suite_memory.py"
MIB = 1 << 20

# Each child touches N MiB, says so with a file, waits until both have, holds it 0.6 s more.
CHILD = """
import sys, time, pathlib
held = b"x" * ({mib} << 20)
here = pathlib.Path(sys.argv[1])
(here / sys.argv[2]).touch()
while len(list(here.iterdir())) < 2:
    time.sleep(0.01)
time.sleep(0.6)
"""

PARENT = """
import subprocess, sys
ps = [subprocess.Popen([sys.executable, "-c", {child!r}, {flags!r}, n]) for n in "ab"]
sys.exit(sum(p.wait() for p in ps) + 3)
"""


@functools.cache
def load():
    """The benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("suite_memory", SCRIPT)
    module = sys.modules["suite_memory"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_children_holding_192_mib_each_sum_to_384_mib_and_the_exit_code_passes(tmp_path):
    flags = tmp_path / "flags"
    flags.mkdir()
    parent = PARENT.format(child=CHILD.format(mib=192), flags=str(flags))
    out = tmp_path / "mem.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--interval", "0.05", "--json", str(out), "--",
         sys.executable, "-c", parent],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(out.read_text())
    # 384 MiB held by the children (small: the suite's own peak counts it), plus three bare
    # interpreters (a few MiB of PSS each: they share their libraries' pages).
    assert 384 <= doc["peak_total_mib"] <= 384 + 60, doc
    children = [p for p in doc["at_peak"] if p["mib"] >= 192]
    assert len(children) == 2 and all(p["pss"] for p in children), doc["at_peak"]
    assert abs(sum(p["kb"] for p in doc["at_peak"]) / 1024 - doc["peak_total_mib"]) < 0.1
    assert abs(max(m for _, m in doc["timeline_s_mib"]) - doc["peak_total_mib"]) <= 1
    assert "peak total" in proc.stderr and "at the peak (3 processes)" in proc.stderr


def test_the_tree_is_the_root_and_everything_below_it_only():
    sm = load()
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert sorted(sm.descendants(10, parents)) == [10, 11, 12, 13]
    assert sm.descendants(21, parents) == [21]


def test_kb_fields_and_labels_are_read_as_proc_writes_them():
    sm = load()
    rollup = "00400000-7fff [rollup]\nRss:     2048 kB\nPss:     1536 kB\nPss_Anon:  12 kB\n"
    assert sm.parse_kb(rollup, "Pss") == 1536 and sm.parse_kb(rollup, "Rss") == 2048
    assert sm.parse_kb(rollup, "Swap") is None
    assert sm.shorten(["/usr/bin/python3", "-m", "pytest"], None) == "python3 -m pytest"
    assert sm.shorten(["python", "-c", "import sys;exec(eval(sys.stdin.readline()))"], None) == (
        "pytest-xdist worker"
    )
    assert sm.shorten(["python", "-m", "optlab"], "/tmp/p/test_x0/run") == (
        "python -m optlab  [cwd …/test_x0/run]"
    )
    assert len(sm.shorten(["x"] * 200, None, width=40)) == 40


def test_this_process_is_measured_by_pss_and_grows_with_what_it_holds():
    sm = load()
    before, pss = sm.memory_kb(os.getpid())
    held = b"y" * (64 * MIB)
    after, _ = sm.memory_kb(os.getpid())
    assert pss and after - before >= 60 * 1024, (before, after, len(held))
