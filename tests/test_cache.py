"""The persistent compilation cache: on by default in the user cache dir, hit by a second run."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import cache

SUMMARY = re.compile(r"compilation cache: (\d+) hits of (\d+) requests in this job")


def _summary(proc) -> tuple[int, int]:
    (found,) = SUMMARY.findall(proc.stdout + proc.stderr)
    return int(found[0]), int(found[1])


@pytest.mark.slow
def test_second_run_loads_every_program_from_the_cache(cli, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    args = ("surface=himmelblau", "steps=3", "hydra.verbose=optlab", "results=false")
    first, _ = cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    entries = sorted((tmp_path / "xdg" / "optlab" / "jax").iterdir())  # cache_dir=auto
    hits, requests = _summary(first)
    assert hits == 0 and requests >= 1 and len(entries) >= requests
    second, _ = cli(*args, env=env)
    assert second.returncode == 0, second.stderr
    assert _summary(second) == (requests, requests)  # nothing compiled again
    assert sorted((tmp_path / "xdg" / "optlab" / "jax").iterdir()) == entries


def test_cache_dir_null_turns_the_cache_off(tmp_path):
    suite = jax.config.jax_compilation_cache_dir  # conftest's, given back at the end
    try:
        assert cache.enable(tmp_path) == tmp_path
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0
        before, x = dict(cache.counts), np.arange(3.0)
        f = jax.jit(lambda x: jnp.sin(x) * 3.0 + 1.25)
        f(x).block_until_ready()
        assert any(tmp_path.iterdir())
        jax.clear_caches()
        f(x).block_until_ready()
        assert cache.counts["hits"] == before.get("hits", 0) + 1
        assert cache.enable(None) is None
        n = len(list(tmp_path.iterdir()))
        jax.jit(lambda x: jnp.cos(x) - 0.75)(x).block_until_ready()
        assert len(list(tmp_path.iterdir())) == n
    finally:
        cache.enable(suite)


def test_auto_is_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cache.sys, "platform", "linux")
    assert cache.user_cache_dir() == tmp_path / "optlab" / "jax"
    monkeypatch.setattr(cache.sys, "platform", "darwin")
    assert cache.user_cache_dir() == cache.Path.home() / "Library" / "Caches" / "optlab" / "jax"
