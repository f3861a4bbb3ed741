"""The cache of encoded corpora: one folder per source and settings under ``DEFAULT_CACHE_DIR``, a lock per entry
(one encoder at a time; a second run waits, then loads), and listing and clearing it (``fastw2v cache``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys

DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "fastw2v")  # expanded where used: help texts show it as written


def cache_entries(cache_dir: str = DEFAULT_CACHE_DIR) -> list[dict]:
    """The encoded corpora in a cache folder: key, path, bytes on disk, tokens, description (the source: local files
    or a folder by their resolved path, so that two files of one name tell apart) and settings."""
    cache_dir = os.path.expanduser(cache_dir)
    entries = []
    for name in sorted(os.listdir(cache_dir)) if os.path.isdir(cache_dir) else []:
        path = os.path.join(cache_dir, name)
        if name.startswith(".") or not os.path.isfile(os.path.join(path, "meta.json")):
            continue
        try:
            with open(os.path.join(path, "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        entries.append(
            dict(
                key=name,
                path=path,
                bytes=size,
                tokens=meta.get("n_tokens"),
                description=meta.get("location") or meta.get("description"),
                settings=meta.get("settings") or {},
            )
        )
    return entries


def clear_cache(cache_dir: str = DEFAULT_CACHE_DIR, keys: list[str] | None = None) -> tuple[int, int, list[str]]:
    """Remove encoded corpora (all, or those of ``keys``) and what killed runs left: (entries, bytes, busy keys).
    An entry another run is encoding or waiting on (it holds the entry's lock) is left alone."""
    cache_dir = os.path.expanduser(cache_dir)
    removed, freed, busy = 0, 0, []
    for entry in cache_entries(cache_dir):
        if keys and entry["key"] not in keys:
            continue
        with entry_lock(cache_dir, entry["key"], wait=False) as held:
            if not held:
                busy.append(entry["key"])
                continue
            shutil.rmtree(entry["path"], ignore_errors=True)
        removed, freed = removed + 1, freed + entry["bytes"]
    for name in os.listdir(cache_dir) if not keys and os.path.isdir(cache_dir) else []:
        path = os.path.join(cache_dir, name)  # .KEY-xxxx: the work folder of an encoding, killed or running
        if name.startswith(".") and name != ".locks" and os.path.isdir(path):
            with entry_lock(cache_dir, name[1:].split("-")[0], wait=False) as held:
                if held:
                    shutil.rmtree(path, ignore_errors=True)
    return removed, freed, busy


@contextlib.contextmanager
def entry_lock(cache_dir: str, key: str, folder: str | None = None, wait: bool = True):
    """An exclusive lock on one cache entry (the empty file ``.locks/KEY``), held while it is checked and
    encoded; released by the system if the process dies. Yields whether it is held: with ``wait`` always (a
    second run waits for the first), without it False when another process holds it. Where there is no fcntl
    (Windows) or the folder is read-only, there is no lock (True)."""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    try:
        os.makedirs(os.path.join(cache_dir, ".locks"), exist_ok=True)
        f = open(os.path.join(cache_dir, ".locks", key), "a")
    except OSError:  # a cache folder we may read but not write: its entries are loaded, never encoded here
        yield True
        return
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            if folder is not None and not os.path.exists(os.path.join(folder, "meta.json")):  # not just loading it
                print(
                    f"fastw2v: note: another run is encoding this text into {folder}: waiting for it", file=sys.stderr
                )
            fcntl.flock(f, fcntl.LOCK_EX)
        yield True
