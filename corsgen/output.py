"""Put rendered text where it belongs: files written atomically, or compared for drift."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def write_files(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write every file of ``files`` into ``out_dir``, each replaced atomically.

    Callers render everything before calling this, so a failure of validation or
    rendering never leaves a half-written set behind; each file is swapped in whole
    with ``os.replace`` so a server reloading meanwhile never reads a partial file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            staged.append((temporary, out_dir / name))
        for temporary, final in staged:
            os.chmod(temporary, 0o644)
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return [final for _, final in staged]


def drift(files: dict[str, str], out_dir: Path) -> list[str]:
    """Unified diffs (or 'missing' notes) for every file in ``out_dir`` that is not current."""
    reports: list[str] = []
    for name, expected in files.items():
        path = out_dir / name
        try:
            actual = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            reports.append(f"{path}: missing (run corsgen render with --out-dir {out_dir})\n")
            continue
        if actual != expected:
            reports.append(
                "".join(
                    difflib.unified_diff(
                        actual.splitlines(keepends=True),
                        expected.splitlines(keepends=True),
                        fromfile=f"{path} (committed)",
                        tofile=f"{path} (rendered from the policy)",
                    )
                )
            )
    return reports
