"""The results store: one SQLite row per run, appended one job per transaction, resumable.

`results.sqlite` holds every run of every job that wrote to it: its coordinates (surface and
instance, optimizer and every hyperparameter, start, seed), its outcomes (final f − f*, status, and
per target the step of the first hit with the evaluations of f, ∇f and ∇²f counted up to it and
their cost under the job's cost model), its per-step f − f* curve with the cumulative evaluation
counts at each recorded step, and per job the provenance of the software that ran it. A job's rows are written in ONE
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

SCHEMA_VERSION = 2  # 2: exact counts at each hit, the cost model, cum_evals, provenance, noise
FILENAME = "results.sqlite"
TARGETS = (1e-2, 1e-4, 1e-6, 1e-8)
COUNTS = ("f", "grad", "hessian")  # the evaluation counts, in the engine's order
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
    # JSON: {target: [step, cost, f, grad, hessian]}: the first step with f − f* ≤ target and the
    # evaluations counted up to it (weighted by `cost`, then raw); nulls: never reached.
    # Version 1 stored [step, evaluations] with evaluations estimated from the mean cost per step.
    "hits": "TEXT NOT NULL",
    "cost": "TEXT",  # JSON: the cost model of `hits` (optlab.cost.describe); NULL in version 1
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
    "noise": "TEXT",  # JSON: the noise settings (optlab.noise.Noise.describe); NULL: noiseless
}
_JSON = ("instance", "hparams", "start", "hits", "cost", "noise")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS jobs (job_hash TEXT PRIMARY KEY, job_dir TEXT, "
    "n_runs INTEGER NOT NULL, wall_time REAL, finished REAL NOT NULL, provenance TEXT)",
    "CREATE TABLE IF NOT EXISTS runs (" + ", ".join(f"{k} {t}" for k, t in _COLUMNS.items()) + ")",
    # cum_evals: int32 (N, 3) evaluations of f, ∇f, ∇²f counted up to each recorded step
    "CREATE TABLE IF NOT EXISTS curves (run_hash TEXT PRIMARY KEY, gap BLOB NOT NULL, path BLOB, "
    "cum_evals BLOB)",
    "CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job_hash)",
]


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """Version 2 adds the cost model and noise settings per run, cumulative counts per curve,
    provenance per job.

    Version-1 rows keep their `hits` ([step, estimated evaluations]); their new columns are NULL
    (version 1 stored no noisy runs).
    """
    db.execute("ALTER TABLE runs ADD COLUMN cost TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN noise TEXT")
    db.execute("ALTER TABLE curves ADD COLUMN cum_evals BLOB")
    db.execute("ALTER TABLE jobs ADD COLUMN provenance TEXT")


# version -> function upgrading a connection from that version to the next one.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


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
    cum_evals: np.ndarray,
    steps: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Step and evaluation counts (f, ∇f, ∇²f) at the first RECORDED point with f − f* ≤ target.

    `gap` (R, N) is f − f* at the recorded `steps` (N,) (default: every step, 0 … N−1) and
    `cum_evals` (R, N, 3) the counts up to each; returns step (R, K) and counts (R, K, 3), NaN
    where never reached. Exact when every step is recorded; the engine's own `hit_step` and
    `hit_evals` are exact with any `record_every` (`rows_for` prefers them).
    """
    gap = np.asarray(gap, dtype=float)
    t = np.asarray(targets, dtype=float)
    at = np.arange(gap.shape[1]) if steps is None else np.asarray(steps)
    below = gap[:, None, :] <= t[None, :, None]  # (R, K, N)
    reached = below.any(-1)
    first = below.argmax(-1)  # (R, K)
    step = np.where(reached, at[first], np.nan)
    counts = np.take_along_axis(np.asarray(cum_evals, dtype=float), first[..., None], axis=1)
    return step, np.where(reached[..., None], counts, np.nan)


def cost_json(model: Any) -> dict[str, str]:
    """A cost model as stored (`{"f": "1", "grad": "1", "hessian": "d"}`; optlab.cost reads it)."""
    from optlab import cost

    return {k: str(getattr(model, k)) for k in cost.KEYS}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=_jsonable)


def _value(row: Mapping[str, Any], column: str) -> Any:
    """A row's value of `column`; noise settings {} (off) are stored as NULL."""
    value = row.get(column)
    return None if column == "noise" and not value else value


def _blob(a: np.ndarray) -> bytes:
    with np.errstate(over="ignore"):  # beyond float32's range (a diverging run) is inf
        return zlib.compress(np.ascontiguousarray(a, dtype="<f4").tobytes())


def _unblob(b: bytes | None, dtype: str = "<f4") -> np.ndarray | None:
    return None if b is None else np.frombuffer(zlib.decompress(b), dtype=dtype)


def _int_blob(a: np.ndarray) -> bytes:
    return zlib.compress(np.ascontiguousarray(a, dtype="<i4").tobytes())


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
        provenance: Mapping[str, Any] | None = None,
    ) -> int:
        """Write a job's rows (from `rows_for`) in ONE transaction; return how many were new.

        A run already stored (same `run_hash`) is kept unless `replace`. The job's `provenance`
        defaults to this process's (`optlab.provenance.collect`).
        """
        if provenance is None:
            from optlab import provenance as provenance_

            provenance = provenance_.collect()
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
                values = [_json(_value(row, c)) if c in _JSON else row.get(c) for c in cols]
                added = db.execute(run_sql, values).rowcount
                inserted += added
                if added and replace:
                    db.execute("DELETE FROM curves WHERE run_hash = ?", (row["run_hash"],))
                if added and row.get("curve") is not None:
                    path, cum = row.get("path"), row.get("cum_evals")
                    curve = (
                        row["run_hash"],
                        _blob(row["curve"]),
                        None if path is None else _blob(path),
                        None if cum is None else _int_blob(cum),
                    )
                    db.execute(
                        "INSERT INTO curves (run_hash, gap, path, cum_evals) VALUES (?, ?, ?, ?)",
                        curve,
                    )
            db.execute(
                "INSERT OR REPLACE INTO jobs (job_hash, job_dir, n_runs, wall_time, finished, "
                "provenance) VALUES (?, ?, ?, ?, ?, ?)",
                (job_hash, job_dir, len(rows), wall_time, time.time(), json.dumps(provenance)),
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


def _cum(traj: Trajectory) -> np.ndarray | None:
    """(R, N, 3) cumulative (f, ∇f, ∇²f) counts at each recorded step, when the engine kept them."""
    parts = (traj.cum_f_evals, traj.cum_grad_evals, traj.cum_hessian_evals)
    if any(p is None for p in parts):
        return None
    return np.stack([np.asarray(p) for p in parts], axis=-1)


def _exact_hits(traj: Trajectory, targets: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """The engine's own hits (step (R, K), counts (R, K, 3), NaN never) for `targets`, or None
    when the engine was run with other targets."""
    if traj.hit_step is None or traj.targets is None:
        return None
    recorded = [float(t) for t in np.asarray(traj.targets)]
    if not all(float(t) in recorded for t in targets):
        return None
    k = [recorded.index(float(t)) for t in targets]
    step = np.asarray(traj.hit_step)[:, k].astype(float)
    counts = np.asarray(traj.hit_evals)[:, k].astype(float)
    never = step < 0
    return np.where(never, np.nan, step), np.where(never[..., None], np.nan, counts)


def rows_for(
    job: Job,
    traj: Trajectory,
    *,
    role: str = "run",
    targets: Sequence[float] = TARGETS,
    cost: Any = None,
    job_hash: str = "",
    wall_time: float | None = None,
    job_dir: str = "",
    curves: bool = True,
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The store rows of `job`'s runs (members × starts, the engine's order).

    Per target: the first step with f − f* ≤ target and the (f, ∇f, ∇²f) counts up to and
    including it, counted by the engine inside the scan, and their cost under `cost` (an
    optlab.cost model; default f = ∇f = 1, ∇²f = d). `curves` keeps each run's per-step f − f*
    with the cumulative counts at each recorded step (and its path on 2-D surfaces); `extra`
    adds per-run columns (tuning's `score`, `chosen`).
    """
    from optlab import cost as cost_

    model = cost_.Cost() if cost is None else cost
    w = cost_.weights(model, job.surface.dim)
    f_min = job.surface.f_min
    final = traj.loss[:, -1] if traj.final_loss is None else traj.final_loss
    final = np.asarray(final, dtype=float)
    loss = None if traj.loss is None else np.asarray(traj.loss, dtype=float)
    gap = None if loss is None or f_min is None else loss - f_min
    cum = _cum(traj)
    found = None if f_min is None else _exact_hits(traj, targets)
    if found is None and gap is not None and cum is not None:
        found = hits(gap, targets, cum, traj.record_steps)
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
                target_name(t): [None] * 5 if found is None else _hit(found, r, k, w)
                for k, t in enumerate(targets)
            },
            "cost": cost_json(model),
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
            row["cum_evals"] = None if cum is None else cum[r]
        rows.append(row | dict(extra[r] if extra else {}))
    return rows


def _hit(found: tuple[np.ndarray, np.ndarray], r: int, k: int, w: np.ndarray) -> list:
    """[step, cost, f, grad, hessian] of run r at target k (Nones: never reached)."""
    step, counts = found[0][r, k], found[1][r, k]
    if np.isnan(step):
        return [None] * 5
    c = float(counts @ w)
    return [int(step), int(c) if c == int(c) else c, *(int(n) for n in counts)]


def curve_steps(row: Mapping[str, Any]) -> np.ndarray:
    """The step of each point of a loaded row's `curve`: 0, k, 2k, …, then the last step T."""
    n = len(row["curve"])
    return np.minimum(np.arange(n) * row["record_every"], row["steps"])


def _every(record_steps: np.ndarray | None) -> int:
    """The recording stride k of `record_every` (steps 0, k, 2k, …, T), 1 when every step."""
    if record_steps is None or len(record_steps) < 2:
        return 1
    return int(record_steps[1] - record_steps[0])


def _flat(row: Mapping[str, Any], curves: Mapping[str, tuple]) -> dict[str, Any]:
    out = dict(row)
    for c in _JSON:
        out[c] = None if out[c] is None else json.loads(out[c])
    for name, hit in out.pop("hits").items():
        out[f"steps_to_{name}"], out[f"evals_to_{name}"] = hit[0], hit[1]
        if len(hit) == 5:  # version 2: the raw counts at the hit
            for kind, n in zip(COUNTS, hit[2:], strict=True):
                out[f"{kind}_evals_to_{name}"] = n
    for k, v in out["hparams"].items():
        out[f"hp.{k}"] = v
    out["evals"] = out["f_evals"] + out["grad_evals"] + out["hessian_evals"]
    if out["run_hash"] in curves:
        gap, path, cum = curves[out["run_hash"]]
        out["curve"] = _unblob(gap)
        p = _unblob(path)
        out["path"] = None if p is None else p.reshape(-1, out["dim"])
        c = _unblob(cum, "<i4")
        out["cum_evals"] = None if c is None else c.reshape(-1, len(COUNTS))
    return out


def resolve(path: str | Path) -> Path:
    """A store file, or the `results.sqlite` inside a directory."""
    p = Path(path)
    return p / FILENAME if p.is_dir() else p


def load(path: str | Path, *, curves: bool = False) -> list[dict[str, Any]]:
    """Every stored run as a flat dict (pandas-friendly: `pandas.DataFrame(load(path))`).

    JSON columns are decoded (`noise`: the run's noise settings, None when noiseless); `hits` becomes `steps_to_<t>` / `evals_to_<t>` (the cost under the
    run's `cost` model) and `f_evals_to_<t>`, `grad_evals_to_<t>`, `hessian_evals_to_<t>` (the raw
    counts; absent in version-1 rows) per target, each hyperparameter `hp.<name>`, and `evals` =
    f + ∇f + ∇²f evaluations (unweighted). With `curves`, runs that kept their per-step record get
    `curve` (f − f* per step, float32), `cum_evals` (N, 3) int (None in version-1 rows) and, on
    2-D surfaces, `path` (T+1, 2).
    """
    with Store(resolve(path), create=False) as store:
        store.db.row_factory = sqlite3.Row
        rows = store.db.execute("SELECT * FROM runs ORDER BY rowid").fetchall()
        kept = {}
        if curves:
            q = "SELECT run_hash, gap, path, cum_evals FROM curves"
            kept = {r[0]: (r[1], r[2], r[3]) for r in store.db.execute(q)}
        return [_flat(r, kept) for r in rows]


def load_jobs(path: str | Path) -> list[dict[str, Any]]:
    """Every stored job: `job_hash`, `n_runs`, `wall_time` and its `provenance` (a dict; None for
    jobs stored by version 1)."""
    with Store(resolve(path), create=False) as store:
        q = "SELECT job_hash, n_runs, wall_time, provenance FROM jobs ORDER BY rowid"
        return [
            {"job_hash": h, "n_runs": n, "wall_time": w, "provenance": p and json.loads(p)}
            for h, n, w, p in store.db.execute(q)
        ]
