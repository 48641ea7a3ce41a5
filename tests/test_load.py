"""load: YAML into plain data with the line of every key and item."""

from pathlib import Path

import pytest

from corsgen.errors import PolicyError
from corsgen.load import load_text

PATH = Path("p.yaml")


def test_lines_of_keys_and_list_items_are_remembered():
    document = load_text("version: 1\norigins:\n  - http://a\n  - http://b\n", PATH)
    assert document.line_of(("version",)) == 1
    assert document.line_of(("origins", 1)) == 4
    assert document.line_of(("origins", 7)) == 2  # falls back to the enclosing key


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x: yes", "yes"),  # YAML 1.1 would make this a boolean
        ("x: on", "on"),
        ("x: true", True),
        ("x: 600", 600),
        ("x: '600'", "600"),
        ("x: 0x10", 16),
        ("x: ~", None),
        ("x: 1.5", 1.5),
        ("x: 010", 10),  # YAML 1.2: decimal, not octal
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text, value):
    assert load_text(text, PATH).data["x"] == value


def test_aliases_are_refused_so_billion_laughs_stays_small():
    text = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(PolicyError, match="anchors and aliases are not supported"):
        load_text(text, PATH)


def test_duplicate_keys_are_refused_with_both_lines():
    with pytest.raises(PolicyError) as caught:
        load_text("version: 1\nmax_age: 1\nmax_age: 2\n", PATH)
    assert str(caught.value) == (
        "p.yaml:3: entry 'max_age': duplicate key (it is already set on line 2; keep one)"
    )


def test_merge_keys_are_refused():
    with pytest.raises(PolicyError, match="merge keys"):
        load_text("base: {a: 1}\nother:\n  <<: {b: 2}\n", PATH)


def test_syntax_errors_name_line_and_column():
    with pytest.raises(PolicyError) as caught:
        load_text("version: 1\norigins: [http://a\n", PATH)
    message = str(caught.value)
    assert message.startswith("p.yaml:3:1: YAML syntax error")


def test_deep_nesting_is_refused_before_composing():
    # 500 levels: below the 1000 at which the LibYAML of PyYAML >= 6.0.4's wheels stops
    # with a syntax error of its own, so corsgen's check is what refuses it everywhere.
    with pytest.raises(PolicyError, match="nesting deeper than"):
        load_text("x: " + "[" * 500 + "]" * 500, PATH)


def test_an_empty_file_says_how_to_start():
    with pytest.raises(PolicyError, match="start it with 'version: 1'"):
        load_text("# nothing here\n", PATH)
