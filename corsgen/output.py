"""Put rendered text where it belongs: files written all or nothing, or compared for drift."""

from __future__ import annotations

import difflib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from corsgen.errors import OutputError
from corsgen.targets import get_target


def write_files(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write every file of ``files`` into ``out_dir``: all of them, or none.

    Callers render everything before calling this, so a failure of validation or
    rendering never leaves a half-written set behind. Here every file is first written
    to a temporary file beside its destination, then each is swapped in whole with
    ``os.replace`` (a server reloading meanwhile never reads a partial file). If any
    step fails (permission, a full disk, a folder in the way), the files already
    replaced get their previous contents back and no temporary file is left: the
    out-dir is exactly as it was, and :class:`OutputError` names the file and why.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # mkdir's "File exists" hides that it is not a folder
        reason = f"{out_dir} is a file, not a folder"
        raise OutputError(out_dir, reason, "write into", exc.errno) from None
    except OSError as exc:
        raise OutputError(out_dir, _reason(exc), "create the folder", exc.errno) from None
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    backups: list[tuple[Path, Path | None]] = []  # (final, its previous contents or None)
    current = out_dir
    try:
        for name, text in files.items():
            current = out_dir / name
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
            staged.append((Path(temporary), current))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temporary, 0o644)
        for temporary, final in staged:
            current = final
            backups.append((final, _backup(final, out_dir)))
            os.replace(temporary, final)
    except BaseException as exc:  # Ctrl-C too: never leave a partial set behind
        _restore(backups)
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(current, _reason(exc), code=exc.errno) from None
        raise
    for _, backup in backups:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [final for _, final in staged]


def _backup(final: Path, out_dir: Path) -> Path | None:
    """A second name for ``final``'s current contents (``None``: it does not exist yet)."""
    if not os.path.lexists(final):
        return None
    if final.is_dir() and not final.is_symlink():
        # What os.replace would say; raised here so that no copy of a folder is tried.
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(final))
    handle, backup = tempfile.mkstemp(prefix=f".{final.name}.previous.", dir=out_dir)
    os.close(handle)
    os.unlink(backup)
    try:
        os.link(final, backup)  # no copy: the old inode stays as it was
    except OSError:  # a file system without hard links
        shutil.copy2(final, backup)
    return Path(backup)


def _restore(backups: list[tuple[Path, Path | None]]) -> None:
    """Undo the replacements done so far (best effort: each is one rename)."""
    for final, backup in reversed(backups):
        try:
            if backup is None:
                final.unlink(missing_ok=True)
            else:
                os.replace(backup, final)
        except OSError:
            pass


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def drift(files: dict[str, str], out_dir: Path) -> list[str]:
    """Unified diffs (or 'missing' notes) for every file in ``out_dir`` that is not current.

    ``OSError`` other than a missing file (a folder in the way, no permission) propagates.
    """
    reports: list[str] = []
    for name, expected in files.items():
        path = out_dir / name
        try:
            actual = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            reports.append(f"{path}: missing\n")
            continue
        except UnicodeDecodeError:
            reports.append(f"{path}: not UTF-8 text, so not what corsgen writes\n")
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


def stale(out_dir: Path, expected: set[str], targets: list[str]) -> list[Path]:
    """Files in ``out_dir`` that corsgen generated for ``targets`` but would not now.

    A file is a target's when its name is one the target writes and it starts with the
    target's banner (see :meth:`corsgen.targets.Target.wrote`); files of other targets or
    written by hand are left alone.
    """
    if not out_dir.is_dir():
        return []
    registered = [get_target(name) for name in targets]
    found = []
    for path in sorted(out_dir.iterdir()):
        if path.name in expected or not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8") as stream:
                first_lines = [stream.readline(), stream.readline()]
        except (OSError, UnicodeDecodeError):
            continue
        if any(target.wrote(path.name, first_lines) for target in registered):
            found.append(path)
    return found
