"""Peak memory of a whole process tree: a command, its workers and their subprocesses (Linux /proc).

python benchmarks/suite_memory.py [--interval S] [--json FILE] [-- COMMAND ...]

Runs COMMAND (default: `python -m pytest`, i.e. the suite with addopts' `-n auto`) and every
`--interval` seconds sums the memory of every process descended from it: PSS from
/proc/PID/smaps_rollup (shared pages split among their sharers, so the sum counts each page once),
RSS from /proc/PID/status where smaps_rollup is unreadable. Prints the peak of the sum, which
processes held what at that peak and each process's own peak, and exits with COMMAND's exit code.
The sampler itself is not counted. A process that lives less than one interval can be missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROC = Path("/proc")
MIB = 1024.0  # kB per MiB


@dataclass(frozen=True)
class Sample:
    """One process at one instant: its memory in kB, whether that is PSS (else RSS), its label."""

    pid: int
    kb: int
    pss: bool
    label: str


@dataclass
class Peaks:
    """Running peaks: of the tree's total, the processes at that instant, and of each process."""

    total_kb: int = 0
    at_s: float = 0.0
    at_peak: list[Sample] = field(default_factory=list)
    per_process: dict[int, Sample] = field(default_factory=dict)
    samples: int = 0
    processes_seen: int = 0
    timeline: list[tuple[float, int]] = field(default_factory=list)


def parse_kb(text: str, key: str) -> int | None:
    """The `KEY:   N kB` value of a /proc status or smaps_rollup text, in kB; None if absent."""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def parent_map() -> dict[int, int]:
    """pid -> parent pid for every live process (field 4 of /proc/PID/stat, after the `(comm)`)."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """root and every process below it in the parent map, root first."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def memory_kb(pid: int) -> tuple[int, bool] | None:
    """(PSS in kB, True), or (RSS in kB, False) if smaps_rollup is unreadable; None if gone."""
    try:
        pss = parse_kb((PROC / str(pid) / "smaps_rollup").read_text(), "Pss")
        if pss is not None:
            return pss, True
    except OSError:
        pass
    try:
        rss = parse_kb((PROC / str(pid) / "status").read_text(), "VmRSS")
    except OSError:
        return None
    return (rss or 0), False


def shorten(argv: list[str], cwd: str | None, width: int = 110) -> str:
    """A readable one-line label: program basename, arguments, and the cwd when it says more."""
    if not argv:
        return "?"
    text = " ".join(" ".join([Path(argv[0]).name, *argv[1:]]).split())
    if "exec(eval(sys.stdin.readline()))" in text:
        text = "pytest-xdist worker"
    if cwd:
        text += f"  [cwd …/{'/'.join(Path(cwd).parts[-2:])}]"
    return text if len(text) <= width else text[: width - 1] + "…"


def label(pid: int, root_cwd: str) -> str:
    """shorten() of /proc/PID/cmdline, with its cwd when it differs from the root's."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
        cwd = os.readlink(PROC / str(pid) / "cwd")
    except OSError:
        return "?"
    return shorten([a for a in argv if a], None if cwd == root_cwd else cwd)


def sample_tree(root: int, root_cwd: str, labels: dict[int, str]) -> list[Sample]:
    """Memory of root and its descendants now; labels caches each pid's label."""
    out = []
    for pid in descendants(root, parent_map()):
        mem = memory_kb(pid)
        if mem is None:
            continue
        if pid not in labels:
            labels[pid] = label(pid, root_cwd)
        out.append(Sample(pid, mem[0], mem[1], labels[pid]))
    return out


def update(peaks: Peaks, samples: list[Sample], t: float) -> None:
    """Fold one sample of the tree into the running peaks."""
    peaks.samples += 1
    total = sum(s.kb for s in samples)
    peaks.timeline.append((round(t, 2), total))
    if total > peaks.total_kb:
        peaks.total_kb, peaks.at_s = total, t
        peaks.at_peak = sorted(samples, key=lambda s: -s.kb)
    for s in samples:
        if s.pid not in peaks.per_process:
            peaks.processes_seen += 1
        if s.kb > peaks.per_process.get(s.pid, Sample(0, -1, True, "")).kb:
            peaks.per_process[s.pid] = s


def monitor(command: list[str], interval: float) -> tuple[int, Peaks, float]:
    """Run command, sampling its tree every interval seconds: (exit code, peaks, seconds)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(command)
    root_cwd, labels, peaks = os.getcwd(), {}, Peaks()
    while True:
        update(peaks, sample_tree(proc.pid, root_cwd, labels), time.monotonic() - t0)
        try:
            code = proc.wait(timeout=interval)
            break
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # the child got the same SIGINT: let it finish its report
            continue
    return (128 - code if code < 0 else code), peaks, time.monotonic() - t0  # signal N: 128+N


def report(peaks: Peaks, seconds: float, top: int = 8) -> str:
    """The human-readable summary: peak total, processes at the peak, largest per-process peaks."""
    rss = any(not s.pss for s in peaks.per_process.values())
    kind = "PSS (RSS where unreadable)" if rss else "PSS"
    lines = [
        f"suite_memory: peak total {peaks.total_kb / MIB:,.0f} MiB ({kind}) at {peaks.at_s:.1f} s"
        f" of {seconds:.1f} s; {peaks.samples} samples, {peaks.processes_seen} processes seen",
        f"  at the peak ({len(peaks.at_peak)} processes):",
    ]
    lines += [f"    {s.kb / MIB:9,.0f} MiB  {s.pid:>7}  {s.label}" for s in peaks.at_peak[:top]]
    lines.append("  largest per-process peaks:")
    largest = sorted(peaks.per_process.values(), key=lambda s: -s.kb)[:top]
    lines += [f"    {s.kb / MIB:9,.0f} MiB  {s.pid:>7}  {s.label}" for s in largest]
    return "\n".join(lines)


def as_json(peaks: Peaks, seconds: float, code: int) -> dict:
    """The --json document: MiB figures, every process at the peak, each one's peak, the total over time."""
    mib = lambda s: asdict(s) | {"mib": round(s.kb / MIB, 1)}  # noqa: E731
    return {
        "peak_total_mib": round(peaks.total_kb / MIB, 1),
        "peak_at_s": round(peaks.at_s, 2),
        "seconds": round(seconds, 2),
        "exit_code": code,
        "samples": peaks.samples,
        "at_peak": [mib(s) for s in peaks.at_peak],
        "per_process_peak": [
            mib(s) for s in sorted(peaks.per_process.values(), key=lambda s: -s.kb)
        ],
        "timeline_s_mib": [(t, round(kb / MIB)) for t, kb in peaks.timeline],
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options, run and sample the command, print the report; return its exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ... to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.interval <= 0:
        parser.error(f"--interval={args.interval} is invalid: a positive number of seconds")
    code, peaks, seconds = monitor(command or [sys.executable, "-m", "pytest"], args.interval)
    print(report(peaks, seconds), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(as_json(peaks, seconds, code), indent=1) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
