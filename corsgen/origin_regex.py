"""``origin_regex``: the subset of regular expressions that Python's ``re`` and PCRE read alike.

nginx and Apache match ``origin_regex`` entries with PCRE2; ``corsgen explain``, ``lint`` and
the tests match them with Python's ``re``. Both must agree on every Origin, every accepted
regex must compile in PCRE (``nginx -t`` / ``apachectl -t``), and none may let one crafted
Origin cost the edge more than linear time. This module therefore reads a regex itself,
with a small recursive-descent parser for exactly the subset (spec section 4, "Matching"),
refusing everything else with a message that names the construct and its position, and
then checks the parsed tree:

- :func:`parse` builds the tree (:class:`Node`), character sets as 256-bit masks over bytes;
- :func:`check_backtracking` proves that matching is linear in the Origin's length;
- :func:`samples` and :func:`attacker_origin` find origins the regex lets in that anyone
  could own (``null``, or a registrable name of the attacker's choosing).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from corsgen.origins import OriginSyntaxError
from corsgen.public_suffix import is_public_suffix, public_suffix_of, registrable_domain

# No host name needs a count above 255 (a DNS label is at most 63 characters, a name 253);
# PCRE refuses counts above 65535 ('number too big in {} quantifier'), and unrolls every
# repeated group into copies, so large counts also make the compiled regex too large.
MAX_BOUND = 255
# Real origin regexes nest groups two or three deep. Eight keeps every sensible one while
# bounding the recursion of this parser, of the analysis below and of the engines' own
# compilers (PCRE2 stops at 250), and it bounds how often nested counts can multiply.
MAX_DEPTH = 8
# PCRE2 as built for Debian (link size 2) refuses a compiled regex above 64 KiB ('regular
# expression is too large'). The estimate below is deliberately high (a class counts 33
# bytes, each copy of a repeated group its full size), and half of the limit is allowed.
MAX_PCRE_BYTES = 32_768
# Work bounds of the backtracking check: automaton positions after unrolling counts, and
# pairs of positions examined. Beyond them the regex is refused, never accepted unchecked.
MAX_POSITIONS = 2_000
MAX_PAIR_WORK = 1_500_000

ALL_BYTES = (1 << 256) - 1


def _bits(characters: str) -> int:
    mask = 0
    for character in characters:
        mask |= 1 << ord(character)
    return mask


def _span(low: str, high: str) -> int:
    return ((1 << (ord(high) + 1)) - 1) ^ ((1 << ord(low)) - 1)


DIGITS = _span("0", "9")
WORD = DIGITS | _span("a", "z") | _span("A", "Z") | _bits("_")
# PCRE's \s (ASCII: space, \t \n \v \f \r). Python's \s on a str pattern also matches
# \x1c-\x1f and Unicode spaces; a browser never sends any of them in an Origin.
SPACE = _bits(" \t\n\v\f\r")
# '.' matches anything but a newline in both engines (no DOTALL); an Origin has none.
DOT = ALL_BYTES & ~_bits("\n")
# \d and \w are Unicode-aware in Python's str patterns but ASCII in PCRE (nginx and Apache
# compile without UTF/UCP). They agree on ASCII, and browsers send host names in ASCII
# (punycode), so the difference never reaches a browser's Origin.
CLASS_ESCAPES = {
    "d": DIGITS,
    "D": ALL_BYTES & ~DIGITS,
    "w": WORD,
    "W": ALL_BYTES & ~WORD,
    "s": SPACE,
    "S": ALL_BYTES & ~SPACE,
}
# A backslash before these punctuation characters is the character itself in both engines.
# Before a letter or digit the engines differ (\Z, \A, \b, \1, \k<name>, \x..) or refuse it.
LITERAL_ESCAPES = frozenset(".-/[](){}*+?|^$:=!,&~@")
# Characters that end a quoted config string or start a comment in nginx or Apache.
FORBIDDEN = frozenset("\"';#`%")
# The characters a host name is made of (browsers send it lower-case).
HOST_CHARACTERS = _span("a", "z") | DIGITS | _bits("-_")
# Preferred representatives of a character set, for samples and witnesses.
# A digit other than 0 first: no leading-zero ports.
_PREFERRED = "abcdefghijklmnopqrstuvwxyz1234567890-._:/ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RegexRefused(ValueError):
    """A regex outside the subset, unsafe, or too slow to match; the message says why."""


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Node:
    """A part of the regex and its source span ``[start, end)``."""

    start: int
    end: int


@dataclass(frozen=True, eq=False)
class Chars(Node):
    """One byte out of ``mask``: a literal, a class, or ``.`` (``kind``)."""

    mask: int
    kind: str


@dataclass(frozen=True, eq=False)
class Anchor(Node):
    """``^`` or ``$``. The renderer anchors every regex, so they only ever repeat that."""

    which: str


@dataclass(frozen=True, eq=False)
class Concat(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Alternation(Node):
    branches: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Group(Node):
    """``(...)`` or ``(?:...)``: both only group, as nothing refers to a capture."""

    body: Node


@dataclass(frozen=True, eq=False)
class Repeat(Node):
    """``body`` repeated ``low`` to ``high`` times (``None``: no upper bound)."""

    body: Node
    low: int
    high: int | None


# --- the parser -------------------------------------------------------------------------------

_BRACE = re.compile(r"\{(\d*)(,?)(\d*)\}")


def parse(text: str) -> Node:
    """Parse an ``origin_regex`` entry; raise :class:`RegexRefused` outside the subset."""
    if not text:
        raise RegexRefused("an empty regex would match every origin")
    for index, character in enumerate(text):
        if character in FORBIDDEN:
            raise RegexRefused(
                f"contains {character!r} (position {index + 1}), which is not allowed in a "
                "regex (it could break out of the generated config)"
            )
        if character.isspace() or not character.isprintable() or not character.isascii():
            raise RegexRefused(
                f"contains {character!r}; origins are plain ASCII without whitespace "
                "(write internationalised names in punycode)"
            )
    if "${" in text:
        raise RegexRefused("contains '${', which Apache would read as a variable")
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> str:
        return self.text[self.pos + ahead : self.pos + ahead + 1]

    def fail(self, message: str) -> NoReturn:
        raise RegexRefused(message)

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):  # only an unmatched ')' stops the top level early
            self.fail(f"the ')' at position {self.pos + 1} closes no group")
        return node

    def alternation(self) -> Node:
        start = self.pos
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concatenation())
        if len(branches) == 1:
            return branches[0]
        return Alternation(start, self.pos, tuple(branches))

    def concatenation(self) -> Node:
        start = self.pos
        items: list[Node] = []
        while self.pos < len(self.text) and self.peek() not in "|)":
            items.append(self.quantified(self.atom()))
        if len(items) == 1:
            return items[0]
        return Concat(start, self.pos, tuple(items))

    def atom(self) -> Node:
        start = self.pos
        character = self.peek()
        if character == "(":
            return self.group()
        if character == "[":
            return self.character_class()
        if character == "\\":
            mask, literal = self.escape(in_class=False)
            return Chars(start, self.pos, mask, "literal" if literal else "class")
        if character in "*+?":
            self.fail(
                f"the quantifier {character!r} at position {start + 1} has nothing to repeat "
                f"(write '\\{character}' for the character itself)"
            )
        if character == "{":
            if self.brace() is not None:
                self.fail(f"the quantifier at position {start + 1} has nothing to repeat")
            # Python reads a '{' that starts no quantifier as itself; PCRE2 10.43 and later
            # read more forms ('{,3}', '{ 1 }') as quantifiers than the PCRE2 on the servers.
            self.fail(
                f"the '{{' at position {start + 1} starts no quantifier {{m}}, {{m,}} or "
                "{m,n}; write '\\{' for the character itself"
            )
        self.pos += 1
        if character == ".":
            return Chars(start, self.pos, DOT, "dot")
        if character in "^$":
            return Anchor(start, self.pos, character)
        return Chars(start, self.pos, 1 << ord(character), "literal")

    def brace(self) -> tuple[int, int | None, int] | None:
        """The quantifier ``{m}``, ``{m,}`` or ``{m,n}`` at the cursor: (low, high, end)."""
        found = _BRACE.match(self.text, self.pos)
        if not found:
            return None
        low, comma, high = found.groups()
        shown = found.group()
        where = f"'{shown}' at position {self.pos + 1}"
        if not low and not comma and not high:
            return None  # '{}' is the text '{}' to both engines; the caller refuses '{'
        if not low:
            # Python reads '{,3}' as {0,3}; PCRE2 before 10.43 (Debian 12's nginx and
            # Apache) reads it as the four characters '{,3}'.
            self.fail(
                f"the open lower bound {where} means 0 to {high or 'any'} repetitions to "
                "Python but the literal text to PCRE; write "
                f"'{{0,{high}}}'"
                if high
                else f"the open bounds {where} mean any number to Python but the literal "
                "text to PCRE; write '*'"
            )
        low_value = int(low)
        high_value = None if comma and not high else int(high or low)
        for value in (low_value, high_value):
            if value is not None and value > MAX_BOUND:
                self.fail(
                    f"the bound {value} in {where} is above {MAX_BOUND}: no host name needs "
                    "more, and PCRE refuses large counts or the regex they make (nginx -t "
                    "would fail); use '+' or '*' for no upper limit"
                )
        if high_value is not None and low_value > high_value:
            self.fail(f"the bounds in {where} run backwards; write '{{{high},{low}}}'")
        return low_value, high_value, found.end()

    def quantified(self, atom: Node) -> Node:
        start = self.pos
        character = self.peek()
        if character in ("*", "+", "?") and character:
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[character]
            self.pos += 1
        elif character == "{":
            bounds = self.brace()
            if bounds is None:
                return atom  # atom() refuses the '{' next
            low, high, self.pos = bounds
        else:
            return atom
        quantifier = self.text[start : self.pos]
        if isinstance(atom, Anchor):
            # Python refuses '^*' ('nothing to repeat'); PCRE accepts it.
            self.fail(
                f"the quantifier '{quantifier}' at position {start + 1} repeats the anchor "
                f"'{atom.which}', which Python refuses and PCRE accepts; remove it"
            )
        following = self.peek()
        if following in ("?", "+") and following:
            # Lazy '+?' and possessive '++' (Python only since 3.11, and atomic: it changes
            # what matches) are not needed to match a whole Origin.
            self.fail(
                f"'{quantifier}{following}' at position {start + 1}: lazy and possessive "
                "quantifiers are not in the subset; write the quantifier alone"
            )
        if following == "*" or (following == "{" and self.brace() is not None):
            # Python refuses 'a**' and 'a{2}{3}' ('multiple repeat'); PCRE repeats again.
            self.fail(
                f"two quantifiers in a row at position {start + 1}: Python refuses them and "
                "PCRE repeats the repetition; group the first: (?:a{2}){3}"
            )
        return Repeat(atom.start, self.pos, atom, low, high)

    def group(self) -> Node:
        start = self.pos
        self.pos += 1
        if self.peek() == "?":
            if self.peek(1) != ":":
                self.fail(self.extension(start))
            self.pos += 2
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(
                f"the group at position {start + 1} is nested more than {MAX_DEPTH} deep; "
                "no origin needs that many (flatten it, or split the regex into entries)"
            )
        body = self.alternation()
        if self.peek() != ")":
            self.fail(f"the group opened at position {start + 1} is not closed: add ')'")
        self.pos += 1
        self.depth -= 1
        return Group(start, self.pos, body)

    def extension(self, start: int) -> str:
        rest = self.text[start + 2 : start + 4]
        if rest.startswith(("<=", "<!", "=", "!")):
            what = "the look-around"
        elif rest.startswith(("P<", "<")):
            what = "the named group"
        elif rest.startswith(("P=", "P>", "&", "R")) or rest[:1].isdigit():
            what = "the backreference or recursion"
        elif rest.startswith(">"):
            what = "the atomic group"
        elif rest.startswith("|"):
            what = "the branch-reset group"
        elif rest[:1].isalpha() or rest.startswith(("-", "^")):
            what = "the inline flags"
        else:
            what = "the group extension"
        shown = self.text[start : start + 4]
        return (
            f"{what} '{shown}' at position {start + 1} is not in the subset Python and PCRE "
            "share: named groups, backreferences, look-around and inline flags are errors "
            "(use plain (...) or (?:...) groups)"
        )

    def escape(self, in_class: bool) -> tuple[int, str | None]:
        """A backslash escape: (mask, the literal character or None for a class escape)."""
        start = self.pos
        escaped = self.peek(1)
        if escaped in CLASS_ESCAPES and escaped:
            self.pos += 2
            return CLASS_ESCAPES[escaped], None
        if escaped in LITERAL_ESCAPES and escaped:
            self.pos += 2
            return 1 << ord(escaped), escaped
        where = f"at position {start + 1}"
        if not escaped:
            self.fail(f"the '\\' {where} ends the regex and escapes nothing")
        if escaped.isdigit() or escaped in "kgP":
            self.fail(
                f"the escape '\\{escaped}' {where} is a backreference, which the subset does "
                "not have (write the text again)"
            )
        if escaped in "AZzbBG" and not in_class:
            # \Z is the very end in Python but 'end or before a final newline' in PCRE, \b
            # depends on what each engine calls a word character.
            self.fail(
                f"the escape '\\{escaped}' {where} is an assertion Python and PCRE read "
                "differently (the regex is anchored already: drop it, or use ^ and $)"
            )
        self.fail(
            f"the escape '\\{escaped}' {where} is not in the subset that Python and PCRE "
            "agree on (use \\. \\- \\d \\w or a character class)"
        )

    def character_class(self) -> Node:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        mask = 0
        first = True
        while True:
            character = self.peek()
            if not character:
                self.fail(f"the class opened at position {start + 1} is not closed: add ']'")
            if character == "]" and not first:
                self.pos += 1
                break
            # A ']' right after '[' or '[^' is a member in both engines.
            low_mask, low = self.class_member()
            first = False
            if self.peek() == "-" and self.peek(1) == "-":
                self.class_member()  # refuses '--'
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                dash = self.pos
                self.pos += 1
                high_mask, high = self.class_member()
                if low is None or high is None:
                    # Python refuses '[\w-.]' ('bad character range'); PCRE reads the '-'
                    # as itself.
                    self.fail(
                        f"the '-' at position {dash + 1} joins a class escape (\\d \\w \\s) to "
                        "a range, which Python refuses and PCRE reads as '-'; write '-' first "
                        "or last in the class, or escape it as '\\-'"
                    )
                if ord(low) > ord(high):
                    self.fail(
                        f"the range '{low}-{high}' at position {dash} runs backwards; "
                        f"write '{high}-{low}'"
                    )
                mask |= _span(low, high)
            else:
                mask |= low_mask
        if negated:
            mask = ALL_BYTES & ~mask
        kind = "literal" if mask.bit_count() == 1 else "class"
        return Chars(start, self.pos, mask, kind)

    def class_member(self) -> tuple[int, str | None]:
        start = self.pos
        character = self.peek()
        if character == "[":
            follower = self.peek(1)
            if follower in (":", ".", "=") and follower:
                close = self.text.find(follower + "]", start + 2)
                shown = self.text[start : close + 2] if close >= 0 else f"[{follower}"
                # PCRE reads '[:alpha:]' inside a class as a named set; Python reads the
                # characters '[', ':', 'a', ... (so '[[:alpha:]]' is '[:ahlp]' then ']').
                self.fail(
                    f"the POSIX bracket class '{shown}' at position {start + 1} is a named set "
                    "to PCRE but a list of characters to Python; write the characters out "
                    "(e.g. a-z for [:lower:], a-zA-Z for [:alpha:], 0-9 for [:digit:])"
                )
            # Python warns that '[' inside a class may become a nested set one day.
            self.fail(f"the '[' at position {start + 1} is inside a class; write '\\['")
        if character in "-&~|" and self.peek(1) == character:
            # Python warns that '--', '&&', '~~' and '||' may become set operations.
            self.fail(
                f"the '{character * 2}' at position {start + 1} inside a class may become a set "
                f"operation in Python; write '{character}' once (or '\\{character}')"
            )
        if character == "\\":
            return self.escape(in_class=True)
        self.pos += 1
        return 1 << ord(character), character


# --- what PCRE compiles -----------------------------------------------------------------------


def pcre_size(node: Node) -> int:
    """An upper estimate of the bytes PCRE2 compiles ``node`` to (repeated groups unrolled)."""
    if isinstance(node, Chars):
        return 33 if node.kind == "class" else 2  # a class is an opcode and a 32-byte bitmap
    if isinstance(node, Anchor):
        return 1
    if isinstance(node, Concat):
        return sum(pcre_size(item) for item in node.items)
    if isinstance(node, Alternation):
        return sum(pcre_size(branch) + 3 for branch in node.branches)
    if isinstance(node, Group):
        return pcre_size(node.body) + 8
    if isinstance(node, Repeat):
        body = pcre_size(node.body)
        if isinstance(node.body, Chars):
            return body + 5  # one character or class with a count opcode, not unrolled
        copies = node.high if node.high is not None else node.low + 1
        return max(copies, 1) * (body + 2) + 3
    raise TypeError(node)


def check_size(tree: Node) -> None:
    if pcre_size(tree) > MAX_PCRE_BYTES:
        raise RegexRefused(
            "repeats groups so often that PCRE would refuse to compile it ('regular "
            "expression is too large', nginx -t fails); use smaller counts, '+' or '*'"
        )


# --- matching time ----------------------------------------------------------------------------
#
# A backtracking matcher (PCRE, and Python's re), anchored at '^', does work proportional to
# the number of distinct ways it can be part-way through the regex after reading a prefix of
# the Origin. Take the position (Glushkov) automaton of the regex: one state per character
# set occurrence, an edge for each way the regex lets one occurrence follow another. An edge
# can be there more than once: in '(a+)+' the 'a' follows itself through the inner and the
# outer loop, and a backtracking matcher tries both; so edges are counted (up to 2).
# If no two distinct paths over the same text ever reach the same state, each state holds at
# most one path after each character and the work is linear. The check looks for two
# distinct paths that meet: from the start, a pair of states (p, q), p != q, reached on the
# same text, that steps to one state, or one state with a doubled edge. It is exact for the
# automaton; counts {m,n} are unrolled into copies as PCRE does (so bounded nesting like
# (a{1,10}){1,10} is caught), or, if that is too large, relaxed to {m,}, which only adds
# paths and so can only refuse more.

_Edge = tuple[int, frozenset[tuple[int, int]]]  # (number of routes, capped; spans involved)


def _add(target: dict[int, _Edge], key: int, edge: _Edge) -> None:
    old = target.get(key)
    target[key] = edge if old is None else (min(2, old[0] + edge[0]), old[1] | edge[1])


def _scale(edges: dict[int, _Edge], by: _Edge) -> dict[int, _Edge]:
    if not by[0]:
        return {}
    return {key: (min(2, count * by[0]), spans | by[1]) for key, (count, spans) in edges.items()}


def _merge(*parts: dict[int, _Edge]) -> dict[int, _Edge]:
    merged: dict[int, _Edge] = {}
    for part in parts:
        for key, edge in part.items():
            _add(merged, key, edge)
    return merged


@dataclass
class _Info:
    first: dict[int, _Edge]
    last: dict[int, _Edge]
    empty: _Edge  # the ways of matching the empty text


_NONE: frozenset[tuple[int, int]] = frozenset()
_EMPTY = _Info({}, {}, (1, _NONE))


class _TooComplex(Exception):
    pass


class _Ambiguous(Exception):
    def __init__(self, spans: set[tuple[int, int]], witness: str) -> None:
        self.spans = spans
        self.witness = witness


class _Automaton:
    def __init__(self, exact: bool) -> None:
        self.exact = exact
        self.masks: list[int] = []
        self.spans: list[tuple[int, int]] = []
        self.follow: list[dict[int, _Edge]] = []

    def position(self, node: Chars) -> int:
        if len(self.masks) >= MAX_POSITIONS:
            raise _TooComplex
        self.masks.append(node.mask)
        self.spans.append((node.start, node.end))
        self.follow.append({})
        return len(self.masks) - 1

    def link(self, last: dict[int, _Edge], first: dict[int, _Edge], via: frozenset) -> None:
        for p, (count_p, spans_p) in last.items():
            for q, (count_q, spans_q) in first.items():
                _add(self.follow[p], q, (min(2, count_p * count_q), spans_p | spans_q | via))

    def build(self, node: Node) -> _Info:
        if isinstance(node, Chars):
            p = self.position(node)
            return _Info({p: (1, _NONE)}, {p: (1, _NONE)}, (0, _NONE))
        if isinstance(node, Anchor):
            return _EMPTY
        if isinstance(node, Group):
            return self.build(node.body)
        if isinstance(node, Concat):
            return self.sequence([lambda item=item: self.build(item) for item in node.items])
        if isinstance(node, Alternation):
            infos = [self.build(branch) for branch in node.branches]
            empties = sum(info.empty[0] for info in infos)
            spans = frozenset().union(*(info.empty[1] for info in infos))
            if empties > 1:  # two branches match the empty text: two ways
                spans |= {(node.start, node.end)}
            return _Info(
                _merge(*(info.first for info in infos)),
                _merge(*(info.last for info in infos)),
                (min(2, empties), spans),
            )
        if isinstance(node, Repeat):
            return self.repeat(node)
        raise TypeError(node)

    def sequence(self, parts: list, via: frozenset = _NONE) -> _Info:
        info = _EMPTY
        for part in parts:
            following: _Info = part()
            self.link(info.last, following.first, via)
            info = _Info(
                _merge(info.first, _scale(following.first, info.empty)),
                _merge(following.last, _scale(info.last, following.empty)),
                (min(2, info.empty[0] * following.empty[0]), info.empty[1] | following.empty[1]),
            )
        return info

    def optional(self, node: Repeat, info: _Info) -> _Info:
        spans = info.empty[1] | ({(node.start, node.end)} if info.empty[0] else set())
        return _Info(info.first, info.last, (min(2, info.empty[0] + 1), frozenset(spans)))

    def repeat(self, node: Repeat) -> _Info:
        low, high = node.low, node.high
        if not self.exact and high is not None and high > low:
            high = None
        copies = [lambda: self.build(node.body)] * max(low - (1 if high is None else 0), 0)
        if high is None:
            copies.append(lambda: self.loop(node, plus=low > 0))
        else:
            optional = high - low
            if optional:
                copies.append(lambda: self.nested_optional(node, optional))
        # Edges between copies are the repetition's doing: name it if paths meet there.
        return self.sequence(copies, frozenset({(node.start, node.end)}))

    def nested_optional(self, node: Repeat, count: int) -> _Info:
        # x{0,3} is (x(x(x)?)?)?, as PCRE unrolls it.
        inner = self.optional(node, self.build(node.body))
        for _ in range(count - 1):
            body = self.build(node.body)
            parts = [lambda b=body: b, lambda i=inner: i]
            inner = self.optional(node, self.sequence(parts, frozenset({(node.start, node.end)})))
        return inner

    def loop(self, node: Repeat, plus: bool) -> _Info:
        body = self.build(node.body)
        span = (node.start, node.end)
        if body.empty[0]:
            # Each engine stops a loop after an empty iteration, but only after trying it:
            # the same text then has one way with and one without the empty iteration.
            raise _Ambiguous({span} | set(body.empty[1]), "")
        self.link(body.last, body.first, frozenset({span}))
        return _Info(body.first, body.last, (0, _NONE) if plus else (1, _NONE))


def _representative(mask: int) -> str:
    for character in _PREFERRED:
        if mask >> ord(character) & 1:
            return character
    return chr((mask & -mask).bit_length() - 1)


def _find_meeting_paths(automaton: _Automaton, start: _Info) -> None:
    """Raise :class:`_Ambiguous` if two distinct paths over the same text meet.

    Paths that meet once may only double the work once (``(a|ab)(c|bcd)``), but telling
    that apart from a meeting that repeats (``(a+)+``), or from a finite number of paths so
    large that it is no better (``a?a?a?...aaa``), is far more work than rewriting the rare
    regex that meets harmlessly; so any meeting is refused.
    """
    masks, follow = automaton.masks, automaton.follow
    # A state is ("d", p): one path at p (p = -1 before the first character), or (p, q):
    # two distinct paths, at p and at q (p < q).
    origin: tuple = ("d", -1)
    parent: dict[tuple, tuple[tuple, str] | None] = {origin: None}
    queue: deque[tuple] = deque([origin])
    work = 0

    def text_to(state: tuple) -> str:
        characters = []
        step = parent[state]
        while step is not None:
            state, character = step
            characters.append(character)
            step = parent[state]
        return "".join(reversed(characters))

    def met(state: tuple, target: int, edges: list[_Edge], character: str) -> NoReturn:
        # Name the smallest part of the regex covering where the two paths went apart.
        # Where the paths meet is common to both: name where they went apart.
        spans: set[tuple[int, int]] = set()
        for edge in edges:
            spans |= edge[1]
        pairs = []
        while state[0] != "d":
            pairs.append(state)
            step = parent[state]
            assert step is not None
            state = step[0]
        for p, q in pairs:
            spans |= {automaton.spans[p], automaton.spans[q]}
        if pairs and state[1] >= 0:  # the step where the paths went apart
            for position in pairs[-1]:
                spans |= follow[state[1]].get(position, (0, _NONE))[1]
        for current, previous in zip(pairs, pairs[1:], strict=False):
            for a in previous:
                for b in current:
                    if b in follow[a]:
                        spans |= follow[a][b][1]
        raise _Ambiguous(spans, text_to(pairs[0] if pairs else state) + character)

    def visit(state: tuple, previous: tuple, character: str) -> None:
        if state not in parent:
            parent[state] = (previous, character)
            queue.append(state)

    while queue:
        state = queue.popleft()
        if state[0] == "d":
            edges = start.first if state[1] < 0 else follow[state[1]]
            work += len(edges) ** 2
            targets = sorted(edges)
            for index, r in enumerate(targets):
                if edges[r][0] > 1:  # two routes to the same state on one character
                    met(state, r, [edges[r]], _representative(masks[r]))
                visit(("d", r), state, _representative(masks[r]))
                for other in targets[index + 1 :]:
                    common = masks[r] & masks[other]
                    if common:
                        visit((r, other), state, _representative(common))
        else:
            p, q = state
            edges_p, edges_q = follow[p], follow[q]
            work += len(edges_p) * len(edges_q)
            for r1, edge_1 in edges_p.items():
                for r2, edge_2 in edges_q.items():
                    common = masks[r1] & masks[r2]
                    if not common:
                        continue
                    if r1 == r2:
                        met(state, r1, [edge_1, edge_2], _representative(common))
                    visit((min(r1, r2), max(r1, r2)), state, _representative(common))
        if work > MAX_PAIR_WORK:
            raise _TooComplex


def _cover(node: Node, start: int, end: int) -> tuple[int, int]:
    """The span of the smallest part of the tree (or run of a sequence) covering a range."""
    if isinstance(node, Group):
        inner = _cover(node.body, start, end)
        # '(x|y)' rather than 'x|y': a group's whole contents are shown with the group.
        return (node.start, node.end) if inner == (node.body.start, node.body.end) else inner
    children: tuple[Node, ...] = ()
    if isinstance(node, Concat):
        children = node.items
    elif isinstance(node, Alternation):
        children = node.branches
    elif isinstance(node, (Group, Repeat)):
        children = (node.body,)
    for child in children:
        if child.start <= start and end <= child.end:
            return _cover(child, start, end)
    if isinstance(node, Concat):
        touched = [item for item in node.items if item.start < end and start < item.end]
        if touched:
            return touched[0].start, touched[-1].end
    return node.start, node.end


def check_backtracking(text: str, tree: Node) -> None:
    """Refuse a regex whose matching time can grow faster than the Origin's length."""
    for exact in (True, False):
        automaton = _Automaton(exact)
        try:
            info = automaton.build(tree)
            _find_meeting_paths(automaton, info)
            return
        except _TooComplex:
            continue
        except _Ambiguous as found:
            start, end = _cover(
                tree, min(span[0] for span in found.spans), max(span[1] for span in found.spans)
            )
            example = (
                f"e.g. {found.witness!r}"
                if found.witness
                else "it repeats a part that can match the empty text"
            )
            raise RegexRefused(
                f"'{text[start:end]}' (position {start + 1}) can match one text in more than "
                f"one way ({example}); a backtracking matcher tries every way, and where the "
                "ways multiply, one crafted Origin costs the server time that grows faster "
                "than its length, so only regexes that match each text one way are accepted. "
                "Rewrite it so that each character has one place to go (e.g. '(a+)+' -> "
                "'a+', '([a-z0-9]+-?)*' -> '[a-z0-9-]*', '[0-9]?[0-9]?' -> '[0-9]{0,2}')"
            ) from None
    raise RegexRefused(
        "is too complex to check for slow matching; split it into several origin_regex entries"
    )


def check(text: str) -> Node:
    """Parse and check an ``origin_regex`` entry; return its tree."""
    tree = parse(text)
    check_size(tree)
    check_backtracking(text, tree)
    return tree


# Validation asks for each entry, and Policy.regex_patterns for its anchored form again; the
# analysis of a long regex takes a few milliseconds, so it is done once per text.
@lru_cache(maxsize=1024)
def check_origin_regex(value: str) -> str:
    """Validate an ``origin_regex`` entry; return the anchored pattern the targets use.

    Only the subset of regular expressions that Python and PCRE read alike is accepted
    (this module), and only when matching takes linear time. The
    renderers always match the whole Origin, so a leading ``^`` and trailing ``$`` are
    dropped and the body is wrapped in ``^(?:...)$``.
    """
    try:
        check(value)
        anchored_text = anchored(value)
        # A last cross-check: the parser accepts nothing that Python refuses.
        re.compile(anchored_text)
    except RegexRefused as exc:
        raise OriginSyntaxError(str(exc)) from None
    except re.error as exc:
        raise OriginSyntaxError(f"does not compile: {exc}") from None
    return anchored_text


# --- samples and attacker-owned origins -------------------------------------------------------

FREE = -1  # a character whose presence and value the attacker chooses (a varying repeat)
# A registrable name with at least this many spellings (from classes and '.') counts as one
# of the attacker's choosing: some spelling is surely unregistered (37**2 < 2000 < 37**3).
MANY_SPELLINGS = 2000
ATTACKER_LABEL = "corsgen-attacker"


@dataclass(frozen=True)
class Sample:
    """A text the regex matches, and for each character how freely an attacker picks it.

    ``choices[i]`` is 1 for a fixed character, n > 1 for one of n host characters, or
    :data:`FREE` inside a repetition whose count (and content) the attacker chooses.
    """

    text: str
    choices: tuple[int, ...]


def _choice_points(node: Node) -> list[tuple[Node, tuple[Repeat, ...]]]:
    """Every alternation and varying repetition, with the repetitions around it."""
    points: list[tuple[Node, tuple[Repeat, ...]]] = []
    stack: list[tuple[Node, tuple[Repeat, ...]]] = [(node, ())]
    while stack:
        current, around = stack.pop()
        if isinstance(current, Alternation):
            points.append((current, around))
            stack.extend((branch, around) for branch in current.branches)
        elif isinstance(current, Repeat):
            if current.high != current.low:
                points.append((current, around))
            stack.append((current.body, (*around, current)))
        elif isinstance(current, Group):
            stack.append((current.body, around))
        elif isinstance(current, Concat):
            stack.extend((item, around) for item in current.items)
    return list(reversed(points))


def _base_count(node: Repeat) -> int:
    # An optional part ('?') is left out; '*' and '+' give one copy: the shortest
    # browser-like origin.
    if node.high == 1:
        return node.low
    count = max(node.low, 1)
    return count if node.high is None else min(count, node.high)


def _generate(
    node: Node, plan: dict[Node, int], letters: bool = False, in_repeat_of_dot: bool = False
) -> list[tuple[str, int]]:
    """The characters of one sample under ``plan`` (branch or count per choice point), each
    with how freely the attacker picks it (see :class:`Sample`)."""
    if isinstance(node, Chars):
        if node.kind == "literal":
            return [(_representative(node.mask), 1)]
        spellings = (node.mask & HOST_CHARACTERS).bit_count()
        if node.kind == "dot":
            # A lone '.' most often stands for a dot the author forgot to escape.
            return [("a" if in_repeat_of_dot or letters else ".", spellings)]
        return [(_representative(node.mask), max(spellings, 1))]
    if isinstance(node, Anchor):
        return []
    if isinstance(node, Group):
        return _generate(node.body, plan, letters)
    if isinstance(node, Concat):
        return [part for item in node.items for part in _generate(item, plan, letters)]
    if isinstance(node, Alternation):
        return _generate(node.branches[plan.get(node, 0)], plan, letters)
    if isinstance(node, Repeat):
        count = plan.get(node, _base_count(node))
        lone_dot = isinstance(node.body, Chars) and node.body.kind == "dot"
        body = _generate(node.body, plan, letters, lone_dot)
        varies = node.high != node.low
        free = varies and (node.high is None or any(choice != 1 for _, choice in body))
        if free:
            body = [(character, FREE) for character, _ in body]
        return body * count
    raise TypeError(node)


def samples(tree: Node, limit: int = 200) -> list[Sample]:
    """Texts the regex matches: the shortest, then one per other branch or repeat count."""
    plans: list[dict[Node, int]] = [{}]
    for point, around in _choice_points(tree):
        # The repetitions around a choice appear at least once, so that the choice shows.
        shown: dict[Node, int] = {
            repeat: max(_base_count(repeat), 1) for repeat in around if repeat.high != 0
        }
        if isinstance(point, Alternation):
            plans += [{**shown, point: index} for index in range(1, len(point.branches))]
        elif isinstance(point, Repeat):
            base = _base_count(point)
            other = base + 1 if point.high is None or base + 1 <= point.high else point.low
            if other != base:
                plans.append({**shown, point: other})
    found: dict[str, Sample] = {}
    for plan in plans[:limit]:
        # A '.' as a dot (the author's likely intent), then as a letter (what it also is).
        for letters in (False, True):
            parts = _generate(tree, plan, letters)
            text = "".join(character for character, _ in parts)
            found.setdefault(text, Sample(text, tuple(choice for _, choice in parts)))
    return list(found.values())


_ORIGIN = re.compile(r"^(https?)://([a-z0-9_.-]+)(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class _Site:
    scheme: str
    host: str
    host_start: int
    port: str
    suffix: str
    registrable: str


def _site(text: str) -> _Site | None:
    """The parts of an http(s) origin with a DNS host that has a registrable domain."""
    found = _ORIGIN.match(text)
    if not found:
        return None
    host = found.group(2)
    last = host.rsplit(".", 1)[-1]
    if not last or last.isdigit() or ".." in host or host.startswith("."):
        return None  # an IPv4 address, or not a host name
    suffix = public_suffix_of(host)
    registrable = registrable_domain(host)
    if not suffix or not registrable:
        return None
    return _Site(found.group(1), host, found.start(2), found.group(3) or "", suffix, registrable)


def _label_chosen(sample: Sample, site: _Site) -> bool:
    """Does the attacker choose the label left of the public suffix (``evil`` in evil.com)?"""
    host_end = site.host_start + len(site.host)
    start = host_end - len(site.registrable)
    choices = sample.choices[start : host_end - len(site.suffix) - 1]
    if not is_public_suffix(site.suffix):
        # An unknown top-level name ('localhost', 'internal', 'test') is nobody's to sell:
        # names under it are the operator's own (or resolve to this machine).
        return False
    if FREE in choices:
        return True
    spellings = 1
    for choice in choices:
        spellings *= choice
    return spellings >= MANY_SPELLINGS


def attacker_origin(text: str, tree: Node | None = None) -> str | None:
    """An origin anyone could own that the regex matches: ``null``, or a registrable name
    of the attacker's choosing (``https://corsgen-attacker.com``); ``None`` if there is none.
    """
    tree = tree if tree is not None else parse(text)
    pattern = re.compile(anchored(text))
    if pattern.fullmatch("null"):
        return "null"
    found = samples(tree)
    probes: list[str] = []
    sites = [(sample, _site(sample.text)) for sample in found]
    for _, site in sites:
        if site is None:
            continue
        prefix = site.host[: -len(site.registrable)]
        hosts = [f"{ATTACKER_LABEL}.com", f"{ATTACKER_LABEL}.github.io"]
        if is_public_suffix(site.suffix):  # not 'localhost', 'internal', 'test'
            hosts += [f"{ATTACKER_LABEL}.{site.suffix}", f"{prefix}{ATTACKER_LABEL}.{site.suffix}"]
        for host in hosts:
            for scheme in dict.fromkeys((site.scheme, "https", "http")):
                probes.append(f"{scheme}://{host}{site.port}")
    probes += [f"https://{ATTACKER_LABEL}.com", f"http://{ATTACKER_LABEL}.com"]
    for probe in dict.fromkeys(probes):
        if pattern.fullmatch(probe):
            return probe
    for sample, site in sites:
        if site is None:
            continue
        for candidate in _attacker_spellings(pattern, sample, site):
            if pattern.fullmatch(candidate):
                return candidate
    return None


def _attacker_spellings(pattern: re.Pattern[str], sample: Sample, site: _Site) -> list[str]:
    """Origins like ``sample`` on a registrable name the attacker picks, if the regex lets
    the attacker pick the label (``[a-z]+\\.com``) or the public suffix (``example\\.[a-z]+``).
    """
    host_end = site.host_start + len(site.host)
    suffix_start = host_end - len(site.suffix)
    spellings = []
    if any(choice != 1 for choice in sample.choices[suffix_start:host_end]):
        # The suffix is the attacker's choice if the same name is matched under two real
        # suffixes ('example\\.[a-z]+', 'a\\.co\\.[a-z]{2}'), not merely under a few
        # spellings ('com.?' adds 'coma').
        for pair in (("xyz", "com"), ("uk", "de")):
            spelled = [
                sample.text[:suffix_start] + suffix + sample.text[host_end:] for suffix in pair
            ]
            if all(pattern.fullmatch(spelling) for spelling in spelled):
                spellings.append(spelled[0])
    if _label_chosen(sample, site):
        start = host_end - len(site.registrable)
        free = [index for index in range(start, suffix_start) if sample.choices[index] == FREE]
        if free:
            first = last = free[0]
            while last + 1 < suffix_start and sample.choices[last + 1] == FREE:
                last += 1
            for label in (ATTACKER_LABEL, ATTACKER_LABEL.replace("-", ""), "x"):
                spellings.append(sample.text[:first] + label + sample.text[last + 1 :])
        spellings.append(sample.text)
    return spellings


def anchored(text: str) -> str:
    """The pattern the targets use: the entry matched against the whole Origin.

    A leading ``^`` and trailing ``$`` are dropped and the body is wrapped in ``^(?:...)$``.
    """
    body = text[1:] if text.startswith("^") else text
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    return f"^(?:{body})$"


def example(text: str) -> str | None:
    """A short, browser-like origin the (valid) regex matches, or ``None``.

    The shortest sample first; when a '^' or '$' inside the regex rules that one out
    (``(a$|b)c``), the first other sample that matches. ``None`` only for a regex that
    matches none of its samples (``a$b`` matches nothing at all).
    """
    try:
        tree = parse(text)
    except RegexRefused:
        return None
    pattern = re.compile(anchored(text))
    return next((sample.text for sample in samples(tree) if pattern.fullmatch(sample.text)), None)
