"""batch: which files a run takes, every policy validated before any is rendered.

The command-line tests (test_cli_many.py) hold the messages users see for folders,
symlinks, FIFOs and duplicate names; these call collect, load_all and render_all
themselves for what those do not show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corsgen.batch import NoPoliciesError, collect, load_all, render_all
from corsgen.render import render

A = "version: 1\norigins: [https://a.example.com]\n"
B = "version: 1\norigins: [https://b.example.com]\nallow_credentials: true\n"
INVALID = "version: 1\norigins: ['https://x.example.com/path']\n"


def folder_of(tmp_path: Path, **texts: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for filename, text in texts.items():
        (folder / filename).write_text(text)
    return folder


# --- collect ----------------------------------------------------------------------------


def test_a_folder_gives_its_yaml_and_yml_files_in_name_order_and_nothing_else(
    tmp_path: Path,
) -> None:
    folder = folder_of(
        tmp_path,
        **{
            "b.yml": B,
            "a.yaml": A,
            "README.md": "# policies\n",
            "a.yaml.orig": A,
            # Hidden files are another tool's (.pre-commit-config.yaml, .gitlab-ci.yml).
            ".gitlab-ci.yml": "stages: [test]\n",
        },
    )
    (folder / "nested").mkdir()  # folders inside are not searched
    (folder / "nested" / "c.yaml").write_text(A)
    assert collect([folder]) == [folder / "a.yaml", folder / "b.yml"]


def test_files_named_on_the_command_line_are_taken_as_given_once_each_in_order(
    tmp_path: Path,
) -> None:
    folder = folder_of(tmp_path, **{"a.yaml": A, "b.yaml": B})
    policy_txt = tmp_path / "policy.txt"  # a file named by the user is read, suffix or not
    policy_txt.write_text(A.replace("a.example", "t.example"))
    given = [folder / "b.yaml", policy_txt, folder, folder / "b.yaml"]
    assert collect(given) == [folder / "b.yaml", policy_txt, folder / "a.yaml"]


def test_every_folder_without_a_policy_is_named_in_one_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    other = folder_of(tmp_path, **{"notes.txt": "no policy here\n"})
    with pytest.raises(NoPoliciesError) as caught:
        collect([empty, other])
    assert caught.value.problems == [
        f"{empty}: no *.yaml or *.yml policy files in this directory",
        f"{other}: no *.yaml or *.yml policy files in this directory",
    ]


# --- load_all ---------------------------------------------------------------------------


def test_every_invalid_file_is_reported_and_the_valid_ones_kept_in_order(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path, **{"a.yaml": A, "broken.yaml": INVALID, "b.yaml": B, "worse.yaml": "[\n"}
    )
    loaded = load_all(collect([folder]))
    valid = [(path.name, policy.name) for path, policy in loaded.valid]
    assert valid == [("a.yaml", "a"), ("b.yaml", "b")]
    assert [policy.name for policy in loaded.policies] == ["a", "b"]
    assert [error.path.name for error in loaded.errors] == ["broken.yaml", "worse.yaml"]
    assert loaded.conflicts == []


def test_a_second_policy_of_a_name_is_a_conflict_and_the_first_one_is_kept(
    tmp_path: Path,
) -> None:
    folder = folder_of(tmp_path, **{"one.yaml": A, "two.yaml": "name: one\n" + B})
    loaded = load_all(collect([folder]))
    assert [path.name for path, _ in loaded.valid] == ["one.yaml"]
    assert loaded.errors == []
    (conflict,) = loaded.conflicts
    assert conflict.startswith(f"{folder / 'two.yaml'}: entry 'one': policy name 'one' is")
    assert f"already used by {folder / 'one.yaml'}" in conflict


# --- render_all -------------------------------------------------------------------------


def test_render_all_gives_every_file_of_every_policy_for_every_target(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, **{"a.yaml": A, "b.yaml": B})
    policies = load_all(collect([folder])).policies

    batch = render_all(policies, ["nginx", "apache"])

    expected: dict[str, str] = {}
    for target in ("nginx", "apache"):
        for policy in policies:
            expected |= render(policy, target).files
    assert batch.files == expected
    assert list(batch.files) == list(expected)  # the order files are written and checked in
    assert batch.notes == []


def test_render_all_passes_on_each_targets_notes_for_the_operator(tmp_path: Path) -> None:
    # Long origins need larger nginx map hash tables: a note nginx's rendering gives.
    long_origin = "https://" + "a" * 60 + ".example.com"
    folder = folder_of(tmp_path, **{"big.yaml": f"version: 1\norigins: [{long_origin}]\n"})
    (policy,) = load_all(collect([folder])).policies

    notes = render_all([policy], ["apache", "nginx"]).notes

    assert notes == render(policy, "nginx").notes
    assert len(notes) == 1 and "map_hash_bucket_size" in notes[0]
