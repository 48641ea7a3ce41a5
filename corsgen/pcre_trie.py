"""Regexes that match exactly a list of strings, shaped as a trie, sized for PCRE.

Apache has no hashed lookup that a self-contained ``Include`` file can use, so a list of
origins becomes regexes. An alternation ``^(?:a|b|c)$`` makes PCRE try every entry in
turn (its cost grows with the list); a trie shares prefixes, so PCRE follows one path
and fails at the first character no entry has (its cost grows with the origin's length).
Apache compiles without PCRE's JIT, and a compiled pattern must stay under 64 Ki code
units (PCRE2's default link size): long lists are split into several regexes, each
estimated with PCRE2's own sizes (``pcre2_compile.c``) and kept well under the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

# PCRE2, 8-bit, link size 2: the largest compiled pattern is 65535 code units. The
# estimate below errs high; the margin covers what it does not count.
PCRE_PATTERN_LIMIT = 65535
CHUNK_BUDGET = 56000

# Compiled sizes in code units (PCRE2 with LINK_SIZE 2).
_CHAR = 2  # OP_CHAR + the character
_GROUP = 6  # OP_BRA + link ... OP_KET + link
_ALTERNATIVE = 3  # OP_ALT + link, per alternative after the first
_OPTIONAL = 1  # OP_BRAZERO before an optional group
_CLASS = 33  # OP_CLASS + a 256-bit map
_FIXED = 8  # ^, $, OP_END and the outer group's links

# A character class is smaller than an alternation of single characters from this many.
_CLASS_FROM = 6
_CLASS_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


# What re.escape escapes (Python 3.7+), as a table: str.translate on it is what re.escape
# does, without the call overhead that shows on a 100 000-origin list.
_ESCAPES = {code: "\\" + chr(code) for code in b"()[]{}?*+-|^$\\.&~# \t\n\r\v\f"}


def _literal(text: str) -> str:
    return text.translate(_ESCAPES)


class _Builder:
    """Builds the trie regex of a sorted range of strings, with its estimated size."""

    def __init__(self, strings: Sequence[str]) -> None:
        self.strings = strings

    def regex(self, lo: int, hi: int) -> tuple[str, int]:
        return self._node(lo, hi, 0)

    def _node(self, lo: int, hi: int, depth: int) -> tuple[str, int]:
        strings = self.strings
        first, last = strings[lo], strings[hi - 1]
        # Sorted: the range's common prefix is that of its first and last strings.
        end = depth
        limit = min(len(first), len(last))
        while end < limit and first[end] == last[end]:
            end += 1
        prefix = first[depth:end]
        size = _CHAR * len(prefix)
        if hi - lo == 1:
            return _literal(first[depth:]), _CHAR * (len(first) - depth)
        optional = len(first) == end  # one string stops here (sorted: the first)
        start = lo + 1 if optional else lo
        # Children in order; those whose remainders are the same regex share it.
        by_rest: dict[str, list[str]] = {}
        rest_size: dict[str, int] = {}
        index = start
        while index < hi:
            character = strings[index][end]
            stop = index + 1
            while stop < hi and strings[stop][end] == character:
                stop += 1
            rest, rest_cost = self._node(index, stop, end + 1)
            by_rest.setdefault(rest, []).append(character)
            rest_size[rest] = rest_cost
            index = stop
        alternatives = []
        for rest, characters in by_rest.items():
            if len(characters) == 1:
                alternatives.append(_literal(characters[0]) + rest)
                size += _CHAR + rest_size[rest]
            elif len(characters) >= _CLASS_FROM:
                members = "".join(c if c in _CLASS_SAFE else "\\" + c for c in characters)
                alternatives.append(f"[{members}]{rest}")
                size += _CLASS + rest_size[rest]
            else:
                options = "|".join(_literal(c) for c in characters)
                alternatives.append(f"(?:{options}){rest}")
                size += _GROUP + _ALTERNATIVE * (len(characters) - 1)
                size += _CHAR * len(characters) + rest_size[rest]
        if len(alternatives) == 1 and not optional:
            return _literal(prefix) + alternatives[0], size
        size += _GROUP + _ALTERNATIVE * (len(alternatives) - 1)
        body = "(?:" + "|".join(alternatives) + ")"
        if optional:
            body += "?"
            size += _OPTIONAL
        return _literal(prefix) + body, size


def trie_regexes(strings: Sequence[str], budget: int = CHUNK_BUDGET) -> list[tuple[str, int]]:
    """Regex bodies (unanchored, with their estimated compiled sizes) that together match
    exactly ``strings``; each is at most ``budget`` code units.

    The strings are sorted and split into contiguous ranges, so an input can match in one
    range only, and every other range's regex fails within its first few characters.
    """
    ordered = sorted(set(strings))
    if not ordered:
        return []
    builder = _Builder(ordered)
    pending = [(0, len(ordered))]
    done: list[tuple[int, str, int]] = []
    while pending:
        lo, hi = pending.pop()
        regex, size = builder.regex(lo, hi)
        if size + _FIXED <= budget or hi - lo == 1:
            done.append((lo, regex, size + _FIXED))
            continue
        # Too large: split into as many equal ranges as the size suggests, with a quarter
        # to spare (a range's trie shares less than the whole's), so that a 100 000-entry
        # list is built about twice, not log2(n) times.
        parts = min(hi - lo, size * 5 // (budget * 4) + 1)
        step = (hi - lo + parts - 1) // parts
        pending.extend((start, min(start + step, hi)) for start in range(lo, hi, step))
    return [(regex, size) for _, regex, size in sorted(done)]
