"""nginx_hash's numbers hold in the real nginx, on both sides of every edge it computes.

What the module claims: no hint means nginx's defaults build the policy's maps without a
word; a hint means they do not (a key wider than a bucket stops nginx, a table that fits
no size up to ``map_hash_max_size`` makes it warn and build a slower one), and the hint's
values do. Each test takes the policies just below and just above one edge, as the module
computes it, and asks ``nginx -t``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from corsgen.nginx_hash import DEFAULT_BUCKET_SIZE, DEFAULT_MAX_SIZE, POINTER, HashHint
from corsgen.policy import Policy
from corsgen.render import render
from tests.conftest import parse
from tests.test_server_config import NGINX, need, nginx_config, nginx_t

# nginx's two ways of refusing a map hash (src/core/ngx_hash.c).
KEY_TOO_WIDE = "could not build map_hash, you should increase map_hash_bucket_size: {bucket}"
TABLE_TOO_SMALL = "could not build optimal map_hash, you should increase either map_hash_max_size"
DEFAULTS = HashHint(DEFAULT_BUCKET_SIZE, DEFAULT_MAX_SIZE)


def policy_of(origins: list[str]) -> Policy:
    return parse("version: 1\nname: big\norigins:\n" + "".join(f"  - {o}\n" for o in origins))


def hint_of(origins: list[str]) -> HashHint | None:
    """The map_hash_* values the rendered http part asks for, as an operator reads them."""
    http_conf = render(policy_of(origins), "nginx").files["big.http.conf"]
    stated = dict(
        re.findall(r"^#\s+(map_hash_bucket_size|map_hash_max_size) (\d+);$", http_conf, re.M)
    )
    if not stated:
        return None
    return HashHint(int(stated["map_hash_bucket_size"]), int(stated["map_hash_max_size"]))


def nginx_test(workdir: Path, origins: list[str], settings: HashHint | None) -> str:
    """``nginx -t`` of the policy's rendered files, with ``settings`` set before them.

    Returns what nginx printed about map hashes ("" when nothing); a refusal fails the
    configuration test, a warning does not.
    """
    workdir.mkdir()
    for name, text in render(policy_of(origins), "nginx").files.items():
        (workdir / name).write_text(text)
    # The settings come in a file of their own included first, as docs/nginx.md tells
    # users to do (conf.d/00-map-hash.conf): nginx sizes each map where it reads it.
    settings_text = (
        ""
        if settings is None
        else f"map_hash_bucket_size {settings.bucket_size};\n"
        f"map_hash_max_size {settings.max_size};\n"
    )
    (workdir / "00-map-hash.http.conf").write_text(settings_text)
    (workdir / "00-map-hash.location.conf").write_text("")
    result = nginx_t(workdir, nginx_config(workdir, ["00-map-hash", "big"]))
    said = "\n".join(line for line in result.stderr.splitlines() if "map_hash" in line)
    if result.returncode != 0:
        assert said, result.stderr  # refused for another reason than map hashes
    return said


def widest_key(bucket: int) -> int:
    """The longest key a bucket holds: nginx needs a pointer's room after the element,
    which is a value pointer, a 2-byte length and the key, aligned to a pointer
    (NGX_HASH_ELT_SIZE)."""
    return bucket - 2 * POINTER - 2


def origin_of_length(length: int) -> str:
    """An exact Origin of ``length`` characters, in labels short enough to be valid."""
    filler = length - len("https://") - len(".example.com")
    host = (("a" * 39 + ".") * (filler // 40 + 1))[:filler]
    if host.endswith("."):
        host = host[:-1] + "a"
    return f"https://{host}.example.com"


def subdomain_of_label(length: int) -> str:
    """A wildcard entry one of whose labels is ``length`` characters long."""
    return f"https://*.{'b' * length}.example.com"


# --- one key: how wide a bucket must be -----------------------------------------------


@pytest.mark.parametrize("bucket", [64, 128, 256])
def test_a_key_as_wide_as_a_bucket_holds_fits_it_and_one_byte_more_needs_the_next(
    bucket: int, tmp_path: Path
) -> None:
    need(NGINX)
    fitting = [origin_of_length(widest_key(bucket))]
    too_wide = [origin_of_length(widest_key(bucket) + 1)]
    assert (len(fitting[0]), len(too_wide[0])) == (widest_key(bucket), widest_key(bucket) + 1)

    hint = hint_of(fitting)
    assert hint == (None if bucket == DEFAULT_BUCKET_SIZE else HashHint(bucket, DEFAULT_MAX_SIZE))
    assert nginx_test(tmp_path / "fitting", fitting, hint) == ""

    hint = hint_of(too_wide)
    assert hint == HashHint(2 * bucket, DEFAULT_MAX_SIZE)
    assert nginx_test(tmp_path / "with-hint", too_wide, hint) == ""
    smaller = HashHint(bucket, DEFAULT_MAX_SIZE)
    assert KEY_TOO_WIDE.format(bucket=bucket) in nginx_test(tmp_path / "smaller", too_wide, smaller)


def test_a_wildcard_entry_needs_room_for_its_longest_label_not_its_whole_name(
    tmp_path: Path,
) -> None:
    # nginx keeps "*.a.example.org" as a tree of labels, one hash per set of siblings.
    need(NGINX)
    long_name = [f"https://*.{'.'.join(['c' * 40] * 4)}.example.com"]
    assert hint_of(long_name) is None
    assert nginx_test(tmp_path / "long-name", long_name, None) == ""

    fitting = [subdomain_of_label(widest_key(DEFAULT_BUCKET_SIZE))]
    assert hint_of(fitting) is None
    assert nginx_test(tmp_path / "fitting", fitting, None) == ""

    too_wide = [subdomain_of_label(widest_key(DEFAULT_BUCKET_SIZE) + 1)]
    hint = hint_of(too_wide)
    assert hint == HashHint(2 * DEFAULT_BUCKET_SIZE, DEFAULT_MAX_SIZE)
    assert nginx_test(tmp_path / "with-hint", too_wide, hint) == ""
    refusal = KEY_TOO_WIDE.format(bucket=DEFAULT_BUCKET_SIZE)
    assert refusal in nginx_test(tmp_path / "defaults", too_wide, None)


# --- many keys: how many buckets a table may have -------------------------------------


def most_that_fit_the_defaults(origin: Callable[[int], str]) -> int:
    """The largest count of ``origin(0)``, ``origin(1)``… for which the module gives no hint.

    Adding a key never makes a table fit (every bucket is at least as full, and nginx
    starts its search at a size that grows with the count), so a bisection finds it.
    """
    fits, does_not = 1, 1
    while hint_of([origin(i) for i in range(does_not)]) is None:
        fits, does_not = does_not, does_not * 2
    while does_not - fits > 1:
        middle = (fits + does_not) // 2
        if hint_of([origin(i) for i in range(middle)]) is None:
            fits = middle
        else:
            does_not = middle
    return fits


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(lambda i: f"https://app{i}.example.com", id="exact"),
        # Two short keys share a bucket: more keys than the 2048 buckets can still fit.
        pytest.param(lambda i: f"https://a{i}.io", id="exact-short"),
        pytest.param(lambda i: f"https://*.team{i}.example.com", id="wildcard"),
        pytest.param(lambda i: f"http://host{i}.example.com:*", id="any-port"),
    ],
)
def test_one_key_more_than_the_defaults_hold_makes_nginx_warn_unless_the_hint_is_set(
    origin: Callable[[int], str], tmp_path: Path
) -> None:
    need(NGINX)
    count = most_that_fit_the_defaults(origin)
    below = [origin(i) for i in range(count)]
    above = [origin(i) for i in range(count + 1)]
    assert nginx_test(tmp_path / "below", below, None) == ""

    hint = hint_of(above)
    assert hint is not None
    assert TABLE_TOO_SMALL in nginx_test(tmp_path / "defaults", above, DEFAULTS)
    assert nginx_test(tmp_path / "with-hint", above, hint) == ""


def test_a_table_of_more_than_ten_thousand_buckets_is_found_in_the_sizes_nginx_tries(
    tmp_path: Path,
) -> None:
    # Above 10000 buckets nginx tries only the last 1000 sizes below map_hash_max_size,
    # so the hint's maximum must put a size that fits inside that window.
    need(NGINX)
    origins = [f"https://app{i}.example.com" for i in range(6000)]
    hint = hint_of(origins)
    assert hint is not None and hint.max_size > 10000
    assert TABLE_TOO_SMALL in nginx_test(tmp_path / "defaults", origins, DEFAULTS)
    assert nginx_test(tmp_path / "with-hint", origins, hint) == ""
