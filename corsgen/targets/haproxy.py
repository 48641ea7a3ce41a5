"""HAProxy: a fragment for the API's ``frontend`` and two map files the fragment reads.

HAProxy has no ``include``: the operator pastes ``NAME.haproxy.cfg`` into the frontend (or
``listen``) section that serves the API, before any ``http-request auth``, and puts the
map files in a directory named by the ``CORSGEN_MAP_DIR`` environment variable (``setenv``
in ``global``), which the fragment reads as ``"${CORSGEN_MAP_DIR}/NAME.origins.map"``.
No path of the rendering machine ever appears in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from corsgen.targets.common import (
    Common,
    anchored_regexes,
    common_values,
    dotted_prefix,
    exact_origins,
    wildcard_groups,
)
from corsgen.targets.target import EVERY_FEATURE, NAME, OutputFile, Target

if TYPE_CHECKING:
    from corsgen.policy import Policy

# The environment variable that names the map files' directory on the HAProxy host.
MAP_DIR_VARIABLE = "CORSGEN_MAP_DIR"

FRONTEND_FILE = OutputFile(
    pattern=f"{NAME}.haproxy.cfg",
    template="frontend.cfg.j2",
    part="frontend part",
    directive="paste",
    where="into the frontend that serves the API, before any http-request auth",
)
EXACT_MAP_FILE = OutputFile(
    pattern=f"{NAME}.origins.map",
    template="origins.map.j2",
    part="exact origins map",
    directive="put",
    where=f"in the directory named by {MAP_DIR_VARIABLE}",
)
# Put beside the exact map: the fragment reads both from MAP_DIR_VARIABLE's directory.
WILDCARD_MAP_FILE = replace(
    EXACT_MAP_FILE,
    pattern=f"{NAME}.wildcards.map",
    template="wildcards.map.j2",
    part="wildcard origins map",
)

# An Origin a wildcard entry can match at all: scheme, DNS name or IP literal, port. Only
# such Origins are turned into wildcard keys, so an Origin that itself contains "*" (no
# browser sends one) can never equal a key of the wildcard map.
HOST_ORIGIN_REGEX = r"^https?://([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(:[0-9]+)?$"
# http://127.0.0.1:3000 -> http://127.0.0.1:* (and http://127.0.0.1 -> http://127.0.0.1:*).
ANY_PORT_REGEX = r"^(https?://([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\]))(:[0-9]+)?$"
ANY_PORT_SUBSTITUTION = r"\1:*"
# One or more leading labels -> "*", keeping the last {labels} labels and the port
# (a number, or the "*" of ANY_PORT_REGEX's key).
SUBDOMAIN_REGEX = (
    r"^(https?://)[a-z0-9_-]+(\.[a-z0-9_-]+)*((\.[a-z0-9_-]+){{{labels}}}(:[0-9]+|:\*)?)$"
)
SUBDOMAIN_SUBSTITUTION = r"\1*\3"
# HAProxy reads one field line of a repeated header at a time; the fragment joins this
# many Access-Control-Request-Headers lines (browsers send one; a proxy may split it).
REQUEST_HEADER_LINES = 4


@dataclass(frozen=True)
class WildcardKey:
    """How one kind of wildcard entry turns an Origin into a key of the wildcard map."""

    any_port: bool  # first "http://host:port" -> "http://host:*"
    labels: int | None  # then keep the last ``labels`` host labels behind "*."


@dataclass(frozen=True)
class HaproxyContext:
    common: Common
    map_dir_variable: str
    request_header_lines: int
    acl: str  # the prefix of every ACL name: corsgen.<stem>
    var: str  # the prefix of every variable: txn.corsgen.<stem>
    exact_map: str  # the map files as the fragment names them on the HAProxy host
    wildcard_map: str
    exact_origins: list[str]
    wildcard_entries: list[str]
    wildcard_keys: list[WildcardKey]
    origin_regexes: list[str]
    host_origin_regex: str
    any_port_regex: str
    any_port_substitution: str
    subdomain_regexes: dict[int, str]
    subdomain_substitution: str


def haproxy_context(policy: Policy) -> HaproxyContext:
    patterns = [origin for origin in policy.origins if origin.kind == "pattern"]
    keys = [
        WildcardKey(any_port=any_port, labels=labels or None)
        for any_port, labels in wildcard_groups(policy)
    ]
    prefix = dotted_prefix(policy.name)
    return HaproxyContext(
        common=common_values(policy),
        map_dir_variable=MAP_DIR_VARIABLE,
        request_header_lines=REQUEST_HEADER_LINES,
        acl=prefix,
        var="txn." + prefix,
        exact_map=f"${{{MAP_DIR_VARIABLE}}}/{EXACT_MAP_FILE.name_for(policy.name)}",
        wildcard_map=f"${{{MAP_DIR_VARIABLE}}}/{WILDCARD_MAP_FILE.name_for(policy.name)}",
        exact_origins=exact_origins(policy),
        wildcard_entries=[origin.text for origin in patterns],
        wildcard_keys=keys,
        origin_regexes=anchored_regexes(policy),
        host_origin_regex=HOST_ORIGIN_REGEX,
        any_port_regex=ANY_PORT_REGEX,
        any_port_substitution=ANY_PORT_SUBSTITUTION,
        subdomain_regexes={
            key.labels: SUBDOMAIN_REGEX.format(labels=key.labels)
            for key in keys
            if key.labels is not None
        },
        subdomain_substitution=SUBDOMAIN_SUBSTITUTION,
    )


TARGET = Target(
    name="haproxy",
    server="HAProxy",
    version_floor="2.6",
    needs=(),
    files=(FRONTEND_FILE, EXACT_MAP_FILE, WILDCARD_MAP_FILE),
    expresses=EVERY_FEATURE,
    context=haproxy_context,
    template_folder="haproxy",
)
