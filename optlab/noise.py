"""Noisy oracles: what an optimizer sees of f and ∇f (the engine records the true f and ∇f).

With z ~ N(0, I) drawn afresh for every run and step, and σ = `sigma`:

    gaussian    g̃ = ∇f + σ z
    relative    g̃ = ∇f ⊙ (1 + σ z)
    student_t   g̃ = ∇f + σ √((ν − 2)/ν) t_ν      (t_ν: Student's t with ν = `df` > 2 degrees of
                                                   freedom, rescaled to unit variance, so σ is the
                                                   noise's standard deviation as in `gaussian`)

`value=True` applies the same model to the value the optimizer sees (f̃ = f + σζ, f(1 + σζ), …),
also at the trial points of a line search (`value_fn`). With `batch_size=B` on a finite-sum surface
(`optlab.surfaces.finite_sum`) f and ∇f are first replaced by the mean loss and gradient of a
minibatch of B examples, drawn with replacement or from a fresh permutation of the data each epoch
(`sampling`); the model, if any, then acts on top.

Every random number is a pure function of the run's key and the step, so a run sees the same
noise alone, in a grid, chunked or on any number of devices. `run_seeds` gives each run its seed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab.surfaces import finite_sum
from optlab.surfaces.base import Surface

MODELS = ("none", "gaussian", "relative", "student_t")
SAMPLING = ("shuffle", "replacement")


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["sigma", "df"],
    meta_fields=["model", "value", "batch_size", "sampling"],
)
@dataclasses.dataclass(frozen=True)
class Noise:
    """A noise model (a pytree: `sigma` and `df` are traced leaves, the rest is static)."""

    model: str = "none"
    sigma: Any = 0.0
    df: Any = 0.0  # student_t only
    value: bool = False  # also the value the optimizer sees
    batch_size: int | None = None  # minibatches of a finite-sum surface; None: full batch
    sampling: str = "shuffle"

    @property
    def active(self) -> bool:
        """Whether the optimizer sees anything but the exact f and ∇f."""
        return self.model != "none" or self.batch_size is not None

    def run_hash(self, run_key: jax.Array) -> jax.Array:
        """The run's constant for `observe(..., run_hash=)`: the engine computes it once per run."""
        return run_hash(run_key)

    def observe(
        self,
        surface: Surface,
        key: jax.Array,
        x: jax.Array,
        value: jax.Array,
        grad: jax.Array,
        step: jax.Array | None = None,
        run_key: jax.Array | None = None,
        run_hash: jax.Array | None = None,
    ) -> tuple[jax.Array, jax.Array]:
        """(value seen, gradient seen) at `x`, whose true value and gradient are `value`, `grad`.

        `key` is the run's key of this step. Given `step` and the run's `run_hash` (or `run_key`,
        the run's key before folding in the step, hashed here), gaussian and relative gradient
        noise come from `counter_normal` (cheap on CPU, where threefry per step costs more than a
        small problem's gradient) and the key's own threefry hash is never computed;
        `sampling="shuffle"` needs `step` and `run_key`.
        """
        if self.batch_size is not None:
            bkey = key if self.model == "none" else jax.random.fold_in(key, _BATCH)
            idx = batch_indices(bkey, self.batch_size, self.sampling, surface, step, run_key)
            value, grad = jax.value_and_grad(finite_sum.restrict(surface, idx))(x)
        if self.model == "none":
            return value, grad
        run = run_key if run_hash is None else run_hash
        counter = None if step is None or run is None else (run, step)
        seen = _apply(self, key, grad, counter)
        if not self.value:
            return value, seen
        return _apply(self, jax.random.fold_in(key, _VALUE), value), seen

    def value_fn(
        self,
        surface: Surface,
        key: jax.Array,
        step: jax.Array | None = None,
        run_key: jax.Array | None = None,
    ) -> Callable[[jax.Array], jax.Array]:
        """x ↦ the value the optimizer sees at a trial point x during this step.

        A minibatch stays fixed during the step; with `value=True` each trial point gets its
        own draw (keyed by the bits of x, so the same point gives the same value within a step).
        """
        f = surface
        if self.batch_size is not None:
            bkey = key if self.model == "none" else jax.random.fold_in(key, _BATCH)
            f = finite_sum.restrict(
                surface, batch_indices(bkey, self.batch_size, self.sampling, surface, step, run_key)
            )
        if self.model == "none" or not self.value:
            return f
        vkey = jax.random.fold_in(key, _VALUE)
        return lambda x: _apply(self, _point_key(vkey, x), f(x))

    def label(self) -> str:
        """A short description for titles, e.g. `gaussian σ=0.1, B=32 (shuffle)`."""
        parts = []
        if self.model != "none":
            parts.append(f"{self.model} σ={float(self.sigma):g}")
            parts[-1] += f" ν={float(self.df):g}" if self.model == "student_t" else ""
            parts[-1] += " (value too)" if self.value else ""
        if self.batch_size is not None:
            parts.append(f"B={self.batch_size} ({self.sampling})")
        return ", ".join(parts)

    def describe(self) -> dict[str, Any]:
        """The settings as plain values (records, the results store); {} when off."""
        if not self.active:
            return {}
        out: dict[str, Any] = {"model": self.model}
        if self.model != "none":
            out |= {"sigma": float(self.sigma), "value": self.value}
        if self.model == "student_t":
            out["df"] = float(self.df)
        if self.batch_size is not None:
            out |= {"batch_size": self.batch_size, "sampling": self.sampling}
        return out


_VALUE, _BATCH = 1, 2  # fold_in tags: the value's and the minibatch's streams


def standard_draw(model: str, key: jax.Array, shape: tuple[int, ...], dtype: Any, df: Any):
    """z ~ N(0, I) (gaussian, relative) or unit-variance Student t_ν (student_t), `shape`."""
    if model == "student_t":
        t = jax.random.t(key, df, shape, dtype)
        return t * jnp.sqrt((df - 2.0) / df).astype(dtype)
    return jax.random.normal(key, shape, dtype)


def _apply(noise: Noise, key: jax.Array, a: jax.Array, counter: tuple | None = None) -> jax.Array:
    """`a` as the model sees it: a + σz, or a ⊙ (1 + σz) for `relative`.

    `counter` = (run hash or key, step): z from `counter_normal` (gaussian, relative), not `key`.
    """
    if counter is not None and noise.model in ("gaussian", "relative"):
        z = counter_normal(*counter, jnp.shape(a), a.dtype)
    else:
        z = standard_draw(noise.model, key, jnp.shape(a), a.dtype, noise.df)
    sigma = jnp.asarray(noise.sigma, a.dtype)
    return a * (1.0 + sigma * z) if noise.model == "relative" else a + sigma * z


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finalizer (Appleby): a bijection of uint32 with full avalanche."""
    h = (h ^ (h >> 16)) * jnp.uint32(0x85EBCA6B)
    h = (h ^ (h >> 13)) * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def run_hash(run_key: jax.Array) -> jax.Array:
    """The run's stream id, a uint32: MurmurHash3 finalizers folding in the key's words.

    Constant over a run: compute it once and pass it to `counter_normal` in place of the key.
    """
    h = jnp.uint32(0x9E3779B9)
    for w in jax.random.key_data(run_key).ravel():
        h = _fmix32(h ^ w.astype(jnp.uint32))
    return h


def _step_base(run: jax.Array, step: jax.Array) -> jax.Array:
    """h ⊕ fmix32(t + c): the run's hash h (`run_hash`, or computed here from a key) and step t."""
    h = run_hash(run) if jax.dtypes.issubdtype(run.dtype, jax.dtypes.prng_key) else run
    t = jnp.asarray(step).astype(jnp.uint32) + jnp.uint32(0x7F4A7C15)
    return jnp.asarray(h).astype(jnp.uint32) ^ _fmix32(t)


def _words(base: jax.Array, index: np.ndarray | int) -> jax.Array:
    """Word i of a (run, step): fmix32(base + iφ) (φ = 2³²/golden ratio; i a constant)."""
    offset = (np.asarray(index, np.uint64) * 0x9E3779B9 % 2**32).astype(np.uint32)
    return _fmix32(base + jnp.asarray(offset))


def counter_bits(run: jax.Array, step: jax.Array, n: int) -> jax.Array:
    """n pseudo-random uint32 words for (run, step): word i = fmix32((h ⊕ fmix32(t + c)) + iφ).

    `run` is the run's `run_hash` (or its key); a counter-based generator: one finalizer per
    word and run, and one per step (shared by all runs at that step).
    """
    return _words(_step_base(run, step), np.arange(n))


# −2 ln m = t·L(t²), t = (m − 1)/(m + 1) on √½ ≤ m < √2 (2 ln m = 4 atanh t; fit error < 1e-9,
# 2e-7 relative when evaluated in float32)
_NEG2LOG = (-3.9999999972426856, -1.333336319000192, -0.7994959001419791, -0.5985129746476592)
# sin(πf/4) = f·S(f²), cos(πf/4) = C(f²) on 0 ≤ f ≤ 1 (absolute error < 1.1e-7)
_SIN = (0.7853981546195363, -0.08074538455890898, 0.002489908316235946, -3.589900197163015e-05)
_COS = (0.9999999836347007, -0.3084244137133919, 0.015850342151555286, -0.00031917297445957504)
_SQRT_HALF_BITS = 0x3F3504F3  # float32 √½


def _horner(coefficients: tuple[float, ...], w: jax.Array) -> jax.Array:
    """c₀ + c₁w + c₂w² + … (coefficients lowest first)."""
    p = jnp.full_like(w, coefficients[-1])
    for c in coefficients[-2::-1]:
        p = c + p * w
    return p


def _neg2log32(u: jax.Array) -> jax.Array:
    """−2 ln u for float32 normal u > 0: u = 2ᵉm with √½ ≤ m < √2, −2 ln u = −2e ln 2 + t·L(t²).

    XLA's `log` also handles 0, negatives, infinities and subnormals, at twice the work.
    """
    bits = jax.lax.bitcast_convert_type(u, jnp.int32) - _SQRT_HALF_BITS
    e = (bits >> 23).astype(jnp.float32)  # arithmetic shift: the exponent
    m = jax.lax.bitcast_convert_type((bits & 0x7FFFFF) + _SQRT_HALF_BITS, jnp.float32)
    t = (m - 1.0) / (m + 1.0)
    return e * float(-2.0 * np.log(2.0)) + t * _horner(_NEG2LOG, t * t)


def _flip(v: jax.Array, bit: jax.Array) -> jax.Array:
    """−v where `bit` (uint32, 0 or 2³¹) is set: the sign bit flipped, no select."""
    ints = jnp.uint32 if v.dtype == jnp.float32 else jnp.uint64
    word = jax.lax.bitcast_convert_type(v, ints) ^ (bit.astype(ints) << (8 * v.dtype.itemsize - 32))
    return jax.lax.bitcast_convert_type(word, v.dtype)


def _box_muller(a: jax.Array, b: jax.Array, dtype: Any) -> tuple[jax.Array, jax.Array]:
    """Two independent N(0, 1) from words a, b (Box & Muller 1958): r (cos θ, sin θ).

    r = √(−2 ln u), u = (⌊a/2⌋ + ½)/2³¹ ∈ (0, 1]; θ = πf/4 (f uniform on (0, 1) from b's low 29
    bits) reflected into one of the circle's 8 octants by b's top 3 bits (swap the pair, negate
    either): uniform on the circle. float32: polynomial log, sin and cos; float64: XLA's.
    """
    float32 = jnp.dtype(dtype) == jnp.float32
    u = (a >> 1).astype(jnp.int32).astype(dtype) * 2.0**-31 + 2.0**-32
    r = jnp.sqrt(_neg2log32(u) if float32 else -2.0 * jnp.log(u))
    f = (b & jnp.uint32(0x1FFFFFFF)).astype(jnp.int32).astype(dtype) * 2.0**-29 + 2.0**-30
    if float32:
        c, s = _horner(_COS, f * f), f * _horner(_SIN, f * f)
    else:
        c, s = jnp.cos(np.pi / 4 * f), jnp.sin(np.pi / 4 * f)
    swap = (b & jnp.uint32(1 << 29)) != 0
    x, y = r * jnp.where(swap, s, c), r * jnp.where(swap, c, s)
    sign = jnp.uint32(1 << 31)
    return _flip(x, b & sign), _flip(y, (b << 1) & sign)


def counter_normal(run: jax.Array, step: jax.Array, shape: tuple[int, ...], dtype: Any):
    """N(0, I) draws of `shape` for (run, step); `run` is the run's `run_hash` (or its key).

    Coordinates 2j and 2j + 1 are the pair `_box_muller` makes of `counter_bits` words 2j and
    2j + 1, so a coordinate's draw does not depend on the dimension. Each coordinate computes its
    own pair: an elementwise expression without concatenation, which XLA fuses alike wherever
    the step comes from (a concatenation of the pairs' halves was 4× slower with the step a scan
    input); the two coordinates of a pair name the same words, so XLA computes its radius once.
    """
    i = np.arange(int(np.prod(shape)))
    base = _step_base(run, step)
    x, y = _box_muller(_words(base, i & ~1), _words(base, i | 1), dtype)
    return jnp.where(i % 2 == 0, x, y).astype(dtype).reshape(shape)


def _point_key(key: jax.Array, x: jax.Array) -> jax.Array:
    """`key` folded with a hash of the bits of `x` (one stream per trial point)."""
    bits = jax.lax.bitcast_convert_type(x, jnp.uint32).ravel()  # float64: two words each
    odd = (2 * jnp.arange(bits.size, dtype=jnp.uint32) + 1) * jnp.uint32(0x9E3779B1)
    return jax.random.fold_in(key, jnp.sum(bits * odd, dtype=jnp.uint32))


def batch_indices(
    key: jax.Array,
    batch_size: int,
    sampling: str,
    surface: Surface,
    step: jax.Array | None = None,
    run_key: jax.Array | None = None,
) -> jax.Array:
    """The B example indices of one step's minibatch.

    `replacement`: B uniform draws from the step's `key`. `shuffle` (random reshuffling): epoch
    e = ⌊step / m⌋ with m = ⌊N / B⌋ batches per epoch takes a permutation of the N examples keyed
    by (`run_key`, e) and the step uses its slice number step mod m (the N − mB examples left over
    at the end of a permutation are skipped that epoch).
    """
    n = finite_sum.size(surface)
    if sampling == "replacement":
        return jax.random.randint(key, (batch_size,), 0, n)
    if step is None or run_key is None:
        raise ValueError("sampling='shuffle' needs the step and the run's key")
    per_epoch = n // batch_size
    epoch, slot = step // per_epoch, step % per_epoch
    perm = jax.random.permutation(jax.random.fold_in(run_key, epoch + (1 << 30)), n)
    return jax.lax.dynamic_slice(perm, (slot * batch_size,), (batch_size,))


def run_seeds(seeds: np.ndarray, start_index: np.ndarray) -> np.ndarray:
    """Each run's noise seed (R,) from its grid seed and start index (splitmix64, 31 bits).

    Runs differing only in the optimizer or its hyperparameters share a stream (common random
    numbers: their comparison is paired); each seed and each start is a new stream.
    """
    with np.errstate(over="ignore"):
        z = np.asarray(seeds, np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = z + np.asarray(start_index, np.uint64) + np.uint64(0x632BE59BD9B4E019)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(33)).astype(np.int64)


def columns(
    surface: Surface, noise: Noise | None, grad_evals: np.ndarray
) -> dict[str, list[Any] | np.ndarray]:
    """Per-run record columns: the noise settings (`noise`, {} when off) and `sample_costs`."""
    runs = len(grad_evals)
    settings = {} if noise is None else noise.describe()
    return {"noise": [settings] * runs} | sample_costs(surface, noise, grad_evals)


def sample_costs(
    surface: Surface, noise: Noise | None, grad_evals: np.ndarray
) -> dict[str, np.ndarray]:
    """Per run: examples touched (`sample_evals`) and `epochs` on a finite-sum surface, else {}.

    Each gradient evaluation the engine counts touches B examples (N for the full batch).
    """
    if not finite_sum.is_finite_sum(surface):
        return {}
    n = finite_sum.size(surface)
    b = n if noise is None or noise.batch_size is None else noise.batch_size
    samples = np.asarray(grad_evals, dtype=np.int64) * b
    return {"sample_evals": samples, "epochs": samples / n}
