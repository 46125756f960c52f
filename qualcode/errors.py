"""The one exception family qualcode raises; the CLI turns it into a message and an exit code.

Exit code 1 means the input is wrong (the user fixes a file or an argument);
2 means qualcode could not run (the database is unreachable, locked, corrupt or
read-only, the disk is full, a file cannot be read) and the input may be fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class QualcodeError(Exception):
    """Base class: anything the user can fix. The message is shown as it is."""

    #: The process exit code the CLI ends with.
    exit_code = 1


class CouldNotRun(QualcodeError):
    """Not the input's fault: the database or a file could not be used. Exit code 2."""

    exit_code = 2


class NoDatabase(CouldNotRun):
    """The project's database does not exist: only `qualcode init` makes one."""

    def __init__(self, where: str):
        self.where = where
        super().__init__(
            f"no database at {where}; run 'qualcode init' in the project folder, "
            "or set [database] url in qualcode.toml (or QUALCODE_DB) to where it is"
        )


class ProjectNotFound(QualcodeError):
    pass


@dataclass
class Problem(QualcodeError):
    """One problem in one input file, located as precisely as we can.

    Rendered as ``file:line: field: message`` so editors can jump to it.
    """

    path: Path | str
    line: int | None
    field: str | None
    message: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) + (f":{self.line}" if self.line else "")
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class ImportFailed(QualcodeError):
    """An import found problems; nothing was written. Holds every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun}; nothing was imported")
