"""``corsgen init --from-fastapi``: FastAPI's CORSMiddleware, translated into a policy.

The application's source is read with :mod:`ast`, never imported or run. Only literal
values, and names bound to literals in the same module (or the function that adds the
middleware), are translated. Anything else is reported with its line, and nothing is
written: a policy that silently differed from what the application allowed would break
the front-end or, worse, allow more than before.

The policy states Starlette's *effective* settings, not the keywords as written:
Starlette's defaults differ from corsgen's (see :data:`STARLETTE_DEFAULTS`) and it always
allows the CORS-safelisted request headers.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corsgen.errors import PolicyError, Problem
from corsgen.init import load_policy_text, yaml_name
from corsgen.load import Document
from corsgen.origins import OriginSyntaxError, parse_origin
from corsgen.policy import MAX_AGE_LIMIT, Policy, policy_from_document

# CORSMiddleware.__init__ in starlette/middleware/cors.py.
STARLETTE_DEFAULTS: dict[str, Any] = {
    "allow_origins": (),
    "allow_methods": ("GET",),
    "allow_headers": (),
    "allow_credentials": False,
    "allow_origin_regex": None,
    "allow_private_network": False,
    "expose_headers": (),
    "max_age": 600,
}
# Starlette adds these to every preflight's Access-Control-Allow-Headers, whatever
# allow_headers says; a JSON POST relies on Content-Type being among them.
STARLETTE_SAFELISTED_HEADERS = ("Accept", "Accept-Language", "Content-Language", "Content-Type")
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
# Values written unquoted in the policy; everything else is written as a JSON string,
# which is also a valid YAML double-quoted scalar.
_PLAIN_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_PLAIN_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9._-]+(?::[0-9]+)?$")
_YAML_WORDS = frozenset({"null", "true", "false"})


# --- results and problems -----------------------------------------------------------------


class TranslationError(PolicyError):
    """The middleware could not be translated; carries every problem found, at the
    application's lines (a setting corsgen cannot carry over, or one its rules refuse)."""


@dataclass(frozen=True)
class Translation:
    """A translated policy: the file's text, the validated policy, and notes for the user."""

    text: str
    policy: Policy
    line: int
    notes: list[str] = field(default_factory=list)


# --- reading the application ----------------------------------------------------------------


class _NotLiteral(Exception):
    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass(frozen=True)
class _Value:
    """A literal read from the source, with the line of each list item."""

    value: Any
    line: int
    item_lines: tuple[int, ...] = ()


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class _Module:
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
            raise _NotLiteral(name, f"{name.id!r} refers to itself")
        if name.id in self.mutated:
            raise _NotLiteral(
                name, f"{name.id!r} is changed after it is bound (append, +=, item assignment)"
            )
        for scope in self._scopes(name):
            bindings = self._bindings(scope, name.id)
            if not bindings:
                continue
            if len(bindings) > 1:
                raise _NotLiteral(name, f"{name.id!r} is bound more than once")
            (value,) = bindings
            if value is None:
                raise _NotLiteral(name, f"{name.id!r} is not bound to a literal value")
            return value
        raise _NotLiteral(
            name, f"{name.id!r} is not bound in this module (imported or built at run time)"
        )

    def literal(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> _Value:
        """The literal value of ``node``, following names bound to literals."""
        if isinstance(node, ast.Name):
            return self.literal(self._resolve(node, seen), seen | {node.id})
        if isinstance(node, ast.Constant):
            return _Value(node.value, node.lineno)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items: list[Any] = []
            lines: list[int] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    raise _NotLiteral(element, "unpacking (*) is not a literal list")
                item = self.literal(element, seen)
                items.append(item.value)
                lines.append(element.lineno)
            return _Value(items, node.lineno, tuple(lines))
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int)
        ):
            return _Value(-node.operand.value, node.lineno)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            # max_age=60 * 60 * 24 and ORIGINS + ["http://localhost"] are still literals.
            left, right = self.literal(node.left, seen), self.literal(node.right, seen)
            numbers = all(
                isinstance(v.value, int) and not isinstance(v.value, bool) for v in (left, right)
            )
            if numbers:
                operate = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__}
                return _Value(operate[type(node.op)](left.value, right.value), node.lineno)
            if isinstance(node.op, ast.Add) and all(
                isinstance(v.value, list) for v in (left, right)
            ):
                return _Value(
                    left.value + right.value, node.lineno, left.item_lines + right.item_lines
                )
        raise _NotLiteral(node, "is computed at run time")


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


# --- translating the middleware's settings -------------------------------------------------


@dataclass
class _Setting:
    """One policy key being built: its value, comment lines and source lines."""

    value: Any
    comments: list[str] = field(default_factory=list)
    line: int | None = None
    item_lines: tuple[int, ...] = ()


class _Translator:
    def __init__(self, module: _Module, call: ast.Call) -> None:
        self.module = module
        self.call = call
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.values: dict[str, _Value] = {}
        # Settings already reported as unreadable: not replaced by Starlette's default,
        # which would only add misleading problems.
        self.failed: set[str] = set()

    def problem(self, line: int | None, setting: str | None, message: str) -> None:
        self.problems.append(Problem(line, None, f"{setting}: {message}" if setting else message))

    def read_keywords(self) -> None:
        if len(self.call.args) > 1:
            self.problem(
                self.call.lineno,
                None,
                "settings passed by position; pass them by keyword (allow_origins=...)",
            )
        for keyword in self.call.keywords:
            if keyword.arg in MIDDLEWARE_CLASS_KEYWORDS and not self.call.args:
                continue  # add_middleware(middleware_class=CORSMiddleware, ...)
            if keyword.arg is None:
                self.problem(
                    keyword.value.lineno,
                    None,
                    f"**{_snippet(keyword.value)} is expanded at run time; "
                    "write the settings as keywords with literal values",
                )
                continue
            if keyword.arg not in STARLETTE_DEFAULTS:
                self.problem(keyword.value.lineno, keyword.arg, "is not a CORSMiddleware setting")
                continue
            try:
                self.values[keyword.arg] = self.module.literal(keyword.value)
            except _NotLiteral as exc:
                self.failed.add(keyword.arg)
                self.problem(
                    keyword.value.lineno,
                    keyword.arg,
                    f"{_snippet(exc.node)} {exc.reason}: corsgen init reads only literal "
                    "values and names bound to them in this module; write this setting "
                    "into the policy by hand",
                )

    def effective(self, setting: str) -> _Value | None:
        if setting in self.failed:
            return None
        if setting in self.values:
            return self.values[setting]
        default = STARLETTE_DEFAULTS[setting]
        return _Value(list(default) if isinstance(default, tuple) else default, self.call.lineno)

    def strings(self, setting: str) -> _Value | None:
        """A list-of-strings setting, or None after reporting why it is not one."""
        value = self.effective(setting)
        if value is None:
            return None
        if isinstance(value.value, str):
            self.problem(
                value.line,
                setting,
                f"is the string {value.value!r}, not a list: Starlette would test it "
                'character by character; write a list such as ["..."]',
            )
            return None
        if not isinstance(value.value, list) or not all(
            isinstance(item, str) for item in value.value
        ):
            self.problem(value.line, setting, "must be a list of strings")
            return None
        return value

    def flag(self, setting: str) -> bool | None:
        value = self.effective(setting)
        if value is None:
            return None
        if not isinstance(value.value, bool):
            self.problem(value.line, setting, f"must be True or False, not {value.value!r}")
            return None
        return value.value

    # --- each setting -------------------------------------------------------------------

    def origins(self, credentials: bool | None) -> tuple[_Setting | None, _Setting | None]:

        origins = self.strings("allow_origins")
        regex_value = self.effective("allow_origin_regex")
        if origins is None or regex_value is None:
            return None, None
        regex = regex_value.value
        if regex is not None and not isinstance(regex, str):
            self.problem(regex_value.line, "allow_origin_regex", "must be a string")
            return None, None
        if "*" in origins.value:
            if credentials:
                self.problem(
                    origins.line,
                    "allow_origins",
                    "'*' with allow_credentials=True: Starlette then echoes every "
                    "request's Origin with Access-Control-Allow-Credentials: true, so any "
                    "site can act as the signed-in user. corsgen refuses this; list the "
                    "origins of your front-ends instead (or drop allow_credentials)",
                )
                return None, None
            comments = ["allow_origins contains '*': any origin, without credentials."]
            if len(origins.value) > 1 or regex is not None:
                self.notes.append(
                    "allow_origins contains '*', which allows every origin; the other "
                    "entries and allow_origin_regex add nothing and were left out"
                )
            return _Setting("*", comments, origins.line), None
        entries: list[str] = []
        lines: list[int] = []
        for entry, line in zip(origins.value, origins.item_lines, strict=True):
            if "*" in entry:
                self.problem(
                    line,
                    "allow_origins",
                    f"{entry!r}: Starlette compares allow_origins as plain strings, so "
                    "this entry never matched any Origin; in a corsgen policy it would "
                    "allow every matching origin. If that is what you want, write it into "
                    "the policy by hand",
                )
                continue
            try:
                normalised = parse_origin(entry).text
            except OriginSyntaxError:
                normalised = entry  # corsgen's own validation reports it, with this line
            if normalised != entry:
                self.notes.append(
                    f"line {line}: {entry!r} is written {normalised!r} in the policy; "
                    "browsers send the latter, which Starlette's exact comparison never "
                    "matched, so the edge now allows it"
                )
            entries.append(normalised)
            lines.append(line)
        regex_setting = None
        if regex is not None:
            regex_setting = _Setting(
                [regex],
                [
                    "allow_origin_regex: matched against the whole Origin, as Starlette's "
                    "fullmatch does."
                ],
                regex_value.line,
                (regex_value.line,),
            )
        if not entries and not origins.item_lines and regex_setting is None:
            self.problem(
                origins.line,
                "allow_origins",
                "is empty and there is no allow_origin_regex: this middleware allows no "
                "origin, so there is no CORS policy to move to the edge",
            )
            return None, None
        if not entries and not origins.item_lines:
            self.problem(
                origins.line,
                "allow_origins",
                "is empty: a corsgen policy needs at least one entry in origins besides "
                "origin_regex; add your main front-end's origin to allow_origins (or to "
                "the policy by hand)",
            )
            return None, regex_setting
        if not entries:
            return None, regex_setting  # every entry was refused above
        return _Setting(entries, [], origins.line, tuple(lines)), regex_setting

    def methods(self) -> _Setting | None:
        methods = self.strings("allow_methods")
        if methods is None:
            return None
        if "*" in methods.value:
            return _Setting(
                "*",
                ['allow_methods contains "*": DELETE GET HEAD OPTIONS PATCH POST PUT.'],
                methods.line,
            )
        comments = []
        if "allow_methods" not in self.values:
            comments.append("Starlette's default allow_methods: GET only.")
        return _Setting(methods.value, comments, methods.line, methods.item_lines)

    def allow_headers(self) -> _Setting | None:
        headers = self.strings("allow_headers")
        if headers is None:
            return None
        if "*" in headers.value:
            return _Setting(
                "*",
                ['allow_headers contains "*": the headers a preflight asks for are allowed.'],
                headers.line,
            )
        listed = {name.lower() for name in headers.value}
        added = [name for name in STARLETTE_SAFELISTED_HEADERS if name.lower() not in listed]
        comments = []
        if added:
            comments.append(
                f"Starlette always allows {', '.join(STARLETTE_SAFELISTED_HEADERS)}; kept "
                "so that requests with a JSON Content-Type still pass."
            )
        lines = headers.item_lines + (headers.line,) * len(added)
        return _Setting([*headers.value, *added], comments, headers.line, lines)

    def expose_headers(self) -> _Setting | None:
        headers = self.strings("expose_headers")
        if headers is None:
            return None
        return _Setting(headers.value, [], headers.line, headers.item_lines)

    def max_age(self) -> _Setting | None:

        value = self.effective("max_age")
        if value is None:
            return None
        if isinstance(value.value, bool) or not isinstance(value.value, int):
            self.problem(value.line, "max_age", f"must be a whole number, not {value.value!r}")
            return None
        seconds = value.value
        comments = []
        if seconds > MAX_AGE_LIMIT:
            # Browsers cap the value themselves (Firefox at 24 hours, Chromium at 2), so
            # the cap changes nothing a browser does.
            self.notes.append(
                f"max_age {seconds} is above corsgen's limit; written as {MAX_AGE_LIMIT} "
                "(browsers cap it at 86400 or less anyway)"
            )
            comments.append(f"max_age={seconds} in the application; browsers cap it anyway.")
            seconds = MAX_AGE_LIMIT
        return _Setting(seconds, comments, value.line)

    def translate(self) -> dict[str, _Setting]:
        self.read_keywords()
        credentials = self.flag("allow_credentials")
        origins, regex = self.origins(credentials)
        settings: dict[str, _Setting | None] = {
            "origins": origins,
            "origin_regex": regex,
            "allow_credentials": None,
            "allow_methods": self.methods(),
            "allow_headers": self.allow_headers(),
            "expose_headers": self.expose_headers(),
            "max_age": self.max_age(),
            "allow_private_network": None,
            "block_disallowed_origins": None,
        }
        for key, value in (
            ("allow_credentials", credentials),
            ("allow_private_network", self.flag("allow_private_network")),
        ):
            read = self.effective(key)
            if value is not None and read is not None:
                settings[key] = _Setting(value, [], read.line)
        settings["block_disallowed_origins"] = _Setting(
            False,
            [
                "Like Starlette: requests from other origins reach the application, without "
                "CORS headers."
            ],
        )
        return {key: setting for key, setting in settings.items() if setting is not None}


# --- writing and checking the policy ----------------------------------------------------------


def _scalar(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if key == "origin_regex":
        # Single quotes keep backslashes as written; a quote is refused by validation.
        return "'" + value.replace("'", "''") + "'"
    plain = _PLAIN_ORIGIN if key == "origins" else _PLAIN_TOKEN
    if plain.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value)


def _policy_text(header: list[str], name: str, settings: dict[str, _Setting]) -> str:
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version: 1", f"name: {yaml_name(name)}"]
    for key, setting in settings.items():
        for comment in setting.comments:
            lines += [f"# {line}" for line in textwrap.wrap(comment, 86)]
        value = setting.value
        if isinstance(value, list) and key in ("origins", "origin_regex") and value:
            lines.append(f"{key}:")
            lines += [f"  - {_scalar(item, key)}" for item in value]
        elif isinstance(value, list):
            lines.append(f"{key}: [{', '.join(_scalar(item, key) for item in value)}]")
        elif value == "*":
            lines.append(f'{key}: "*"')
        else:
            lines.append(f"{key}: {_scalar(value, key)}")
    return "\n".join(lines) + "\n"


def _validate_settings(settings: dict[str, _Setting], name: str, source: Path) -> list[Problem]:
    """corsgen's own checks, each problem reported at the application's line."""

    # A setting that did not translate is already reported; an origin stands in for
    # missing origins so that corsgen does not report them a second time.
    data: dict[str, Any] = {"version": 1, "name": name, "origins": ["https://example.com"]}
    lines: dict[tuple[str | int, ...], int] = {}
    for key, setting in settings.items():
        data[key] = setting.value
        if setting.line is not None:
            lines[(key,)] = setting.line
        for index, line in enumerate(setting.item_lines):
            lines[(key, index)] = line
    try:
        policy_from_document(Document(path=source, data=data, lines=lines))
    except PolicyError as exc:
        return exc.problems
    return []


def translate_fastapi(source: str, source_path: Path, policy_path: Path, name: str) -> Translation:
    """Translate the one ``CORSMiddleware`` of an application into a policy's text.

    Raises :class:`TranslationError` naming every setting that cannot be carried over.
    """

    try:
        module = _Module(source, str(source_path))
    except SyntaxError as exc:
        raise TranslationError(
            source_path, [Problem(exc.lineno, None, f"not valid Python: {exc.msg}")]
        ) from None
    calls = module.middleware_calls()
    if not calls:
        raise TranslationError(
            source_path,
            [
                Problem(
                    None,
                    None,
                    "no app.add_middleware(CORSMiddleware, ...) or Middleware(CORSMiddleware, "
                    "...) found",
                )
            ],
        )
    if len(calls) > 1:
        lines = ", ".join(str(call.lineno) for call in calls)
        raise TranslationError(
            source_path,
            [
                Problem(
                    calls[1].lineno,
                    None,
                    f"CORSMiddleware is configured {len(calls)} times (lines {lines}); "
                    "corsgen init translates one: write one policy per application",
                )
            ],
        )
    call = calls[0]
    translator = _Translator(module, call)
    settings = translator.translate()
    # corsgen's own rules run on whatever did translate, so one run reports everything.
    problems = translator.problems + _validate_settings(settings, name, source_path)
    if problems:
        raise TranslationError(source_path, problems)
    header = [
        "CORS policy translated by 'corsgen init --from-fastapi' from the CORSMiddleware at",
        f"{source_path.name} line {call.lineno}: Starlette's effective settings, its defaults "
        "included.",
        "Every key, default and rule: docs/policy.md in the corsgen sources.",
    ]
    text = _policy_text(header, name, settings)
    try:
        policy = load_policy_text(text, policy_path)
    except PolicyError as exc:  # pragma: no cover - the settings above were valid
        raise AssertionError(f"corsgen init wrote a policy it cannot read:\n{exc}") from None
    return Translation(text=text, policy=policy, line=call.lineno, notes=translator.notes)


__all__ = [
    "STARLETTE_DEFAULTS",
    "STARLETTE_SAFELISTED_HEADERS",
    "Translation",
    "TranslationError",
    "translate_fastapi",
]
