"""The ``corsgen`` command line: a thin shell over load → policy → render → output.

Heavy modules (pydantic, jinja2) are imported inside the commands, so that
``corsgen --version`` and ``--help`` start quickly.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import click
import typer
from typer.core import TyperGroup

from corsgen import __version__, term
from corsgen.cli_args import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OUTPUT,
    EXIT_USAGE,
    PolicyPaths,
)
from corsgen.targets import POLICY_FEATURES, REGISTRY, TARGETS, CannotExpress

if TYPE_CHECKING:
    from corsgen.batch import Batch
    from corsgen.policy import Policy


def _silence_broken_streams() -> None:
    """Point stdout/stderr at /dev/null when they can no longer be written.

    Python flushes both at exit; a flush into a closed pipe (or a full disk) prints
    "Exception ignored ... BrokenPipeError" after the run, the noise
    `corsgen render ... | head -1` must not make.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):  # not a real file (tests' captured streams)
                pass


class _Commands(TyperGroup):
    """Every command ends as a Unix tool does: one line, a documented code, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_broken_streams()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            typer.echo("\ncorsgen: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as exc:
            # The commands name the files they fail to read or write themselves; this
            # is the net for the rest. An error with a file name comes from opening or
            # listing something; one without comes from writing to stdout (`> /dev/full`).
            if exc.filename is None:
                _silence_broken_streams()  # the unwritten rest would fail again at exit
                typer.echo(f"corsgen: cannot write the output: {exc.strerror or exc}", err=True)
                raise typer.Exit(EXIT_OUTPUT) from None
            typer.echo(f"corsgen: cannot read {exc.filename}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None


app = typer.Typer(
    cls=_Commands,
    help=(
        "Render a CORS policy file (YAML) into edge configuration (nginx, Apache, HAProxy, "
        "Caddy, Traefik, Envoy, Gateway API) that answers preflights at the edge and sets CORS "
        "headers on every response."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# The --target choices: every target of the registry (corsgen/targets/).
Target = Enum("Target", [(name, name) for name in TARGETS], type=str)


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


def _load_many(
    paths: list[Path], announce_valid: bool = False, writes: bool = False
) -> list[Policy]:
    """Every policy named by ``paths`` (files or directories), or exit 1 after all problems.

    ``writes``: the command would write files, so a failure says nothing was written.
    """
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
        if writes:  # validate and check never write
            typer.echo("corsgen: nothing was written.", err=True)
        raise typer.Exit(EXIT_INVALID)
    return loaded.policies


def _render_all(
    policies: list[Policy], targets: list[str], options: list[str], writes: bool = False
) -> Batch:
    """Every file of every policy for every target, or exit 1 naming what a target cannot do
    (an option it refuses, a policy feature it cannot express)."""
    from corsgen.batch import render_all
    from corsgen.targets.target import BadOptions, parse_options

    try:
        return render_all(policies, targets, parse_options(options))
    except (BadOptions, CannotExpress) as exc:
        for problem in exc.problems:
            term.problem(f"corsgen: {problem}")
        if writes:
            typer.echo("corsgen: nothing was written.", err=True)
        raise typer.Exit(EXIT_INVALID) from None


TargetsOption = Annotated[
    list[Target],
    typer.Option(
        "--target",
        "-t",
        help="Which server to generate for; may be given twice.",
        show_default=False,
    ),
]


# A target's own settings (`corsgen targets` lists them): generic, so that the command line
# names no target; each target declares and checks its options (corsgen/targets/target.py).
RenderOptionsOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--option",
        "-O",
        metavar="NAME=VALUE",
        help="A setting of the target, NAME=VALUE; may be repeated. "
        "`corsgen targets` lists each target's options.",
        show_default=False,
    ),
]


@app.command()
def render(
    policy_files: PolicyPaths,
    target: TargetsOption,
    option: RenderOptionsOption = None,
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
    <VirtualHost>). A target's own settings come with --option NAME=VALUE
    (gateway-api: a complete HTTPRoute). Every policy is validated first: nothing
    is written unless all are.
    """
    policies = _load_many(policy_files, writes=out_dir is not None)
    targets = [t.value for t in dict.fromkeys(target)]
    batch = _render_all(policies, targets, option or [], out_dir is not None)
    for note in batch.notes:
        term.note(f"corsgen: note: {note}")
    if out_dir is None:
        for index, (name, text) in enumerate(batch.files.items()):
            if index:
                typer.echo("")
            typer.echo(f"# ===== {name}: {batch.placements[name]} =====")
            typer.echo(text, nl=False)
        return
    from corsgen.errors import OutputError
    from corsgen.output import write_files

    try:
        written = write_files(batch.files, out_dir)
    except OutputError as exc:
        typer.echo(f"corsgen: {exc}; nothing was written", err=True)
        raise typer.Exit(EXIT_OUTPUT) from None
    for path in written:
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
    option: RenderOptionsOption = None,
) -> None:
    """For CI: exit 1 with a diff when the committed snippets differ from the policies.

    Reports every drifted or missing file, and every file corsgen generated for these
    targets whose policy is gone.
    """
    from corsgen.output import drift, stale

    targets = [t.value for t in dict.fromkeys(target)]
    batch = _render_all(_load_many(policy_files), targets, option or [])
    try:
        reports = drift(batch.files, out_dir)
        gone = stale(out_dir, set(batch.files), targets)
    except OSError as exc:
        typer.echo(f"corsgen: cannot read {exc.filename}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    for report in reports:
        term.diff(report)
    for path in gone:
        term.diff(f"{path}: generated by corsgen but no policy renders it any more\n")
    if reports:
        # Shell-quoted, so that the line can be pasted as it is, whatever the paths.
        command = shlex.join(
            ["corsgen", "render", *map(str, policy_files)]
            + [arg for t in targets for arg in ("--target", t)]
            + [arg for given in option or [] for arg in ("--option", given)]
            + ["--out-dir", str(out_dir)]
        )
        typer.echo(
            f"corsgen: {len(reports)} file(s) in {out_dir} are not current; run: {command}",
            err=True,
        )
    if gone:
        # render never deletes: a file it does not write is not its to remove.
        typer.echo(
            f"corsgen: {len(gone)} file(s) in {out_dir} belong to no policy any more; "
            f"delete them: {shlex.join(['rm', '--', *map(str, gone)])}",
            err=True,
        )
    if reports or gone:
        raise typer.Exit(EXIT_INVALID)
    term.success(f"{out_dir}: up to date ({', '.join(targets)})")


@app.command()
def targets(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the same facts as JSON, for scripts and docs.")
    ] = False,
) -> None:
    """List the targets: their files, server version, modules and what they can express."""
    if as_json:
        typer.echo(json.dumps([target.facts() for target in REGISTRY.values()], indent=2))
        return
    servers = [["target", "server", "oldest tested", "needs (modules)"]]
    servers += [[t.name, t.server, t.version_floor, ", ".join(t.needs)] for t in REGISTRY.values()]
    files = [["target", "file (NAME: the policy's name)", "where it goes"]]
    files += [
        [t.name, file.name_for("NAME"), file.placement]
        for t in REGISTRY.values()
        for file in t.files
    ]
    options = [["target", "--option NAME=VALUE", "what it sets"]]
    options += [
        [t.name, option.name + (" (repeatable)" if option.repeatable else ""), option.help]
        for t in REGISTRY.values()
        for option in t.options
    ]
    features = [["policy feature", *REGISTRY]]
    features += [
        [feature, *("yes" if feature in t.expresses else "no" for t in REGISTRY.values())]
        for feature in POLICY_FEATURES
    ]
    tables = (servers, files, options, features) if len(options) > 1 else (servers, files, features)
    typer.echo("\n\n".join(_aligned(rows) for rows in tables))


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of the policy file (for editors' YAML support)."""
    from corsgen.schema import policy_schema

    typer.echo(json.dumps(policy_schema(), indent=2, sort_keys=True))


# corsgen init: a commented starter policy, or one translated from FastAPI's CORSMiddleware.
from corsgen.commands.init import init_command  # noqa: E402 - registered after the built-ins

app.command(name="init")(init_command)

# The safety net: explain one request, lint a policy, probe a live server. Each command
# imports the layers below inside its function, so `corsgen --version` stays fast.
from corsgen.commands.audit import audit  # noqa: E402
from corsgen.commands.explain import explain  # noqa: E402
from corsgen.commands.lint import lint  # noqa: E402
from corsgen.commands.probe import probe  # noqa: E402

app.command(name="explain")(explain)
app.command(name="lint")(lint)
app.command(name="probe")(probe)
# audit reads nginx and Apache configs, not policies: the mistakes of hand-written edges.
app.command(name="audit")(audit)


def main() -> None:
    app()
