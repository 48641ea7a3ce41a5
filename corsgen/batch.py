"""Many policies in one run: collect the files, validate all, then render all.

Infrastructure repositories keep a folder of policies next to their server config;
every policy is validated before anything is written, and names must not collide
(nginx variables and Apache environment variables are derived from them).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from corsgen.errors import PolicyError, Problem, path_problem
from corsgen.policy import Policy, load_policy
from corsgen.render import render
from corsgen.targets import CannotExpress, get_target
from corsgen.targets.target import BadOptions, RenderOptions

POLICY_SUFFIXES = (".yaml", ".yml")


class NoPoliciesError(Exception):
    """A folder given on the command line holds no policy file, or one that cannot be read.

    The message may hold several lines, one per problem; callers print it after
    ``corsgen: ``, which every line after the first already carries.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\ncorsgen: ".join(problems))


def _folder_entry_problem(path: Path) -> str | None:
    """Why an entry named like a policy (``*.yaml``) in a folder is not a readable file."""
    problem = path_problem(path)
    if problem is not None:
        return problem
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        # Not skipped: something named like a policy that is not rendered would let CI
        # pass without it. A policy folder holds policies; rename the folder.
        return (
            f"{path}: is a folder, not a policy file; rename it (folders are not searched), "
            "or name the policy files on the command line"
        )
    if not stat.S_ISREG(mode):
        # A FIFO or device would block or stream forever; only regular files are policies.
        return f"{path}: is not a regular file (a FIFO, socket or device); remove or rename it"
    return None


def collect(paths: list[Path]) -> list[Path]:
    """The policy files named by ``paths``: files as given, directories' *.yaml / *.yml.

    Every entry of a folder named like a policy must be one: a folder, a symlink loop
    or a dangling symlink named ``x.yaml`` is reported, never skipped without a word.
    """
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            # Hidden files (.pre-commit-config.yaml, .gitlab-ci.yml) are never policies.
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in POLICY_SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                problems.append(f"{path}: no *.yaml or *.yml policy files in this directory")
            for entry in found:
                problem = _folder_entry_problem(entry)
                if problem is None:
                    files.append(entry)
                else:
                    problems.append(problem)
        else:
            files.append(path)
    if problems:
        raise NoPoliciesError(problems)
    return list(dict.fromkeys(files))


@dataclass
class Loaded:
    valid: list[tuple[Path, Policy]] = field(default_factory=list)
    errors: list[PolicyError] = field(default_factory=list)
    # Problems that concern several files at once (colliding names), already formatted.
    conflicts: list[str] = field(default_factory=list)

    @property
    def policies(self) -> list[Policy]:
        return [policy for _, policy in self.valid]


def load_all(files: list[Path]) -> Loaded:
    """Validate every file; collect every problem rather than stopping at the first."""
    loaded = Loaded()
    seen: dict[str, tuple[Path, str]] = {}
    for path in files:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            loaded.errors.append(exc)
            continue
        # Two policies of one name would write the same files. Different names never
        # share a variable (`a-b` and `a_b` included): see name_stem in corsgen/targets/common.py.
        key = policy.name
        if key in seen:
            other, other_name = seen[key]
            problem = Problem(
                line=None,
                entry=policy.name,
                message=f"policy name {other_name!r} is already used by {other} "
                "(names must be unique: they name the generated files); set another 'name:'",
            )
            loaded.conflicts.append(problem.format(path))
            continue
        seen[key] = (path, policy.name)
        loaded.valid.append((path, policy))
    return loaded


@dataclass
class Batch:
    files: dict[str, str] = field(default_factory=dict)
    # Where each file is included (file name → "include inside http { }").
    placements: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def options_by_target(
    options: RenderOptions, targets: list[str], policies: list[Policy]
) -> dict[str, RenderOptions]:
    """The options each target gets, or :class:`BadOptions` naming every one refused.

    An option goes to the targets that declare it, so that one run renders for nginx and
    for gateway-api's complete route; an option no target of the run declares is refused
    by each of them.
    """
    declared = {option.name for name in targets for option in get_target(name).options}
    given: dict[str, RenderOptions] = {}
    problems = []
    for name in targets:
        own = {option.name for option in get_target(name).options}
        given[name] = {
            key: values for key, values in options.items() if key in own or key not in declared
        }
        problems += get_target(name).option_problems(given[name], policies)
    if problems:
        raise BadOptions(problems)
    return given


def render_all(
    policies: list[Policy], targets: list[str], options: RenderOptions | None = None
) -> Batch:
    """Every file of every policy for every target; or, first, every feature one cannot express.

    Raises :class:`BadOptions` naming each option a target refuses, then
    :class:`CannotExpress` naming each policy, feature and target, before rendering.
    """
    given = options_by_target(options or {}, targets, policies)
    problems = [
        problem
        for name in targets
        for policy in policies
        for problem in get_target(name).unexpressed_problems(policy)
    ]
    if problems:
        raise CannotExpress(problems)
    batch = Batch()
    for name in targets:
        target = get_target(name)
        for policy in policies:
            rendering = render(policy, name, given[name])
            batch.files.update(rendering.files)
            batch.placements.update(
                (file.name_for(policy.name), file.placement)
                for file in target.files_for(given[name])
            )
            batch.notes.extend(rendering.notes)
    return batch
