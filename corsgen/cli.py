"""The ``corsgen`` command line: a thin shell over load → policy → render → output.

Heavy modules (pydantic, jinja2) are imported inside the commands, so that
``corsgen --version`` and ``--help`` start quickly.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from corsgen import __version__

if TYPE_CHECKING:
    from corsgen.policy import Policy

app = typer.Typer(
    help=(
        "Render a CORS policy file (YAML) into nginx and Apache configuration that "
        "answers preflights at the edge and sets CORS headers on every response."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_INVALID = 1
EXIT_USAGE = 2


class Target(str, Enum):
    nginx = "nginx"
    apache = "apache"


# Where each file goes, printed before it when rendering to stdout.
PLACEMENT = {
    ".http.conf": "include inside http { }",
    ".location.conf": "include inside the location { } that serves or proxies the API",
    ".conf": "Include inside the <VirtualHost> that serves or proxies the API",
}

PolicyPath = Annotated[
    Path,
    typer.Argument(
        help="The policy file (YAML).",
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
    ),
]
TargetOption = Annotated[
    Target, typer.Option("--target", "-t", help="Which server to generate for.", show_default=False)
]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"corsgen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        Optional[bool],  # noqa: UP045 - typer inspects the annotation at run time
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the corsgen version and exit.",
        ),
    ] = None,
) -> None:
    """corsgen: CORS at the edge, from one policy file."""


def _load(path: Path) -> Policy:
    from corsgen.errors import PolicyError
    from corsgen.policy import load_policy

    try:
        return load_policy(path)
    except PolicyError as exc:
        typer.echo(exc.format(), err=True)
        count = len(exc.problems)
        typer.echo(
            f"corsgen: {path}: {count} problem{'s' if count != 1 else ''}; nothing was written.",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID) from None
    except UnicodeDecodeError as exc:
        typer.echo(
            f"{path}: the file is not UTF-8 text ({exc.reason} at byte {exc.start})", err=True
        )
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as exc:
        typer.echo(f"corsgen: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _placement(name: str) -> str:
    suffix = next(suffix for suffix in PLACEMENT if name.endswith(suffix))
    return PLACEMENT[suffix]


@app.command()
def render(
    policy_file: PolicyPath,
    target: TargetOption,
    out_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--out-dir",
            "-o",
            file_okay=False,
            help="Write the files into this directory (created when missing) "
            "instead of printing them.",
        ),
    ] = None,
) -> None:
    """Print (or write with --out-dir) the config snippets for one target.

    nginx: NAME.http.conf (include inside http {}) and NAME.location.conf (include
    inside the location {} of the API). Apache: NAME.conf (Include inside the
    <VirtualHost>). Nothing is written unless the whole policy is valid.
    """
    from corsgen.render import render as render_policy

    policy = _load(policy_file)
    rendering = render_policy(policy, target.value)
    for note in rendering.notes:
        typer.echo(f"corsgen: note: {note}", err=True)
    if out_dir is None:
        for index, (name, text) in enumerate(rendering.files.items()):
            if index:
                typer.echo("")
            typer.echo(f"# ===== {name}: {_placement(name)} =====")
            typer.echo(text, nl=False)
        return
    from corsgen.output import write_files

    for path in write_files(rendering.files, out_dir):
        typer.echo(f"wrote {path}", err=True)


@app.command()
def validate(
    policy_files: Annotated[
        list[Path],
        typer.Argument(
            help="One or more policy files.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ],
) -> None:
    """Check policy files; report every problem of every file. Exit 1 if any is invalid."""
    failed = 0
    for path in policy_files:
        try:
            policy = _load(path)
        except typer.Exit as exc:
            if exc.exit_code != EXIT_INVALID:
                raise
            failed += 1
            continue
        typer.echo(f"{path}: ok (policy {policy.name!r})")
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def check(
    policy_file: PolicyPath,
    target: TargetOption,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out-dir",
            "-o",
            file_okay=False,
            show_default=False,
            help="The directory holding the committed snippets.",
        ),
    ],
) -> None:
    """For CI: exit 1 with a diff when the committed snippets differ from the policy."""
    from corsgen.output import drift
    from corsgen.render import render as render_policy

    policy = _load(policy_file)
    reports = drift(render_policy(policy, target.value).files, out_dir)
    if reports:
        for report in reports:
            typer.echo(report, nl=False)
        typer.echo(
            f"corsgen: {len(reports)} file(s) in {out_dir} do not match {policy_file}; run: "
            f"corsgen render {policy_file} --target {target.value} --out-dir {out_dir}",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    typer.echo(f"{out_dir}: up to date with {policy_file} ({target.value})")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the policy file (for editors' YAML support)."""
    from corsgen.schema import policy_schema

    typer.echo(json.dumps(policy_schema(), indent=2, sort_keys=True))


def main() -> None:
    app()
