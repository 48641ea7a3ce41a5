"""corsgen: a validated CORS policy rendered into nginx and Apache edge configuration.

Data flows one way: ``load`` (YAML with line numbers) → ``policy`` (validate,
normalise) → ``context`` (per-target values) → ``render`` (Jinja templates) → files.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
