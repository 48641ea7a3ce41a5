"""Requests worth sending to an edge: allowed origins, lookalikes of them, preflights.

``corsgen probe`` sends this matrix to a live server; its origins come from
:mod:`corsgen.samples`, which lint and the differential tests share. The expected answer to
each request always comes from :func:`corsgen.evaluate.evaluate`, never from here.
"""

from __future__ import annotations

import itertools

from corsgen.evaluate import Request
from corsgen.policy import Policy
from corsgen.samples import ATTACKER, allowed_examples, entry_lookalikes, lookalikes

SAFELISTED_METHODS = ("GET", "HEAD", "POST")


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
