"""Rules about corsgen's own files in a config: where they are included, and whether they
are current (the banner of each generated file names its policy, the policy's sha256 and
the part it is)."""

from __future__ import annotations

from collections.abc import Iterator

from corsgen.audit.config import Config, Directive
from corsgen.audit.rules import Finding, Place, finding

# Where each part belongs, as the banner's third line says; None (the top of a file
# audited on its own) is unknown, so never flagged: the file may be included anywhere.
WRONG_CONTEXTS = {
    "location": {"http", "server", "if", "limit_except"},
    "http": {"server", "location", "if"},
    "Apache": {"location", "locationmatch", "directory", "directorymatch", "files", "if"},
}
WHERE = {
    "location": "inside the location { } of the API",
    "http": "inside http { }",
    "Apache": "inside the <VirtualHost>",
}


def findings(config: Config, digests: dict[str, str] | None) -> list[Finding]:
    found = list(_misplaced(config))
    if digests is not None:
        found += _stale(config, digests)
    if config.kind == "nginx":
        found += _missing_in_siblings(config)
        found += _http_part_missing(config)
    return found


def _misplaced(config: Config) -> Iterator[Finding]:
    for inclusion in config.inclusions:
        part = inclusion.generated.part
        if inclusion.context in WRONG_CONTEXTS.get(part, set()):
            include = inclusion.include
            yield finding(
                "CORS109",
                include.path,
                include.line,
                f"the {part} part of policy {inclusion.generated.policy!r} is included in "
                f"{inclusion.context}; it belongs {WHERE[part]}",
            )


def _stale(config: Config, digests: dict[str, str]) -> Iterator[Finding]:
    for path, generated in config.generated.items():
        current = digests.get(generated.policy)
        if current is None:
            config.notes.append(
                f"{path}: policy {generated.policy!r} is not among the --policies given"
            )
        elif current != generated.digest:
            yield finding(
                "CORS111",
                path,
                1,
                f"rendered from policy {generated.policy!r} with sha256 "
                f"{generated.digest[:12]}…, the policy is now {current[:12]}…",
            )


def _location_policies(config: Config, location: Directive) -> set[str]:
    """The policies whose location part this location includes."""
    return {
        config.generated[d.path].policy
        for d in location.block or ()
        if d.path in config.generated and config.generated[d.path].part == "location"
    }


def _locations(directives: list[Directive]) -> Iterator[Directive]:
    for directive in directives:
        if directive.name == "location":
            yield directive
            yield from _locations(directive.block or [])


def _servers(directives: list[Directive]) -> Iterator[Directive]:
    for directive in directives:
        if directive.name == "server" and directive.block is not None:
            yield directive
        elif directive.name == "http" and directive.block is not None:
            yield from _servers(directive.block)


def _missing_in_siblings(config: Config) -> Iterator[Finding]:
    for server in _servers(config.directives):
        by_upstream: dict[str, list[tuple[Directive, set[str]]]] = {}
        for location in _locations(server.block or []):
            for proxy in location.children("proxy_pass"):
                upstream = " ".join(proxy.args)
                by_upstream.setdefault(upstream, []).append(
                    (location, _location_policies(config, location))
                )
        for upstream, locations in by_upstream.items():
            covered = [(loc, policies) for loc, policies in locations if policies]
            if not covered:
                continue
            example, policies = covered[0]
            for location, own in locations:
                if not own:
                    yield finding(
                        "CORS110",
                        location.path,
                        location.line,
                        f"location {' '.join(location.args)} proxies {upstream} without the "
                        f"location part of policy {', '.join(sorted(policies))}",
                        Place(
                            f"location {' '.join(example.args)} includes it",
                            example.path,
                            example.line,
                        ),
                    )


def _http_part_missing(config: Config) -> Iterator[Finding]:
    # Only a whole configuration (one with http { }) shows that a part is missing: a
    # site file audited alone has its http part elsewhere.
    if not any(d.name == "http" for d in config.directives):
        return
    with_http = {g.policy for g in config.generated.values() if g.part == "http"}
    for inclusion in config.inclusions:
        generated = inclusion.generated
        if generated.part == "location" and generated.policy not in with_http:
            include = inclusion.include
            yield finding(
                "CORS112",
                include.path,
                include.line,
                f"the location part of policy {generated.policy!r} is included, its http "
                "part nowhere",
            )
