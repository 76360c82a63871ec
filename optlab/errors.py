"""User-facing errors: one clear line, no traceback."""


class UserError(ValueError):
    """Bad input from the user: the message names the key, the value and what is allowed."""


def bad_value(key: str, value: object, allowed: str) -> UserError:
    """Build the standard one-line error for `key=value`."""
    return UserError(f"{key}={value!r} is invalid: {allowed}")
