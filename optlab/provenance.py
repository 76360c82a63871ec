"""What a reader needs to reproduce a job: software versions, the commit, the machine's kind.

`collect()` returns a flat dict of strings and numbers: optlab's version (and its git commit when
it runs from a checkout), Python, jax, jaxlib, optax, numpy and scipy versions, JAX's backend,
device kind and count, whether 64-bit floats are enabled, the CPU model and core count. It holds
no host name, user name or path.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

PACKAGES = ("jax", "jaxlib", "optax", "numpy", "scipy")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_commit(where: Path | None = None) -> str | None:
    """The commit of the checkout holding `where` (optlab's source), `+dirty` when it has
    uncommitted changes to tracked files; None when not run from a git checkout."""
    root = (where or Path(__file__).resolve().parent).parent
    if not (root / ".git").exists():
        return None
    try:
        run = functools.partial(
            subprocess.run, cwd=root, capture_output=True, text=True, timeout=10, check=True
        )
        commit = run(["git", "rev-parse", "HEAD"]).stdout.strip()
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def _static() -> dict[str, Any]:
    import optlab

    return {
        "optlab": optlab.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        **{p: _version(p) for p in PACKAGES},
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "os": platform.system(),
    }


def collect() -> dict[str, Any]:
    """This process's provenance: versions, commit, JAX's backend and devices, x64 now, CPU."""
    import jax

    devices = jax.devices()
    return _static() | {
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind if devices else "none",
        "devices": len(devices),
        "x64": bool(jax.config.read("jax_enable_x64")),
    }


def describe(p: dict[str, Any]) -> str:
    """One line: `optlab 0.1.0 (commit abc123), Python 3.11.9, jax 0.4.38, …, CPU (2 cores)`."""
    commit = p.get("git_commit")
    head = f"optlab {p.get('optlab')}" + (
        f" (commit {commit[:12]}{'+dirty' * commit.endswith('+dirty')})" if commit else ""
    )
    libs = ", ".join(
        f"{k} {p[k]}" for k in ("python", "jax", "jaxlib", "optax", "numpy", "scipy") if k in p
    )
    return (
        f"{head}; {libs}; backend {p.get('backend')} ({p.get('devices')} × {p.get('device_kind')}), "
        f"x64 {'on' if p.get('x64') else 'off'}; CPU {p.get('cpu')} ({p.get('cpu_cores')} cores), "
        f"{p.get('os')}"
    )
