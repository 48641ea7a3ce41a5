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

from corsgen import __version__, term
from corsgen.cli_args import EXIT_INVALID, EXIT_USAGE, PolicyPaths

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


class Target(str, Enum):
    nginx = "nginx"
    apache = "apache"


# Where each file goes, printed before it when rendering to stdout.
PLACEMENT = {
    ".http.conf": "include inside http { }",
    ".location.conf": "include inside the location { } that serves or proxies the API",
    ".conf": "Include inside the <VirtualHost> that serves or proxies the API",
}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"corsgen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only problems and the output itself (for CI logs)."
        ),
    ] = False,
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
    """corsgen: CORS at the edge, from one policy file.

    Colour is used on a terminal only, and never with NO_COLOR set.
    """
    term.set_quiet(quiet)


def _load_many(paths: list[Path], announce_valid: bool = False) -> list[Policy]:
    """Every policy named by ``paths`` (files or directories), or exit 1 after all problems."""
    from corsgen.batch import NoPoliciesError, collect, load_all

    try:
        files = collect(paths)
        loaded = load_all(files)
    except NoPoliciesError as exc:
        typer.echo(f"corsgen: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:
        typer.echo(f"corsgen: cannot read {exc.filename}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if announce_valid:
        for path, policy in loaded.valid:
            term.success(f"{path}: ok (policy {policy.name!r})")
    for error in loaded.errors:
        term.report(error)
    for conflict in loaded.conflicts:
        term.problem(conflict)
    if loaded.errors or loaded.conflicts:
        if not announce_valid:  # validate never writes; render and check say so
            typer.echo("corsgen: nothing was written.", err=True)
        raise typer.Exit(EXIT_INVALID)
    return loaded.policies


def _placement(name: str) -> str:
    suffix = next(suffix for suffix in PLACEMENT if name.endswith(suffix))
    return PLACEMENT[suffix]


TargetsOption = Annotated[
    list[Target],
    typer.Option(
        "--target",
        "-t",
        help="Which server to generate for; may be given twice.",
        show_default=False,
    ),
]


@app.command()
def render(
    policy_files: PolicyPaths,
    target: TargetsOption,
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
    """Print (or write with --out-dir) the config snippets.

    nginx: NAME.http.conf (include inside http {}) and NAME.location.conf (include
    inside the location {} of the API). Apache: NAME.conf (Include inside the
    <VirtualHost>). Every policy is validated first: nothing is written unless all are.
    """
    from corsgen.batch import render_all

    policies = _load_many(policy_files)
    batch = render_all(policies, [t.value for t in dict.fromkeys(target)])
    for note in batch.notes:
        term.note(f"corsgen: note: {note}")
    if out_dir is None:
        for index, (name, text) in enumerate(batch.files.items()):
            if index:
                typer.echo("")
            typer.echo(f"# ===== {name}: {_placement(name)} =====")
            typer.echo(text, nl=False)
        return
    from corsgen.output import write_files

    for path in write_files(batch.files, out_dir):
        term.info(f"wrote {path}")


@app.command()
def validate(policy_files: PolicyPaths) -> None:
    """Check policy files (or directories of them); report every problem of every file."""
    _load_many(policy_files, announce_valid=True)


@app.command()
def check(
    policy_files: PolicyPaths,
    target: TargetsOption,
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
    """For CI: exit 1 with a diff when the committed snippets differ from the policies.

    Reports every drifted or missing file, and every file corsgen generated for these
    targets whose policy is gone.
    """
    from corsgen.batch import render_all
    from corsgen.output import drift, stale

    targets = [t.value for t in dict.fromkeys(target)]
    batch = render_all(_load_many(policy_files), targets)
    reports = drift(batch.files, out_dir)
    reports += [
        f"{path}: generated by corsgen but no policy renders it any more (delete it)\n"
        for path in stale(out_dir, set(batch.files), targets)
    ]
    if reports:
        for report in reports:
            term.diff(report)
        command = " ".join(
            ["corsgen render", *map(str, policy_files)]
            + [f"--target {t}" for t in targets]
            + [f"--out-dir {out_dir}"]
        )
        typer.echo(
            f"corsgen: {len(reports)} file(s) in {out_dir} are not current; run: {command}",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    term.success(f"{out_dir}: up to date ({', '.join(targets)})")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the policy file (for editors' YAML support)."""
    from corsgen.schema import policy_schema

    typer.echo(json.dumps(policy_schema(), indent=2, sort_keys=True))


# corsgen init: a commented starter policy, or one translated from FastAPI's CORSMiddleware.
from corsgen.init import init_command  # noqa: E402 - registered after the built-in commands

app.command(name="init")(init_command)

# The safety net: explain one request, lint a policy, probe a live server. Each module
# imports its heavy parts inside the command, so `corsgen --version` stays fast.
from corsgen.explain import explain  # noqa: E402
from corsgen.lint import lint  # noqa: E402
from corsgen.probe import probe  # noqa: E402

app.command(name="explain")(explain)
app.command(name="lint")(lint)
app.command(name="probe")(probe)


def main() -> None:
    app()
