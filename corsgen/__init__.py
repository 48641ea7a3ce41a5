"""corsgen: a validated CORS policy rendered into edge configuration.

Targets: nginx, Apache and HAProxy configuration, and Gateway API HTTPRoute CORS filters.

Data flows one way: ``load`` (YAML with line numbers) → ``policy`` (validate,
normalise) → ``targets`` (each target's context) → ``render`` (Jinja templates) → files
(docs/architecture.md).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
