"""output: files written all or nothing, drift between committed and rendered, stale files.

What the command-line tests (test_cli.py, test_cli_many.py) already hold through
``render`` and ``check`` is not repeated here; these call the functions themselves.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from corsgen.errors import OutputError
from corsgen.output import drift, stale, write_files
from corsgen.render import render
from tests.conftest import parse

ALPHA = "version: 1\nname: alpha\norigins: [https://a.example.com]\n"
GAMMA = "version: 1\nname: gamma\norigins: [https://g.example.com]\n"


def rendered(policy_text: str, *targets: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for target in targets:
        files.update(render(parse(policy_text), target).files)
    return files


# --- write_files ------------------------------------------------------------------------


def test_every_file_is_written_as_given_readable_by_all_and_nothing_else_is_left(
    tmp_path: Path,
) -> None:
    out = tmp_path / "new" / "cors"  # folders that do not exist yet are created
    files = {"a.conf": "one\n", "b.conf": "two\r\nlines\n"}

    written = write_files(files, out)

    assert written == [out / "a.conf", out / "b.conf"]
    assert sorted(path.name for path in out.iterdir()) == ["a.conf", "b.conf"]
    assert (out / "b.conf").read_bytes() == b"two\r\nlines\n"  # no newline translation
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_file_is_swapped_in_whole_so_a_reader_of_the_old_one_keeps_it_intact(
    tmp_path: Path,
) -> None:
    # A server reloading during the write has the old file open: it must read the old
    # text to its end, never a mix (os.replace gives the name a new inode).
    (tmp_path / "a.conf").write_text("old contents\n")
    with (tmp_path / "a.conf").open() as reader:
        write_files({"a.conf": "new contents\n"}, tmp_path)
        assert reader.read() == "old contents\n"
    assert (tmp_path / "a.conf").read_text() == "new contents\n"


def test_when_the_last_file_fails_every_file_replaced_before_it_gets_its_text_back(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.conf").write_text("previous a\n")
    (tmp_path / "b.conf").write_text("previous b\n")
    (tmp_path / "c.conf").mkdir()  # a folder in the way of the last file

    with pytest.raises(OutputError) as caught:
        write_files({"a.conf": "new a\n", "b.conf": "new b\n", "c.conf": "new c\n"}, tmp_path)

    assert caught.value.path == tmp_path / "c.conf"
    assert str(caught.value) == f"cannot write {tmp_path / 'c.conf'}: Is a directory"
    assert (tmp_path / "a.conf").read_text() == "previous a\n"
    assert (tmp_path / "b.conf").read_text() == "previous b\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.conf", "b.conf", "c.conf"]


def test_an_out_dir_that_is_a_file_is_named_as_one_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "cors"
    out.write_text("not a folder\n")
    with pytest.raises(OutputError) as caught:
        write_files({"a.conf": "x\n"}, out)
    assert str(caught.value) == f"cannot write into {out}: {out} is a file, not a folder"
    assert isinstance(caught.value, OSError)  # callers catching OSError still see it
    assert out.read_text() == "not a folder\n"


# --- drift ------------------------------------------------------------------------------


def test_current_files_have_no_drift_and_files_not_rendered_are_not_drift(
    tmp_path: Path,
) -> None:
    files = rendered(ALPHA, "nginx")
    write_files(files, tmp_path)
    (tmp_path / "hand-written.conf").write_text("# mine\n")
    assert drift(files, tmp_path) == []


def test_drift_is_one_report_per_file_that_differs_in_the_order_of_the_files(
    tmp_path: Path,
) -> None:
    files = {"a.conf": "same\n", "b.conf": "rendered\n", "c.conf": "rendered\n"}
    write_files({"a.conf": "same\n", "b.conf": "committed\n"}, tmp_path)
    (tmp_path / "c.conf").write_bytes(b"\xff\xfe not text\n")

    reports = drift(files, tmp_path)

    assert reports == [
        f"--- {tmp_path / 'b.conf'} (committed)\n"
        f"+++ {tmp_path / 'b.conf'} (rendered from the policy)\n"
        "@@ -1 +1 @@\n"
        "-committed\n"
        "+rendered\n",
        f"{tmp_path / 'c.conf'}: not UTF-8 text, so not what corsgen writes\n",
    ]


def test_drift_in_an_out_dir_that_does_not_exist_is_every_file_missing(tmp_path: Path) -> None:
    out = tmp_path / "never-rendered"
    assert drift({"a.conf": "x\n", "b.conf": "y\n"}, out) == [
        f"{out / 'a.conf'}: missing\n",
        f"{out / 'b.conf'}: missing\n",
    ]


# --- stale ------------------------------------------------------------------------------


def test_the_files_of_a_policy_that_is_gone_are_stale_and_hand_written_ones_are_not(
    tmp_path: Path,
) -> None:
    write_files(rendered(ALPHA, "nginx", "apache") | rendered(GAMMA, "nginx", "apache"), tmp_path)
    # Hand-written files, one of them named as corsgen would name a policy's file.
    (tmp_path / "hand-written.conf").write_text("# mine\n")
    (tmp_path / "beta.http.conf").write_text("map $http_origin $mine {\n}\n")
    (tmp_path / "notes.conf").write_bytes(b"\xff\xfe not text\n")
    (tmp_path / "delta.conf").mkdir()  # a folder is nobody's file

    expected = set(rendered(ALPHA, "nginx", "apache"))
    found = stale(tmp_path, expected, ["nginx", "apache"])

    assert found == [
        tmp_path / "gamma.conf",
        tmp_path / "gamma.http.conf",
        tmp_path / "gamma.location.conf",
    ]


def test_a_target_not_asked_about_keeps_its_files(tmp_path: Path) -> None:
    write_files(rendered(GAMMA, "nginx", "apache"), tmp_path)
    assert stale(tmp_path, set(), ["apache"]) == [tmp_path / "gamma.conf"]
    assert stale(tmp_path, set(), ["nginx"]) == [
        tmp_path / "gamma.http.conf",
        tmp_path / "gamma.location.conf",
    ]


def test_no_file_is_stale_in_an_out_dir_that_does_not_exist(tmp_path: Path) -> None:
    assert stale(tmp_path / "never-rendered", set(), ["nginx", "apache"]) == []
