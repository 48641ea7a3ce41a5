"""Sample origins: what a browser could send for a policy, and what an attacker would try.

One list of lookalikes (a suffix appended, a label prepended, a name glued on, scheme, port
and case changed), shared by ``corsgen lint`` (does a regex let a lookalike in?),
``corsgen probe`` (:mod:`corsgen.matrix` sends them to a live server) and the differential
tests against real nginx and Apache, so "what an attacker would try" is written down once.
"""

from __future__ import annotations

from corsgen import origin_regex
from corsgen.origins import (
    APP_SCHEMES,
    DEFAULT_PORTS,
    HeaderOrigin,
    OriginKind,
    OriginPattern,
    read_origin,
)
from corsgen.policy import Policy

# A label no real site uses, so a probe's sample origins are recognisable in logs.
PROBE_LABEL = "corsgen-probe"
ATTACKER = "evil.example"


def entry_examples(entry: OriginPattern) -> list[str]:
    """Origins a browser could send that ``entry`` allows."""
    if entry.kind is OriginKind.NULL:
        return ["null"]
    if entry.kind is OriginKind.ANY:
        return [f"https://{PROBE_LABEL}.example"]
    if entry.kind is OriginKind.EXACT:
        return [entry.text]
    hosts = [entry.host]
    if entry.any_subdomain:
        hosts = [f"{PROBE_LABEL}.{entry.host}", f"a.b.{entry.host}"]
    if entry.any_port:
        ports = ["", ":8443"]
    else:
        ports = [f":{entry.port}" if entry.port is not None else ""]
    return [f"{entry.scheme}://{host}{port}" for host in hosts for port in ports]


def entry_lookalikes(entry: OriginPattern) -> list[str]:
    """Lookalikes of a wildcard entry's own name: its apex and names that merely end with it."""
    if entry.kind is not OriginKind.PATTERN or not entry.any_subdomain:
        return []
    port = ":8443" if entry.any_port else (f":{entry.port}" if entry.port is not None else "")
    return [
        f"{entry.scheme}://{entry.host}{port}",
        f"{entry.scheme}://evil{entry.host}{port}",
        f"{entry.scheme}://evil-{entry.host}{port}",
        f"{entry.scheme}://{PROBE_LABEL}.{entry.host}.{ATTACKER}{port}",
    ]


def allowed_examples(policy: Policy) -> list[str]:
    """One or more browser-like origins per entry of the policy."""
    examples: list[str] = []
    for entry in policy.origins:
        examples.extend(entry_examples(entry))
    for regex in policy.origin_regex:
        sample = origin_regex.example(regex)
        if sample is not None:
            examples.append(sample)
    return list(dict.fromkeys(examples))


def lookalikes(origin: str) -> list[str]:
    """Origins an attacker would try against an allowed ``origin``.

    Suffix appended, label prepended, name glued on, scheme swapped, port changed or
    dropped, case changed, user-information tricks, a trailing slash or dot, and (for a
    regex's benefit) a dot replaced by a letter.
    """
    parsed = read_origin(origin)
    if not isinstance(parsed, HeaderOrigin):
        return []
    scheme, host, port = parsed.scheme, parsed.host, parsed.port_suffix
    tricks = [
        f"{scheme}://{host}.{ATTACKER}{port}",
        f"{scheme}://{host}{port}.{ATTACKER}",
        f"{scheme}://evil{host}{port}",
        f"{scheme}://{host}{port}@{ATTACKER}",
        f"{scheme}://{ATTACKER}@{host}{port}",
        f"{origin}/",
        origin.upper(),
    ]
    if scheme in APP_SCHEMES:
        return [trick for trick in tricks if trick != origin]
    tricks += [
        f"{scheme}://evil.{host}{port}",
        f"{'https' if scheme == 'http' else 'http'}://{host}{port}",
        f"{scheme}://{host}:{(parsed.port or 8000) + 1}",
        f"{scheme}://{host}.{port}",
        f"{scheme}://{host}{port}:",
        f"{scheme.upper()}://{host}{port}",
    ]
    if port:
        tricks += [f"{scheme}://{host}", f"{scheme}://{host}:0{parsed.port}"]
    else:
        tricks.append(f"{scheme}://{host}:{DEFAULT_PORTS[scheme]}")
    if "." in host and not host.startswith("["):
        first, _, rest = host.partition(".")
        tricks.append(f"{scheme}://{first}x{rest}{port}")
    return [trick for trick in dict.fromkeys(tricks) if trick != origin]
