"""Render a policy for a target: context → Jinja templates → named text files.

Nothing here knows a particular target: each one's files, templates and context builder
come from the registry (corsgen/targets/).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from corsgen.policy import Policy
from corsgen.targets import get_target
from corsgen.targets.target import NO_OPTIONS, RenderOptions


def template_root() -> Path:
    """Where the templates are: inside the installed package, or at the checkout's top."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "templates"


@cache
def environment(template_folder: str) -> jinja2.Environment:
    # One per target and process: a folder of policies renders without re-parsing the
    # templates for each policy.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_root() / template_folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Rendering:
    """The files of one target (name → text, in include order) and notes for the operator."""

    files: dict[str, str]
    notes: list[str] = field(default_factory=list)


def render(policy: Policy, target_name: str, options: RenderOptions = NO_OPTIONS) -> Rendering:
    """Render ``policy`` for the target named ``target_name``, with the target's ``options``
    (already checked: see :meth:`corsgen.targets.Target.option_problems`).

    Raises :class:`corsgen.targets.CannotExpress` when the policy uses a feature the
    target cannot express: a config that silently dropped it would allow something else.
    """
    target = get_target(target_name)
    target.refuse_unexpressed(policy)
    context = target.build_context(policy, options)
    values = _shallow(context)
    env = environment(target.template_folder)
    digest = policy.digest()
    files = {
        file.name_for(policy.name): env.get_template(file.template).render(
            values, banner=target.banner(policy.name, digest, file)
        )
        for file in target.files_for(options)
    }
    return Rendering(files, target.notes(policy, context))


def _shallow(context: Any) -> dict[str, Any]:
    # Keep nested dataclasses as objects so templates can read common.max_age.
    return {field.name: getattr(context, field.name) for field in fields(context)}


__all__ = ["Rendering", "render", "template_root"]
