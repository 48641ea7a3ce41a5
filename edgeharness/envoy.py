"""Envoy to the harness: a bootstrap with corsgen's parts merged in (its :data:`ENVOY` entry
is in :mod:`edgeharness.targets`).

A rendered ``NAME.envoy.yaml`` has three keys an operator merges into their own config, as
docs/envoy.md says: ``http_filters`` first in the http_connection_manager's filters (before
any auth filter), ``virtual_host`` into the API's virtual host, ``local_reply_config``'s
mappers into the http_connection_manager's. :func:`bootstrap_config` does exactly that, so
every test, the integration containers and the bench load the files as an operator would.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from edgeharness.targets import ENVOY

__all__ = [
    "ENVOY",
    "Listener",
    "sha_user",
    "VirtualHost",
    "bootstrap_config",
    "bootstrap_listeners",
    "merged",
]

# libyaml's parser and emitter where PyYAML has them (100 000 origins: seconds, not a minute).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
FILTER_CONFIG = "type.googleapis.com/envoy.config.route.v3.FilterConfig"
BASIC_AUTH = "envoy.filters.http.basic_auth"
# The one user of the auth routes unless told (SHA-1 of "wonderland"); no test request of
# tests/ logs in.
BASIC_AUTH_USERS = "alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ="


def sha_user(user: str, password: str) -> str:
    """A user line of Envoy's basic_auth, which reads htpasswd's {SHA} scheme only."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}"


@dataclass
class VirtualHost:
    """One virtual host of the edge: its domains and the policy files merged into it.

    Routes: ``/ready`` answers 200 (the generation header tells the config apart),
    ``static_path`` is answered by Envoy itself (a direct response, the "locally served
    content"), ``auth_path`` goes to the upstream behind Envoy's basic_auth filter (after
    corsgen's filters, as docs/envoy.md places it), everything else to the upstream.
    """

    name: str
    domains: list[str] = field(default_factory=lambda: ["*"])
    # Paths Envoy answers itself with 200 and this body (the harness's readiness checks).
    answers: dict[str, str] = field(default_factory=lambda: {"/ready": "ready"})
    policies: Sequence[str] = ()  # rendered NAME.envoy.yaml texts merged into this host
    auth_path: str = "/auth/"
    static_path: str = "/static/"
    static_body: str = "static"
    response_headers: dict[str, str] = field(default_factory=dict)


def merged(policies: Sequence[str]) -> tuple[list[Any], dict[str, Any], list[Any]]:
    """The parts of rendered files: http filters, virtual host keys, local-reply mappers."""
    filters: list[Any] = []
    host: dict[str, Any] = {}
    mappers: list[Any] = []
    for text in policies:
        part = yaml.load(text, Loader=_LOADER)
        filters += part["http_filters"]
        for key, value in part["virtual_host"].items():
            if isinstance(value, dict):
                host.setdefault(key, {}).update(value)
            else:
                host.setdefault(key, []).extend(value)
        mappers += part["local_reply_config"]["mappers"]
    return filters, host, mappers


def _virtual_host(
    host: VirtualHost, cluster: str | None
) -> tuple[dict[str, Any], list[Any], list[Any]]:
    filters, merged_keys, mappers = merged(host.policies)
    upstream: dict[str, Any] = (
        {"route": {"cluster": cluster}}
        if cluster
        else {"direct_response": {"status": 503, "body": {"inline_string": "no upstream"}}}
    )
    # basic_auth runs on the auth routes only.
    no_auth = {"typed_per_filter_config": {BASIC_AUTH: {"@type": FILTER_CONFIG, "disabled": True}}}
    routes = [
        {
            "match": {"path": path},
            "direct_response": {"status": 200, "body": {"inline_string": body}},
            **no_auth,
        }
        for path, body in host.answers.items()
    ]
    routes += [
        {
            "match": {"prefix": host.static_path},
            "direct_response": {"status": 200, "body": {"inline_string": host.static_body}},
            **no_auth,
        },
        {"match": {"prefix": host.auth_path}, **upstream},
        {"match": {"prefix": "/"}, **upstream, **no_auth},
    ]
    headers = [
        {"header": {"key": name, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for name, value in host.response_headers.items()
    ]
    vhost: dict[str, Any] = {"name": host.name, "domains": host.domains, **merged_keys}
    vhost["response_headers_to_add"] = [*merged_keys.get("response_headers_to_add", []), *headers]
    vhost["routes"] = routes
    return vhost, filters, mappers


@dataclass
class Listener:
    """One listener on 127.0.0.1: its port and its virtual hosts (one connection manager)."""

    port: int
    hosts: Sequence[VirtualHost]
    auth_users: str = BASIC_AUTH_USERS  # basic_auth's users (htpasswd {SHA} lines)


def bootstrap_config(
    hosts: Sequence[VirtualHost],
    *,
    port: int,
    upstream_port: int | None = None,
    comment: str = "corsgen test edge",
) -> str:
    """A whole Envoy bootstrap: one listener on 127.0.0.1:``port``, one virtual host per
    ``hosts``, each with its policies merged as documented; the upstream on
    ``upstream_port`` (None: Envoy answers 503 itself)."""
    return bootstrap_listeners(
        [Listener(port, hosts)], upstream_port=upstream_port, comment=comment
    )


def bootstrap_listeners(
    listeners: Sequence[Listener],
    *,
    upstream_port: int | None = None,
    comment: str = "corsgen test edge",
    access_log: str | None = None,
) -> str:
    """A whole Envoy bootstrap of several listeners (each site of the integration tests
    on a port of its own); ``access_log``: a file where every request line is written,
    quoted as nginx writes it."""
    cluster = "upstream" if upstream_port is not None else None
    resources = [_listener(listener, cluster, access_log) for listener in listeners]
    bootstrap: dict[str, Any] = {"static_resources": {"listeners": resources, "clusters": []}}
    if upstream_port is not None:
        bootstrap["static_resources"]["clusters"].append(_cluster(upstream_port))
    # The dumper writes an object the loaded files share (the origin filter's one action)
    # once, with an anchor, as the rendered file does.
    return f"# {comment}\n" + yaml.dump(bootstrap, Dumper=_DUMPER, sort_keys=False, width=1000)


def _listener(listener: Listener, cluster: str | None, access_log: str | None) -> dict[str, Any]:
    vhosts, filters, mappers = [], [], []
    for host in listener.hosts:
        vhost, host_filters, host_mappers = _virtual_host(host, cluster)
        vhosts.append(vhost)
        filters += host_filters
        mappers += host_mappers
    # basic_auth after corsgen's filters (the routes outside auth_path turn it off).
    auth = {
        "name": BASIC_AUTH,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth",
            "users": {"inline_string": listener.auth_users},
        },
    }
    manager: dict[str, Any] = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network."
        "http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": f"api_{listener.port}",
        "route_config": {"name": f"api_{listener.port}", "virtual_hosts": vhosts},
        "http_filters": [*filters, auth, ROUTER],
    }
    if mappers:
        manager["local_reply_config"] = {"mappers": mappers}
    if access_log is not None:
        line = '"%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE%\n'
        manager["access_log"] = [
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3."
                    "FileAccessLog",
                    "path": access_log,
                    "log_format": {"text_format_source": {"inline_string": line}},
                },
            }
        ]
    address = {"socket_address": {"address": "127.0.0.1", "port_value": listener.port}}
    return {
        "name": f"api_{listener.port}",
        "address": address,
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": manager,
                    }
                ]
            }
        ],
    }


def _cluster(upstream_port: int) -> dict[str, Any]:
    address = {"socket_address": {"address": "127.0.0.1", "port_value": upstream_port}}
    return {
        "name": "upstream",
        "connect_timeout": "5s",
        "load_assignment": {
            "cluster_name": "upstream",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    }
