"""Files as the vectors and model classes read and write them: compressed input told by its name, as gensim's
smart_open does, and saves that leave a file whole or absent."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO


def open_file(path: str, mode: str, **kw) -> IO:
    """A file, or (by the name, as gensim's smart_open) a .gz or .bz2 one decompressed."""
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, mode, **kw)
    if path.endswith(".bz2"):
        import bz2

        return bz2.open(path, mode, **kw)
    return open(path, mode, **kw)


def atomic_write(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """``write(f)`` into a temporary file in ``path``'s folder, then rename it to ``path``: a reader sees the old
    file or the new one, whole, never a part. Temporary files of saves whose process died are removed first."""
    folder, base = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    _remove_stale_tmp(folder, f".{base}.tmp")
    tmp = os.path.join(folder, f".{base}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _remove_stale_tmp(folder: str, prefix: str) -> None:
    """Temporary files ``PREFIX<pid>`` left by saves whose process was killed (its pid no longer runs)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(prefix) :]
        if name.startswith(prefix) and pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or a system that cannot tell: leave it
        return True
    return True
