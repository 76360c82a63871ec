"""User-facing errors: one clear line, no traceback."""

import difflib
from collections.abc import Iterable


class UserError(ValueError):
    """Bad input from the user: the message names the key, the value and what is allowed."""


def bad_value(key: str, value: object, allowed: str) -> UserError:
    """Build the standard one-line error for `key=value`."""
    return UserError(f"{key}={value!r} is invalid: {allowed}")


def unknown(key: str, value: object, choices: Iterable[str]) -> UserError:
    """`key=value is unknown (did you mean ...?); available: ...` for a name not in `choices`."""
    choices = sorted(choices)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UserError(f"{key}={value!r} is unknown{hint}; available: {', '.join(choices)}")
