"""Render a policy for a target: context → Jinja templates → named text files."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from corsgen.context import apache_context, nginx_context
from corsgen.policy import Policy

TARGETS = ("nginx", "apache")


def template_root() -> Path:
    """Where the templates are: inside the installed package, or at the checkout's top."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "templates"


@cache
def environment(target: str) -> jinja2.Environment:
    # One per target and process: a folder of policies renders without re-parsing the
    # templates for each policy.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_root() / target),
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


def render(policy: Policy, target: str) -> Rendering:
    """Render ``policy`` for ``target`` (one of :data:`TARGETS`)."""
    env = environment(target)
    if target == "nginx":
        nginx = nginx_context(policy)
        context = _shallow(nginx)
        http_file = f"{policy.name}.http.conf"
        notes = []
        if nginx.hash_hint:
            notes.append(
                f"policy {policy.name!r} needs map_hash_bucket_size "
                f"{nginx.hash_hint.bucket_size} and map_hash_max_size "
                f"{nginx.hash_hint.max_size} (at least) in http {{ }}; see the top of {http_file}"
            )
        files = {
            http_file: env.get_template("http.conf.j2").render(context),
            f"{policy.name}.location.conf": env.get_template("location.conf.j2").render(context),
        }
        return Rendering(files, notes)
    if target == "apache":
        context = _shallow(apache_context(policy))
        return Rendering({f"{policy.name}.conf": env.get_template("vhost.conf.j2").render(context)})
    raise ValueError(f"unknown target {target!r}")


def _shallow(context: Any) -> dict[str, Any]:
    # Keep nested dataclasses as objects so templates can call banner.lines(...).
    return {field.name: getattr(context, field.name) for field in fields(context)}


__all__ = ["TARGETS", "render", "template_root"]
