"""Command-line guards: user errors become one line on stderr and a non-zero exit.

Every refusal is `optlab: error: KEY=VALUE is invalid: ...` and exit status 2, before anything is
written: `precheck` reads the command line (flags, override syntax, group choices, sweeps),
`check_command` composes the config as Hydra will and validates the job, and a job refused later
anyway (`guard(out)`) leaves no run directory behind.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import logging
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from optlab import xla
from optlab.config import conf_dir
from optlab.errors import UserError, did_you_mean, unknown, unknown_key
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
EXIT_JOB_FAILED = 1
MAX_COMPOSED = 32  # configs composed to check a sweep (each value of each swept key once)
HYDRA_FILES = {"config.yaml", "hydra.yaml", "overrides.yaml"}  # what Hydra writes in .hydra/

log = logging.getLogger("optlab")


def fail(message: str, status: int = EXIT_USER_ERROR) -> None:
    """Print `optlab: error: message` on stderr and exit with `status` (2: a user error)."""
    print(f"optlab: error: {message}", file=sys.stderr)
    raise SystemExit(status)


@contextlib.contextmanager
def guard(out: Path | None = None) -> Iterator[None]:
    """Turn a `UserError` raised inside into `fail(...)` (no traceback); a run directory `out`
    that this command created and that holds only Hydra's own files is removed first."""
    try:
        yield
    except UserError as e:
        if out is not None:
            discard(out)
        fail(str(e))


def choices(group: str) -> list[str]:
    """The config files available in `conf/<group>/`."""
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


# ---------------------------------------------------------------------------------------------
# The command line as Hydra reads it: flags, then overrides.


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """Hydra's own flags and overrides, with one line for an unknown or malformed flag."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.error = lambda message: fail(message)  # argparse prints usage + message otherwise
    args, extra = parser.parse_known_args(list(argv))
    flags = sorted(s for a in parser._actions for s in a.option_strings if s.startswith("--"))
    for arg in extra:
        if arg.startswith("-"):
            flag = arg.partition("=")[0]
            hint = did_you_mean(flag, flags)
            fail(f"{flag} is invalid: not an option of optlab{hint}; options: {', '.join(flags)}")
        fail(f"{arg!r} must come before the options (-m, --cfg, ...): write the overrides last")
    return args


def precheck(argv: Sequence[str]) -> argparse.Namespace:
    """Reject a bad command line before Hydra composes (Hydra's own messages span many lines).

    An unknown flag, an override Hydra cannot parse, an unknown `surface=`/`optimizer=`/
    `noise=`/`experiment=` choice, a launcher whose plugin is missing, an unquoted grid range spec, a
    sweep without `-m`, an optimizer key the chosen optimizer does not take.
    """
    args = parse_command_line(argv)
    for arg in args.overrides:
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
    check_hyperparameter_names(args.overrides)
    if not args.multirun:
        check_not_a_sweep(args.overrides)
    return args


def check_parses(arg: str) -> None:
    """One line for an override Hydra's grammar rejects (Hydra's own message spans many)."""
    if arg.startswith("-") or ("=" not in arg and not arg.startswith("~")):
        if not arg.startswith("-"):
            fail(f"{arg!r} is not an override: write KEY=VALUE (e.g. steps=100)")
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        OverridesParser.create().parse_overrides([arg])
    except OverrideParseException:
        key = arg.partition("=")[0]
        fail(
            f"{arg!r} is not a valid override: brackets or quotes do not match, or a value holding "
            f"parentheses, spaces or quotes is not quoted (e.g. '{key}=\"sin(x) + y\"')"
        )


def check_not_a_sweep(overrides: Sequence[str]) -> None:
    """`optimizer=adam,gd` without `-m`: Hydra refuses it in four lines; say it in one."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for arg, o in zip(
        overrides, OverridesParser.create().parse_overrides(list(overrides)), strict=True
    ):
        if o.is_sweep_override():
            fail(
                f"{arg} is invalid without -m: a comma-separated value is a sweep; add -m "
                "(--multirun) to run one job per value, or write a list as [a,b] or text as 'a,b'"
            )


def _literal(text: str) -> object:
    """`0.9` -> 0.9, `[1,2]` -> [1, 2]; anything else stays text (for messages only)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_hyperparameter_names(argv: Sequence[str]) -> None:
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


# ---------------------------------------------------------------------------------------------
# The config as Hydra will compose it, and the job it describes.


def check_command(argv: Sequence[str], config_name: str = "config") -> None:
    """`precheck`, then compose the config of the jobs as Hydra will (one line for what Hydra
    refuses) and validate them (`app.check`): all before Hydra writes anything. A sweep checks
    its first job and each other value of each swept key (at most MAX_COMPOSED jobs)."""
    args = precheck(argv)
    with guard():
        xla.check_switch()
    if _only_shows(args):
        return
    jobs = [(o, compose(o, config_name)) for o in _jobs(args.overrides, args.multirun)]
    check_additions(args.overrides, jobs[0][1], config_name)
    if config_name != "config" or args.cfg:  # --cfg only shows the config
        return
    from omegaconf import open_dict

    from optlab import app

    for overrides, cfg in jobs:
        with open_dict(cfg):
            del cfg["hydra"]  # the task sees its config without Hydra's node
        with guard():
            app.check(cfg, overrides)


def check_additions(overrides: Sequence[str], cfg: Any, config_name: str) -> None:
    """`+KEY=VALUE` adds a key; a new top-level key is read by nothing: refuse it, naming the
    keys that exist (`+tuning.budget=3` and `+optimizer.x=...` add inside existing keys)."""
    added = [o for o in overrides if o.startswith("+") and "=" in o]
    tops = {o.lstrip("+").partition("=")[0].partition(".")[0]: o for o in added}
    tops = {k: o for k, o in tops.items() if k != "hydra" and "/" not in k}
    if not tops:
        return
    base = compose([o for o in overrides if o not in added], config_name)
    for key, typed in tops.items():
        if key not in base:
            fail(str(unknown_key(typed, key, [str(k) for k in base if k != "hydra"])))


def _only_shows(args: argparse.Namespace) -> bool:
    """Flags under which Hydra shows something instead of running a job."""
    shown = (args.help, args.hydra_help, args.shell_completion, args.info)
    other_config = (args.config_path, args.config_name, args.config_dir, args.experimental_rerun)
    return any(shown) or any(v is not None for v in other_config)


def _jobs(overrides: Sequence[str], multirun: bool) -> Iterator[list[str]]:
    """The override lists to compose: the first job of a sweep, then each other value of each
    swept key with the rest at their first values (at most MAX_COMPOSED)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    values = []
    for arg, o in zip(overrides, parsed, strict=True):
        if multirun and o.is_sweep_override() and o.is_discrete_sweep():
            key = o.get_key_element()
            values.append([f"{key}={v}" for v in o.sweep_string_iterator()] or [arg])
        else:
            values.append([arg])
    first = [v[0] for v in values]
    yield first
    n = 1
    for i, vs in enumerate(values):
        for v in vs[1:]:
            if n >= MAX_COMPOSED:
                return
            n += 1
            yield [*first[:i], v, *first[i + 1 :]]


def compose(overrides: Sequence[str], config_name: str = "config") -> Any:
    """The config Hydra composes from `overrides` (with `hydra.*`), or one line saying why not."""
    from hydra import compose as _compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(
            version_base="1.3", config_dir=str(conf_dir()), job_name="optlab"
        ):
            return _compose(config_name, overrides=list(overrides), return_hydra_config=True)
    except HydraException as e:
        fail(composition_error(e, overrides, config_name))
    except Exception as e:  # OmegaConf's errors while applying an override
        fail(f"{' '.join(overrides)} is invalid: {_first_line(e)}")


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _override(overrides: Sequence[str], key: str) -> str:
    """The override (as typed) that sets `key`, else `key`."""
    for o in overrides:
        if o.partition("=")[0].lstrip("+~") == key:
            return o
    return key


def composition_error(e: Exception, overrides: Sequence[str], config_name: str) -> str:
    """Hydra's multi-line composition error as one line naming the override and what is allowed."""
    from hydra.errors import MissingConfigException

    text = str(e)
    if isinstance(e, MissingConfigException) and e.missing_cfg_file and e.options is not None:
        group, _, value = e.missing_cfg_file.rpartition("/")
        return str(unknown(group, value, e.options))
    if m := re.match(r"Could not override '([^']+)'", text):
        key = m.group(1)
        typed, keys = _override(overrides, key), _keys_beside(key, config_name)
        if keys is None:  # the parent is null (e.g. `tuning: null`): `+` adds keys to it
            parent = key.rpartition(".")[0]
            return f"{typed} is invalid: {parent} is null here; set a key in it with +{typed}"
        return str(unknown_key(typed, key, keys))
    if m := re.match(r"Could not append to config. An item is already at '([^']+)'", text):
        key = m.group(1)
        typed = _override(overrides, key)
        return f"{typed} is invalid: {key} already exists; write {typed.lstrip('+')} (without +)"
    if m := re.match(r"Could not delete from config. '([^']+)' does not exist", text):
        key = m.group(1)
        return str(
            unknown_key(_override(overrides, key), key, _keys_beside(key, config_name) or [])
        )
    return f"{' '.join(overrides) or config_name}: {_first_line(e)}"


def _keys_beside(key: str, config_name: str) -> list[str] | None:
    """The keys of the config node holding `key` (from the config without overrides); None
    when that node is null."""
    from hydra import compose as _compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import DictConfig, OmegaConf

    parent = key.rpartition(".")[0]
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir()), job_name="optlab"):
        cfg = _compose(config_name, return_hydra_config=key.startswith("hydra."))
    node = OmegaConf.select(cfg, parent) if parent else cfg
    if node is None and parent in cfg:
        return None
    if not isinstance(node, DictConfig):
        return []
    keys = [str(k) for k in node]
    if not parent:
        keys += [g for g in GROUPS if g not in keys]
    return keys


# ---------------------------------------------------------------------------------------------
# The run directory of a refused job, and the failures of a sweep.


_created: list[Path] = []  # directories this command made for its run(s), outermost first
failures: list[str] = []  # jobs of this multirun (this process) that crashed


def _record_new(path: Any) -> None:
    """Remember `path` and each missing ancestor: Hydra creates them right after this."""
    p = Path(str(path)).absolute()
    missing = [a for a in (p, *p.parents) if not a.exists()]
    _created[:] = list(reversed(missing))


def discard(out: Path) -> None:
    """Remove run directory `out` when this command created it and it holds only Hydra's files
    (`.hydra/`, the job log, a sweep's `multirun.yaml`); then its empty new parents."""
    out = Path(out).absolute()
    if out not in _created and not any(d in out.parents for d in _created):
        return
    for d in [out, *[a for a in out.parents if a in _created]]:
        if not _only_hydra(d):
            return
        shutil.rmtree(d)
    for d in reversed(_created):
        with contextlib.suppress(OSError):
            d.rmdir()  # only when empty


def _only_hydra(d: Path) -> bool:
    if not d.is_dir():
        return False
    for entry in d.iterdir():
        if entry.name == ".hydra" and entry.is_dir():
            if any(f.name not in HYDRA_FILES for f in entry.iterdir()):
                return False
        elif not (entry.is_file() and entry.name in {"optlab.log", "multirun.yaml"}):
            if entry.is_dir() and _only_hydra(entry):  # a refused sweep's job directory
                continue
            return False
    return True


class RunDir(Callback):
    """Remember which run/sweep directories Hydra is about to create (for `discard`); the
    `hydra.callbacks.run_dir` entry of conf/config.yaml."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        _record_new(config.hydra.run.dir)

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        _record_new(config.hydra.sweep.dir)


@contextlib.contextmanager
def job(multirun: bool, name: str) -> Iterator[None]:
    """In a multirun, a job that crashes is logged (traceback in its log) and counted, and the
    sweep goes on, so that the other jobs run and the report is written; `exit_status` says so."""
    if not multirun:
        yield
        return
    try:
        yield
    except UserError:
        raise
    except Exception as e:
        log.error("optlab: job %s failed: %s: %s", name, type(e).__name__, e, exc_info=True)
        failures.append(f"job {name} ({type(e).__name__}: {_first_line(e)})")


def exit_status() -> None:
    """After a multirun: exit 1 with one line when some of its jobs crashed."""
    if failures:
        fail(f"{len(failures)} job(s) failed: {'; '.join(failures)}", EXIT_JOB_FAILED)


@contextlib.contextmanager
def command_line(argv: Sequence[str]) -> Iterator[None]:
    """`sys.argv` set to `argv` for Hydra (which reads it), restored afterwards."""
    saved = sys.argv
    sys.argv = [saved[0] if saved else "optlab", *argv]
    try:
        yield
    finally:
        sys.argv = saved
