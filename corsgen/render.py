"""Render a policy for a target: context → Jinja templates → named text files."""

from __future__ import annotations

from dataclasses import asdict, fields
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


def environment(target: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_root() / target),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(policy: Policy, target: str) -> dict[str, str]:
    """The files of ``target`` for ``policy``: file name → text, in include order."""
    env = environment(target)
    if target == "nginx":
        context = _shallow(nginx_context(policy))
        context["hash_hint"] = None
        return {
            f"{policy.name}.http.conf": env.get_template("http.conf.j2").render(context),
            f"{policy.name}.location.conf": env.get_template("location.conf.j2").render(context),
        }
    if target == "apache":
        context = _shallow(apache_context(policy))
        return {f"{policy.name}.conf": env.get_template("vhost.conf.j2").render(context)}
    raise ValueError(f"unknown target {target!r}")


def _shallow(context: Any) -> dict[str, Any]:
    # Keep nested dataclasses as objects so templates can call banner.lines(...).
    return {field.name: getattr(context, field.name) for field in fields(context)}


__all__ = ["TARGETS", "render", "template_root", "asdict"]
