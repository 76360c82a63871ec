"""User-facing errors: one clear line, no traceback."""

import difflib
from collections.abc import Iterable


class UserError(ValueError):
    """Bad input from the user: the message names the key, the value and what is allowed."""


def bad_value(key: str, value: object, allowed: str) -> UserError:
    """Build the standard one-line error for `key=value`."""
    return UserError(f"{key}={value!r} is invalid: {allowed}")


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(str(value), sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(key: str, value: object, choices: Iterable[str]) -> UserError:
    """`key=value is unknown (did you mean ...?); available: ...` for a name not in `choices`."""
    choices = sorted(choices)
    hint = did_you_mean(value, choices)
    return UserError(f"{key}={value!r} is unknown{hint}; available: {', '.join(choices)}")


def unknown_key(override: str, key: str, keys: Iterable[str]) -> UserError:
    """`KEY=VALUE is invalid: unknown key 'KEY' (did you mean ...?); keys here: ...` for a config
    key that does not exist (`keys`: the keys beside it)."""
    keys = sorted(keys)
    parent, _, name = key.rpartition(".")
    close = difflib.get_close_matches(name, keys, n=1)
    hint = f" (did you mean {'.'.join([*filter(None, [parent]), close[0]])!r}?)" if close else ""
    here = f"; keys here: {', '.join(keys)}" if keys else ""
    return UserError(f"{override} is invalid: unknown key {key!r}{hint}{here}")
