"""Command-line guards: user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import re
import sys
from collections.abc import Iterator

from optlab.config import conf_dir
from optlab.errors import UserError, unknown
from optlab.optimizers.registry import check_names

GROUPS = ("surface", "optimizer", "noise", "experiment")
LAUNCHERS = {  # hydra/launcher choice -> the plugin module that provides it (extra `sweep`)
    "joblib": "hydra_plugins.hydra_joblib_launcher",
    "submitit_slurm": "hydra_plugins.hydra_submitit_launcher",
    "submitit_local": "hydra_plugins.hydra_submitit_launcher",
    "slurm_gpu": "hydra_plugins.hydra_submitit_launcher",  # conf/hydra/launcher/slurm_gpu.yaml
}
_RANGE_SPEC = re.compile(r"^(linspace|logspace|range)\(")
EXIT_USER_ERROR = 2


def fail(message: str) -> None:
    """Print `optlab: error: message` on stderr and exit with status 2."""
    print(f"optlab: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Turn a `UserError` raised inside into `fail(...)` (no traceback)."""
    try:
        yield
    except UserError as e:
        fail(str(e))


def choices(group: str) -> list[str]:
    """The config files available in `conf/<group>/`."""
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def precheck(argv: list[str]) -> None:
    """Reject an unknown `surface=`/`optimizer=`/`noise=`/`experiment=` choice before Hydra composes.

    Hydra's own message spans many lines; this one names the key, the value and the choices.
    Also: an override Hydra cannot parse, a launcher whose plugin is missing, and an unquoted
    grid range spec.
    """
    for arg in argv:
        key, sep, value = arg.partition("=")
        key = key.lstrip("+~")
        if key == "hydra/launcher" and value in LAUNCHERS and not plugin_installed(value):
            fail(f"hydra/launcher={value} needs its Hydra plugin: pip install -e '.[sweep]'")
        if key.startswith("grid.") and _RANGE_SPEC.match(value):
            fail(f"{key}={value} must be quoted so that Hydra passes it on: '{key}=\"{value}\"'")
        check_parses(arg)
        if not sep or key not in GROUPS or "(" in value:
            continue
        allowed = choices(key)
        for v in value.split(","):
            v = v.strip()
            if v and v != "null" and v not in allowed:
                fail(str(unknown(key, v, allowed)))
    check_hyperparameter_names(argv)


def check_parses(arg: str) -> None:
    """One line for an override Hydra's grammar rejects (Hydra's own message spans many)."""
    if arg.startswith("-") or "=" not in arg:
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        OverridesParser.create().parse_overrides([arg])
    except OverrideParseException:
        key = arg.partition("=")[0]
        fail(
            f"{arg!r} is not a valid override: quote a value holding parentheses, spaces or quotes, "
            f"e.g. '{key}=\"sin(x) + y\"'"
        )


def _literal(text: str) -> object:
    """`0.9` -> 0.9, `[1,2]` -> [1, 2]; anything else stays text (for messages only)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_hyperparameter_names(argv: list[str]) -> None:
    """Reject `optimizer.KEY=...` when KEY is not a hyperparameter of the `optimizer=NAME` chosen.

    Hydra would refuse the key in several lines without naming the valid ones.
    """
    chosen = [v for k, _, v in (a.partition("=") for a in argv) if k == "optimizer"]
    if len(chosen) != 1 or "," in chosen[0] or chosen[0] not in choices("optimizer"):
        return
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key.startswith("optimizer."):
            with guard():
                check_names(chosen[0], {key.removeprefix("optimizer."): _literal(value)})


def plugin_installed(launcher: str) -> bool:
    """Whether the Hydra plugin providing `hydra/launcher=<launcher>` can be imported."""
    try:
        return importlib.util.find_spec(LAUNCHERS[launcher]) is not None
    except ModuleNotFoundError:  # the `hydra_plugins` namespace itself is absent
        return False
