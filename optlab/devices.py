"""Which devices run a job: `device=auto|cpu|gpu|tpu`, a 1-D mesh over the run axis."""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from optlab.errors import UserError
from optlab.xla import backend_started

KINDS = ("auto", "cpu", "gpu", "tpu")
AXIS = "runs"
SINGLE_THREAD_FLAG = "--xla_cpu_multi_thread_eigen=false"


def _of_kind(kind: str) -> list[jax.Device]:
    try:
        return list(jax.devices(kind))
    except RuntimeError:  # "Unknown backend": no platform of that kind here
        return []


def available() -> str:
    """The device kinds present here with their counts, e.g. `cpu (1 device)`."""
    found = [(k, len(_of_kind(k))) for k in ("gpu", "tpu", "cpu")]
    return ", ".join(f"{k} ({n} device{'s' * (n > 1)})" for k, n in found if n)


def resolve(kind: str) -> list[jax.Device]:
    """Every device of `kind` (all processes' under `jax.distributed`); `auto`: the best kind.

    No silent fallback: a kind that is not present is a UserError saying what is.
    """
    if kind not in KINDS:
        raise UserError(f"device={kind!r} is invalid: allowed: {', '.join(KINDS)}")
    found = list(jax.devices()) if kind == "auto" else _of_kind(kind)
    if not found:
        raise UserError(
            f"device={kind!r} is not available on this machine; available: {available()}"
        )
    return found


def describe(devices: Sequence[jax.Device]) -> str:
    """`cpu`, or `gpu ×4` for several devices."""
    n = len(devices)
    return devices[0].platform + (f" ×{n}" if n > 1 else "")


def mesh(devices: Sequence[jax.Device]) -> Mesh:
    """A 1-D mesh named `runs` over `devices` (Auto axis type: vmap and scan partition freely)."""
    return Mesh(np.asarray(devices), (AXIS,), axis_types=(AxisType.Auto,))


def split_runs(m: Mesh, axis: int = 0) -> NamedSharding:
    """The run axis (`axis`, the leading one by default) split over the mesh; other axes whole."""
    return NamedSharding(m, PartitionSpec(*(None,) * axis, AXIS))


def replicated(m: Mesh) -> NamedSharding:
    """The same value on every device of the mesh."""
    return NamedSharding(m, PartitionSpec())


def pad_to(n: int, multiple: int) -> int:
    """The smallest multiple of `multiple` that is >= n."""
    return -(-n // multiple) * multiple


def limit_cpu_threads(workers: int) -> bool:
    """Make XLA:CPU single-threaded when `workers` > 1 processes share the cores.

    XLA sizes its CPU thread pool to all cores in every process; joblib workers × that pool
    oversubscribes the machine. Only takes effect before the backend starts; returns whether set.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if workers == 1 or "xla_cpu_multi_thread_eigen" in flags or backend_started():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREAD_FLAG}".strip()
    return True


def host_memory() -> int:
    """Bytes of host memory available now (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory(device: jax.Device) -> int:
    """Free bytes of one device; CPU devices share the host's available memory."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    return host_memory() // max(1, len(_of_kind("cpu")))
