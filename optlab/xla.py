"""XLA settings optlab makes before JAX starts (XLA reads XLA_FLAGS once, when its backend starts).

XLA:CPU runs a while loop whose body touches fewer bytes than a threshold as one kernel, without
dispatching each operation of the body; with XLA's default threshold a lone run's scan is
dispatched op by op and runs ~7× slower. `import optlab` raises the threshold (SMALL_LOOP_BYTES)
unless JAX's backend has already started, the user set XLA backend options of their own, or
OPTLAB_SMALL_LOOPS=0. Either way a run's numbers are the same bits alone and in a grid
(tests/test_engine_lanes.py); the setting changes speed only.
"""

from __future__ import annotations

import os

from optlab.errors import UserError

SWITCH = "OPTLAB_SMALL_LOOPS"  # 1 (default): raise the threshold; 0: keep XLA's
SMALL_LOOP_BYTES = 1 << 20
SMALL_LOOP_FLAG = (
    f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}"
)


def backend_started() -> bool:
    """True once JAX has created a backend (after that, XLA_FLAGS are no longer read)."""
    from jax._src import xla_bridge

    return bool(getattr(xla_bridge, "_backends", {}))


def check_switch() -> None:
    """A UserError unless OPTLAB_SMALL_LOOPS is unset, 0 or 1."""
    value = os.environ.get(SWITCH, "1")
    if value not in ("0", "1"):
        raise UserError(f"{SWITCH}={value} is invalid: 1 (default, lone runs ~7× faster) or 0")


def fast_small_loops() -> bool:
    """Add SMALL_LOOP_FLAG to XLA_FLAGS unless JAX's backend has started, the user set extra
    backend options or OPTLAB_SMALL_LOOPS is not 1 (with 0 an inherited flag is taken out); True
    when the flag is (now) in XLA_FLAGS."""
    flags = os.environ.get("XLA_FLAGS", "")
    if backend_started():
        return SMALL_LOOP_FLAG in flags
    if os.environ.get(SWITCH, "1") != "1":  # invalid values are refused by the command line
        if os.environ.get(SWITCH) == "0" and SMALL_LOOP_FLAG in flags:
            os.environ["XLA_FLAGS"] = flags.replace(SMALL_LOOP_FLAG, "").strip()
        return False
    if SMALL_LOOP_FLAG in flags:
        return True
    if "xla_backend_extra_options" in flags:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {SMALL_LOOP_FLAG}".strip()
    return True
