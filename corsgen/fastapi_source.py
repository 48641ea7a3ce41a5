"""A FastAPI application's source, read with :mod:`ast`: never imported, never run.

Finds the ``CORSMiddleware`` an application adds and reads the literal values of its
settings: constants, lists of them, and names bound to literals in the same module (or the
function that adds the middleware). Anything else raises :class:`NotLiteral` naming the
node, for :mod:`corsgen.from_fastapi` to report at its line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CORS_MIDDLEWARE_MODULES = ("fastapi.middleware.cors", "starlette.middleware.cors")
# Calls that change a list in place: a list bound to a name and changed later is not
# the literal it was bound to.
_MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "sort",
        "reverse",
        "add",
        "discard",
        "update",
        "__setitem__",
        "__delitem__",
        "__iadd__",
    }
)


class NotLiteral(Exception):
    """A value computed at run time: ``node`` is where it is written, ``reason`` says why."""

    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass(frozen=True)
class SourceValue:
    """A literal read from the source, with the line of each list item."""

    value: Any
    line: int
    item_lines: tuple[int, ...] = ()


def snippet(node: ast.AST) -> str:
    """The source text of ``node``, cut to fit in one message."""
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class Application:
    """The parsed application: finds the middleware and reads literal values."""

    def __init__(self, source: str, filename: str) -> None:
        self.tree = ast.parse(source, filename=filename)
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.class_names = self._cors_names()
        self.mutated = self._mutated_names()

    def _cors_names(self) -> set[str]:
        names = {"CORSMiddleware"}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module in CORS_MIDDLEWARE_MODULES:
                names.update(
                    alias.asname or alias.name
                    for alias in node.names
                    if alias.name == "CORSMiddleware"
                )
        return names

    def _mutated_names(self) -> set[str]:
        mutated: set[str] = set()
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MUTATING_METHODS
                and isinstance(node.func.value, ast.Name)
            ):
                mutated.add(node.func.value.id)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
                if isinstance(node.value, ast.Name):
                    mutated.add(node.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                mutated.add(node.target.id)
        return mutated

    def is_cors_middleware(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.class_names
        return isinstance(node, ast.Attribute) and node.attr == "CORSMiddleware"

    def middleware_calls(self) -> list[ast.Call]:
        """``app.add_middleware(CORSMiddleware, ...)`` and ``Middleware(CORSMiddleware, ...)``."""
        calls = [
            node
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Call)
            and _callee(node) in ("add_middleware", "Middleware")
            and self.is_cors_middleware(_middleware_class(node))
        ]
        return sorted(calls, key=lambda call: (call.lineno, call.col_offset))

    # --- literal values ---------------------------------------------------------------

    def _scopes(self, node: ast.AST) -> list[ast.AST]:
        # Python resolves a free name in the enclosing functions, then the module;
        # class bodies are not enclosing scopes for the code inside their methods.
        scopes: list[ast.AST] = []
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                scopes.append(current)
            current = self.parents.get(current)
        scopes.append(self.tree)
        return scopes

    def _bindings(self, scope: ast.AST, name: str) -> list[ast.expr | None]:
        """What ``name`` is bound to directly in ``scope``; None for a binding not readable."""
        found: list[ast.expr | None] = []
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = scope.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            found += [None for argument in every if argument.arg == name]
        for node in _scope_nodes(scope):
            if isinstance(node, ast.Assign):
                # Names inside unpacking targets are found below as plain stores.
                found += [
                    node.value
                    for target in node.targets
                    if isinstance(target, ast.Name) and target.id == name
                ]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.target.id == name and node.value is not None:
                    found.append(node.value)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if (alias.asname or alias.name.split(".")[0]) == name:
                        found.append(None)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name == name:
                    found.append(None)
            elif (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Store)
                and node.id == name
                and not isinstance(self.parents.get(node), (ast.Assign, ast.AnnAssign))
            ):
                found.append(None)  # unpacking, for-loop, with ... as, walrus, +=
        return found

    def _resolve(self, name: ast.Name, seen: frozenset[str]) -> ast.expr:
        if name.id in seen:
            raise NotLiteral(name, f"{name.id!r} refers to itself")
        if name.id in self.mutated:
            raise NotLiteral(
                name, f"{name.id!r} is changed after it is bound (append, +=, item assignment)"
            )
        for scope in self._scopes(name):
            bindings = self._bindings(scope, name.id)
            if not bindings:
                continue
            if len(bindings) > 1:
                raise NotLiteral(name, f"{name.id!r} is bound more than once")
            (value,) = bindings
            if value is None:
                raise NotLiteral(name, f"{name.id!r} is not bound to a literal value")
            return value
        raise NotLiteral(
            name, f"{name.id!r} is not bound in this module (imported or built at run time)"
        )

    def literal(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> SourceValue:
        """The literal value of ``node``, following names bound to literals."""
        if isinstance(node, ast.Name):
            return self.literal(self._resolve(node, seen), seen | {node.id})
        if isinstance(node, ast.Constant):
            return SourceValue(node.value, node.lineno)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items: list[Any] = []
            lines: list[int] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    raise NotLiteral(element, "unpacking (*) is not a literal list")
                item = self.literal(element, seen)
                items.append(item.value)
                lines.append(element.lineno)
            return SourceValue(items, node.lineno, tuple(lines))
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int)
        ):
            return SourceValue(-node.operand.value, node.lineno)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            # max_age=60 * 60 * 24 and ORIGINS + ["http://localhost"] are still literals.
            left, right = self.literal(node.left, seen), self.literal(node.right, seen)
            numbers = all(
                isinstance(v.value, int) and not isinstance(v.value, bool) for v in (left, right)
            )
            if numbers:
                operate = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__}
                return SourceValue(operate[type(node.op)](left.value, right.value), node.lineno)
            if isinstance(node.op, ast.Add) and all(
                isinstance(v.value, list) for v in (left, right)
            ):
                return SourceValue(
                    left.value + right.value, node.lineno, left.item_lines + right.item_lines
                )
        raise NotLiteral(node, "is computed at run time")


# The parameter that names the middleware class: Starlette.add_middleware(middleware_class,
# ...) and Middleware(cls, ...).
MIDDLEWARE_CLASS_KEYWORDS = ("middleware_class", "cls")


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _middleware_class(call: ast.Call) -> ast.expr:
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in MIDDLEWARE_CLASS_KEYWORDS:
            return keyword.value
    return ast.Constant(None)


_NESTED_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _scope_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``scope`` that belongs to it: nested functions and classes excluded."""
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, _NESTED_SCOPES):
            continue  # their name is bound here; their body is another scope
        pending.extend(ast.iter_child_nodes(node))
