"""Host names and the Public Suffix List: which part of a host anyone can register.

The list is the ``publicsuffixlist`` package's bundled snapshot: nothing is fetched. Both the
policy model (a regex with credentials) and ``corsgen lint`` ask these questions.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=2)
def _psl(accept_unknown: bool) -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=accept_unknown)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_public_suffix(host: str) -> bool:
    """Is ``host`` itself on the Public Suffix List (``com``, ``github.io``, ``co.uk``)?"""
    if is_ip(host) or host == "localhost":
        return False
    return bool(_psl(False).is_public(host))


def public_suffix_of(host: str) -> str | None:
    """The public suffix of ``host``; an unknown top-level label counts as one."""
    if is_ip(host):
        return None
    return _psl(True).publicsuffix(host)


def registrable_domain(host: str) -> str | None:
    """The site a host belongs to (``example.com`` for ``a.b.example.com``)."""
    if is_ip(host):
        return host
    return _psl(True).privatesuffix(host)
