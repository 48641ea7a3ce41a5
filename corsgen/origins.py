"""Origins: the entries of ``origins`` and ``origin_regex``, and ``Origin`` header values.

Policy entries and header values share one grammar (scheme, host normalisation, port), so
both are read here. An entry is normalised the way a browser serialises an ``Origin``
header (lower-case scheme and host, punycode, compressed IPv6, no default port), so that the
renderers can compare it with the header byte for byte; a header value is read leniently
(:func:`read_origin`), as a server receives whatever a client sends.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}

# Schemes that app webviews and browser extensions send as Origin. Their hosts are
# opaque to browsers (serialised as written), so they are accepted as exact entries only.
APP_SCHEMES = (
    "capacitor",
    "ionic",
    "tauri",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
)

# Characters that could end a quoted string, start a comment, a block or a variable
# in nginx or Apache configuration. None of them can appear in a real Origin.
UNSAFE_CHARACTERS = frozenset("\"'\\{};$#<>`%")

_LABEL = re.compile(r"^[a-z0-9_-]{1,63}$")
_APP_HOST = re.compile(r"^[A-Za-z0-9._-]+$")
_PORT = re.compile(r"^[0-9]{1,5}$")
PORT_DIGITS = re.compile(r"^[0-9]+$")


class OriginSyntaxError(ValueError):
    """An origin or regex entry that is not acceptable; the message says why and how to fix."""


class OriginKind(str, Enum):
    """What an ``origins`` entry stands for."""

    ANY = "any"  # "*"
    NULL = "null"  # the literal null origin
    EXACT = "exact"  # one origin
    PATTERN = "pattern"  # a "*." host wildcard and/or a ":*" port wildcard


@dataclass(frozen=True)
class OriginPattern:
    """One normalised ``origins`` entry.

    For :attr:`OriginKind.PATTERN` entries, ``host`` is the part after ``*.`` when
    ``any_subdomain``.
    """

    text: str
    kind: OriginKind
    scheme: str = ""
    host: str = ""
    port: int | None = None
    any_subdomain: bool = False
    any_port: bool = False

    def __str__(self) -> str:
        return self.text


ANY_ORIGIN = OriginPattern(text="*", kind=OriginKind.ANY)
NULL_ORIGIN = OriginPattern(text="null", kind=OriginKind.NULL)


def describe_unsafe(value: str) -> str | None:
    """Say which character of ``value`` could break out of generated config, if any."""
    for character in value:
        if character in UNSAFE_CHARACTERS:
            return f"contains {character!r}, which could break out of the generated config"
        if character.isspace() or not character.isprintable():
            return (
                f"contains the whitespace or control character {character!r}, "
                "which could break out of the generated config"
            )
    return None


def parse_origin(value: str) -> OriginPattern:
    """Validate and normalise one ``origins`` entry. Raises :class:`OriginSyntaxError`."""
    if value == "*":
        return ANY_ORIGIN
    if value == "null":
        return NULL_ORIGIN
    if value.lower() == "null":
        raise OriginSyntaxError('the null origin is written in lower case: "null"')
    unsafe = describe_unsafe(value)
    if unsafe:
        raise OriginSyntaxError(f"{unsafe} (an origin is scheme://host[:port])")
    scheme, separator, rest = value.partition("://")
    if not separator or not scheme:
        raise OriginSyntaxError(
            "is not an origin: write scheme://host[:port], e.g. https://app.example.com"
        )
    scheme = scheme.lower()
    if rest.endswith("/"):
        rest = rest[:-1]
    for character, what in (("/", "a path"), ("?", "a query"), ("@", "user information")):
        if character in rest:
            raise OriginSyntaxError(
                f"has {what} after the host; an origin is only scheme://host[:port] "
                "(browsers never send more)"
            )
    if scheme in APP_SCHEMES:
        return _parse_app_origin(scheme, rest)
    if scheme not in DEFAULT_PORTS:
        allowed = ", ".join(["http", "https", *APP_SCHEMES])
        raise OriginSyntaxError(f"scheme {scheme!r} is not supported (use one of: {allowed})")
    host_text, port_text = _split_host_port(rest)
    any_port = port_text == "*"
    port = None if any_port or port_text is None else _parse_port(port_text, scheme)
    any_subdomain = False
    if host_text.startswith("*."):
        any_subdomain = True
        host_text = host_text[2:]
    if "*" in host_text:
        raise OriginSyntaxError(
            "a '*' may only stand for whole left-most host labels ('https://*.example.org') "
            "or the whole port (':*')"
        )
    host = _normalise_host(host_text)
    if any_subdomain and (host.startswith("[") or _looks_like_ipv4(host)):
        raise OriginSyntaxError("a '*.' wildcard needs a DNS name after it, not an IP address")
    kind = OriginKind.PATTERN if any_subdomain or any_port else OriginKind.EXACT
    text = f"{scheme}://{'*.' if any_subdomain else ''}{host}"
    if any_port:
        text += ":*"
    elif port is not None:
        text += f":{port}"
    return OriginPattern(
        text=text,
        kind=kind,
        scheme=scheme,
        host=host,
        port=port,
        any_subdomain=any_subdomain,
        any_port=any_port,
    )


def _parse_app_origin(scheme: str, host: str) -> OriginPattern:
    if "*" in host or ":" in host:
        raise OriginSyntaxError(f"{scheme}:// origins are exact: no '*' wildcard and no port")
    if not _APP_HOST.match(host):
        raise OriginSyntaxError(
            f"{scheme}:// needs a host of letters, digits, '.', '_' or '-' "
            f"(e.g. {scheme}://localhost)"
        )
    return OriginPattern(text=f"{scheme}://{host}", kind=OriginKind.EXACT, scheme=scheme, host=host)


def _split_host_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise OriginSyntaxError("an IPv6 address must be closed with ']'")
        host, rest = authority[: end + 1], authority[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise OriginSyntaxError("only ':port' may follow an IPv6 address")
        return host, rest[1:]
    if authority.count(":") > 1:
        raise OriginSyntaxError("IPv6 addresses must be written in brackets: http://[::1]:8080")
    host, colon, port = authority.partition(":")
    if not host:
        raise OriginSyntaxError("has no host")
    return host, port if colon else None


def _parse_port(text: str, scheme: str) -> int | None:
    if not _PORT.match(text) or not 1 <= int(text) <= 65535:
        raise OriginSyntaxError("the port must be a number from 1 to 65535, or '*' for any port")
    port = int(text)
    # Browsers omit the scheme's default port from Origin, so the entry must too.
    return None if port == DEFAULT_PORTS[scheme] else port


def _looks_like_ipv4(host: str) -> bool:
    last = host.rsplit(".", 1)[-1]
    return bool(last) and (last.isdigit() or last.lower().startswith("0x"))


def _normalise_host(host: str) -> str:
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise OriginSyntaxError("IPv6 zone identifiers are never part of an Origin")
        try:
            address = ipaddress.IPv6Address(inner)
        except ValueError:
            raise OriginSyntaxError(f"{host} is not a valid IPv6 address") from None
        return f"[{address.compressed}]"
    # A host whose last label is numeric is an IPv4 address to a browser (WHATWG URL).
    if _looks_like_ipv4(host):
        try:
            address4 = ipaddress.IPv4Address(host)
        except ValueError:
            raise OriginSyntaxError(
                f"{host} is not a valid IPv4 address (write four decimal numbers, e.g. 127.0.0.1)"
            ) from None
        return str(address4)
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise OriginSyntaxError(
                f"{host} is not a valid internationalised host name ({exc})"
            ) from None
    host = host.lower()
    if host.endswith("."):
        raise OriginSyntaxError("the host must not end with '.' (browsers drop it)")
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise OriginSyntaxError(
            f"{host!r} is not a valid host name (labels of letters, digits, '-' or '_', "
            "separated by single dots)"
        )
    return host


# --- Origin header values ---------------------------------------------------------------


@dataclass(frozen=True)
class HeaderOrigin:
    """An Origin header value read leniently, then normalised as a browser would send it.

    ``port`` is ``None`` for no port or the scheme's default; ``port_valid`` is false for a
    port no browser sends (0, above 65535): it can only ever be covered by a ``:*`` entry.
    """

    scheme: str
    host: str
    port: int | None
    port_valid: bool = True

    @property
    def port_suffix(self) -> str:
        """``:8443``; empty for no port or the scheme's default."""
        return f":{self.port}" if self.port is not None else ""

    @property
    def canonical(self) -> str:
        return f"{self.scheme}://{self.host}{self.port_suffix}"


def read_origin(text: str) -> HeaderOrigin | str:
    """Parse an Origin header value; return a :class:`HeaderOrigin` or why it is not one.

    Unlike :func:`parse_origin`, which refuses an entry a browser would not send, this
    accepts what a server may receive (any digits as the port, ASCII case), so that the
    evaluator can say how such a value is treated.
    """
    scheme, separator, rest = text.partition("://")
    if not separator or not scheme:
        return "is not an origin (scheme://host[:port])"
    for character, what in (("/", "a path"), ("?", "a query"), ("#", "a fragment")):
        if character in rest:
            return f"has {what} after the host, which a browser never sends in Origin"
    if "@" in rest:
        return "has user information ('@'), which a browser never sends in Origin"
    if "*" in rest:
        return "contains '*', which is a policy wildcard, never part of a real Origin"
    if any(character.isspace() or not character.isprintable() for character in rest):
        return "contains whitespace or control characters"
    scheme = ascii_lower(scheme)
    if scheme in APP_SCHEMES:
        if not _APP_HOST.match(rest):
            return f"is not a valid {scheme}:// origin"
        return HeaderOrigin(scheme=scheme, host=rest, port=None)
    if scheme not in DEFAULT_PORTS:
        return f"has the scheme {scheme!r}, which no policy entry can allow"
    try:
        host, port_text = _split_host_port(rest)
    except OriginSyntaxError:
        return "has no valid host"
    port: int | None = None
    port_valid = True
    if port_text is not None:
        if not PORT_DIGITS.match(port_text):
            return "has a port that is not a number"
        port = int(port_text)
        if port == DEFAULT_PORTS[scheme]:
            port = None
        elif not 1 <= port <= 65535:
            port_valid = False
    try:
        normalised = parse_origin(f"{scheme}://{host}")
    except OriginSyntaxError as exc:
        return f"has an invalid host: {exc}"
    return HeaderOrigin(scheme=scheme, host=normalised.host, port=port, port_valid=port_valid)


def ascii_lower(text: str) -> str:
    """``text`` with ASCII letters in lower case, and only those.

    str.lower() also folds non-ASCII letters (e.g. 'İ'); the spec's leeway is ASCII case only.
    """
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
