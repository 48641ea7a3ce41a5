"""``corsgen init --from-fastapi``: FastAPI's CORSMiddleware, translated into a policy.

The application's source is read by :mod:`corsgen.fastapi_source`, never imported or run.
Only literal values, and names bound to literals in the same module (or the function that
adds the middleware), are translated. Anything else is reported with its line, and nothing
is written: a policy that silently differed from what the application allowed would break
the front-end or, worse, allow more than before.

The policy states Starlette's *effective* settings, not the keywords as written:
Starlette's defaults differ from corsgen's (see :data:`STARLETTE_DEFAULTS`) and it always
allows the CORS-safelisted request headers.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from corsgen.errors import PolicyError, Problem
from corsgen.fastapi_source import (
    MIDDLEWARE_CLASS_KEYWORDS,
    Application,
    NotLiteral,
    SourceValue,
    snippet,
)
from corsgen.origins import OriginSyntaxError, parse_origin
from corsgen.policy import MAX_AGE_LIMIT
from corsgen.translation import Setting, Translated, settings_problems, translated

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
# Values written unquoted in the policy; everything else is written as a JSON string,
# which is also a valid YAML double-quoted scalar.
_PLAIN_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_PLAIN_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9._-]+(?::[0-9]+)?$")
_YAML_WORDS = frozenset({"null", "true", "false"})


# --- results and problems -----------------------------------------------------------------


class TranslationError(PolicyError):
    """The middleware could not be translated; carries every problem found, at the
    application's lines (a setting corsgen cannot carry over, or one its rules refuse)."""


# --- translating the middleware's settings -------------------------------------------------


def _star(setting: str, value: SourceValue, means: str) -> Setting:
    """A list holding "*": the policy's own "*", its comment saying what Starlette allows."""
    return Setting(setting, "*", (f'{setting} contains "*": {means}',), value.line)


class _Translator:
    def __init__(self, module: Application, call: ast.Call) -> None:
        self.module = module
        self.call = call
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.values: dict[str, SourceValue] = {}
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
                    f"**{snippet(keyword.value)} is expanded at run time; "
                    "write the settings as keywords with literal values",
                )
                continue
            if keyword.arg not in STARLETTE_DEFAULTS:
                self.problem(keyword.value.lineno, keyword.arg, "is not a CORSMiddleware setting")
                continue
            try:
                self.values[keyword.arg] = self.module.literal(keyword.value)
            except NotLiteral as exc:
                self.failed.add(keyword.arg)
                self.problem(
                    keyword.value.lineno,
                    keyword.arg,
                    f"{snippet(exc.node)} {exc.reason}: corsgen init reads only literal "
                    "values and names bound to them in this module; write this setting "
                    "into the policy by hand",
                )

    def effective(self, setting: str) -> SourceValue | None:
        if setting in self.failed:
            return None
        if setting in self.values:
            return self.values[setting]
        default = STARLETTE_DEFAULTS[setting]
        return SourceValue(
            list(default) if isinstance(default, tuple) else default, self.call.lineno
        )

    def strings(self, setting: str) -> SourceValue | None:
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

    def origins(self, credentials: bool | None) -> tuple[Setting | None, Setting | None]:

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
            return Setting("origins", "*", tuple(comments), origins.line), None
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
            regex_setting = Setting(
                "origin_regex",
                [regex],
                (
                    "allow_origin_regex: matched against the whole Origin, as Starlette's "
                    "fullmatch does.",
                ),
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
        return Setting("origins", entries, (), origins.line, tuple(lines)), regex_setting

    def methods(self) -> Setting | None:
        methods = self.strings("allow_methods")
        if methods is None:
            return None
        if "*" in methods.value:
            return _star("allow_methods", methods, "DELETE GET HEAD OPTIONS PATCH POST PUT.")
        comments = []
        if "allow_methods" not in self.values:
            comments.append("Starlette's default allow_methods: GET only.")
        return Setting(
            "allow_methods", methods.value, tuple(comments), methods.line, methods.item_lines
        )

    def allow_headers(self) -> Setting | None:
        headers = self.strings("allow_headers")
        if headers is None:
            return None
        if "*" in headers.value:
            return _star("allow_headers", headers, "the headers a preflight asks for are allowed.")
        listed = {name.lower() for name in headers.value}
        added = [name for name in STARLETTE_SAFELISTED_HEADERS if name.lower() not in listed]
        comments = []
        if added:
            comments.append(
                f"Starlette always allows {', '.join(STARLETTE_SAFELISTED_HEADERS)}; kept "
                "so that requests with a JSON Content-Type still pass."
            )
        lines = headers.item_lines + (headers.line,) * len(added)
        return Setting(
            "allow_headers", [*headers.value, *added], tuple(comments), headers.line, lines
        )

    def expose_headers(self) -> Setting | None:
        headers = self.strings("expose_headers")
        if headers is None:
            return None
        return Setting("expose_headers", headers.value, (), headers.line, headers.item_lines)

    def max_age(self) -> Setting | None:

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
        return Setting("max_age", seconds, tuple(comments), value.line)

    def translate(self) -> list[Setting]:
        self.read_keywords()
        credentials = self.flag("allow_credentials")
        origins, regex = self.origins(credentials)
        settings: dict[str, Setting | None] = {
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
                settings[key] = Setting(key, value, (), read.line)
        settings["block_disallowed_origins"] = Setting(
            "block_disallowed_origins",
            False,
            (
                "Like Starlette: requests from other origins reach the application, without "
                "CORS headers.",
            ),
        )
        return [setting for setting in settings.values() if setting is not None]


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


def _checked(settings: list[Setting], name: str, source: Path) -> list[Problem]:
    """corsgen's own checks, each problem reported at the application's line."""
    if not any(setting.key == "origins" for setting in settings):
        # A setting that did not translate is already reported; an origin stands in for
        # missing origins so that corsgen does not report them a second time.
        settings = [Setting("origins", ["https://example.com"]), *settings]
    return settings_problems(settings, name, source)


def translate_fastapi(source: str, source_path: Path, policy_path: Path, name: str) -> Translated:
    """Translate the one ``CORSMiddleware`` of an application into a policy's text.

    Raises :class:`TranslationError` naming every setting that cannot be carried over.
    """

    try:
        module = Application(source, str(source_path))
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
    problems = translator.problems + _checked(settings, name, source_path)
    if problems:
        raise TranslationError(source_path, problems)
    header = [
        "CORS policy translated by 'corsgen init --from-fastapi' from the CORSMiddleware at",
        f"{source_path.name} line {call.lineno}: Starlette's effective settings, its defaults "
        "included.",
        "Every key, default and rule: docs/policy.md in the corsgen sources.",
    ]
    return translated(
        header, name, settings, policy_path, translator.notes, scalar=_scalar, line=call.lineno
    )


__all__ = [
    "STARLETTE_DEFAULTS",
    "STARLETTE_SAFELISTED_HEADERS",
    "TranslationError",
    "translate_fastapi",
]
