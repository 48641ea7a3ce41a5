"""The layers of docs/architecture.md hold: imports point down, only the command line talks.

The import rules are import-linter contracts in pyproject.toml ([tool.importlinter]);
``lint-imports`` checks them. What imports cannot show — a ``print()`` or ``sys.exit()``
in the model or a target — is found by reading every module's syntax tree.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: import-linter's own TOML reader
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "corsgen"
# The command-line layer (pyproject.toml: the layers above the safety net, and the
# allowed importers of typer and click): the only modules that print or exit.
COMMAND_LINE = ("__main__.py", "cli.py", "cli_args.py", "term.py", "commands")
# Calls that write to the terminal or end the process.
TERMINAL_CALLS = frozenset(
    {
        "print",
        "exit",
        "quit",
        "input",
        "sys.exit",
        "os._exit",
        "sys.stdout.write",
        "sys.stderr.write",
        "typer.echo",
        "typer.secho",
        "click.echo",
        "click.secho",
    }
)
TERMINAL_EXCEPTIONS = frozenset(
    {"SystemExit", "typer.Exit", "typer.Abort", "click.exceptions.Exit"}
)


def _dotted(node: ast.expr) -> str | None:
    """``sys.stdout.write`` for the expression ``sys.stdout.write``; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def terminal_uses(source: str) -> list[str]:
    """Each ``line: what`` of ``source`` that prints, reads the terminal or ends the process."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _dotted(node.func) in TERMINAL_CALLS:
            found.append(f"{node.lineno}: calls {_dotted(node.func)}()")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _dotted(raised) in TERMINAL_EXCEPTIONS:
                found.append(f"{node.lineno}: raises {_dotted(raised)}")
    return found


def below_the_command_line() -> list[Path]:
    """Every module of corsgen/ outside the command-line layer."""
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in COMMAND_LINE
    )


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the contracts of pyproject.toml, on the corsgen found from ``cwd``."""
    executable = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    assert Path(executable).exists(), "lint-imports is missing: pip install -e '.[test]'"
    return subprocess.run(
        [executable, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        # grimp finds the package on sys.path: the copy in cwd, not the installed one.
        env={**os.environ, "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the import contracts ---------------------------------------------------------------------


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "broken"),
    [
        ("policy.py", "import typer", "Only the command-line layer imports typer and click"),
        ("load.py", "import corsgen.lint_rules", "One-way layers"),
        ("targets/apache.py", "import corsgen.targets.nginx", "A target knows no other target"),
        ("targets/common.py", "import corsgen.targets.nginx", "A target knows no other target"),
        ("errors.py", "import corsgen.public_suffix", "No import circles"),
    ],
)
def test_a_broken_contract_fails_the_check(tmp_path, module, violation, broken):
    # The same contracts on a copy of corsgen with one import that breaks one of them.
    shutil.copytree(PACKAGE, tmp_path / "corsgen", ignore=shutil.ignore_patterns("__pycache__"))
    changed = tmp_path / "corsgen" / module
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n{violation}\n", encoding="utf-8")
    if module == "errors.py":  # a circle: public_suffix importing errors back
        other = tmp_path / "corsgen" / "public_suffix.py"
        other.write_text(other.read_text(encoding="utf-8") + "\nimport corsgen.errors\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{broken}" in result.stdout
    assert "BROKEN" in result.stdout


def test_a_module_without_a_layer_fails_the_check(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "corsgen", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "corsgen" / "unplaced.py").write_text('"""A module nobody gave a layer."""\n')
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "corsgen.unplaced" in result.stdout


# --- the terminal -----------------------------------------------------------------------------


def test_no_module_below_the_command_line_prints_or_exits():
    modules = below_the_command_line()
    assert PACKAGE / "policy.py" in modules and PACKAGE / "lint_rules.py" in modules
    found = [
        f"{path.relative_to(ROOT)}:{use}"
        for path in modules
        for use in terminal_uses(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "return a value or raise an error; commands print:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "print('x')",
        "import sys\nsys.exit(1)",
        "import sys\nsys.stderr.write('x')",
        "import typer\ntyper.echo('x', err=True)",
        "import typer\nraise typer.Exit(2)",
        "raise SystemExit",
    ],
)
def test_the_scan_finds_each_way_of_talking_to_the_terminal(source):
    assert len(terminal_uses(source)) == 1


def test_the_scan_leaves_other_calls_alone():
    assert (
        terminal_uses("import logging\nlogging.info('x')\nfile.write('x')\nraise ValueError") == []
    )


def _documented_layers() -> dict[str, set[str]]:
    """The modules each row of docs/architecture.md's layer table names."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## The layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    return {
        row.split("|")[1].strip(): set(re.findall(r"`([a-z_]+)`", row.split("|")[2]))
        for row in rows
    }


def _contract_layers() -> list[set[str]]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(
        contract
        for contract in contracts["tool"]["importlinter"]["contracts"]
        if contract["id"] == "layers"
    )["layers"]
    return [{name.strip() for name in layer.split("|")} for layer in layers]


def test_the_documented_layers_are_the_enforced_ones():
    # docs/architecture.md is the map a contributor reads; it must name every module the
    # contract places, in the same order of layers (command line above the safety net
    # above the pipeline), and no module the contract does not know.
    documented = _documented_layers()
    assert list(documented) == ["command line", "safety net", "pipeline"]
    enforced = _contract_layers()
    assert set().union(*documented.values()) == set().union(*enforced)
    order = [name for layer in enforced for name in sorted(layer)]
    position = {name: order.index(name) for name in order}
    bands = list(documented.values())
    for upper, lower in zip(bands, bands[1:], strict=False):
        assert max(position[name] for name in upper) < min(position[name] for name in lower)
