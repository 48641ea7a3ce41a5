"""Requests worth sending to an edge: allowed origins, lookalikes of them, preflights.

``corsgen probe`` sends this matrix to a live server and the differential tests build on the
same lookalike rules, so "what an attacker would try" is written down once. The expected
answer to each request always comes from :func:`corsgen.evaluate.evaluate`, never from here.
"""

from __future__ import annotations

import itertools

from corsgen import origin_regex
from corsgen.evaluate import HeaderOrigin, Request, read_origin
from corsgen.origins import APP_SCHEMES, DEFAULT_PORTS, OriginPattern
from corsgen.policy import Policy

# A label no real site uses, so a probe's sample origins are recognisable in logs.
PROBE_LABEL = "corsgen-probe"
ATTACKER = "evil.example"
SAFELISTED_METHODS = ("GET", "HEAD", "POST")


def entry_examples(entry: OriginPattern) -> list[str]:
    """Origins a browser could send that ``entry`` allows."""
    if entry.kind == "null":
        return ["null"]
    if entry.kind == "any":
        return [f"https://{PROBE_LABEL}.example"]
    if entry.kind == "exact":
        return [entry.text]
    hosts = [entry.host]
    if entry.any_subdomain:
        hosts = [f"{PROBE_LABEL}.{entry.host}", f"a.b.{entry.host}"]
    if entry.any_port:
        ports = ["", ":8443"]
    else:
        ports = [f":{entry.port}" if entry.port is not None else ""]
    return [f"{entry.scheme}://{host}{port}" for host in hosts for port in ports]


def regex_example(regex: str) -> str | None:
    """A short string the (validated) ``origin_regex`` entry matches, or ``None``.

    The shortest browser-like match: optional parts left out, one copy of ``*`` and ``+``,
    the first alternative, a letter or digit for a class (see :mod:`corsgen.origin_regex`).
    """
    return origin_regex.example(regex)


def entry_lookalikes(entry: OriginPattern) -> list[str]:
    """Lookalikes of a wildcard entry's own name: its apex and names that merely end with it."""
    if entry.kind != "pattern" or not entry.any_subdomain:
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
        sample = regex_example(regex)
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
    scheme, host = parsed.scheme, parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
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


def request_matrix(policy: Policy, limit: int = 300) -> list[Request]:
    """The requests ``corsgen probe`` sends, most telling first, at most ``limit`` of them.

    Requests without Origin and non-preflight OPTIONS come first, then every allowed example,
    then the lookalikes taken in turn from each example (so a low ``limit`` still tries a
    few tricks against every entry), each as a plain GET and as a preflight.
    """
    allowed = allowed_examples(policy)
    per_source = [entry_lookalikes(entry) for entry in policy.origins]
    per_source += [lookalikes(origin) for origin in allowed]
    attacks = [
        origin
        for round_ in itertools.zip_longest(*per_source)
        for origin in round_
        if origin is not None
    ]
    attacks += [f"https://{ATTACKER}", "null"]
    preflight_method = next(
        (method for method in policy.allow_methods if method not in SAFELISTED_METHODS), "GET"
    )
    asked_headers = (
        ", ".join(policy.allow_headers)
        if policy.allow_headers and not policy.reflects_request_headers
        else "X-Corsgen-Probe"
    )
    private_network = "true" if policy.allow_private_network else None
    requests: list[Request] = [Request("GET"), Request("OPTIONS", None, preflight_method)]
    if allowed:
        requests.append(Request("OPTIONS", allowed[0]))  # no request method: not a preflight
        requests.append(Request("POST", allowed[0]))
        requests.append(Request("OPTIONS", allowed[0], "GET"))  # preflight without headers
    for origin in [*allowed, *attacks]:
        requests.append(Request("GET", origin))
        requests.append(
            Request("OPTIONS", origin, preflight_method, asked_headers, private_network)
        )
    return list(dict.fromkeys(requests))[:limit]
