"""The pager long listings go through on a terminal, as git's do.

`QUALCODE_PAGER`, else `PAGER`, else `less`; an empty value or `cat` means none.
`less` gets `LESS=FRX` unless the user set `LESS` (as git does): it quits at
once when the output fits on one screen, keeps colours, and leaves the text on
the screen. The terminal's own process starts the pager; `launcher` is how a
command asks for one, so a worker's child can ask the process that owns the
terminal (see `qualcode.cli.worker`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable


def pager_command() -> str | None:
    """The pager to use, or None when the user asked for none (or there is no `less` to fall back on)."""
    command = os.environ.get("QUALCODE_PAGER", os.environ.get("PAGER", "less")).strip()
    if not command or command == "cat":
        return None
    if command == "less" and shutil.which("less") is None:
        return None
    return command


def start_pager(command: str) -> subprocess.Popen:
    """Start `command` reading from a pipe (its `stdin`), writing to our terminal."""
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    return subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)


def _in_process(command: str) -> int:
    """Start the pager from this process; return the file descriptor of the pipe into it."""
    process = start_pager(command)
    _started.append(process)
    return os.dup(process.stdin.fileno())


#: Starts `command` and returns the pipe into it; a worker's child replaces it with a request to its caller.
launcher: Callable[[str], int] = _in_process
_started: list[subprocess.Popen] = []


def wait() -> None:
    """Wait for the pagers this process started: the command ends when the reader quits, as git's do."""
    while _started:
        process = _started.pop()
        process.stdin.close()
        process.wait()
