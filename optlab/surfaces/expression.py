"""`surface=expression surface.expr="x**2 + 3*y**2 - x*y"`: a surface from a safe arithmetic expression.

The text is parsed with Python's `ast` and checked against a whitelist (numbers, the variables,
+ − * / **, parentheses, a fixed set of `jax.numpy` functions, pi and e); nothing is ever `eval`ed.
Variables: x, y (2-D) or x0 … x{d−1}.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import re
from typing import Any

import jax.numpy as jnp

from optlab.errors import UserError
from optlab.surfaces.base import Surface, SurfaceInfo
from optlab.surfaces.registry import register
from optlab.surfaces.user import user_surface

FUNCTIONS = {
    "sin": jnp.sin,
    "cos": jnp.cos,
    "tan": jnp.tan,
    "exp": jnp.exp,
    "log": jnp.log,
    "sqrt": jnp.sqrt,
    "abs": jnp.abs,
    "tanh": jnp.tanh,
    "sinh": jnp.sinh,
    "cosh": jnp.cosh,
    "arctan": jnp.arctan,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY = {
    ast.Add: jnp.add,
    ast.Sub: jnp.subtract,
    ast.Mult: jnp.multiply,
    ast.Div: jnp.true_divide,
    ast.Pow: jnp.power,
}
UNARY = {ast.USub: jnp.negative, ast.UAdd: jnp.positive}
KINKED = frozenset({"abs", "sqrt"})  # not differentiable everywhere
MAX_LENGTH = 1000
MAX_INT_POWER = 64  # larger integer exponents are evaluated as float powers
ALLOWED = (
    "allowed: numbers, the variables (x, y or x0..x{d-1}), + - * / **, parentheses, "
    + ", ".join(FUNCTIONS)
    + ", pi, e"
)
XY = ("x", "y")
_INDEXED = re.compile(r"x(0|[1-9][0-9]*)")
_HINTS = {ast.BitXor: " (use ** for powers)"}
_KINDS = {
    ast.Attribute: "attribute access",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Subscript: "indexing",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional",
    ast.NamedExpr: "assignment",
    ast.Starred: "unpacking",
}


def variables(dim: int) -> dict[str, int]:
    """Variable name -> coordinate: x0 … x{d−1}, and x, y when d = 2."""
    names = {f"x{i}": i for i in range(dim)}
    return names | {"x": 0, "y": 1} if dim == 2 else names


def _fail(text: str, message: str) -> UserError:
    return UserError(f"surface.expr={text!r} is invalid: {message}; {ALLOWED}")


def _column(text: str, lineno: int, col: int) -> int:
    """1-based column in the whole text of (lineno, 0-based col) (the text is ASCII)."""
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: lineno - 1]) + col + 1


def _reject(text: str, node: ast.AST, what: str, token: str | None = None) -> UserError:
    token = ast.get_source_segment(text, node) if token is None else token
    col = _column(text, node.lineno, node.col_offset)
    return _fail(text, f"{what} {token!r} at column {col} is not allowed")


def _operator_column(text: str, node: ast.BinOp) -> tuple[str, int]:
    """The operator's token and 1-based column between the operands of a one-line BinOp."""
    start = _column(text, node.left.end_lineno, node.left.end_col_offset) - 1
    end = _column(text, node.right.lineno, node.right.col_offset) - 1
    gap = text[start:end]
    token = gap.strip().strip("()").strip() or gap.strip()
    return token, start + gap.find(token) + 1


def _check(text: str, node: ast.AST) -> None:
    """Raise a UserError at the first node (outermost first) outside the whitelist."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _reject(text, node, "constant")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _reject(text, node, "function without a call", node.id)
        if node.id not in CONSTANTS and not _INDEXED.fullmatch(node.id) and node.id not in XY:
            raise _reject(text, node, "unknown name", node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY:
            token, col = _operator_column(text, node)
            hint = _HINTS.get(type(node.op), "")
            raise _fail(text, f"operator {token!r} at column {col} is not allowed{hint}")
        _check(text, node.left)
        _check(text, node.right)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in UNARY:
            raise _reject(text, node, "operator")
        _check(text, node.operand)
    elif isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            _check(text, func)  # reports attribute access, lambda, ... as such
            raise _reject(text, func, "call of")
        if func.id not in FUNCTIONS:
            raise _reject(text, func, "unknown function", func.id)
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            col = _column(text, node.lineno, node.col_offset)
            segment = ast.get_source_segment(text, node)
            raise _fail(text, f"{func.id} takes exactly one argument ({segment!r} at column {col})")
        _check(text, node.args[0])
    else:
        kind = _KINDS.get(type(node), type(node).__name__.lower())
        token = ast.get_source_segment(text, node)
        if isinstance(node, ast.Attribute):  # point at the '.name' itself
            token = f".{node.attr}"
            col = _column(text, node.end_lineno, node.end_col_offset) - len(token)
            raise _fail(text, f"{kind} {token!r} at column {col} is not allowed")
        raise _reject(text, node, kind, token)


def normalize(text: Any) -> str:
    """`text` without surrounding whitespace, or a UserError if it is not a non-empty string."""
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"surface.expr={text!r} is invalid: must be a non-empty expression string")
    return text.strip()


@functools.lru_cache(maxsize=256)
def parse(text: str) -> ast.expr:
    """The checked syntax tree of the normalized `text` (cached: one parse per distinct text)."""
    if len(text) > MAX_LENGTH:
        raise UserError(f"surface.expr is too long ({len(text)} characters; at most {MAX_LENGTH})")
    bad = next((i for i, ch in enumerate(text) if not (ch.isascii() and ch.isprintable())), None)
    if bad is not None and text[bad] not in "\n\t":
        raise _fail(text, f"character {text[bad]!r} at column {bad + 1} is not allowed")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        # offset 0: the text ended before the expression did (e.g. "x**2 +"): point at its end
        col = _column(text, e.lineno or 1, e.offset - 1) if e.offset else len(text) + 1
        raise _fail(text, f"syntax error at column {col} ({e.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise _fail(text, "it is nested too deeply") from None
    _check(text, tree.body)
    return tree.body


def names_used(tree: ast.expr) -> set[str]:
    """The variable names appearing in a checked tree."""
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in CONSTANTS and n.id not in FUNCTIONS
    }


def infer_dim(tree: ast.expr) -> int:
    """2, or one more than the highest index k of a variable xk."""
    indices = [int(m.group(1)) for n in names_used(tree) if (m := _INDEXED.fullmatch(n))]
    return max([2, *(k + 1 for k in indices)])


def _exponent(node: ast.expr) -> int | None:
    """A small literal integer exponent (kept exact: x**2 is x*x, not exp(2 log x))."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign, node = (-1 if isinstance(node.op, ast.USub) else 1), node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        k = sign * node.value
        return k if abs(k) <= MAX_INT_POWER else None
    return None


def _evaluate(node: ast.expr, x, names: dict[str, int]):
    """The value of a checked tree at `x` with jax.numpy (numbers stay weakly typed)."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else x[names[node.id]]
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_evaluate(node.operand, x, names))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], x, names))
    left = _evaluate(node.left, x, names)
    k = _exponent(node.right) if isinstance(node.op, ast.Pow) else None
    right = k if k is not None else _evaluate(node.right, x, names)
    return BINARY[type(node.op)](left, right)


@dataclasses.dataclass(frozen=True)
class Expression:
    """f(x) given by a checked expression; equal texts are equal functions (one jit compile)."""

    text: str
    dim: int

    def __call__(self, x):
        value = _evaluate(parse(self.text), x, variables(self.dim))
        return jnp.asarray(value, dtype=x.dtype)


def _names_fit(text: str, tree: ast.expr, dim: int) -> None:
    allowed = variables(dim) | CONSTANTS | FUNCTIONS
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            hint = (
                "x, y are the 2-D names" if node.id in XY else f"the variables are x0..x{dim - 1}"
            )
            raise _reject(text, node, f"variable ({hint} for dim={dim})", node.id)


@register("expression", min_dim=1, max_dim=None)
def expression(
    expr: str | None = None, dim: int | None = None, bounds: Any = None, minimizers: Any = None
) -> Surface:
    """A surface from `expr`, e.g. "x**2 + 3*y**2 - x*y"; f* = f(minimizers) when they are given."""
    expr = normalize(expr)
    tree = parse(expr)
    dim = infer_dim(tree) if dim is None else dim
    _names_fit(expr, tree, dim)
    used = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    info = SurfaceInfo(
        formula=expr,
        source="user expression",
        differentiable=not used & KINKED,
        nondifferentiable_at="possibly where an argument of abs or sqrt is 0"
        if used & KINKED
        else "",
    )
    fn = Expression(expr, dim)
    return user_surface("expression", fn, dim, bounds, minimizers, info, {"expr": expr})
