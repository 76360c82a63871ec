"""`surface=custom surface.fn=package.module.function`: any importable function of a JAX array."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from optlab.errors import UserError
from optlab.surfaces.base import Surface, SurfaceInfo
from optlab.surfaces.registry import register
from optlab.surfaces.user import user_surface

USAGE = "must name an importable function as 'package.module.function'"


def _bad(path: Any, why: str) -> UserError:
    return UserError(f"surface.fn={path!r} is invalid: {why}")


def load(path: Any) -> Callable[..., Any]:
    """The object `package.module.function` (the longest importable module, then attributes)."""
    if not isinstance(path, str) or "." not in path.strip(".") or " " in path:
        raise _bad(path, USAGE)
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name is not None and (module == e.name or module.startswith(e.name + ".")):
                continue  # that module does not exist: try a shorter one
            raise _bad(path, f"importing {module!r} failed: {e}") from None
        except Exception as e:  # the user's module itself fails to import
            raise _bad(path, f"importing {module!r} failed: {type(e).__name__}: {e}") from None
        for name in parts[i:]:
            if not hasattr(obj, name):
                raise _bad(path, f"{'.'.join(parts[:i])!r} has no attribute {name!r}; {USAGE}")
            obj = getattr(obj, name)
        if not callable(obj):
            raise _bad(path, f"{type(obj).__name__} object is not callable; {USAGE}")
        return obj
    raise _bad(path, f"no module named {parts[0]!r}; {USAGE}")


def check_scalar(fn: Callable[..., Any], path: str, dim: int) -> None:
    """`fn` must map an array of shape (dim,) to a scalar (traced abstractly, nothing computed)."""
    try:
        out = jax.eval_shape(fn, jax.ShapeDtypeStruct((dim,), jnp.float32))
    except Exception as e:  # any failure of the user's function is a bad `surface.fn`
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise _bad(
            path, f"calling it on an array of shape ({dim},) raised {type(e).__name__}: {first}"
        ) from None
    shape = getattr(out, "shape", None)
    if shape != ():
        got = f"shape {shape}" if shape is not None else type(out).__name__
        raise _bad(
            path, f"it returns {got} for an input of shape ({dim},); it must return a scalar"
        )


@register("custom", min_dim=1, max_dim=None)
def custom(fn: Any = None, dim: int = 2, bounds: Any = None, minimizers: Any = None) -> Surface:
    """The surface f = `fn`, an importable function of a JAX array of shape (dim,) to a scalar."""
    if fn is None:
        raise _bad(fn, USAGE + ", e.g. surface.fn=mypackage.surfaces.my_bowl")
    f = load(fn)
    check_scalar(f, fn, dim)
    doc = (getattr(f, "__doc__", None) or "").strip().splitlines()
    info = SurfaceInfo(formula=doc[0] if doc else fn, source=f"user function {fn}")
    return user_surface("custom", f, dim, bounds, minimizers, info, {"fn": fn})
