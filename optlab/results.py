"""The results store: one SQLite row per run, appended one job per transaction, resumable.

`results.sqlite` holds every run of every job that wrote to it: its coordinates (surface and
instance, optimizer and every hyperparameter, start, seed), its outcomes (final f − f*, steps and
evaluations to each target, status) and its per-step f − f* curve. A job's rows are written in ONE
transaction: a job killed at any moment leaves either all of its runs or none. The database runs in
WAL mode with a busy timeout, so concurrent sweeps writing one store lose no rows.

`load(path)` reads it back as a list of flat dicts (`pandas.DataFrame(load(path))` is a table).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab.config import Job
from optlab.engine import STATUS_NAMES, Trajectory
from optlab.errors import UserError

SCHEMA_VERSION = 1
FILENAME = "results.sqlite"
TARGETS = (1e-2, 1e-4, 1e-6, 1e-8)
# The engine evaluates f and ∇f once at the start (f_evals = grad_evals = 1 before any step).
INITIAL_EVALS = 2
BUSY_TIMEOUT_S = 120.0

_COLUMNS = {
    "run_hash": "TEXT PRIMARY KEY",  # the run's config hash: everything that determines it
    "job_hash": "TEXT NOT NULL",
    "role": "TEXT NOT NULL",  # run (a plain job) | tune (a tuning run) | eval (a tuned setting)
    "surface": "TEXT NOT NULL",
    "instance": "TEXT NOT NULL",  # JSON: the surface's parameters (dim, condition_number, ...)
    "dim": "INTEGER NOT NULL",
    "optimizer": "TEXT NOT NULL",
    "label": "TEXT NOT NULL",
    "hparams": "TEXT NOT NULL",  # JSON: every hyperparameter of the optimizer
    "start": "TEXT NOT NULL",  # JSON: the start point
    "start_index": "INTEGER NOT NULL",
    "seed": "INTEGER NOT NULL",
    "steps": "INTEGER NOT NULL",
    "dtype": "TEXT NOT NULL",
    "tol_grad": "REAL",
    "stop_target": "REAL",
    "final_loss": "REAL",
    "f_min": "REAL",
    "gap": "REAL",  # final f − f* (NULL when f* is unknown)
    "hits": "TEXT NOT NULL",  # JSON: {target: [steps, evaluations]} (null: never reached)
    "status": "TEXT NOT NULL",
    "steps_taken": "INTEGER NOT NULL",
    "f_evals": "INTEGER NOT NULL",
    "grad_evals": "INTEGER NOT NULL",
    "hessian_evals": "INTEGER NOT NULL",
    "record_every": "INTEGER NOT NULL",  # the curve keeps steps 0, k, 2k, …, T
    "score": "REAL",  # tuning: the selection criterion of this run
    "chosen": "INTEGER",  # tuning: 1 when this run's setting was chosen
    "wall_time": "REAL",  # seconds of the job's one compiled program (shared by its runs)
    "job_dir": "TEXT",
}
_JSON = ("instance", "hparams", "start", "hits")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS jobs (job_hash TEXT PRIMARY KEY, job_dir TEXT, "
    "n_runs INTEGER NOT NULL, wall_time REAL, finished REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (" + ", ".join(f"{k} {t}" for k, t in _COLUMNS.items()) + ")",
    "CREATE TABLE IF NOT EXISTS curves (run_hash TEXT PRIMARY KEY, gap BLOB NOT NULL, path BLOB)",
    "CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job_hash)",
]

# version -> function upgrading a connection from that version to the next one.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


def check_targets(targets: Any, key: str = "targets") -> tuple[float, ...]:
    """`targets` as a sorted (largest first) tuple of positive finite floats; else a UserError."""
    ok = isinstance(targets, Sequence) and not isinstance(targets, str) and len(targets) > 0
    values = []
    for t in targets if ok else ():
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t < math.inf:
            ok = False
            break
        values.append(float(t))
    if not ok:
        raise UserError(
            f"{key}={targets!r} is invalid: must be a non-empty list of positive numbers "
            "(thresholds on f − f*, e.g. [1e-2, 1e-4, 1e-6, 1e-8])"
        )
    return tuple(sorted(set(values), reverse=True))


def target_name(t: float) -> str:
    """The key of target `t` in `hits` and in `load`'s columns, e.g. `1e-04`."""
    return f"{t:.0e}"


def digest(obj: Any) -> str:
    """A short stable hash of a JSON-able object (sorted keys, floats in repr)."""
    text = json.dumps(obj, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"not JSON-able: {value!r}")


def hits(
    gap: np.ndarray,
    targets: Sequence[float],
    steps_taken: np.ndarray,
    evals: np.ndarray,
    steps: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Steps and evaluations at which each run first has f − f* ≤ target (NaN: never).

    `gap` (R, N) is f − f* at the recorded `steps` (N,) (default: every step, 0 … N−1).
    Evaluations after k steps are counted as the engine counts them: `INITIAL_EVALS` at the
    start, then the run's mean cost per step, (E − E₀)/K for a run of K steps and E evaluations
    in total (exact for every method whose steps all cost the same).
    """
    gap = np.asarray(gap, dtype=float)
    t = np.asarray(targets, dtype=float)
    at = np.arange(gap.shape[1]) if steps is None else np.asarray(steps)
    below = gap[:, None, :] <= t[None, :, None]  # (R, K, N)
    reached = below.any(-1)
    step = np.where(reached, at[below.argmax(-1)], np.nan)
    k = np.asarray(steps_taken, dtype=float)[:, None]
    e = np.asarray(evals, dtype=float)[:, None]
    per_step = np.where(k > 0, (e - INITIAL_EVALS) / np.maximum(k, 1), 0.0)
    start = np.minimum(e, INITIAL_EVALS)
    return step, np.where(reached, np.rint(start + step * per_step), np.nan)


def _blob(a: np.ndarray) -> bytes:
    with np.errstate(over="ignore"):  # beyond float32's range (a diverging run) is inf
        return zlib.compress(np.ascontiguousarray(a, dtype="<f4").tobytes())


def _unblob(b: bytes | None) -> np.ndarray | None:
    return None if b is None else np.frombuffer(zlib.decompress(b), dtype="<f4")


class Store:
    """An open `results.sqlite`; create it (schema version `SCHEMA_VERSION`) when missing."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise UserError(f"results={str(self.path)!r} is invalid: no such results store")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._check_schema(create)
        except UserError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise UserError(
                f"results={str(self.path)!r} is invalid: not an optlab results store ({e})"
            ) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error): all of it is written, or none."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _check_schema(self, create: bool) -> None:
        tables = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "schema_version" not in tables:
            if tables or not create:
                raise UserError(
                    f"results={str(self.path)!r} is invalid: not an optlab results store "
                    "(no schema_version table)"
                )
            with self.transaction() as db:
                for statement in _SCHEMA:
                    db.execute(statement)
                if db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                    db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        self._migrate(self.version)

    @property
    def version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return -1 if row[0] is None else int(row[0])

    def _migrate(self, version: int) -> None:
        """Upgrade an older store step by step, or refuse one this optlab cannot read."""
        while version < SCHEMA_VERSION and version in MIGRATIONS:
            with self.transaction() as db:
                MIGRATIONS[version](db)
                db.execute("UPDATE schema_version SET version = ?", (version + 1,))
            version += 1
        if version != SCHEMA_VERSION:
            raise UserError(
                f"results={str(self.path)!r} was written with results schema version {version}; "
                f"this optlab reads version {SCHEMA_VERSION} (use another results=PATH)"
            )

    def has_job(self, job_hash: str) -> bool:
        """True when job `job_hash` was stored completely (its rows were committed together)."""
        q = "SELECT 1 FROM jobs WHERE job_hash = ?"
        return self.db.execute(q, (job_hash,)).fetchone() is not None

    def count(self, role: str | None = None) -> int:
        """Number of stored runs (of `role` when given)."""
        if role is None:
            return self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM runs WHERE role = ?", (role,)).fetchone()[0]

    def append(
        self,
        job_hash: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        job_dir: str = "",
        replace: bool = False,
    ) -> int:
        """Write a job's rows (from `rows_for`) in ONE transaction; return how many were new.

        A run already stored (same `run_hash`) is kept unless `replace`.
        """
        wall_time = rows[0].get("wall_time") if rows else None
        cols = list(_COLUMNS)
        # only a run already stored is skipped (or replaced); any other constraint fails the job
        update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "run_hash")
        conflict = f"DO UPDATE SET {update}" if replace else "DO NOTHING"
        run_sql = (
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT (run_hash) {conflict}"
        )
        with self.transaction() as db:
            inserted = 0
            for row in rows:
                values = [
                    json.dumps(row[c], default=_jsonable) if c in _JSON else row.get(c)
                    for c in cols
                ]
                added = db.execute(run_sql, values).rowcount
                inserted += added
                if added and replace:
                    db.execute("DELETE FROM curves WHERE run_hash = ?", (row["run_hash"],))
                if added and row.get("curve") is not None:
                    path = row.get("path")
                    path = None if path is None else _blob(path)
                    curve = (row["run_hash"], _blob(row["curve"]), path)
                    db.execute("INSERT INTO curves VALUES (?, ?, ?)", curve)
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?)",
                (job_hash, job_dir, len(rows), wall_time, time.time()),
            )
        return inserted


def identities(job: Job, role: str = "run") -> list[dict[str, Any]]:
    """What determines each run of `job`, in the engine's run order (its groups'), with its hash.

    A run's hyperparameters are its member's configuration with the group's per-run traced values
    (a grid point) on top; its seed and start are its grid point's.
    """
    s, pts = job.surface, job.points
    per_seed = len(job.grid.starts[0]) if job.grid is not None else len(job.starts)
    out = []
    for m, g in zip(job.members, job.groups, strict=True):
        base = {k: v for k, v in m.config.items() if k != "name"}
        for i in range(len(g.starts)):
            ident = {
                "role": role,
                "surface": s.name,
                "instance": s.config,
                "dim": s.dim,
                "optimizer": m.spec.name,
                "label": m.label,
                "hparams": base | {k: float(np.asarray(v)[i]) for k, v in g.hparams.items()},
                "start": [float(v) for v in pts["start"][i]],
                "start_index": i % per_seed,
                "seed": int(pts["seed"][i]),
                "steps": job.steps,
                "dtype": job.dtype,
                "tol_grad": job.tol_grad,
                "stop_target": job.target,
            }
            if job.noise is not None:  # a noisy run is another run (noiseless hashes unchanged)
                ident["noise"] = job.noise.describe()
            out.append(ident | {"run_hash": digest(ident)})
    return out


def job_key(job: Job, role: str = "run", extra: Any = None) -> str:
    """The job's config hash: its runs' hashes (and `extra`, e.g. tuning options)."""
    return digest([sorted(i["run_hash"] for i in identities(job, role)), extra])


def rows_for(
    job: Job,
    traj: Trajectory,
    *,
    role: str = "run",
    targets: Sequence[float] = TARGETS,
    job_hash: str = "",
    wall_time: float | None = None,
    job_dir: str = "",
    curves: bool = True,
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The store rows of `job`'s runs (members × starts, the engine's order).

    `curves` keeps each run's per-step f − f* (and its path on 2-D surfaces); `extra` adds
    per-run columns (tuning's `score`, `chosen`).
    """
    f_min = job.surface.f_min
    final = traj.loss[:, -1] if traj.final_loss is None else traj.final_loss
    final = np.asarray(final, dtype=float)
    loss = None if traj.loss is None else np.asarray(traj.loss, dtype=float)
    evals = traj.f_evals + traj.grad_evals + traj.hessian_evals
    gap = None if loss is None or f_min is None else loss - f_min
    if gap is not None:
        steps_to, evals_to = hits(gap, targets, traj.steps_taken, evals, traj.record_steps)
    idents = identities(job, role)
    if len(idents) != len(final):
        raise ValueError(f"{len(idents)} runs described, {len(final)} in the trajectory")
    every = _every(traj.record_steps)
    paths = traj.params is not None and job.surface.dim == 2
    rows = []
    for r, ident in enumerate(idents):
        row = ident | {
            "job_hash": job_hash,
            "final_loss": float(final[r]),
            "f_min": f_min,
            "gap": None if f_min is None else float(final[r] - f_min),
            "hits": {
                target_name(t): [None, None]
                if gap is None
                else [_int(steps_to[r, k]), _int(evals_to[r, k])]
                for k, t in enumerate(targets)
            },
            "status": STATUS_NAMES[int(traj.status[r])],
            "steps_taken": int(traj.steps_taken[r]),
            "f_evals": int(traj.f_evals[r]),
            "grad_evals": int(traj.grad_evals[r]),
            "hessian_evals": int(traj.hessian_evals[r]),
            "record_every": every,
            "wall_time": wall_time,
            "job_dir": job_dir,
        }
        if curves and loss is not None:
            row["curve"] = gap[r] if gap is not None else loss[r]
            row["path"] = traj.params[r] if paths else None
        rows.append(row | dict(extra[r] if extra else {}))
    return rows


def curve_steps(row: Mapping[str, Any]) -> np.ndarray:
    """The step of each point of a loaded row's `curve`: 0, k, 2k, …, then the last step T."""
    n = len(row["curve"])
    return np.minimum(np.arange(n) * row["record_every"], row["steps"])


def _every(record_steps: np.ndarray | None) -> int:
    """The recording stride k of `record_every` (steps 0, k, 2k, …, T), 1 when every step."""
    if record_steps is None or len(record_steps) < 2:
        return 1
    return int(record_steps[1] - record_steps[0])


def _int(v: float) -> int | None:
    return None if np.isnan(v) else int(v)


def _flat(row: Mapping[str, Any], curves: Mapping[str, tuple]) -> dict[str, Any]:
    out = dict(row)
    for c in _JSON:
        out[c] = json.loads(out[c])
    for name, (steps, evals) in out.pop("hits").items():
        out[f"steps_to_{name}"], out[f"evals_to_{name}"] = steps, evals
    for k, v in out["hparams"].items():
        out[f"hp.{k}"] = v
    out["evals"] = out["f_evals"] + out["grad_evals"] + out["hessian_evals"]
    if out["run_hash"] in curves:
        gap, path = curves[out["run_hash"]]
        out["curve"] = _unblob(gap)
        p = _unblob(path)
        out["path"] = None if p is None else p.reshape(-1, out["dim"])
    return out


def resolve(path: str | Path) -> Path:
    """A store file, or the `results.sqlite` inside a directory."""
    p = Path(path)
    return p / FILENAME if p.is_dir() else p


def load(path: str | Path, *, curves: bool = False) -> list[dict[str, Any]]:
    """Every stored run as a flat dict (pandas-friendly: `pandas.DataFrame(load(path))`).

    JSON columns are decoded; `hits` becomes `steps_to_<t>` / `evals_to_<t>` per target, each
    hyperparameter `hp.<name>`, and `evals` = f + ∇f + ∇²f evaluations. With `curves`, runs that
    kept their per-step record get `curve` (f − f* per step, float32) and, on 2-D surfaces,
    `path` (T+1, 2).
    """
    with Store(resolve(path), create=False) as store:
        store.db.row_factory = sqlite3.Row
        rows = store.db.execute("SELECT * FROM runs ORDER BY rowid").fetchall()
        kept = {}
        if curves:
            kept = {r[0]: (r[1], r[2]) for r in store.db.execute("SELECT * FROM curves")}
        return [_flat(r, kept) for r in rows]
