"""The persistent JAX compilation cache: a second process reuses the first one's executables."""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

import jax

AUTO = "auto"
_EVENTS = {
    "/jax/compilation_cache/cache_hits": "hits",
    "/jax/compilation_cache/compile_requests_use_cache": "requests",
}
counts: collections.Counter[str] = collections.Counter()


def _count(event: str, **_: object) -> None:
    if event in _EVENTS:
        counts[_EVENTS[event]] += 1


jax.monitoring.register_event_listener(_count)


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/optlab/jax` (default `~/.cache`), or `~/Library/Caches` on macOS."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "optlab" / "jax"


def enable(cache_dir: str | os.PathLike | None) -> Path | None:
    """Cache every compiled program in `cache_dir` (`auto`: the user cache dir; None: off).

    The minimum compile time is 0 so that small programs are cached too. Call it before the
    first compilation of the process: JAX decides once whether the cache is used.
    """
    if cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", None)
        _reset()
        return None
    path = user_cache_dir() if str(cache_dir) == AUTO else Path(cache_dir).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _reset()
    return path


def _reset() -> None:
    """Let a process that already compiled something start using the cache now."""
    from jax._src import compilation_cache

    compilation_cache.reset_cache()


def summary(since: collections.Counter[str] | None = None) -> str:
    """`compilation cache: H hits of R requests` in this process (since an earlier `counts`)."""
    n = counts - (since or collections.Counter())
    return f"compilation cache: {n['hits']} hits of {n['requests']} requests"
