"""Messages a person can act on: the entry's own line, short lines, NULs and tabs located."""

from __future__ import annotations

from pathlib import Path

import pytest

from corsgen.errors import PolicyError, Problem, quoted, shorten_words
from corsgen.load import load_text
from tests.conftest import problems

PATH = Path("p.yaml")


def load_problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_text(text, PATH)
    return [problem.format(PATH) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("origins", "'*' already allows every origin and cannot be combined"),
        ("allow_methods", "'*' already means every value and cannot be mixed"),
        ("allow_headers", "'*' already means every value and cannot be mixed"),
        ("expose_headers", "'*' already means every value and cannot be mixed"),
    ],
)
def test_a_star_mixed_with_other_entries_is_reported_on_the_line_of_the_star(key, message):
    first = "https://a.example.com" if key == "origins" else "X-One"
    text = (
        "version: 1\nname: star\n"
        + ("" if key == "origins" else "origins: [https://a.example.com]\n")
        + f"{key}:\n  - {first}\n  - '*'\n"
    )
    star_line = text.splitlines().index("  - '*'") + 1

    found = problems(text)

    assert found == [f"policy.yaml:{star_line}: entry '*': {found[0].split(': ', 2)[2]}"]
    assert message in found[0]


def test_a_100_kb_entry_gives_a_short_line_with_the_start_of_the_value_and_its_length():
    label = "a" * 100_000
    found = problems(f"version: 1\nname: long\norigins:\n  - https://{label}.example.com\n")

    assert len(found) == 1
    assert len(found[0]) < 400, found[0][:500]
    assert found[0].startswith(f"policy.yaml:4: entry 'https://{'a' * 52}…' (100020 characters)")
    assert "(100012 characters)" in found[0]  # the host, quoted in the message, is cut too


def test_short_values_are_shown_whole():
    assert quoted("https://app.example.com") == "'https://app.example.com'"
    assert shorten_words("is 'fine' as it is") == "is 'fine' as it is"
    assert Problem(2, "x" * 80, "m").format("p") == f"p:2: entry '{'x' * 80}': m"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("version: 1\x00\norigins: [https://a.example]\n", "p.yaml:1:11:", "a NUL byte"),
        ("version: 1\norigins: [https://a.exa\x00mple]\n", "p.yaml:2:24:", "a NUL byte"),
        ("version: 1\nname: x\x1b\n", "p.yaml:2:8:", "the control character U+001B"),
    ],
)
def test_a_nul_byte_or_control_character_is_located_by_line_and_column(text, where, what):
    assert load_problems(text) == [
        f"{where} {what} is not allowed in a YAML file (delete it; editors often show it "
        "as nothing at all)"
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nname: tab\norigins:\n\t- https://a.example\n", "p.yaml:4:1:"),
        ("version: 1\norigins:\n  - https://a.example\n\tmax_age: 5\n", "p.yaml:4:1:"),
        ("version: 1\norigins:\n  - https://a.example\n  \tmax_age: 5\n", "p.yaml:4:3:"),
    ],
)
def test_a_tab_used_for_indentation_is_named_as_such(text, where):
    assert load_problems(text) == [
        f"{where} this line is indented with a tab; YAML needs spaces for indentation "
        "(replace the tab with spaces)"
    ]


def test_a_tab_between_a_key_and_its_value_is_fine():
    assert load_text("version:\t1\norigins: [a,\tb]\n", PATH).data == {
        "version": 1,
        "origins": ["a", "b"],
    }


def test_a_syntax_error_without_tabs_keeps_the_yaml_message():
    assert load_problems("version: 1\norigins: [a\n")[0].startswith("p.yaml:3:1: YAML syntax error")
