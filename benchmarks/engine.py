"""optlab's engine, measured side by side with the baselines it replaces (issue 6).

    python benchmarks/engine.py            # the whole table (a few minutes on 2 cores)
    python benchmarks/engine.py --quick    # fewer repeats

Prints a header (machine, versions) and a Markdown table; ratios are the figures (absolute times
on a shared machine are noisy: each time is the best of several repeats). Items that need a
fresh process (CLI wall, peak memory, compile times) run this file as a child (`--child ...`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from optlab import engine, optimizers, surfaces  # noqa: E402

LR, START = 0.01, (-1.2, 1.0)
FLOPS_PER_STEP = 50  # 2-D Rosenbrock value+gradient (~13), Adam on 2 coordinates (~28), checks (~9)


def row(item: str, optlab: float, baseline: float, target: str, baseline_name: str, **kw) -> dict:
    """One line of the table (ratio = optlab / baseline unless given)."""
    ratio = kw.pop("ratio", optlab / baseline)
    return dict(
        item=item,
        optlab=optlab,
        baseline=baseline,
        ratio=ratio,
        target=target,
        baseline_name=baseline_name,
        **kw,
    )


def best(fn, repeats: int) -> float:
    """The smallest wall time of `repeats` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def adam_group(starts: np.ndarray, name: str = "adam", **hp) -> engine.Group:
    spec, traced = optimizers.split(name, {"learning_rate": LR, **hp} if name == "adam" else hp)
    n = len(starts)
    return engine.Group(spec, {k: np.full(n, v) for k, v in traced.items()}, starts)


# 1. one run, params and loss every step: engine vs the optax-tutorial loop -----------------------
def single_run(repeats: int) -> dict:
    s = surfaces.get("rosenbrock", dim=2)
    groups = [adam_group(np.array([START]))]
    steps = 200_000
    kw = dict(diagnostics=False, record=("params", "loss"), tol_grad=0.0)
    engine.run(s, groups, steps, **kw)
    t_engine = best(lambda: engine.run(s, groups, steps, **kw), repeats)
    engine.run(s, groups, steps, lanes=1, **kw)
    t_scalar = best(lambda: engine.run(s, groups, steps, lanes=1, **kw), repeats)

    opt = optax.adam(LR)

    @jax.jit
    def step(x, state):
        value, grad = jax.value_and_grad(s)(x)
        updates, state = opt.update(grad, state, x)
        return optax.apply_updates(x, updates), state, value

    x0 = jnp.asarray(START, jnp.float32)
    step(x0, opt.init(x0))
    loop_steps = 3000

    def loop():
        x, state, xs, vs = x0, opt.init(x0), [], []
        for _ in range(loop_steps):
            x, state, v = step(x, state)
            xs.append(x)
            vs.append(v)
        jax.device_get((xs, vs))  # one transfer at the end: the loop's most favourable form

    t_loop = best(loop, repeats)
    # the floor of the default path: the same run as engine.LANES lanes of a bare vmap x scan
    bare = bare_scan(s, steps, ("params", "loss"), kept=1)
    x16 = jnp.asarray(np.tile(START, (engine.LANES, 1)), jnp.float32)
    jax.device_get(bare(x16))
    t_bare = best(lambda: jax.device_get(bare(x16)), repeats)
    a, b, c, d = steps / t_engine, loop_steps / t_loop, steps / t_scalar, steps / t_bare
    return row(
        "1. one Adam run, params+loss every step (steps/s)",
        a,
        b,
        "≥ 500×",
        "jit step in a Python loop",
        note=f"with `lanes=1` (XLA's scalar code for a lone run): {c:.3g} steps/s = "
        f"{c / b:.0f}× the loop; a bare vmap × scan of the run's {engine.LANES} lanes (the "
        f"price of the bitwise identity with a grid), lane 0's records kept: {d:.3g} steps/s, "
        f"the engine {a / d:.2f}× it",
    )


def lone_op_by_op(repeats: int, tmp: Path) -> dict:
    """Item 1 in a fresh process with OPTLAB_SMALL_LOOPS=0: XLA:CPU's default small-loop threshold,
    so the scan is dispatched op by op (the default before optlab raised it, see optlab.xla)."""
    r = json.loads(child(["lone", str(repeats)], tmp, {"OPTLAB_SMALL_LOOPS": "0"}))
    r["item"] = "1b. the same with `OPTLAB_SMALL_LOOPS=0` (steps/s)"
    return r


# 2. 4,096 starts × 2,000 steps, loss only: engine vs hand-vectorized NumPy Adam ------------------
def numpy_adam(x0: np.ndarray, steps: int, lr=LR, b1=0.9, b2=0.999, eps=1e-8) -> np.ndarray:
    """Adam on 2-D Rosenbrock for every row of x0 at once, analytic gradient; the loss per step."""
    x = x0.astype(np.float32)
    m, v = np.zeros_like(x), np.zeros_like(x)
    loss = np.empty((len(x), steps + 1), np.float32)
    g = np.empty_like(x)
    for t in range(steps + 1):
        a, b = x[:, 0], x[:, 1]
        r = b - a * a
        loss[:, t] = 100 * r * r + (1 - a) ** 2
        if t == steps:
            break
        g[:, 0] = -400 * a * r - 2 * (1 - a)
        g[:, 1] = 200 * r
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps)
    return loss


def matmul_gflops() -> float:
    """The machine's practical float32 peak: a BLAS matrix product (GFLOP/s)."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    return 2 * 2048**3 / best(lambda: a @ a, 5) / 1e9


def bare_scan(
    s, steps: int, fields: tuple[str, ...], kept: int | None = None, time_major: bool = False
):
    """The baseline: `jax.vmap` of a `lax.scan` of value_and_grad + optax Adam, recording
    `fields` (of params, loss, grad) every step: no masking, stopping, counting or checks.
    `kept`: return the first `kept` runs' records only, taken from the scan's time-major output
    (no transpose of the others). `time_major`: records (T+1, R, ...) as the scan makes them (the
    engine's layout, which the host reads run-major through transposed views), not (R, T+1, ...)."""
    opt = optax.adam(LR)

    def one(x0):
        def body(c, _):
            x, state = c
            v, g = jax.value_and_grad(s)(x)
            u, state = opt.update(g, state, x)
            every = {"params": x, "loss": v, "grad": g}
            return (optax.apply_updates(x, u), state), {k: every[k] for k in fields}

        (x, _), rec = jax.lax.scan(body, (x0, opt.init(x0)), length=steps)
        v, g = jax.value_and_grad(s)(x)
        last = {"params": x, "loss": v, "grad": g}
        return {k: jnp.concatenate([rec[k], last[k][None]]) for k in fields}

    if kept is None:
        return jax.jit(jax.vmap(one, out_axes=1 if time_major else 0))
    first = lambda rec: jax.tree.map(lambda a: jnp.swapaxes(a[:, :kept], 0, 1), rec)  # noqa: E731
    return jax.jit(lambda x0: first(jax.vmap(one, out_axes=1)(x0)))


def starts_4096() -> np.ndarray:
    return np.asarray(
        jax.random.uniform(jax.random.key(0), (4096, 2), minval=-2.0, maxval=2.0), dtype=float
    )


def many_starts(repeats: int) -> list[dict]:
    s = surfaces.get("rosenbrock", dim=2)
    starts = starts_4096()
    groups, steps = [adam_group(starts)], 2000
    kw = dict(diagnostics=False, record=("loss",), tol_grad=0.0)
    traj = engine.run(s, groups, steps, **kw)
    t_engine = best(lambda: engine.run(s, groups, steps, **kw), repeats)
    reference = numpy_adam(starts, steps)
    # the same computation (float32 rounding makes long chaotic paths drift apart later)
    assert np.allclose(traj.loss[:, :100], reference[:, :100], rtol=1e-3, atol=1e-4), "baseline"
    t_numpy = best(lambda: numpy_adam(starts, steps), max(1, repeats - 1))
    x0 = jnp.asarray(starts, jnp.float32)
    rows = []
    for fields in (("loss",), ("params", "loss", "grad")):
        bare = bare_scan(s, steps, fields)
        got = jax.device_get(bare(x0))
        if fields == ("loss",):
            assert np.allclose(got["loss"][:, :100], traj.loss[:, :100], rtol=1e-4, atol=1e-5)
        t_bare = best(lambda bare=bare: jax.device_get(bare(x0)), repeats)
        views = bare_scan(s, steps, fields, time_major=True)
        t_views = best(lambda views=views: jax.device_get(views(x0)), repeats)
        kw_f = kw | {"record": fields}
        t_eng = (
            t_engine
            if fields == ("loss",)
            else best(lambda kw_f=kw_f: engine.run(s, groups, steps, **kw_f), repeats)
        )
        rows.append((fields, 4096 * steps / t_eng, 4096 * steps / t_bare, t_views / t_eng))
    runs = 4096 * steps
    a, b = runs / t_engine, runs / t_numpy
    peak = matmul_gflops()
    achieved = a * FLOPS_PER_STEP / 1e9
    out = [
        row(
            "2. 4,096 starts × 2,000 steps, loss only (trajectory-steps/s)",
            a,
            b,
            "≥ 2.5×",
            "hand-vectorized NumPy Adam",
            note=f"≈{achieved:.1f} GFLOP/s at ~{FLOPS_PER_STEP} flop/step = "
            f"{100 * achieved / peak:.1f}% of the {peak:.0f} GFLOP/s BLAS float32 peak",
        )
    ]
    for fields, eng, bare, vs_views in rows:
        out.append(
            row(
                f"2{'b' if len(fields) == 1 else 'c'}. the same, record={','.join(fields)} "
                "(trajectory-steps/s)",
                eng,
                bare,
                "≥ 0.6×" if len(fields) == 1 else "stated",
                "bare `jax.vmap` × `lax.scan` (same records), same process",
                note=f"{vs_views:.2f}× a bare scan that also leaves its records time-major",
            )
        )
    return out


# 7. noise: a noisy 4,096 × 2,000 Adam job vs the noiseless one -----------------------------------
def noisy(repeats: int) -> dict:
    """optlab.noise's gaussian model (its counter-based draws: the engine hands it the step)."""
    from optlab.noise import Noise

    s = surfaces.get("rosenbrock", dim=2)
    starts = starts_4096()
    group = adam_group(starts)._replace(seeds=np.arange(len(starts)))
    kw = dict(diagnostics=False, record=("loss",), tol_grad=0.0)
    engine.run(s, [group], 2000, **kw)
    engine.run(s, [group], 2000, noise=Noise("gaussian", 0.1), **kw)
    t_quiet = best(lambda: engine.run(s, [group], 2000, **kw), repeats)
    t_noisy = best(
        lambda: engine.run(s, [group], 2000, noise=Noise("gaussian", 0.1), **kw), repeats
    )
    return row(
        "7. noisy 4,096 × 2,000 Adam, gaussian σ = 0.1 (s)",
        t_noisy,
        t_quiet,
        "≤ 1.5×",
        "the same job without noise",
    )


# 3./4. CLI wall times (fresh processes, warm compilation cache) ----------------------------------
def child_env() -> dict[str, str]:
    """The environment of a child process: this checkout first on the path, the rest kept."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return os.environ | {"PYTHONPATH": path}


def wall(args: list[str], repeats: int, cwd: Path) -> float:
    env = child_env()

    def once():
        subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)

    once()  # warms the compilation cache and the file system
    return best(once, repeats)


def cli(repeats: int, tmp: Path) -> list[dict]:
    py = sys.executable
    out = f"hydra.run.dir={tmp / 'run'}"
    imports = wall([py, "-c", "import jax, optax, hydra, matplotlib.pyplot"], repeats, tmp)
    experiment = wall([py, "-m", "optlab", "experiment=rosenbrock", out], repeats, tmp)
    lineup = ["surface=rosenbrock", "optimizer=adam"]
    grid = ['grid.learning_rate="logspace(-3,0,16)"', "starts=64"]
    one = wall([py, "-m", "optlab", *lineup, out], repeats, tmp)
    many = wall([py, "-m", "optlab", *lineup, *grid, out], repeats, tmp)
    return [
        row(
            "3. `python -m optlab experiment=rosenbrock`, warm cache (s)",
            experiment,
            imports,
            "≤ 2× (goal 1.5×)",
            "bare `import jax, optax, hydra, matplotlib.pyplot`",
        ),
        row("4. 1,024-run learning-rate × start grid, one job (s)", many, one, "≤ 2×", "1 run"),
    ]


# 5. peak memory of a 10⁶-step run ----------------------------------------------------------------
def _rss(key: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key))  # KiB


def child_memory(record_every: int) -> dict:
    s = surfaces.get("rosenbrock", dim=2)
    groups = [adam_group(np.array([START]))]
    engine.run(s, groups, 10, record_every=1)  # imports, backend, small buffers
    with open("/proc/self/clear_refs", "w") as fh:  # restart the peak (VmHWM) from here
        fh.write("5")
    before = _rss("VmRSS:")
    traj = engine.run(s, groups, 1_000_000, record_every=record_every, tol_grad=0.0)
    kept = sum(a.nbytes for a in traj[:7] if a is not None)
    return dict(peak_mib=(_rss("VmHWM:") - before) / 1024, records_mib=kept / 2**20)


def memory(tmp: Path) -> list[dict]:
    full, sub = (json.loads(child(["memory", str(k)], tmp)) for k in (1, 1000))
    return [
        row(
            "5. peak memory of one 10⁶-step run, all fields (MiB above the idle process)",
            sub["peak_mib"],
            full["peak_mib"],
            "bounded",
            "record_every=1 (every step)",
            note=f"record_every=1000 keeps {sub['records_mib']:.2f} MiB of records vs "
            f"{full['records_mib']:.0f} MiB; the rest of its peak is compilation and runtime",
        )
    ]


# 6. compile time, cold vs from the persistent cache ----------------------------------------------
def child_compile(name: str, cache_dir: str) -> dict:
    from optlab import cache

    cache.enable(cache_dir)
    if name not in optimizers.available():  # lbfgs lands on another branch: optax.lbfgs directly
        optimizers.registry.register(optimizers.registry.Entry(name, optax.lbfgs, traced=()))
    s = surfaces.get("rosenbrock", dim=2)
    group = adam_group(np.array([START])) if name == "adam" else adam_group(np.array([START]), name)
    xla = []  # seconds XLA spent compiling, or loading the executable from the cache
    events = (
        "/jax/core/compile/backend_compile_duration",
        "/jax/compilation_cache/cache_retrieval_time_sec",
    )
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: xla.append(seconds) if event in events else None
    )
    first = best(lambda: engine.run(s, [group], 100), 1)
    again = best(lambda: engine.run(s, [group], 100), 3)
    return dict(seconds=first - again, xla=sum(xla), hits=cache.counts["hits"])


def compile_times(tmp: Path) -> list[dict]:
    rows = []
    for name in ("adam", "lbfgs"):
        cache_dir = tempfile.mkdtemp(dir=tmp)
        cold = json.loads(child(["compile", name, cache_dir], tmp))
        warm = json.loads(child(["compile", name, cache_dir], tmp))
        assert cold["hits"] == 0 and warm["hits"] > 0, (cold, warm)
        rows.append(
            row(
                f"6. XLA compile of a {name} job (s)",
                warm["xla"],
                cold["xla"],
                "cold/cached ≥ 3×",
                "cold (empty cache)",
                ratio=cold["xla"] / warm["xla"],
                note=f"ratio = cold / cached. The whole first call (trace, lower, compile or "
                f"load, run) of {name}: {cold['seconds']:.2f} s cold, {warm['seconds']:.2f} s "
                f"cached; tracing is not cacheable across processes",
            )
        )
    return rows


def child(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        env=child_env() | (env or {}),
        check=True,
    )
    return proc.stdout.strip().splitlines()[-1]


# report ------------------------------------------------------------------------------------------
def header() -> str:
    import hydra
    import jaxlib

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return "\n".join(
        [
            f"machine: {platform.platform()}; {cpu}; {os.cpu_count()} cores; {mem:.0f} GiB; "
            f"load average {os.getloadavg()[0]:.1f}",
            f"devices: {jax.devices()}",
            f"versions: python {platform.python_version()}, jax {jax.__version__}, jaxlib "
            f"{jaxlib.__version__}, optax {optax.__version__}, numpy {np.__version__}, hydra "
            f"{hydra.__version__}, optlab {rev}",
        ]
    )


def fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"


def _restart_peak() -> None:
    """Restart this process's peak resident memory (VmHWM) from its current size."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mib() -> float:
    return _rss("VmHWM:") / 1024


def table(rows: list[dict]) -> str:
    lines = [
        "| item | optlab | baseline | ratio | target | baseline is | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['item']} | {fmt(r['optlab'])} | {fmt(r['baseline'])} | {r['ratio']:.3g}× | "
            f"{r['target']} | {r['baseline_name']} | {r.get('peak_mib', float('nan')):.0f} |"
        )
    notes = [f"- {r['item'].split('.')[0]}: {r['note']}" for r in rows if r.get("note")]
    return "\n".join([*lines, "", *notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--only", help="comma-separated item numbers, e.g. 1,2")
    a = parser.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "lone":  # item 1 with XLA:CPU's default small-loop threshold
            assert not engine.fast_small_loops()
            out = single_run(int(rest[0]))
        else:
            out = child_memory(int(rest[0])) if kind == "memory" else child_compile(*rest)
        print(json.dumps(out))
        return
    repeats = 2 if a.quick else 3
    only = set((a.only or "1,2,3,4,5,6,7").split(","))
    print(header(), flush=True)
    items = {
        "1": lambda tmp: [single_run(repeats), lone_op_by_op(repeats, tmp)],
        "2": lambda tmp: many_starts(repeats),
        "34": lambda tmp: [r for r in cli(repeats, tmp) if r["item"][0] in only],
        "5": memory,
        "6": compile_times,
        "7": lambda tmp: [noisy(repeats)],
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for keys, measure in items.items():
            if set(keys) & only:
                _restart_peak()
                new = measure(Path(tmp))
                for r in new:
                    r["peak_mib"] = _peak_mib()
                rows += new
                for line in table(new).splitlines()[2 : 2 + len(new)]:
                    print(line, flush=True)  # as it comes
    print(table(rows))


if __name__ == "__main__":
    main()
