"""The one exception type for bad input, and how its messages name a setting.

A ``UserError``'s message is one line that names the problem and the fix; the command line prints it and exits
with status 2. A fix names the setting as the user writes it where they are: ``setting("min_count", 5)`` reads
``min_count=5`` from Python and ``--min-count 5`` under ``fastw2v`` on the command line (``on_command_line``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_command_line = [False]  # in the process, not a context variable: a job's threads (its ring, its heartbeat) raise too
_OMITTED = object()
FLAGS = {"splits": "--split"}  # the settings whose flag is not their name with dashes


class UserError(ValueError):
    pass


class Interrupted(UserError):
    """A run stopped by SIGINT/SIGTERM after writing a checkpoint: args are the message and the signal's name."""


@contextlib.contextmanager
def on_command_line() -> Iterator[None]:
    """Within this block messages name settings as command-line flags (the ``fastw2v`` command's)."""
    before, _command_line[0] = _command_line[0], True
    try:
        yield
    finally:
        _command_line[0] = before


def setting(name: str, value=_OMITTED) -> str:
    """``name`` (a ``Config`` field or a ``train`` argument) with ``value`` as the user writes it at the entry point
    in use: ``--min-count 5`` / ``min_count=5``; a bool: ``--hs`` / ``--no-hs`` against ``hs=True`` / ``hs=False``;
    no value: ``--min-count`` / ``min_count``."""
    if not _command_line[0]:
        return name if value is _OMITTED else f"{name}={value!r}"
    flag = FLAGS.get(name, "--" + name.replace("_", "-"))
    if value is _OMITTED or value is True:
        return flag
    if value is False:
        return "--no-" + flag[2:]
    return f"{flag} {value}"
