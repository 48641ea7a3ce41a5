"""How large nginx's map hash tables must be for a policy's keys.

nginx builds each ``map`` into a hash with ``map_hash_bucket_size`` bytes per bucket
and at most ``map_hash_max_size`` buckets (defaults: the CPU cache line, 64 on x86-64,
and 2048). A key that does not fit a bucket stops nginx from starting; a table that
cannot be built within the maximum size makes nginx warn and build a slower one. This
module repeats nginx's own sizing search (``ngx_hash_init`` in
src/core/ngx_hash.c) so that ``corsgen render`` can state the values a policy needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

POINTER = 8
DEFAULT_BUCKET_SIZE = 64
DEFAULT_MAX_SIZE = 2048
_MASK = (1 << 64) - 1
# ngx_hash_init tries at most this many sizes below max_size once max_size > 10000.
_LARGE_TABLE = 10000
_LARGE_WINDOW = 1000


@dataclass(frozen=True)
class HashHint:
    bucket_size: int
    max_size: int


def _key_hash(key: str) -> int:
    value = 0
    for byte in key.lower().encode("ascii"):
        value = (value * 31 + byte) & _MASK
    return value


def _element_size(key: str) -> int:
    # NGX_HASH_ELT_SIZE: a value pointer, a 2-byte length, the key, aligned to a pointer.
    return POINTER + ((len(key) + 2 + POINTER - 1) // POINTER) * POINTER


def _fits(entries: list[tuple[int, int]], size: int, usable: int) -> bool:
    used = [0] * size
    for key_hash, element in entries:
        slot = key_hash % size
        used[slot] += element
        if used[slot] > usable:
            return False
    return True


def _first_size(
    entries: list[tuple[int, int]], bucket: int, max_size: int, tries: int | None = None
) -> int | None:
    """The table size nginx would settle on, or None when none fits under max_size.

    ``tries`` stops the search early; a size found that way is still one nginx reaches,
    since it tries every size from the same start upwards.
    """
    usable = bucket - POINTER
    count = len(entries)
    start = max(1, count // (usable // (2 * POINTER)))
    if max_size > _LARGE_TABLE and count and max_size // count < 100:
        start = max_size - _LARGE_WINDOW
    stop = max_size if tries is None else min(max_size, start + tries)
    for size in range(start, stop + 1):
        if _fits(entries, size, usable):
            return size
    return None


def _table_hint(keys: list[str]) -> HashHint | None:
    if not keys:
        return None
    entries = [(_key_hash(key), _element_size(key)) for key in keys]
    widest = max(element for _, element in entries) + POINTER
    bucket = DEFAULT_BUCKET_SIZE
    while bucket < widest:
        bucket *= 2
    count = len(entries)
    while True:
        # With the default bucket, search as far as nginx does: None must mean a warning.
        tries = None if bucket == DEFAULT_BUCKET_SIZE else 200
        if _first_size(entries, bucket, DEFAULT_MAX_SIZE, tries):
            return None if bucket == DEFAULT_BUCKET_SIZE else HashHint(bucket, DEFAULT_MAX_SIZE)
        # Larger tables: a few sizes at falling load factors; then a max_size whose
        # search window (see _first_size) contains the size that fits.
        usable = bucket - POINTER
        for size in sorted({count, count * 3 // 2, count * 2, count * 3, count * 4}):
            if size > DEFAULT_MAX_SIZE and _fits(entries, size, usable):
                max_size = size if size <= _LARGE_TABLE else size + _LARGE_WINDOW - 1
                return HashHint(bucket, max_size)
        bucket *= 2


def _wildcard_levels(keys: Iterable[str]) -> list[list[str]]:
    # nginx stores "*.a.example.org" as a tree of labels read from the right; each set
    # of sibling labels is a hash table of its own.
    siblings: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for key in keys:
        labels = key[2:].split(".")[::-1]
        for depth, label in enumerate(labels):
            siblings[tuple(labels[:depth])].add(label)
    return [sorted(group) for group in siblings.values()]


def map_hash_hint(
    exact_tables: list[list[str]], hostname_tables: list[list[str]]
) -> HashHint | None:
    """The map_hash_* values the given maps need, or None when nginx's defaults do."""
    tables = [table for table in exact_tables if table]
    for table in hostname_tables:
        tables.append([key for key in table if not key.startswith("*.")])
        tables.extend(_wildcard_levels(key for key in table if key.startswith("*.")))
    hints = [hint for hint in (_table_hint(table) for table in tables) if hint]
    if not hints:
        return None
    return HashHint(
        bucket_size=max(hint.bucket_size for hint in hints),
        max_size=max(hint.max_size for hint in hints),
    )
