"""The policy model: every rule of the policy file, checked once, values normalised.

A :class:`Policy` that exists is safe to render: unsafe or ambiguous input is refused
here, with a message naming the entry, so the templates never need to re-check.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from corsgen.errors import PolicyError, Problem
from corsgen.load import Document, load_file
from corsgen.origin_regex import attacker_origin, check_origin_regex
from corsgen.origins import (
    ANY_ORIGIN,
    OriginPattern,
    OriginSyntaxError,
    describe_unsafe,
    parse_origin,
)
from corsgen.public_suffix import is_public_suffix

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# The methods the Fetch standard normalises to upper case before sending (fetch.spec.whatwg.org,
# "normalize a method"); every other method goes out byte for byte as the page wrote it.
FETCH_NORMALISED_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT")
DEFAULT_METHODS = ("GET", "HEAD", "POST")
MAX_AGE_LIMIT = 86400

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# nginx reads one directive parameter into a 4 KiB buffer ("too long parameter"); a
# method or header list is one parameter, and so is a regex. Real lists are far shorter.
MAX_LIST_TEXT = 3000
MAX_TOKEN_LENGTH = 256
MAX_REGEX_LENGTH = 2000
# RFC 9110 token characters, less those that nginx or Apache would read as syntax
# (quotes, '#', '$', '%', '*', '`'); none of them occurs in a real method or header name.
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9!&+.^_|~-]+$")
_HTTP_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _star_shorthand(value: Any) -> Any:
    # `origins: "*"` is shorthand for `origins: ["*"]`; any other bare string is a mistake.
    return ["*"] if value == "*" else value


def _origin_item(value: Any) -> OriginPattern:
    if value is None:
        raise ValueError(
            'an unquoted null is not an origin; write the string "null" (in quotes) '
            "to allow the null origin"
        )
    if not isinstance(value, str):
        raise ValueError("must be a string such as https://app.example.com")
    try:
        return parse_origin(value)
    except OriginSyntaxError as exc:
        raise ValueError(str(exc)) from None


def _regex_item(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string (a regular expression)")
    if len(value) > MAX_REGEX_LENGTH:
        raise ValueError(
            f"is longer than {MAX_REGEX_LENGTH} characters, more than one nginx parameter "
            "holds; split it into several origin_regex entries"
        )
    try:
        check_origin_regex(value)
    except OriginSyntaxError as exc:
        raise ValueError(str(exc)) from None
    return value


def attacker_regex_message(regex: str) -> str | None:
    """Why ``regex`` must not be used with credentials, or ``None`` when it may be.

    Refused: a regex that matches ``null`` or a host under a registrable name of the
    attacker's choosing, the same hole as ``"*"`` with credentials (spec section 4).
    """
    found = attacker_origin(regex)
    if found is None:
        return None
    if found == "null":
        what = "matches 'null', the origin that sandboxed iframes and data: pages of any site send"
    else:
        what = f"matches {found!r}, a name anyone can register"
    return (
        f"{what}; with allow_credentials: true any such site could act as the signed-in user "
        "(the hole that '*' with credentials is refused for). List the origins instead, or "
        "spell the registrable name out literally: ^https://[a-z0-9-]+\\.example\\.com$"
    )


def public_suffix_wildcard_message(origin: OriginPattern) -> str | None:
    """Why a wildcard entry lets in anyone who registers a name, or ``None`` (spec section 1)."""
    if not origin.any_subdomain or not is_public_suffix(origin.host):
        return None
    return (
        f"'*.{origin.host}' covers every site under the public suffix {origin.host!r} (Public "
        "Suffix List): anyone can register one, and with allow_credentials: true it could act "
        "as the signed-in user. List the origins, or put the wildcard under a name you "
        "control (https://*.apps.example.com)"
    )


def _public_suffix_wildcard_errors(policy: Policy, data: Any) -> list[InitErrorDetails]:
    raw = data.get("origins") if isinstance(data, dict) else None
    raw_items = list(raw) if isinstance(raw, (list, tuple)) else []
    errors: list[InitErrorDetails] = []
    for index, origin in enumerate(policy.origins):
        message = public_suffix_wildcard_message(origin)
        if message is None:
            continue
        where = next((at for at, item in enumerate(raw_items) if _same_origin(item, origin)), index)
        errors.append(
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{error}", {"error": message}),
                loc=("origins", where),
                input=raw_items[where] if where < len(raw_items) else origin.text,
            )
        )
    return errors


def _same_origin(raw: Any, origin: OriginPattern) -> bool:
    try:
        return isinstance(raw, str) and parse_origin(raw) == origin
    except OriginSyntaxError:
        return False


def _token_item(what: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be a string (an HTTP {what})")
        if value == "*":
            return value
        if len(value) > MAX_TOKEN_LENGTH:
            raise ValueError(f"is longer than {MAX_TOKEN_LENGTH} characters; no HTTP {what} is")
        unsafe = describe_unsafe(value)
        if unsafe:
            raise ValueError(f"{unsafe} (an HTTP {what} is a single token)")
        if not _HTTP_TOKEN.match(value):
            raise ValueError(f"is not a valid HTTP {what} (letters, digits and - _ . only)")
        if not _SAFE_TOKEN.match(value):
            raise ValueError(
                f"contains a character that nginx or Apache would read as syntax "
                f"(an HTTP {what} uses letters, digits and - _ . only)"
            )
        return value

    return check


_ORIGIN_SCHEMA = {"type": "string", "description": "scheme://host[:port], '*', or 'null'"}

Origin = Annotated[
    OriginPattern,
    PlainValidator(_origin_item),
    PlainSerializer(lambda origin: origin.text, return_type=str),
    WithJsonSchema(_ORIGIN_SCHEMA),
]
OriginRegex = Annotated[
    str,
    PlainValidator(_regex_item),
    WithJsonSchema({"type": "string", "description": "regex matched against the whole Origin"}),
]
Method = Annotated[str, PlainValidator(_token_item("method")), WithJsonSchema({"type": "string"})]
HeaderName = Annotated[
    str, PlainValidator(_token_item("header name")), WithJsonSchema({"type": "string"})
]


def _list_or_star_schema(description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "description": description,
            "anyOf": [
                {"const": "*"},
                {"type": "array", "items": {"type": "string"}},
            ],
        }
    )


class Policy(StrictModel):
    """A validated, normalised CORS policy (spec: policy-v1)."""

    version: Annotated[int, WithJsonSchema({"const": 1})]
    name: str
    origins: Annotated[
        tuple[Origin, ...],
        BeforeValidator(_star_shorthand),
        _list_or_star_schema("allowed origins; '*' alone allows any origin"),
        Field(strict=False),
    ]
    origin_regex: Annotated[tuple[OriginRegex, ...], Field(strict=False)] = ()
    allow_credentials: bool = False
    allow_methods: Annotated[
        tuple[Method, ...],
        BeforeValidator(_star_shorthand),
        _list_or_star_schema("methods; '*' = DELETE GET HEAD OPTIONS PATCH POST PUT"),
        Field(strict=False),
    ] = DEFAULT_METHODS
    allow_headers: Annotated[
        tuple[HeaderName, ...],
        BeforeValidator(_star_shorthand),
        _list_or_star_schema("request headers; '*' reflects Access-Control-Request-Headers"),
        Field(strict=False),
    ] = ()
    expose_headers: Annotated[
        tuple[HeaderName, ...],
        BeforeValidator(_star_shorthand),
        _list_or_star_schema("response headers the page may read; '*' without credentials"),
        Field(strict=False),
    ] = ()
    max_age: Annotated[int, Field(ge=0, le=MAX_AGE_LIMIT)] = 600
    allow_private_network: bool = False
    block_disallowed_origins: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "name" not in data:
            stem = (info.context or {}).get("default_name")
            # A stem that is no valid name is left out, so the error asks for `name:`.
            if stem is not None and NAME_PATTERN.match(stem):
                data = {**data, "name": stem}
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _no_credentials_with_attacker_origins(
        cls, data: Any, handler: ModelWrapValidatorHandler[Policy]
    ) -> Policy:
        # Checked once the whole policy is valid (allow_credentials comes after origins
        # and origin_regex), and reported on the entry itself, which is what to fix.
        policy = handler(data)
        if not policy.allow_credentials:
            return policy
        errors = _public_suffix_wildcard_errors(policy, data)
        raw = data.get("origin_regex") if isinstance(data, dict) else None
        raw_items = list(raw) if isinstance(raw, (list, tuple)) else []
        for index, regex in enumerate(policy.origin_regex):
            message = attacker_regex_message(regex)
            if message is None:
                continue
            where = raw_items.index(regex) if regex in raw_items else index
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "{error}", {"error": message}),
                    loc=("origin_regex", where),
                    input=regex,
                )
            )
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return policy

    @field_validator("version", mode="plain")
    @classmethod
    def _version_is_one(cls, value: Any) -> int:
        # `True == 1` and `1.0 == 1` in Python: insist on the integer itself.
        if type(value) is not int or value != 1:
            raise ValueError("this corsgen reads policy files of version 1 (write 'version: 1')")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_an_identifier(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                "a policy name is a lower-case letter followed by up to 62 of a-z 0-9 _ - "
                "(it becomes part of variable and file names); set 'name:' in the file"
            )
        return value

    @field_validator("origins")
    @classmethod
    def _origins_are_unambiguous(cls, value: tuple[OriginPattern, ...]) -> tuple:
        if not value:
            raise ValueError("at least one origin is required")
        if ANY_ORIGIN in value and len(value) > 1:
            raise ValueError(
                "'*' already allows every origin and cannot be combined with other entries"
            )
        return tuple(dict.fromkeys(value))  # entries equal after normalisation are merged

    @field_validator("origin_regex")
    @classmethod
    def _merge_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("allow_credentials")
    @classmethod
    def _no_credentials_with_any_origin(cls, value: bool, info: ValidationInfo) -> bool:
        if value and ANY_ORIGIN in info.data.get("origins", ()):
            raise ValueError(
                "cannot be true with origins '*': browsers refuse '*' with credentials, and "
                "reflecting every origin with credentials lets any site act as the user "
                "(list the origins instead)"
            )
        return value

    @field_validator("allow_methods")
    @classmethod
    def _normalise_methods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one method is required (the default is GET, HEAD, POST)")
        methods = _expand_star(value, "allow_methods")
        if methods == ("*",):
            return ALL_METHODS
        return _fits_one_parameter(tuple(dict.fromkeys(normalise_method(m) for m in methods)))

    @field_validator("allow_headers")
    @classmethod
    def _normalise_allow_headers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _merge_header_names(_expand_star(value, "allow_headers"))

    @field_validator("expose_headers")
    @classmethod
    def _normalise_expose_headers(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        headers = _merge_header_names(_expand_star(value, "expose_headers"))
        if headers == ("*",) and info.data.get("allow_credentials"):
            raise ValueError(
                "'*' cannot be used with allow_credentials: browsers read it as a header "
                "named '*' on credentialed requests (list the header names instead)"
            )
        return headers

    # --- derived values -----------------------------------------------------------

    @property
    def allows_any_origin(self) -> bool:
        return self.origins == (ANY_ORIGIN,)

    @property
    def reflects_request_headers(self) -> bool:
        return self.allow_headers == ("*",)

    @cached_property
    def regex_patterns(self) -> tuple[re.Pattern[str], ...]:
        """The ``origin_regex`` entries as the targets and the evaluator match them.

        Each is anchored to the whole Origin once, by the check that validated it
        (:func:`corsgen.origin_regex.check_origin_regex`, cached per text); nobody anchors again.
        """
        return tuple(re.compile(check_origin_regex(regex)) for regex in self.origin_regex)

    def normalised(self) -> dict[str, Any]:
        """The policy as plain data, after normalisation: what the hash covers."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """SHA-256 of the normalised policy, in hex."""
        canonical = json.dumps(self.normalised(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalise_method(method: str) -> str:
    """``method`` as a browser sends it: the six Fetch normalises in upper case, others as written.

    ``fetch(url, {method: "patch"})`` sends ``patch``, which ``PATCH`` does not allow (spec
    section 1), so only these six may be folded.
    """
    upper = method.upper()
    return upper if upper in FETCH_NORMALISED_METHODS else method


def _expand_star(value: tuple[str, ...], field: str) -> tuple[str, ...]:
    if "*" in value and len(value) > 1:
        raise ValueError(
            f"'*' already means every value and cannot be mixed with others in {field}"
        )
    return value


def _merge_header_names(names: tuple[str, ...]) -> tuple[str, ...]:
    # Header names compare case-insensitively; the first spelling the user wrote is kept.
    merged: dict[str, str] = {}
    for name in names:
        merged.setdefault(name.lower(), name)
    return _fits_one_parameter(tuple(merged.values()))


def _fits_one_parameter(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(", ".join(values)) > MAX_LIST_TEXT:
        raise ValueError(
            f"the list is longer than {MAX_LIST_TEXT} characters once joined, more than one "
            "nginx parameter holds; list fewer entries (or '*' where the key allows it)"
        )
    return values


# --- from a loaded document ------------------------------------------------------------

_TYPE_MESSAGES = {
    "bool_type": "must be true or false (unquoted)",
    "int_type": "must be a whole number (unquoted)",
    "string_type": "must be a string",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values (start the file with 'version: 1')",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


def policy_from_document(document: Document) -> Policy:
    """Validate a loaded file; on failure raise :class:`PolicyError` with every problem."""
    try:
        return Policy.model_validate(document.data, context={"default_name": document.path.stem})
    except ValidationError as exc:
        problems = [_problem(document, error) for error in exc.errors()]
        raise PolicyError(document.path, problems) from None


def load_policy(path: Path) -> Policy:
    """Read, parse and validate a policy file."""
    return policy_from_document(load_file(path))


def _problem(document: Document, error: Any) -> Problem:
    location = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    line = document.line_of(location)
    key = next((part for part in location if isinstance(part, str)), None)
    if kind == "extra_forbidden":
        known = ", ".join(Policy.model_fields)
        return Problem(line, str(location[-1]), f"unknown key (the keys are: {known})")
    if kind == "missing":
        return Problem(line, str(location[-1]), _missing_message(str(location[-1]), document))
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[kind].format(**error.get("ctx", {}))
        if isinstance(value, str) and kind == "bool_type":
            message += f", not the string {value!r}"
        elif isinstance(value, str) and kind == "int_type":
            message += f", not the string {value!r}: remove the quotes"
    else:
        message = error["msg"]
    star = _mixed_star_index(document, location) if kind == "value_error" else None
    if star is not None:
        # The list-level check ("'*' cannot be combined") runs on the whole list, so
        # pydantic puts it on the key's line: point at the '*' item itself instead.
        return Problem(document.line_of((*location, star)), "*", message)
    is_item = bool(location) and isinstance(location[-1], int)
    if isinstance(value, (str, int, float, bool)) and (is_item or key in ("version", "name")):
        entry = value if isinstance(value, str) else json.dumps(value)
    elif value is None and is_item:
        entry = "null"
    else:
        entry = key
        if kind in ("greater_than_equal", "less_than_equal"):
            message = f"{value!r} {message}"
    return Problem(line, entry, message)


def _mixed_star_index(document: Document, location: tuple[Any, ...]) -> int | None:
    """The index of a ``'*'`` written among other items of a top-level list, if any."""
    if len(location) != 1 or not isinstance(document.data, dict):
        return None
    raw = document.data.get(location[0])
    if not isinstance(raw, list) or len(raw) < 2 or "*" not in raw:
        return None
    return raw.index("*")


def _missing_message(key: str, document: Document) -> str:
    if key == "name":
        return (
            f"the file name {document.path.stem!r} is not a valid policy name; add "
            "'name: my-api' (a lower-case letter, then a-z 0-9 _ -)"
        )
    if key == "version":
        return "is required: start the file with 'version: 1'"
    if key == "origins":
        return "is required: list at least one allowed origin, e.g. - https://app.example.com"
    return "is required"
