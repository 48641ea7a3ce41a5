"""Comparing a real response with the reference evaluator's verdict (spec section 4).

The evaluator (:mod:`corsgen.evaluate`) says what the edge must answer; this module says
where a response a server really sent departs from it. ``corsgen probe`` and the
differential tests against real nginx and Apache judge every answer here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from corsgen.evaluate import ACAC, ACAH, ACAM, ACAO, ACAPN, ACEH, ACMA, Verdict, split_list

# How each Access-Control-* value is compared (spec section 4): ACAO and the literal values
# byte for byte; method lists as sets (any order, case-sensitive like methods); header-name
# lists as case-insensitive comma-separated lists.
_COMPARE_AS = {
    ACAO: "exact",
    ACAC: "exact",
    ACAM: "method-set",
    ACAH: "name-list",
    ACEH: "name-list",
    ACMA: "exact",
    ACAPN: "exact",
}


_CANONICAL = {name.lower(): name for name in _COMPARE_AS}


@dataclass(frozen=True)
class Observed:
    """A response as a server sent it, plus what the test's upstream saw (``None``: unknown)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    reached_upstream: bool | None = None
    upstream_status: int | None = None
    upstream_vary: tuple[str, ...] | None = None


def _comparable(name: str, value: str) -> object:
    how = _COMPARE_AS[name]
    if how == "method-set":
        return sorted(split_list(value))
    if how == "name-list":
        return sorted(item.lower() for item in split_list(value))
    return value


def differences(verdict: Verdict, observed: Observed) -> list[str]:
    """Where ``observed`` departs from ``verdict`` (empty when it is one acceptable answer)."""
    best: list[str] | None = None
    for candidate in verdict.acceptable():
        found = _differences(candidate, observed)
        if not found:
            return []
        if best is None:
            best = found
    return best or []


def _differences(verdict: Verdict, observed: Observed) -> list[str]:
    found: list[str] = []
    status = verdict.status
    if status is not None:
        if observed.status != status:
            found.append(f"status {observed.status}, expected {status} ({verdict.answer.value})")
        if observed.reached_upstream:
            found.append(f"the request reached the upstream; expected {verdict.answer.value}")
        if observed.status == 204 and observed.body:
            found.append(f"the 204 answer has a body of {len(observed.body)} bytes")
    else:
        if observed.reached_upstream is False:
            found.append(
                f"the request did not reach the upstream (status {observed.status}); "
                "expected it to be passed upstream"
            )
        elif observed.upstream_status is not None and observed.status != observed.upstream_status:
            found.append(
                f"status {observed.status}, expected the upstream's {observed.upstream_status}"
            )
    seen: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    vary_tokens: list[str] = []
    for name, value in observed.headers:
        lower = name.lower()
        if lower.startswith("access-control-"):
            seen.setdefault(lower, []).append(value)
            # HTTP/2 and httpx lower-case header names; report them as the spec writes them.
            names.setdefault(lower, _CANONICAL.get(lower, name))
        elif lower == "vary":
            vary_tokens.extend(split_list(value))
    expected = {name.lower(): (name, value) for name, value in verdict.headers.items()}
    for lower, values in seen.items():
        if len(values) > 1:
            found.append(f"{names[lower]} appears {len(values)} times: {values}")
        if lower not in expected:
            found.append(f"unexpected header {names[lower]}: {values[0]!r}")
    for lower, (name, value) in expected.items():
        if lower not in seen:
            found.append(f"missing header {name}: {value!r}")
            continue
        actual = seen[lower][0]
        if name in _COMPARE_AS and _comparable(name, actual) != _comparable(name, value):
            found.append(f"{name} is {actual!r}, expected {value!r}")
    found.extend(_vary_differences(verdict, observed, vary_tokens))
    return found


def _vary_differences(verdict: Verdict, observed: Observed, tokens: Iterable[str]) -> list[str]:
    found = []
    present = {token.lower() for token in tokens}
    for token in verdict.vary:
        if token.lower() not in present:
            found.append(f"Vary lacks {token!r} (Vary: {', '.join(tokens) or 'absent'})")
    upstream = observed.upstream_vary
    if upstream is None:
        return found  # unknown upstream (a live probe): its own tokens cannot be told apart
    passed = verdict.status is None
    if passed:
        for token in upstream:
            if token.lower() not in present:
                found.append(f"the upstream's Vary token {token!r} was dropped")
    allowed = {t.lower() for t in (*verdict.vary, *verdict.vary_optional)}
    if passed:
        allowed |= {token.lower() for token in upstream}
    extra = sorted(present - allowed)
    if extra:
        found.append(f"unexpected Vary token(s) {extra}")
    return found
